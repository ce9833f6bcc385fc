import { Registry } from "prom-client";
import type { GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import { describe, expect, it } from "vitest";
import { createBulkhead } from "../../../router/bulkhead.ts";
import { loadRouterConfig, subgraphSettings } from "../../../router/config.ts";
import { createResilientDataSource } from "../../../router/resilient-data-source.ts";
import { createResilienceMetrics } from "../../../router/resilience-metrics.ts";
import { createRetryBudget } from "../../../router/retry-policy.ts";
import {
  SubgraphFailure,
  type Instance,
  type SubgraphPool,
} from "../../../router/subgraph-pool.ts";
import { pino } from "pino";

/**
 * The data source over a pool whose every send fails with a network error, counting the sends: the
 * retry decision alone, with no server, no breaker and no real clock in the way.
 */
function failingSource() {
  const config = loadRouterConfig({});
  const instance = { url: "http://a", label: "a" } as Instance;
  let sends = 0;
  const pool = {
    name: "orders",
    pick: () => instance,
    send: async () => {
      sends++;
      throw new SubgraphFailure("network", "connection reset");
    },
  } as unknown as SubgraphPool;
  const source = createResilientDataSource({
    name: "orders",
    pool,
    settings: subgraphSettings(config, "orders"),
    retry: { ...config.retry, maxAttempts: 3, baseDelayMs: 0 },
    budget: createRetryBudget({ budgetPercent: 100, budgetReserve: 10 }),
    bulkhead: createBulkhead({ maxConcurrent: 10, maxQueue: 10 }),
    requestDeadlineMs: 5_000,
    metrics: createResilienceMetrics(new Registry()),
    logger: pino({ level: "silent" }),
    random: () => 0,
    identityHeaders: async () => ({}),
  });
  const fetch = (query: string) =>
    source.process({
      request: { query, variables: {} },
    } as unknown as GraphQLDataSourceProcessOptions);
  return { fetch, sends: () => sends };
}

describe("retries after a network error (createResilientDataSource)", () => {
  it("never sends a mutation twice: the subgraph may have applied it before the connection failed", async () => {
    const { fetch, sends } = failingSource();
    const response = await fetch(
      "mutation PlaceOrder__orders__0{placeOrder(input:{items:[]}){id}}",
    );
    expect(sends()).toBe(1);
    expect(response.errors?.[0]?.extensions?.code).toBe("SUBGRAPH_UNAVAILABLE");
  });

  it("retries a query up to maxAttempts", async () => {
    const { fetch, sends } = failingSource();
    const response = await fetch('query Order__orders__0{order(id:"1"){id}}');
    expect(sends()).toBe(3);
    expect(response.errors?.[0]?.extensions?.code).toBe("SUBGRAPH_UNAVAILABLE");
  });
});
