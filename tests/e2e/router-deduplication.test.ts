import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { demoUsers, DEMO_PASSWORD } from "../../platform/demo-data.ts";
import type { Router } from "../../router/server.ts";
import type { Stack } from "../../stack.ts";
import {
  bearerFor,
  bootStack,
  counterValues,
  gql,
  testRouterConfig,
  waitUntil,
} from "../support/stack.ts";
import {
  startHoldableServer,
  type HoldableServer,
} from "../support/holdable-server.ts";
import { startOwnRouter } from "../support/own-router.ts";
import { pgliteBackend } from "../support/storage.ts";

const PRODUCTS_QUERY =
  "{ products(first: 2) { totalCount edges { node { id name } } } }";
const ME_QUERY = "{ me { id email } }";
const LOG_IN =
  "mutation($email: String!, $password: String!) { logIn(email: $email, password: $password) { token } }";

/**
 * An HTTP proxy in front of a subgraph that counts what reaches it and, while held, keeps every
 * request waiting until released: requests sent together are then provably in flight together.
 */
async function startGate(targetUrl: string) {
  const bodies: string[] = [];
  const server = await startHoldableServer((req, res, body) => {
    bodies.push(body);
    return () => void forward();
    async function forward() {
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(req.headers))
        if (
          typeof value === "string" &&
          key !== "host" &&
          key !== "content-length"
        )
          headers[key] = value;
      const upstream = await fetch(targetUrl, {
        method: "POST",
        headers,
        body,
      });
      res.writeHead(upstream.status, {
        "content-type":
          upstream.headers.get("content-type") ?? "application/json",
      });
      res.end(await upstream.text());
    }
  });
  return { ...server, bodies };
}

/**
 * Sends while `gate` holds, waits until `arrived` says the requests are provably in flight
 * together, then releases: the answers, in the order sent.
 */
async function whileHeld<T>(
  gate: HoldableServer,
  send: () => Array<Promise<T>>,
  what: string,
  arrived: () => boolean | Promise<boolean>,
): Promise<T[]> {
  gate.hold();
  const responses = Promise.all(send());
  await waitUntil(what, arrived);
  gate.release();
  return responses;
}

describe("the router deduplicates identical work in flight", () => {
  let stack: Stack;
  let drop: () => Promise<void>;
  const internalTokenSecret = randomBytes(32).toString("base64url");
  const cleanups: Array<() => Promise<void>> = [];
  const [ada, grace] = demoUsers.filter((user) => user.role === "CUSTOMER");

  beforeAll(async () => {
    const opened = await pgliteBackend.open();
    drop = opened.drop;
    stack = await bootStack(opened.storage, { internalTokenSecret });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await stack?.stop();
    await drop?.();
  });

  async function gateFor(name: "users" | "products") {
    const gate = await startGate(stack.subgraphs[name].url);
    cleanups.push(() => gate.close());
    return gate;
  }

  const routerVia = (
    gated: Partial<Record<"users" | "products", string>>,
    env: Record<string, string>,
  ) =>
    startOwnRouter(stack, {
      base: testRouterConfig({}, env),
      internalTokenSecret,
      cleanups,
      urls: Object.fromEntries(
        Object.entries(gated).map(([name, url]) => [name, [url]]),
      ),
    });

  const counter = async (router: Router, name: string) =>
    Object.values(await counterValues(router.metrics.registry, name)).reduce(
      (sum, value) => sum + value,
      0,
    );
  /** Neither an operation nor a subgraph fetch was shared. */
  const expectNothingShared = async (router: Router) => {
    expect(await counter(router, "router_operations_deduplicated_total")).toBe(
      0,
    );
    expect(
      await counter(router, "router_subgraph_fetches_deduplicated_total"),
    ).toBe(0);
  };
  const joinedAt = async (router: Router, stage: "edge" | "execution") =>
    (
      await counterValues(
        router.metrics.registry,
        "router_operations_deduplicated_total",
      ).catch(() => ({}) as Record<string, number>)
    )[stage] ?? 0;

  it("inbound: eight identical queries in flight execute once, and each caller gets the full answer", async () => {
    const products = await gateFor("products");
    const { url, router } = await routerVia({ products: products.url }, {});
    const answers = await whileHeld(
      products,
      () => Array.from({ length: 8 }, () => gql(url, PRODUCTS_QUERY)),
      "seven requests joined the first",
      async () =>
        (await counter(router, "router_operations_deduplicated_total")) === 7,
    );
    // A document seen for the first time is shared at execution (parsing and validation come first);
    // once the first request has validated it, later arrivals are shared at the edge.
    expect(
      (await joinedAt(router, "execution")) + (await joinedAt(router, "edge")),
    ).toBe(7);
    expect(await joinedAt(router, "execution")).toBeGreaterThan(0);

    expect(products.bodies).toHaveLength(1);
    for (const answer of answers) {
      expect(answer.errors).toBeUndefined();
      expect(answer.data.products.edges).toHaveLength(2);
    }
    expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(
      1,
    );

    // Only work in flight is shared: the same query afterwards runs again.
    await gql(url, PRODUCTS_QUERY);
    expect(products.bodies).toHaveLength(2);
  });

  it("at the edge: once a document is known, identical requests in flight get one encoded response, rate limits still counted per request", async () => {
    const products = await gateFor("products");
    const { url, router } = await routerVia(
      { products: products.url },
      { ROUTER_RATE_LIMIT: "4/1m" },
    );
    expect((await gql(url, PRODUCTS_QUERY)).data.products.edges).toHaveLength(
      2,
    );
    // One leads, five arrive while it is in flight: each is admitted (or refused) by the rate limiter.
    const answers = await whileHeld(
      products,
      () => Array.from({ length: 6 }, () => gql(url, PRODUCTS_QUERY)),
      "the leader reached products and two joiners were admitted",
      async () =>
        products.bodies.length === 2 && (await joinedAt(router, "edge")) === 2,
    );

    // Budget 4: the learning request, then 3 of the 6 — the other 3 get their own 429.
    expect(answers.map((answer) => answer.status).sort()).toEqual([
      200, 200, 200, 429, 429, 429,
    ]);
    expect(
      answers
        .filter((answer) => answer.status === 429)
        .map((answer) => answer.errors?.[0]?.extensions?.code),
    ).toEqual(["RATE_LIMITED", "RATE_LIMITED", "RATE_LIMITED"]);
    expect(
      new Set(
        answers
          .filter((answer) => answer.status === 200)
          .map((answer) => JSON.stringify(answer.data)),
      ).size,
    ).toBe(1);
    expect(products.bodies).toHaveLength(2);
  });

  it("at the edge, a request CSRF prevention must see is never answered from a shared response", async () => {
    const products = await gateFor("products");
    const { url } = await routerVia({ products: products.url }, {});
    await gql(url, PRODUCTS_QUERY);
    products.hold();
    const json = gql(url, PRODUCTS_QUERY);
    await waitUntil(
      "the JSON request reached products",
      () => products.bodies.length === 2,
    );
    const simple = await fetch(url, {
      method: "POST",
      headers: { "content-type": "text/plain; charset=json" },
      body: JSON.stringify({ query: PRODUCTS_QUERY }),
    });
    products.release();
    expect((await json).status).toBe(200);
    expect(simple.status).toBe(400);
    expect(await simple.text()).toMatch(/CSRF|preflight/i);
  });

  it("outbound (inbound off): identical subgraph fetches in flight are sent once", async () => {
    const products = await gateFor("products");
    const { url, router } = await routerVia(
      { products: products.url },
      { ROUTER_DEDUP_INBOUND: "false" },
    );
    const answers = await whileHeld(
      products,
      () => Array.from({ length: 6 }, () => gql(url, PRODUCTS_QUERY)),
      "five fetches joined the first",
      async () =>
        (await counter(
          router,
          "router_subgraph_fetches_deduplicated_total",
        )) === 5,
    );

    expect(products.bodies).toHaveLength(1);
    expect(await counter(router, "router_operations_deduplicated_total")).toBe(
      0,
    );
    for (const answer of answers)
      expect(answer.data.products.edges).toHaveLength(2);
  });

  it("never shares across callers: two users asking `me` together each get their own email (inbound and outbound)", async () => {
    for (const env of [{}, { ROUTER_DEDUP_INBOUND: "false" }] as Array<
      Record<string, string>
    >) {
      const users = await gateFor("users");
      const { url, router } = await routerVia({ users: users.url }, env);
      const asAda = await bearerFor(url, ada!.email);
      const asGrace = await bearerFor(url, grace!.email);
      const sentBefore = users.bodies.length;
      const joinedMetric =
        "ROUTER_DEDUP_INBOUND" in env
          ? "router_subgraph_fetches_deduplicated_total"
          : "router_operations_deduplicated_total";
      // One fetch per caller reaches users; the other four joined their own caller's.
      const answers = await whileHeld(
        users,
        () =>
          [asAda, asGrace, asAda, asGrace, asAda, asGrace].map((headers) =>
            gql(url, ME_QUERY, {}, headers),
          ),
        "one fetch per caller and four joined",
        async () =>
          users.bodies.length - sentBefore === 2 &&
          (await counter(router, joinedMetric)) === 4,
      );
      expect(answers.map((answer) => answer.data?.me?.email)).toEqual(
        [ada, grace, ada, grace, ada, grace].map((user) => user!.email),
      );
      await users.close();
    }
  });

  it("mutations are never shared: four identical logIn mutations in flight reach users four times", async () => {
    const users = await gateFor("users");
    const { url, router } = await routerVia({ users: users.url }, {});
    const answers = await whileHeld(
      users,
      () =>
        Array.from({ length: 4 }, () =>
          gql(url, LOG_IN, { email: ada!.email, password: DEMO_PASSWORD }),
        ),
      "four mutations reached users",
      () => users.bodies.length === 4,
    );
    for (const answer of answers)
      expect(answer.data?.logIn.token).toEqual(expect.any(String));
    await expectNothingShared(router);
  });

  it("switched off, every request is its own execution and fetch", async () => {
    const products = await gateFor("products");
    const { url, router } = await routerVia(
      { products: products.url },
      { ROUTER_DEDUP_INBOUND: "false", ROUTER_DEDUP_SUBGRAPH_FETCHES: "false" },
    );
    const answers = await whileHeld(
      products,
      () => Array.from({ length: 4 }, () => gql(url, PRODUCTS_QUERY)),
      "four fetches reached products",
      () => products.bodies.length === 4,
    );
    for (const answer of answers)
      expect(answer.data.products.edges).toHaveLength(2);
    await expectNothingShared(router);
  });
});
