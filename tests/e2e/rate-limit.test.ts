import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoProducts, demoUsers } from "../../platform/demo-data.ts";
import type { Stack } from "../../stack.ts";
import { ownRouterSecurity } from "../support/own-router.ts";
import { pgliteBackend } from "../support/storage.ts";
import { withSubgraphSettings } from "../../router/config.ts";
import { skipReason } from "../support/ci.ts";
import {
  bearerFor,
  counterValues,
  gql,
  routerDefaults,
  serveRouter,
  stackForFile,
  staticDiscoveryOf,
} from "../support/stack.ts";

const [ada, grace] = [demoUsers[1]!, demoUsers[2]!];
const PRODUCTS = "{ products(first: 1) { totalCount } }";
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

async function redisUnavailable(): Promise<string | undefined> {
  const probe = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (error) {
    return `Redis at ${REDIS_URL} is not reachable (${(error as Error).message})`;
  } finally {
    probe.disconnect();
  }
}
const redisReason = skipReason(
  "Redis for the shared rate-limit tests",
  await redisUnavailable().then(
    (why) =>
      why &&
      `${why}. Start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ""`,
  ),
);

describe("rate limiting at the router (in-memory store)", () => {
  const stackOf = stackForFile(pgliteBackend, {
    routerEnv: { ROUTER_RATE_LIMIT_FIELDS: "Query.products=3/1h" },
  });
  let stack: Stack;
  beforeAll(() => {
    stack = stackOf();
  });

  it("rejects the 4th call in the window for that client only, with 429, RATE_LIMITED and retryAfter", async () => {
    const asAda = await bearerFor(stack.routerUrl, ada.email);
    const asGrace = await bearerFor(stack.routerUrl, grace.email);
    for (let call = 0; call < 3; call += 1)
      expect(
        (await gql(stack.routerUrl, PRODUCTS, {}, asAda)).errors,
      ).toBeUndefined();

    const fetchesBefore = await counterValues(
      stack.router.metrics.registry,
      "router_subgraph_fetches_total",
    );
    const response = await fetch(stack.routerUrl, {
      method: "POST",
      headers: { "content-type": "application/json", ...asAda },
      body: JSON.stringify({ query: PRODUCTS }),
    });
    expect(response.status).toBe(429);
    const body = (await response.json()) as {
      data?: unknown;
      errors: Array<{
        extensions: { code: string; retryAfter: number; field: string };
      }>;
    };
    expect(body.errors[0]!.extensions).toMatchObject({
      code: "RATE_LIMITED",
      field: "Query.products",
    });
    const retryAfter = body.errors[0]!.extensions.retryAfter;
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(response.headers.get("retry-after")).toBe(String(retryAfter));
    expect(
      await counterValues(
        stack.router.metrics.registry,
        "router_subgraph_fetches_total",
      ),
    ).toEqual(fetchesBefore);

    // Another client, and the same client on another root field, are unaffected.
    expect(
      (await gql(stack.routerUrl, PRODUCTS, {}, asGrace)).errors,
    ).toBeUndefined();
    expect(
      (await gql(stack.routerUrl, "{ me { id } }", {}, asAda)).data,
    ).toEqual({ me: { id: ada.id } });
    expect(
      (
        await gql(
          stack.routerUrl,
          `query($id: ID!) { product(id: $id) { id } }`,
          { id: demoProducts[0]!.id },
          asAda,
        )
      ).errors,
    ).toBeUndefined();
  });

  it("identifies anonymous clients by address and counts each aliased use of a root field", async () => {
    const twice =
      "{ a: products(first: 1) { totalCount } b: products(first: 1) { totalCount } }";
    expect((await gql(stack.routerUrl, twice)).errors).toBeUndefined();
    expect((await gql(stack.routerUrl, PRODUCTS)).errors).toBeUndefined();
    const fourth = await gql(stack.routerUrl, PRODUCTS);
    expect(fourth.status).toBe(429);
    expect(fourth.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
  });
});

describe.skipIf(redisReason !== undefined)(
  "rate limiting shared through Redis",
  () => {
    let stack: Stack;
    let second: { url: string; stop(): Promise<void> };
    const prefix = `switchyard:test:${randomUUID()}:`;
    const env = {
      REDIS_URL,
      ROUTER_RATE_LIMIT_PREFIX: prefix,
      ROUTER_RATE_LIMIT_FIELDS: "Query.products=3/1h",
    };
    const internalTokenSecret = randomBytes(32).toString("base64url");
    const stackOf = stackForFile(pgliteBackend, {
      routerEnv: env,
      internalTokenSecret,
    });

    beforeAll(async () => {
      stack = stackOf();
      // A second router instance in front of the same subgraphs, with its own process-local state.
      const defaults = routerDefaults(env);
      second = await serveRouter({
        ...defaults,
        port: 0,
        subgraphs: withSubgraphSettings(defaults, staticDiscoveryOf(stack))
          .subgraphs,
        security: ownRouterSecurity(stack, defaults, internalTokenSecret),
      });
    });
    // Hooks run as a stack: this stops the second router before the file's stack stops.
    afterAll(async () => {
      await second?.stop();
      const cleanup = new Redis(REDIS_URL);
      const keys = await cleanup.keys(`${prefix}*`);
      if (keys.length > 0) await cleanup.del(...keys);
      await cleanup.quit();
    });

    it("enforces one budget across two router instances", async () => {
      const asAda = await bearerFor(stack.routerUrl, ada.email);
      const asGrace = await bearerFor(stack.routerUrl, grace.email);
      expect(
        (await gql(stack.routerUrl, PRODUCTS, {}, asAda)).errors,
      ).toBeUndefined();
      expect(
        (await gql(second.url, PRODUCTS, {}, asAda)).errors,
      ).toBeUndefined();
      expect(
        (await gql(stack.routerUrl, PRODUCTS, {}, asAda)).errors,
      ).toBeUndefined();

      const onSecond = await gql(second.url, PRODUCTS, {}, asAda);
      expect(onSecond.status).toBe(429);
      expect(onSecond.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
      const onFirst = await gql(stack.routerUrl, PRODUCTS, {}, asAda);
      expect(onFirst.status).toBe(429);

      expect(
        (await gql(second.url, PRODUCTS, {}, asGrace)).errors,
      ).toBeUndefined();
      const redis = new Redis(REDIS_URL);
      expect((await redis.keys(`${prefix}*`)).length).toBeGreaterThan(0);
      await redis.quit();
    });
  },
);
