import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { demoUsers } from "../../platform/demo-data.ts";
import {
  bearerFor,
  gql,
  testRouterConfig,
  waitUntil,
} from "../support/stack.ts";
import { startOwnRouter } from "../support/own-router.ts";
import { ownRouterSuite } from "../support/own-router-suite.ts";
import { pgliteBackend } from "../support/storage.ts";

const PRODUCTS_QUERY = "{ products(first: 2) { edges { node { id name } } } }";
const DEBUG = { "x-switchyard-debug": "plan" };

interface PlanDebug {
  plan: { text: string; node: unknown };
  fetches: Array<{
    subgraph: string;
    ms: number;
    outcome: string;
    attempts: Array<{
      instance: string;
      breaker: string;
      outcome: string;
      ms: number;
    }>;
    stopped?: string;
  }>;
  limits?: { measured: { depth: number; aliases: number } };
  cost?: { mode: string; estimated: number; actual?: number; result: string };
  errors?: Array<{ message: string; code: string | null }>;
  totalMs: number;
}

/** A loopback port nothing listens on (taken, then released): connections to it are refused. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/graphql`;
}

describe("the plan-debug view", () => {
  const { stack, internalTokenSecret, cleanups } =
    ownRouterSuite(pgliteBackend);
  let admin: Record<string, string>;
  let customer: Record<string, string>;

  beforeAll(async () => {
    admin = await bearerFor(
      stack().routerUrl,
      demoUsers.find((user) => user.role === "ADMIN")!.email,
    );
    customer = await bearerFor(
      stack().routerUrl,
      demoUsers.find((user) => user.role === "CUSTOMER")!.email,
    );
  });

  /** A production router of the test's own before the stack's subgraphs, products at `productsUrl`. */
  async function productionRouter(productsUrl: string): Promise<string> {
    const { url } = await startOwnRouter(stack(), {
      base: testRouterConfig({ production: true }),
      internalTokenSecret,
      cleanups,
      urls: { products: [productsUrl] },
    });
    return url;
  }

  /** The products query through `url` (the stack's router by default) with `headers`. */
  const productsVia = (
    headers: Record<string, string>,
    url: string = stack().routerUrl,
  ) => gql(url, PRODUCTS_QUERY, {}, headers);

  const debugOf = (response: { extensions?: Record<string, unknown> }) =>
    response.extensions?.planDebug as PlanDebug | undefined;

  it("gives an admin who asks the query plan and each fetch with its timing, instance, breaker and outcome", async () => {
    const response = await productsVia({
      ...admin,
      ...DEBUG,
    });
    expect(response.errors).toBeUndefined();
    const debug = debugOf(response);
    expect(debug?.plan.text).toContain('Fetch(service: "products")');
    expect(debug?.plan.node).toMatchObject({
      kind: "Fetch",
      serviceName: "products",
    });
    expect(debug?.fetches).toHaveLength(1);
    const [fetch] = debug!.fetches;
    expect(fetch).toMatchObject({ subgraph: "products", outcome: "ok" });
    expect(fetch!.ms).toBeGreaterThan(0);
    expect(fetch!.attempts).toEqual([
      expect.objectContaining({
        outcome: "HTTP 200",
        breaker: "closed → closed",
      }),
    ]);
    expect(debug!.totalMs).toBeGreaterThanOrEqual(fetch!.ms);
    // The operation limits' measure (depth, aliases, root fields) and the limits; demand control's
    // estimated and actual cost (router/demand-control/), read from the request when it ends.
    expect(debug!.limits?.measured.depth).toBeGreaterThan(1);
    expect(debug!.cost).toMatchObject({ mode: "enforce", result: "COST_OK" });
    expect(debug!.cost!.estimated).toBeGreaterThan(1);
    expect(debug!.cost!.actual).toBeGreaterThan(0);
    expect(debug!.errors).toBeUndefined();
  });

  it("gives a customer token with the header, an admin without it, and Apollo's own plan header nothing extra", async () => {
    const asCustomer = await productsVia({
      ...customer,
      ...DEBUG,
    });
    expect(asCustomer.errors).toBeUndefined();
    expect(asCustomer.extensions).toBeUndefined();
    const withoutHeader = await productsVia(admin);
    expect(withoutHeader.extensions).toBeUndefined();
    // The gateway would show anyone its plan for this header outside NODE_ENV=production.
    const apolloHeader = await productsVia({
      "Apollo-Query-Plan-Experimental": "true",
    });
    expect(apolloHeader.extensions).toBeUndefined();
  });

  it("in production shows nothing without an admin token, and shows an admin the retries and the breaker behind a failure", async () => {
    const url = await productionRouter(await closedPortUrl());
    const debugged = await productsVia({ ...admin, ...DEBUG }, url);
    const [fetch] = debugOf(debugged)!.fetches;
    expect(fetch).toMatchObject({
      subgraph: "products",
      outcome: "SUBGRAPH_UNAVAILABLE",
      stopped: "attempts exhausted",
    });
    // ROUTER_RETRY_MAX_ATTEMPTS defaults to 3: the first attempt and two retries, each refused.
    expect(fetch!.attempts.map((attempt) => attempt.outcome)).toEqual([
      "network",
      "network",
      "network",
    ]);
    expect(debugOf(debugged)!.errors).toEqual([
      expect.objectContaining({ code: "SUBGRAPH_UNAVAILABLE" }),
    ]);
    // What the client sees outside the debug section is what it sees without debug.
    const plain = await productsVia(admin, url);
    expect(plain.extensions).toBeUndefined();
    expect(debugged.errors).toEqual(plain.errors);
    expect(debugged.data).toEqual(plain.data);

    const anonymous = await productsVia(DEBUG, url);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe(
      "SUBGRAPH_UNAVAILABLE",
    );
    expect(anonymous.extensions).toBeUndefined();
    const asCustomer = await productsVia(
      {
        ...customer,
        ...DEBUG,
      },
      url,
    );
    expect(asCustomer.extensions).toBeUndefined();

    // Consecutive failures eject the one instance (its breaker forced open): the view says so.
    await waitUntil("the debug view reports every breaker open", async () => {
      const next = await productsVia({ ...admin, ...DEBUG }, url);
      const [latest] = debugOf(next)!.fetches;
      return (
        latest?.stopped === "every breaker open" && latest.attempts.length === 0
      );
    });
  });
});
