import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseHeaderRules } from "../../router/headers/rules.ts";
import {
  startEchoSupergraph,
  type EchoSubgraph,
} from "../support/echo-subgraphs.ts";
import {
  counterTotal,
  gql,
  serveRouter,
  testRouterConfig,
  waitUntil,
} from "../support/stack.ts";

const RULES = {
  all: {
    request: [
      { propagate: { named: "x-tenant" } },
      { propagate: { matching: "^x-" } },
      { insert: { name: "x-gateway", value: "switchyard" } },
    ],
  },
  subgraphs: {
    alpha: {
      request: [
        {
          propagate: {
            named: "x-client-version",
            rename: "x-version",
            default: "unknown",
          },
        },
      ],
    },
    beta: { request: [{ remove: { matching: "^x-feature-" } }] },
  },
  response: { cache_control: "most-restrictive", set_cookie_from: "alpha" },
};

describe("header rules through the router, against subgraphs that echo what they received", () => {
  let echo: Awaited<ReturnType<typeof startEchoSupergraph>>;
  const cleanups: Array<() => Promise<void>> = [];
  let alpha: EchoSubgraph;
  let beta: EchoSubgraph;

  beforeAll(async () => {
    echo = await startEchoSupergraph(["alpha", "beta"]);
    alpha = echo.subgraphs.alpha!;
    beta = echo.subgraphs.beta!;
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    for (const subgraph of [alpha, beta]) {
      subgraph.responseHeaders = {};
      subgraph.received.length = 0;
    }
  });
  afterAll(async () => {
    await echo?.close();
  });

  async function router(rules: unknown, env: Record<string, string> = {}) {
    const served = await serveRouter(
      testRouterConfig(
        {
          supergraphPath: echo.supergraphPath,
          headers: parseHeaderRules(rules),
        },
        env,
      ),
    );
    cleanups.push(() => served.stop());
    return served;
  }

  /** The caching headers of the router's answer to `query` (fetched raw: gql() keeps no headers). */
  const cachingOf = async (url: string, query: string) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query }),
    });
    return {
      status: response.status,
      cacheControl: response.headers.get("cache-control"),
      setCookie: response.headers.getSetCookie(),
    };
  };

  const received = (answer: { data?: Record<string, string> }, name: string) =>
    JSON.parse(answer.data![name]!) as Record<string, string>;

  it("each subgraph receives what its rules say, and never the client's router-token header", async () => {
    const { url } = await router(RULES);
    const answer = await gql(
      url,
      "{ alpha beta }",
      {},
      {
        "x-tenant": "acme",
        "x-feature-fast": "on",
        "x-switchyard-internal-token": "forged",
        "x-request-id": "client-chosen-id-1",
        "x-unlisted": "1",
      },
    );
    expect(answer.errors).toBeUndefined();
    const atAlpha = received(answer, "alpha");
    const atBeta = received(answer, "beta");
    expect(atAlpha).toMatchObject({
      "x-tenant": "acme",
      "x-feature-fast": "on",
      "x-unlisted": "1",
      "x-gateway": "switchyard",
      "x-version": "unknown",
    });
    expect(atBeta).toMatchObject({
      "x-tenant": "acme",
      "x-unlisted": "1",
      "x-gateway": "switchyard",
    });
    expect(atBeta).not.toHaveProperty("x-feature-fast");
    expect(atBeta).not.toHaveProperty("x-version");
    for (const headers of [atAlpha, atBeta]) {
      expect(headers["x-switchyard-internal-token"]).not.toBe("forged");
      expect(headers["x-switchyard-internal-token"]).toMatch(/^ey/);
      expect(headers).not.toHaveProperty("authorization");
    }
  });

  it("with no rules, no client header reaches a subgraph (today)", async () => {
    const { url } = await router(undefined);
    const answer = await gql(url, "{ alpha }", {}, { "x-tenant": "acme" });
    expect(received(answer, "alpha")).not.toHaveProperty("x-tenant");
  });

  it("merges Cache-Control to the most restrictive and passes Set-Cookie from alpha only", async () => {
    alpha.responseHeaders = {
      "cache-control": "public, max-age=60",
      "set-cookie": "session=alpha; HttpOnly",
    };
    beta.responseHeaders = {
      "cache-control": "public, max-age=30",
      "set-cookie": "tracker=beta",
    };
    const { url } = await router(RULES);
    expect(await cachingOf(url, "{ alpha beta }")).toEqual({
      status: 200,
      cacheControl: "public, max-age=30",
      setCookie: ["session=alpha; HttpOnly"],
    });
    expect(await cachingOf(url, "{ beta }")).toEqual({
      status: 200,
      cacheControl: "public, max-age=30",
      setCookie: [],
    });

    // Without response rules, the router's own answer as before.
    const { url: plain } = await router(undefined);
    expect(await cachingOf(plain, "{ alpha beta }")).toEqual({
      status: 200,
      cacheControl: "no-store",
      setCookie: [],
    });
  });

  // Two callers whose forwarded headers differ never share a response; equal ones still do.
  it.each([
    [
      "inbound (execution and edge)",
      {},
      "router_operations_deduplicated_total",
    ],
    [
      "outbound (subgraph fetches)",
      { ROUTER_DEDUP_INBOUND: "false" },
      "router_subgraph_fetches_deduplicated_total",
    ],
  ])(
    "deduplication %s keys on every forwarded header",
    async (_, env, joinedMetric) => {
      const rules = {
        all: { request: [{ propagate: { named: "x-tenant" } }] },
      };
      const { url, router: served } = await router(rules, env);
      // A first request teaches the router the document (edge sharing needs a validated one).
      await gql(url, "{ alpha }", {}, { "x-tenant": "warm-up" });
      const before = alpha.received.length;
      alpha.hold();
      const tenants = ["a", "b", "a", "b", "a", "b"];
      const answers = Promise.all(
        tenants.map((tenant) =>
          gql(url, "{ alpha }", {}, { "x-tenant": tenant }),
        ),
      );
      await waitUntil(
        "one fetch per tenant reached alpha",
        () => alpha.received.length - before === 2,
      );
      await waitUntil(
        "the other four joined their own tenant's",
        async () =>
          (await counterTotal(served.metrics.registry, joinedMetric)) === 4,
      );
      alpha.release();
      const seen = (await answers).map(
        (answer) => received(answer, "alpha")["x-tenant"],
      );
      expect(seen).toEqual(tenants);
      expect(alpha.received.length - before).toBe(2);
    },
  );

  it("with Set-Cookie passed back, no two requests share anything", async () => {
    const { url, router: served } = await router({
      all: { request: [{ propagate: { named: "x-tenant" } }] },
      response: { set_cookie_from: "alpha" },
    });
    await gql(url, "{ alpha }");
    const before = alpha.received.length;
    alpha.hold();
    const answers = Promise.all(
      Array.from({ length: 4 }, () => gql(url, "{ alpha }")),
    );
    await waitUntil(
      "all four reached alpha",
      () => alpha.received.length - before === 4,
    );
    alpha.release();
    await answers;
    expect(
      await counterTotal(
        served.metrics.registry,
        "router_operations_deduplicated_total",
      ).catch(() => 0),
    ).toBe(0);
  });
});
