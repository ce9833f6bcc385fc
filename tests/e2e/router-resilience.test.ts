import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { demoProducts, demoUsers } from "../../platform/demo-data.ts";
import { listen } from "../../platform/http-server.ts";
import type { Logger } from "../../platform/logger.ts";
import type { RouterConfig, SubgraphSettings } from "../../router/config.ts";
import type { Router } from "../../router/server.ts";
import type { Stack } from "../../stack.ts";
import { productsModule } from "../../subgraphs/products/server.ts";
import {
  demoOrder,
  demoOrderCustomer,
  demoOrderPaymentStatus,
  expectedDemoOrder,
  ORDER_QUERY,
} from "../support/demo-order.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { ownRouterSecurity, startOwnRouter } from "../support/own-router.ts";
import { ownRouterSuite } from "../support/own-router-suite.ts";
import {
  bearerFor,
  counterValues,
  gql,
  type GraphQLResponse,
  memoryLogger,
  serveRouter,
  silentLogger,
  testRouterConfig,
  waitUntil,
} from "../support/stack.ts";
import { pgliteBackend } from "../support/storage.ts";

const PRODUCTS_QUERY =
  "{ products(first: 2) { totalCount edges { node { id name } } } }";
const USER_QUERY = `query($id: ID!) { user(id: $id) { name } }`;
const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { token } }`;

const order = demoOrder;
const customer = demoOrderCustomer;

/** Breakers that open after 3 calls at 50% errors and probe again after 200 ms. */
const QUICK_BREAKER: SubgraphSettings["breaker"] = {
  errorThresholdPercentage: 50,
  volumeThreshold: 3,
  resetTimeoutMs: 200,
  rollingWindowMs: 10_000,
};

/** Partial results must not depend on who runs the plan: router/executor/ or the gateway's. */
const EXECUTORS = ["switchyard", "gateway"] as const;

describe("the resilient router", () => {
  const { stack, internalTokenSecret, cleanups } =
    ownRouterSuite(pgliteBackend);
  /** Every router here is signed in as the admin: order and user queries need an identity. */
  let admin: Record<string, string>;

  beforeAll(async () => {
    admin = await bearerFor(stack().routerUrl, demoUsers[0]!.email);
  });

  async function proxy(name: keyof Stack["subgraphs"]): Promise<FaultProxy> {
    const started = await startFaultProxy(stack().subgraphs[name].url);
    cleanups.push(() => started.close());
    return started;
  }

  /**
   * A router of its own in front of the stack's subgraphs, with `instances` replacing the URLs of
   * some subgraphs (fault proxies) and `settings` changing theirs.
   */
  const routerVia = ({
    instances = {},
    settings = {},
    config = {},
    logger = silentLogger,
  }: {
    instances?: Partial<Record<keyof Stack["subgraphs"], string[]>>;
    settings?: Partial<SubgraphSettings>;
    config?: Partial<RouterConfig>;
    logger?: Logger;
  }) =>
    startOwnRouter(stack(), {
      base: testRouterConfig(config),
      internalTokenSecret,
      cleanups,
      urls: instances,
      settings,
      logger,
    });

  /** ORDER_QUERY through a router of its own whose `down` subgraph resets every connection. */
  async function orderWithDown(
    down: keyof Stack["subgraphs"],
    config: Partial<RouterConfig>,
  ) {
    const proxied = await proxy(down);
    proxied.setMode("reset");
    const { url } = await routerVia({
      instances: { [down]: [proxied.url] },
      config,
    });
    return gql(url, ORDER_QUERY, { id: order.id }, admin);
  }

  /** Asserts `response` has exactly one error, with `code` and naming the subgraph `service`. */
  const expectOnlyError = (
    response: GraphQLResponse,
    code: string,
    service: string,
  ) =>
    expect(response.errors?.map((error) => error.extensions)).toEqual([
      expect.objectContaining({ code, service }),
    ]);

  /** A counter of a test's own router, per label set (throws if the metric is gone). */
  const countersOf = (router: Router, name: string) =>
    counterValues(router.metrics.registry, name);

  const breakerOf = (router: Router, subgraph: string, index = 0) =>
    router.subgraphs.get(subgraph)!.pool.snapshot()[index]!.breaker;

  it.each(EXECUTORS)(
    "when the payments subgraph is down, the order still returns with payment null and one error naming payments (%s executor)",
    async (executor) => {
      const response = await orderWithDown("payments", {
        production: true,
        executor,
      });

      expect(response.data?.order).toEqual({
        ...expectedDemoOrder(),
        payment: null,
      });
      expect(response.errors).toHaveLength(1);
      expect(response.errors![0]!.extensions).toMatchObject({
        code: "SUBGRAPH_UNAVAILABLE",
        service: "payments",
      });
      // Subgraph internals stay in the log: no address, port, status line or stack.
      expect(JSON.stringify(response.errors)).not.toMatch(
        /127\.0\.0\.1|ECONNRESET|SocketError|stacktrace|\.ts:\d+/,
      );
    },
  );

  /** What the order answer keeps when one subgraph is down: everything but that subgraph's fields, which are null. */
  const withoutProducts = () => ({
    ...expectedDemoOrder(),
    items: order.items.map((item) => ({
      product: null,
      quantity: item.quantity,
    })),
  });
  const withoutUser = () => ({ ...expectedDemoOrder(), user: null });

  it.each(
    EXECUTORS.flatMap((executor) => [
      {
        down: "products" as const,
        keeps: "user, quantities and payment",
        expected: withoutProducts,
        executor,
      },
      {
        down: "users" as const,
        keeps: "items and payment",
        expected: withoutUser,
        executor,
      },
    ]),
  )(
    "when the $down subgraph is down, the order keeps its $keeps, with the rest null ($executor executor)",
    async ({ down, expected, executor }) => {
      const response = await orderWithDown(down, { executor });

      expect(response.data?.order).toEqual(expected());
      expectOnlyError(response, "SUBGRAPH_UNAVAILABLE", down);
    },
  );

  it("fails fast without opening a socket once the breaker is open, and recovers through half-open", async () => {
    const payments = await proxy("payments");
    payments.setMode("reset");
    const { logger, lines } = memoryLogger();
    const { url, router } = await routerVia({
      instances: { payments: [payments.url] },
      settings: {
        breaker: { ...QUICK_BREAKER, resetTimeoutMs: 1000 },
        outlierConsecutiveFailures: 100,
      },
      config: { retry: { ...testRouterConfig().retry, maxAttempts: 1 } },
      logger,
    });

    for (
      let attempt = 0;
      attempt < 10 && breakerOf(router, "payments") !== "open";
      attempt++
    )
      await gql(url, ORDER_QUERY, { id: order.id }, admin);
    expect(breakerOf(router, "payments")).toBe("open");
    const socketsWhenOpened = payments.connections;

    // Bring payments back while the breaker is still open: requests keep failing fast until the probe.
    payments.setMode("pass");
    let failedFast = 0;
    for (let request = 0; request < 5; request++) {
      const response = await gql(url, ORDER_QUERY, { id: order.id }, admin);
      // Only a request that ended with the breaker still open is known not to have been the probe.
      if (breakerOf(router, "payments") !== "open") break;
      failedFast += 1;
      expect(response.data?.order.payment).toBeNull();
      expectOnlyError(response, "SUBGRAPH_UNAVAILABLE", "payments");
      expect(payments.connections).toBe(socketsWhenOpened);
    }
    expect(failedFast).toBeGreaterThan(0);

    await waitUntil(
      "the payments breaker is half-open",
      () => breakerOf(router, "payments") === "half-open",
    );
    const recovered = await gql(url, ORDER_QUERY, { id: order.id }, admin);
    expect(recovered.errors).toBeUndefined();
    expect(recovered.data?.order.payment).toEqual({
      status: demoOrderPaymentStatus,
    });
    expect(breakerOf(router, "payments")).toBe("closed");

    const transitions = await countersOf(
      router,
      "router_breaker_transitions_total",
    );
    const instance = new URL(payments.url).host;
    expect(transitions).toEqual({
      [`payments,${instance},open`]: 1,
      [`payments,${instance},half-open`]: 1,
      [`payments,${instance},closed`]: 1,
    });
    expect(
      lines
        .filter(
          (line) =>
            line.subgraph === "payments" && typeof line.breaker === "string",
        )
        .map((line) => [line.breaker, line.instance]),
    ).toEqual([
      ["open", instance],
      ["half-open", instance],
      ["closed", instance],
    ]);
  });

  it("bounds a hanging subgraph by its timeout, and with its bulkhead full, queries that avoid it keep working", async () => {
    const products = await proxy("products");
    products.setMode("hang");
    const { url, router } = await routerVia({
      instances: { products: [products.url] },
      settings: { timeoutMs: 1500, maxConcurrent: 1, maxQueue: 0 },
      // Longer than the test timeout: only the subgraph timeout can end the hanging fetch in time.
      // Deduplication off: the second, identical query must reach the bulkhead, not join the first.
      config: {
        requestDeadlineMs: 120_000,
        deduplication: { inbound: false, subgraphFetches: false },
      },
    });
    const bulkhead = router.subgraphs.get("products")!.bulkhead;

    const hanging = gql(url, PRODUCTS_QUERY);
    await waitUntil(
      "the hanging fetch holds the products bulkhead",
      () => bulkhead.inFlight === 1,
    );

    const rejected = await gql(url, PRODUCTS_QUERY);
    expectOnlyError(rejected, "SUBGRAPH_UNAVAILABLE", "products");
    const other = await gql(url, USER_QUERY, { id: customer.id }, admin);
    expect(other).toMatchObject({ data: { user: { name: customer.name } } });
    expect(other.errors).toBeUndefined();

    const timedOut = await hanging;
    expect(timedOut.data).toBeNull();
    expectOnlyError(timedOut, "SUBGRAPH_TIMEOUT", "products");
    // Timeouts are not retried: one socket, one timeout.
    expect(products.connections).toBe(1);
    expect(
      await countersOf(router, "router_bulkhead_rejections_total"),
    ).toEqual({ products: 1 });
    expect(bulkhead.inFlight).toBe(0);
  });

  it("ends every fetch at the request deadline, even when the subgraph timeout is longer", async () => {
    const products = await proxy("products");
    products.setMode("hang");
    const { url } = await routerVia({
      instances: { products: [products.url] },
      settings: { timeoutMs: 120_000 },
      config: { requestDeadlineMs: 500 },
    });
    const response = await gql(url, PRODUCTS_QUERY);
    expectOnlyError(response, "SUBGRAPH_TIMEOUT", "products");
  });

  it("sends a mutation that hits a 503 exactly once", async () => {
    const users = await proxy("users");
    users.setMode("status", { status: 503, retryAfter: "0" });
    const { url, router } = await routerVia({
      instances: { users: [users.url] },
    });

    const response = await gql(url, SIGN_UP, {
      input: {
        email: "once@switchyard.dev",
        name: "Once",
        password: "correct horse battery",
      },
    });

    expectOnlyError(response, "SUBGRAPH_UNAVAILABLE", "users");
    expect(users.failedRequests).toBe(1);
    expect(users.connections).toBe(1);
    // countersOf throws if the metric is gone: a vanished retry counter fails here instead of reading as zero retries.
    expect(await countersOf(router, "router_subgraph_retries_total")).toEqual(
      {},
    );
  });

  it("retries a query that hits a 503 and answers it", async () => {
    const users = await proxy("users");
    users.failNext(1, { status: 503, retryAfter: "0" });
    const { url, router } = await routerVia({
      instances: { users: [users.url] },
    });

    const response = await gql(url, USER_QUERY, { id: customer.id }, admin);

    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ user: { name: customer.name } });
    expect(users.failedRequests).toBe(1);
    expect(await countersOf(router, "router_subgraph_retries_total")).toEqual({
      users: 1,
    });
  });

  it("does not retry a query once the retry budget is spent", async () => {
    const users = await proxy("users");
    users.setMode("status", { status: 503 });
    const retry = {
      ...testRouterConfig().retry,
      budgetPercent: 0,
      budgetReserve: 1,
    };
    const { url, router } = await routerVia({
      instances: { users: [users.url] },
      config: { retry },
    });

    for (let request = 0; request < 3; request++) {
      const response = await gql(url, USER_QUERY, { id: customer.id }, admin);
      expect(response.errors?.[0]?.extensions).toMatchObject({
        code: "SUBGRAPH_UNAVAILABLE",
        service: "users",
      });
    }
    // 3 fetches + the 1 retry the reserve allowed; the first request's second retry and the other
    // two requests' retries were refused.
    expect(users.failedRequests).toBe(4);
    expect(await countersOf(router, "router_subgraph_retries_total")).toEqual({
      users: 1,
    });
    expect(
      await countersOf(router, "router_retry_budget_refusals_total"),
    ).toEqual({ users: 3 });
  });

  it("honours Retry-After: no retry when it asks for longer than the request has left", async () => {
    const users = await proxy("users");
    users.failNext(1, { status: 429, retryAfter: "30" });
    const { url } = await routerVia({
      instances: { users: [users.url] },
      config: { requestDeadlineMs: 5000 },
    });
    const response = await gql(url, USER_QUERY, { id: customer.id }, admin);
    expect(response.errors?.[0]?.extensions).toMatchObject({
      code: "SUBGRAPH_UNAVAILABLE",
      service: "users",
    });
    expect(users.failedRequests).toBe(1);
  });

  it("does not count GraphQL errors in a 200 or a 400 against the breaker", async () => {
    const { url, router } = await routerVia({
      settings: { breaker: QUICK_BREAKER, outlierConsecutiveFailures: 2 },
    });
    for (let request = 0; request < 6; request++) {
      const notFound = await gql(
        url,
        `{ product(id: "00000000-0000-4000-8000-000000000000") { id } }`,
      );
      expect(notFound.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    }
    expect(breakerOf(router, "products")).toBe("closed");
  });

  it("spreads load over two products instances, and moves it to the survivor when one dies, with no client-visible error", async () => {
    const second = productsModule({
      internalServiceSecret: "unused-by-this-test-0123456789abcdef",
      reservationTtlSeconds: 900,
      reservationSweepIntervalMs: 60_000,
    }).create({
      db: stack().subgraphs.products.db,
      logger: silentLogger,
      production: false,
      internalTokenSecret,
    });
    await second.start();
    const secondRunning = await listen(second.handler, { port: 0 });
    cleanups.push(async () => {
      await secondRunning.close();
      await second.stop();
    });
    const a = await proxy("products");
    const b = await startFaultProxy(`${secondRunning.url}/graphql`);
    cleanups.push(() => b.close());
    const { url, router } = await routerVia({
      instances: { products: [a.url, b.url] },
      settings: { breaker: QUICK_BREAKER },
    });
    const served = async () => ({
      a: await counterValues(
        stack().subgraphs.products.server.metrics.registry,
        "graphql_operations_total",
      ),
      b: await counterValues(
        second.metrics.registry,
        "graphql_operations_total",
      ),
    });
    const total = (counts: Record<string, number>) =>
      Object.values(counts).reduce((sum, value) => sum + value, 0);

    const before = await served();
    for (let request = 0; request < 20; request++)
      expect((await gql(url, PRODUCTS_QUERY)).errors).toBeUndefined();
    const spread = await served();
    const onA = total(spread.a) - total(before.a);
    const onB = total(spread.b) - total(before.b);
    expect(onA + onB).toBe(20);
    expect(onA).toBeGreaterThanOrEqual(5);
    expect(onB).toBeGreaterThanOrEqual(5);

    b.setMode("reset");
    for (let request = 0; request < 20; request++) {
      const response = await gql(url, PRODUCTS_QUERY);
      expect(response.errors).toBeUndefined();
      expect(response.data?.products.totalCount).toBe(demoProducts.length);
    }
    const after = await served();
    expect(total(after.b)).toBe(total(spread.b));
    expect(total(after.a) - total(spread.a)).toBe(20);
    expect(breakerOf(router, "products", 1)).not.toBe("closed");
  });

  it.each(EXECUTORS)(
    "follows a reloaded supergraph that moves a subgraph to another URL, without a restart (%s executor)",
    async (executor) => {
      const dir = mkdtempSync(join(tmpdir(), "switchyard-supergraph-"));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, "supergraph.graphql");
      const composed = readFileSync("supergraph.graphql", "utf8");
      const withProductsAt = (productsUrl: string) =>
        composed.replace(
          /name: "(\w+)", url: "[^"]+"/g,
          (_match, name: keyof Stack["subgraphs"]) =>
            `name: "${name}", url: "${name === "products" ? productsUrl : stack().subgraphs[name].url}"`,
        );
      writeFileSync(path, withProductsAt(stack().subgraphs.products.url));
      const moved = await proxy("products");
      const config = testRouterConfig({ supergraphPath: path, executor });
      const { url, router, stop } = await serveRouter({
        ...config,
        security: ownRouterSecurity(stack(), config, internalTokenSecret),
      });
      cleanups.push(stop);
      expect((await gql(url, PRODUCTS_QUERY)).errors).toBeUndefined();
      expect(moved.connections).toBe(0);

      writeFileSync(path, withProductsAt(moved.url));
      await waitUntil(
        "products traffic goes to the new URL",
        async () =>
          (await gql(url, PRODUCTS_QUERY)).errors === undefined &&
          moved.connections > 0,
      );
      expect(
        router.subgraphs
          .get("products")!
          .pool.snapshot()
          .map((instance) => instance.instance),
      ).toEqual([new URL(moved.url).host]);
    },
  );

  it("reports instances and breaker states per subgraph on /ready, and resilience series on /metrics", async () => {
    const payments = await proxy("payments");
    payments.setMode("reset");
    const { url, base, router } = await routerVia({
      instances: { payments: [payments.url] },
      settings: { breaker: QUICK_BREAKER },
      config: { retry: { ...testRouterConfig().retry, maxAttempts: 1 } },
    });
    for (
      let attempt = 0;
      attempt < 10 && breakerOf(router, "payments") !== "open";
      attempt++
    )
      await gql(url, ORDER_QUERY, { id: order.id }, admin);

    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(503);
    const { details } = (await ready.json()) as {
      details: {
        subgraphs: Array<{
          name: string;
          reachable: boolean;
          instances: Array<{
            instance: string;
            breaker: string;
            reachable: boolean;
          }>;
        }>;
      };
    };
    const byName = Object.fromEntries(
      details.subgraphs.map((subgraph) => [subgraph.name, subgraph]),
    );
    expect(byName.payments).toMatchObject({
      reachable: false,
      instances: [
        {
          instance: new URL(payments.url).host,
          breaker: "open",
          reachable: false,
        },
      ],
    });
    expect(byName.products).toMatchObject({
      reachable: true,
      instances: [{ breaker: "closed", reachable: true }],
    });

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(
        `router_breaker_state\\{subgraph="payments",instance="${new URL(payments.url).host}",service="router"\\} 2`,
      ),
    );
    for (const series of [
      "router_breaker_transitions_total",
      "router_subgraph_retries_total",
      "router_retry_budget_refusals_total",
      "router_bulkhead_rejections_total",
    ]) {
      expect(metrics).toContain(`# TYPE ${series} counter`);
    }
  });
});
