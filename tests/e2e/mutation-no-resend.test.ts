import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  withSubgraphSettings,
  type SubgraphSettings,
} from "../../router/config.ts";
import { gql, serveRouter, testRouterConfig } from "../support/stack.ts";

const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { token } }`;

/**
 * A stand-in users instance that reads each request to the end, counts it by operation kind, and
 * then resets the connection without answering: the mutation has reached the subgraph (which may
 * have applied it) and the router only sees a network error.
 */
async function resettingSubgraph(): Promise<{
  url: string;
  received: { mutations: number; queries: number };
  close(): Promise<void>;
}> {
  const received = { mutations: 0, queries: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        query: string;
      };
      if (/^\s*mutation\b/.test(body.query)) received.mutations += 1;
      else received.queries += 1;
      res.socket?.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("a mutation is never sent twice", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function routerBefore(
    usersUrl: string,
    settings: Partial<SubgraphSettings> = {},
  ) {
    // Three attempts and a full retry budget: a query here would be retried, so only the mutation rule keeps the count at one.
    const base = testRouterConfig(
      {},
      { ROUTER_RETRY_MAX_ATTEMPTS: "3", ROUTER_RETRY_BASE_DELAY_MS: "0" },
    );
    const served = await serveRouter(
      withSubgraphSettings(base, {
        users: { ...settings, discovery: { kind: "static", urls: [usersUrl] } },
      }),
    );
    cleanups.push(served.stop);
    return served;
  }

  /** A query through `url` that the users instance meets (and resets). */
  const queryUser = (url: string) =>
    gql(url, `query($id: ID!) { user(id: $id) { name } }`, {
      id: "00000000-0000-4000-8000-000000000000",
    });

  /** Signs `name` up through `url`; the client must get SUBGRAPH_UNAVAILABLE naming users. */
  async function expectSignUpUnavailable(url: string, name: string) {
    const response = await gql(url, SIGN_UP, {
      input: {
        email: `${name.toLowerCase()}@example.com`,
        name,
        password: "correct horse battery staple",
      },
    });
    expect(response.errors?.[0]?.extensions).toMatchObject({
      code: "SUBGRAPH_UNAVAILABLE",
      service: "users",
    });
  }

  it("when the subgraph resets the connection after reading the mutation, it received it exactly once and the client gets SUBGRAPH_UNAVAILABLE", async () => {
    const users = await resettingSubgraph();
    cleanups.push(users.close);
    const { url } = await routerBefore(users.url);

    // The control: a query meeting the same reset is retried (so retries are on in this router).
    await queryUser(url);
    expect(users.received.queries).toBe(3);

    await expectSignUpUnavailable(url, "Once");
    expect(users.received.mutations).toBe(1);
  });

  it("when the breaker is open, the subgraph receives the mutation zero times", async () => {
    const users = await resettingSubgraph();
    cleanups.push(users.close);
    // One failure ejects the instance; the breaker stays open for the rest of the test.
    const { url, router } = await routerBefore(users.url, {
      outlierConsecutiveFailures: 1,
      breaker: {
        errorThresholdPercentage: 50,
        volumeThreshold: 1,
        resetTimeoutMs: 600_000,
        rollingWindowMs: 10_000,
      },
    });
    await queryUser(url);
    expect(router.subgraphs.get("users")!.pool.snapshot()[0]!.breaker).toBe(
      "open",
    );
    const queriesBefore = users.received.queries;

    await expectSignUpUnavailable(url, "Never");
    expect(users.received.mutations).toBe(0);
    expect(users.received.queries).toBe(queriesBefore);
  });
});
