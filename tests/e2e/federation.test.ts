import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  demoOrders,
  demoProducts,
  demoUsers,
  DEMO_PASSWORD,
} from "../../platform/demo-data.ts";
import { stableId } from "../../platform/ids.ts";
import {
  demoOrder,
  expectedDemoOrder,
  ORDER_QUERY,
} from "../support/demo-order.ts";
import { BULK_ORDERS_QUERY, seedBulkOrders } from "../../bench/bulk-orders.ts";
import { costOf } from "../../bench/list-size.ts";
import { SUBGRAPH_NAMES, type SubgraphName } from "../../platform/services.ts";
import type { Stack } from "../../stack.ts";
import { allBackends } from "../support/storage.ts";
import {
  bearerFor,
  bootStack,
  gql,
  type GraphQLResponse,
  type Json,
} from "../support/stack.ts";

const backends = await allBackends();

const ALL_SERVICES: readonly SubgraphName[] = SUBGRAPH_NAMES;

describe.each(backends)("the supergraph on $name", (backend) => {
  let stack: Stack;
  let drop: () => Promise<void>;
  /** Orders, payments and other users' emails are not public: these tests read as the demo admin. */
  let admin: Record<string, string>;

  beforeAll(async () => {
    if (backend.unavailable) return;
    const opened = await backend.open();
    drop = opened.drop;
    // No background pollers during the counted requests: a saga-resume or reservation sweep landing
    // inside a measurement would count as the request's SQL.
    stack = await bootStack(opened.storage, {
      orders: { sagaResumeIntervalMs: 3_600_000 },
      products: { reservationSweepIntervalMs: 3_600_000 },
    });
    admin = await bearerFor(stack.routerUrl, demoUsers[0]!.email);
  });
  afterAll(async () => {
    await stack?.stop();
    await drop?.();
  });

  /** SQL statements and router fetches per subgraph caused by `run`. */
  async function measure<T>(run: () => Promise<T>) {
    const { result, sqlQueries, subgraphRequests } = await costOf(stack, run);
    return { result, sql: sqlQueries, fetches: subgraphRequests };
  }

  it.skipIf(backend.unavailable)(
    "resolves an order across all four subgraphs in one request",
    async () => {
      const { data, errors } = await gql(
        stack.routerUrl,
        ORDER_QUERY,
        { id: demoOrder.id },
        admin,
      );
      expect(errors).toBeUndefined();
      expect(data.order).toEqual(expectedDemoOrder());
    },
  );

  it.skipIf(backend.unavailable)(
    "lists a user's orders with their items' products",
    async () => {
      const customer = demoUsers[1]!;
      const { data, errors } = await gql(
        stack.routerUrl,
        `query($id: ID!) { user(id: $id) { name orders { totalCount edges { node { id items { product { name } } } } } } }`,
        { id: customer.id },
        await bearerFor(stack.routerUrl, customer.email),
      );
      expect(errors).toBeUndefined();
      const expected = demoOrders
        .filter((order) => order.userId === customer.id)
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      expect(data.user.orders.totalCount).toBe(expected.length);
      expect(
        data.user.orders.edges.map(
          (edge: { node: { id: string } }) => edge.node.id,
        ),
      ).toEqual(expected.map((order) => order.id));
      expect(data.user.orders.edges[0].node.items[0].product.name).toBe(
        demoProducts.find(
          (product) => product.id === expected[0]!.items[0]!.productId,
        )!.name,
      );
    },
  );

  it.skipIf(backend.unavailable)(
    "costs one SQL query per entity type for 100 products",
    async () => {
      const { result, sql, fetches } = await measure(() =>
        gql(
          stack.routerUrl,
          "{ products(first: 100) { totalCount edges { cursor node { id sku name description price currency inventory inStock } } } }",
        ),
      );
      const { data, errors } = result as GraphQLResponse<Json>;
      expect(errors).toBeUndefined();
      expect(data.products.edges).toHaveLength(demoProducts.length);
      expect(data.products.totalCount).toBe(demoProducts.length);
      expect(sql).toEqual({ users: 0, products: 1, orders: 0, payments: 0 });
      expect(fetches).toEqual({
        users: 0,
        products: 1,
        orders: 0,
        payments: 0,
      });
    },
  );

  it.skipIf(backend.unavailable)(
    "keeps SQL and subgraph fetches constant however long the nested list is",
    async () => {
      const { subgraphs } = stack;
      const buyer = await seedBulkOrders(
        {
          users: subgraphs.users.db,
          orders: subgraphs.orders.db,
          payments: subgraphs.payments.db,
        },
        { tag: backend.name, count: 150 },
      );
      // Warm-up: the router's first signed-in request fetches the users JWKS (a users query of its own).
      await gql(
        stack.routerUrl,
        BULK_ORDERS_QUERY,
        { id: buyer.id, first: 1 },
        admin,
      );
      for (const first of [1, 10, 150]) {
        const { result, sql, fetches } = await measure(() =>
          gql(
            stack.routerUrl,
            BULK_ORDERS_QUERY,
            { id: buyer.id, first },
            admin,
          ),
        );
        const { data, errors } = result as GraphQLResponse<Json>;
        expect(errors).toBeUndefined();
        expect(data.user.orders.edges).toHaveLength(first);
        // users: the root user; orders: the page + all their items; products and payments: one batch each.
        expect(sql).toEqual({ users: 1, products: 1, orders: 2, payments: 1 });
        // One fetch per plan step: users (root), orders (_entities User), products and payments (_entities).
        expect(fetches).toEqual({
          users: 1,
          products: 1,
          orders: 1,
          payments: 1,
        });
      }
    },
  );

  it.skipIf(backend.unavailable)(
    "pages through products with cursors",
    async () => {
      const query = `query($after: String) { products(first: 20, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { sku } } } }`;
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 3; page += 1) {
        const { data, errors }: GraphQLResponse<Json> = await gql(
          stack.routerUrl,
          query,
          { after },
        );
        expect(errors).toBeUndefined();
        expect(data.products.totalCount).toBe(50);
        expect(data.products.pageInfo.hasPreviousPage).toBe(page > 0);
        expect(data.products.pageInfo.hasNextPage).toBe(page < 2);
        seen.push(
          ...data.products.edges.map(
            (edge: { node: { sku: string } }) => edge.node.sku,
          ),
        );
        after = data.products.pageInfo.endCursor;
      }
      expect(seen).toEqual(demoProducts.map((product) => product.sku).sort());
      const past = await gql(stack.routerUrl, query, { after });
      expect(past.data.products).toMatchObject({
        totalCount: 50,
        edges: [],
        pageInfo: { hasNextPage: false },
      });
    },
  );

  it.skipIf(backend.unavailable)(
    "finds products by name, treating LIKE wildcards literally",
    async () => {
      const { data } = await gql(
        stack.routerUrl,
        `{ products(first: 100, search: "walnut") { totalCount edges { node { name } } } }`,
      );
      expect(data.products.totalCount).toBe(5);
      expect(
        data.products.edges.every((edge: { node: { name: string } }) =>
          edge.node.name.startsWith("Walnut"),
        ),
      ).toBe(true);
      const wildcard = await gql(
        stack.routerUrl,
        `{ products(search: "%") { totalCount } }`,
      );
      expect(wildcard.data.products.totalCount).toBe(0);
    },
  );

  describe.each([
    [
      "an unknown id",
      `{ order(id: "${stableId("order:none")}") { id } }`,
      "NOT_FOUND",
    ],
    [
      "an unknown product",
      `{ product(id: "${stableId("product:none")}") { id } }`,
      "NOT_FOUND",
    ],
    [
      "a malformed id",
      `{ product(id: "42; DROP TABLE products") { id } }`,
      "BAD_USER_INPUT",
    ],
    [
      "a malformed user id",
      `{ user(id: "not-a-uuid") { id } }`,
      "BAD_USER_INPUT",
    ],
    [
      "a negative first",
      `{ products(first: -1) { totalCount } }`,
      "BAD_USER_INPUT",
    ],
    [
      "a first above the maximum",
      `{ products(first: 1001) { totalCount } }`,
      "BAD_USER_INPUT",
    ],
    [
      "a forged cursor",
      `{ products(after: "bm90IGEgY3Vyc29y") { totalCount } }`,
      "BAD_USER_INPUT",
    ],
    ["a missing argument", `{ order { id } }`, "GRAPHQL_VALIDATION_FAILED"],
    [
      "an unknown field",
      `{ order(id: "x") { secret } }`,
      "GRAPHQL_VALIDATION_FAILED",
    ],
    ["broken syntax", `{ order(id: `, "GRAPHQL_PARSE_FAILED"],
  ])("given %s", (_label, query, code) => {
    it.skipIf(backend.unavailable)(
      `answers ${code} and keeps serving`,
      async () => {
        const response = await gql(stack.routerUrl, query, {}, admin);
        expect(response.status).toBeLessThan(500);
        expect(response.errors?.map((error) => error.extensions?.code)).toEqual(
          [code],
        );
        expect(JSON.stringify(response.errors)).not.toMatch(
          /at .*\.ts:\d+|SELECT|127\.0\.0\.1/,
        );
        const healthy = await gql(
          stack.routerUrl,
          "{ products(first: 1) { totalCount } }",
        );
        expect(healthy.data?.products.totalCount).toBe(50);
      },
    );
  });

  it.skipIf(backend.unavailable)(
    "signs up and logs in, issuing ES256 tokens verifiable with the JWKS",
    async () => {
      const email = `new-${backend.name}@switchyard.dev`;
      const signUp = await gql(
        stack.routerUrl,
        `mutation($input: SignUpInput!) { signUp(input: $input) { token user { id email name role } } }`,
        {
          input: {
            email: ` ${email.toUpperCase()} `,
            name: "New Customer",
            password: "correct horse battery",
          },
        },
      );
      expect(signUp.errors).toBeUndefined();
      expect(signUp.data.signUp.user).toMatchObject({
        email,
        name: "New Customer",
        role: "CUSTOMER",
      });

      const jwksUrl = stack.subgraphs.users.url.replace(
        "/graphql",
        "/.well-known/jwks.json",
      );
      const jwks = createLocalJWKSet(
        (await (await fetch(jwksUrl)).json()) as Parameters<
          typeof createLocalJWKSet
        >[0],
      );
      const { payload, protectedHeader } = await jwtVerify(
        signUp.data.signUp.token,
        jwks,
        {
          issuer: "switchyard-users",
          audience: "switchyard",
          algorithms: ["ES256"],
        },
      );
      expect(payload.sub).toBe(signUp.data.signUp.user.id);
      expect(protectedHeader.kid).toBeTruthy();

      const logIn = await gql(
        stack.routerUrl,
        `mutation($email: String!, $password: String!) { logIn(email: $email, password: $password) { user { id } } }`,
        { email, password: "correct horse battery" },
      );
      expect(logIn.data.logIn.user.id).toBe(signUp.data.signUp.user.id);

      // A taken email is never announced: another password fails like logIn, the owner's signs in.
      const duplicate = await gql(
        stack.routerUrl,
        `mutation($input: SignUpInput!) { signUp(input: $input) { token } }`,
        { input: { email, name: "Again", password: "another password" } },
      );
      expect(duplicate.errors?.[0]).toMatchObject({
        message: "invalid email or password",
        extensions: { code: "UNAUTHENTICATED" },
      });
      const again = await gql(
        stack.routerUrl,
        `mutation($input: SignUpInput!) { signUp(input: $input) { user { id } } }`,
        { input: { email, name: "Again", password: "correct horse battery" } },
      );
      expect(again.data.signUp.user.id).toBe(signUp.data.signUp.user.id);
    },
  );

  it.skipIf(backend.unavailable)(
    "rejects a wrong password, an unknown email and weak sign-up input with coded errors",
    async () => {
      const admin = demoUsers[0]!;
      const login = `mutation($email: String!, $password: String!) { logIn(email: $email, password: $password) { token } }`;
      expect(
        (
          await gql(stack.routerUrl, login, {
            email: admin.email,
            password: "wrong password",
          })
        ).errors?.[0]?.extensions?.code,
      ).toBe("UNAUTHENTICATED");
      expect(
        (
          await gql(stack.routerUrl, login, {
            email: "nobody@switchyard.dev",
            password: DEMO_PASSWORD,
          })
        ).errors?.[0]?.extensions?.code,
      ).toBe("UNAUTHENTICATED");
      expect(
        (
          await gql(stack.routerUrl, login, {
            email: admin.email,
            password: DEMO_PASSWORD,
          })
        ).errors,
      ).toBeUndefined();
      const signUp = `mutation($input: SignUpInput!) { signUp(input: $input) { token } }`;
      for (const [input, field] of [
        [
          { email: "not-an-email", name: "X", password: "long enough" },
          "input.email",
        ],
        [
          { email: "short@switchyard.dev", name: "X", password: "short" },
          "input.password",
        ],
        [
          {
            email: "blank@switchyard.dev",
            name: "   ",
            password: "long enough",
          },
          "input.name",
        ],
      ] as const) {
        expect(
          (await gql(stack.routerUrl, signUp, { input })).errors?.[0]
            ?.extensions,
        ).toMatchObject({ code: "BAD_USER_INPUT", field });
      }
    },
  );

  it.skipIf(backend.unavailable)(
    "reports ready with every subgraph reachable, and health and metrics on every service",
    async () => {
      const routerBase = stack.routerUrl.replace("/graphql", "");
      const ready = await fetch(`${routerBase}/ready`);
      expect(ready.status).toBe(200);
      expect(
        ((await ready.json()) as { details: { subgraphs: unknown[] } }).details
          .subgraphs,
      ).toHaveLength(ALL_SERVICES.length);
      for (const base of [
        routerBase,
        ...ALL_SERVICES.map((name) =>
          stack.subgraphs[name].url.replace("/graphql", ""),
        ),
      ]) {
        expect((await fetch(`${base}/health`)).status).toBe(200);
        expect((await fetch(`${base}/ready`)).status).toBe(200);
        const metrics = await fetch(`${base}/metrics`);
        expect(metrics.headers.get("content-type")).toContain("text/plain");
        expect(await metrics.text()).toContain("http_request_duration_seconds");
      }
    },
  );
});
