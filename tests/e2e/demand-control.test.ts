import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSubgraphSettings } from "../../router/config.ts";
import type { Stack } from "../../stack.ts";
import {
  counterValues,
  routerDefaults,
  serveRouter,
  stackForFile,
  staticDiscoveryOf,
} from "../support/stack.ts";
import { pgliteBackend } from "../support/storage.ts";
import { postGraphQLBody as post } from "../support/graphql.ts";
import { subgraphFetchCount } from "../support/subgraph-fetch-count.ts";

// Generous on purpose: eight test runs share two cores, and a subgraph timeout is not under test.
const PATIENT = {
  ROUTER_SUBGRAPH_TIMEOUT_MS: "20000",
  ROUTER_REQUEST_DEADLINE_MS: "60000",
};
// products 1 + 1000 × (edge 1 + node 1) = 2001 each: two pages are over the default limit of 3000.
const TWO_PAGES =
  "{ a: products(first: 1000) { edges { node { id } } } b: products(first: 1000) { edges { node { id } } } }";
const SMALL =
  "{ products(first: 3) { totalCount edges { node { id name } } } }";

/** The router in each demand-control mode: the stack's own (enforce, the default) and one in measure. */
describe("demand control at the router", () => {
  const internalTokenSecret = randomBytes(32).toString("base64url");
  const stackOf = stackForFile(pgliteBackend, {
    internalTokenSecret,
    routerEnv: PATIENT,
  });
  let stack: Stack;
  let measure: Awaited<ReturnType<typeof serveRouter>>;

  beforeAll(async () => {
    stack = stackOf();
    const defaults = routerDefaults({
      ...PATIENT,
      ROUTER_DEMAND_CONTROL_MODE: "measure",
    });
    measure = await serveRouter({
      ...defaults,
      subgraphs: withSubgraphSettings(defaults, staticDiscoveryOf(stack))
        .subgraphs,
      security: { ...defaults.security, internalTokenSecret },
    });
  });
  // Hooks run as a stack: the measure router stops before the file's stack.
  afterAll(async () => {
    await measure?.stop();
  });

  it("enforce: refuses an operation whose estimate (from the supergraph's @listSize) is over the limit, before any subgraph is called", async () => {
    const fetches = () => subgraphFetchCount(stack.router);
    const before = await fetches();
    const refused = await post(stack.routerUrl, {
      query: TWO_PAGES,
      extensions: { cost: true },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      code: "QUERY_TOO_COMPLEX",
      limit: "cost",
      max: 3000,
      actual: 4002,
    });
    expect(refused.body.extensions?.cost).toEqual({
      mode: "enforce",
      max: 3000,
      estimated: 4002,
      result: "COST_ESTIMATED_TOO_EXPENSIVE",
    });
    expect(await fetches()).toBe(before);
  });

  it("gives the estimated and actual cost in extensions when asked, and only then", async () => {
    const asked = await post(stack.routerUrl, {
      query: SMALL,
      extensions: { cost: true },
    });
    const edges = (asked.body.data as { products: { edges: unknown[] } })
      .products.edges;
    expect(asked.body.extensions?.cost).toEqual({
      mode: "enforce",
      max: 3000,
      estimated: 1 + 3 * 2,
      actual: 1 + edges.length * 2,
      result: "COST_OK",
    });
    const silent = await post(stack.routerUrl, { query: SMALL });
    expect(silent.body.extensions?.cost).toBeUndefined();
    const counted = await counterValues(
      stack.router.metrics.registry,
      "router_demand_control_operations_total",
    );
    expect(counted["enforce,COST_OK"]).toBeGreaterThanOrEqual(2);
    expect(counted["enforce,COST_ESTIMATED_TOO_EXPENSIVE"]).toBeGreaterThan(0);
  });

  it("measure: runs the same over-limit operation and records it", async () => {
    const ran = await post(measure.url, {
      query: TWO_PAGES,
      extensions: { cost: true },
    });
    expect(ran.status).toBe(200);
    expect(ran.body.errors).toBeUndefined();
    expect(ran.body.extensions?.cost).toMatchObject({
      mode: "measure",
      estimated: 4002,
      result: "COST_ESTIMATED_TOO_EXPENSIVE",
      actual: expect.any(Number),
    });
    const counted = await counterValues(
      measure.router.metrics.registry,
      "router_demand_control_operations_total",
    );
    expect(counted["measure,COST_ESTIMATED_TOO_EXPENSIVE"]).toBe(1);
  });
});
