import type { ApolloServer } from "@apollo/server";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { InternalTokenSigner } from "../../../../platform/internal-token.ts";
import type { RouterContext } from "../../../../router/context.ts";
import {
  createLiveService,
  type LiveCaller,
} from "../../../../router/live/live-service.ts";

/** No supergraph loaded: an operation that gets past the caller checks answers SUBGRAPH_UNAVAILABLE. */
const live = createLiveService({
  server: {} as ApolloServer<RouterContext>,
  schema: () => undefined,
  signer: {} as InternalTokenSigner,
  requestDeadlineMs: 1000,
  source: undefined,
  limits: { maxPerClient: 1, maxPerConnection: 1, maxQueuedEvents: 1 },
  maxConcurrentResolutions: 32,
  logger: pino({ level: "silent" }),
});
const caller = (expiresAt: number): LiveCaller => ({
  principal: { id: "u1", role: "CUSTOMER", scopes: [] },
  clientId: "user:u1",
  clientAddress: "127.0.0.1",
  connectionId: "c1",
  expiresAt,
});
const request = { query: "subscription { orderUpdated { id } }" };

describe("the live service", () => {
  it("refuses every operation of a connection whose token expired with UNAUTHENTICATED (reason expired)", async () => {
    const expired = await live.operation(request, caller(Date.now() - 1));
    expect("errors" in expired && expired.errors?.[0]?.extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "expired",
    });
    const valid = await live.operation(request, caller(Date.now() + 60_000));
    expect("errors" in valid && valid.errors?.[0]?.extensions?.code).toBe(
      "SUBGRAPH_UNAVAILABLE",
    );
  });
});
