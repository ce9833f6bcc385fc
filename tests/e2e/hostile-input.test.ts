import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoUsers } from "../../platform/demo-data.ts";
import {
  createInternalTokenSigner,
  INTERNAL_TOKEN_HEADER,
} from "../../platform/internal-token.ts";
import { MAX_JSON_DEPTH } from "../../platform/json-depth.ts";
import type { Stack } from "../../stack.ts";
import { pgliteBackend } from "../support/storage.ts";
import { bearerFor, bootStack, counterTotal, gql } from "../support/stack.ts";

const pglite = pgliteBackend;
const [admin, ada] = [demoUsers[0]!, demoUsers[1]!];

/** Hostile input through the real router (development mode, in-process subgraphs on PGlite). */
describe("hostile input at the router edge", () => {
  let stack: Stack;
  let drop: () => Promise<void>;
  let asAda: Record<string, string>;
  let asAdmin: Record<string, string>;
  const internalTokenSecret = randomBytes(32).toString("base64url");

  const subgraphFetches = () =>
    counterTotal(
      stack.router.metrics.registry,
      "router_subgraph_fetches_total",
    );

  beforeAll(async () => {
    const opened = await pglite.open();
    drop = opened.drop;
    stack = await bootStack(opened.storage, { internalTokenSecret });
    asAda = await bearerFor(stack.routerUrl, ada.email);
    asAdmin = await bearerFor(stack.routerUrl, admin.email);
  });
  afterAll(async () => {
    await stack?.stop();
    await drop?.();
  });

  describe("the cost limit with page sizes in variables", () => {
    const page =
      "edges { node { id sku name description price currency inventory inStock } } totalCount pageInfo { hasNextPage }";

    it("refuses `query($f: Int = 1000) { products(first: $f) … }` exactly like the literal, before any subgraph is called", async () => {
      const before = await subgraphFetches();
      const literal = await gql(
        stack.routerUrl,
        `{ a: products(first: 1000) { ${page} } b: products(first: 1000) { ${page} } }`,
      );
      const viaDefault = await gql(
        stack.routerUrl,
        `query($f: Int = 1000) { a: products(first: $f) { ${page} } b: products(first: $f) { ${page} } }`,
      );
      expect(literal.status).toBe(400);
      expect(literal.errors?.[0]?.extensions).toMatchObject({
        code: "QUERY_TOO_COMPLEX",
        limit: "cost",
      });
      expect(viaDefault.status).toBe(400);
      expect(viaDefault.errors?.[0]?.extensions).toEqual(
        literal.errors?.[0]?.extensions,
      );
      expect(await subgraphFetches()).toBe(before);
    });

    it("refuses nested me.orders(first: $f) … user.orders(first: $f) by its default, and measures an explicit value", async () => {
      const nested = `query($f: Int = 200) { me { orders(first: $f) { edges { node { id user { orders(first: $f) { edges { node { id total } } } } } } } } }`;
      const byDefault = await gql(stack.routerUrl, nested, {}, asAda);
      expect(byDefault.errors?.[0]?.extensions).toMatchObject({
        code: "QUERY_TOO_COMPLEX",
        limit: "cost",
      });
      const small = await gql(stack.routerUrl, nested, { f: 2 }, asAda);
      expect(small.errors).toBeUndefined();
      const explicit = await gql(
        stack.routerUrl,
        nested.replace("= 200", "= 1"),
        { f: 200 },
        asAda,
      );
      expect(explicit.errors?.[0]?.extensions).toMatchObject({
        code: "QUERY_TOO_COMPLEX",
        limit: "cost",
      });
    });
  });

  describe("deeply nested JSON", () => {
    const PRODUCTS = "{ products(first: 1) { totalCount } }";
    // Written as text: JSON.stringify itself cannot encode what the router must refuse.
    const deep = (levels: number): string =>
      "[".repeat(levels) + "]".repeat(levels);

    async function post(body: string): Promise<{
      status: number;
      body: { errors?: Array<{ extensions?: Record<string, unknown> }> };
    }> {
      const response = await fetch(stack.routerUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      return {
        status: response.status,
        body: (await response.json()) as never,
      };
    }

    it.each([
      [
        "variables",
        (levels: number) =>
          `{"query":${JSON.stringify(PRODUCTS)},"variables":{"unused":${deep(levels)}}}`,
      ],
      [
        "extensions",
        (levels: number) =>
          `{"query":${JSON.stringify(PRODUCTS)},"extensions":{"unused":${deep(levels)}}}`,
      ],
    ])(
      "answers deeply nested %s with 400 BAD_REQUEST naming the cap, never a 500",
      async (_where, bodyOf) => {
        // Known to the router first, so the request takes the response-sharing path (which keys on the JSON).
        expect((await gql(stack.routerUrl, PRODUCTS)).errors).toBeUndefined();
        for (const levels of [MAX_JSON_DEPTH + 1, 100_000]) {
          const answer = await post(bodyOf(levels));
          expect(answer.status).toBe(400);
          expect(answer.body.errors?.[0]?.extensions).toEqual({
            code: "BAD_REQUEST",
            maxDepth: MAX_JSON_DEPTH,
          });
        }
        // At the cap it is an ordinary request.
        const atCap = await post(bodyOf(MAX_JSON_DEPTH - 1));
        expect(atCap.status).toBe(200);
      },
    );

    it("answers a GET with deeply nested variables the same way", async () => {
      // Node caps a request's headers (the URL included) at 16 KB, so a GET cannot nest very deep; past the cap is enough.
      const url = `${stack.routerUrl}?${new URLSearchParams({ query: PRODUCTS, variables: `{"unused":${deep(MAX_JSON_DEPTH + 1)}}` })}`;
      const response = await fetch(url, {
        headers: { "apollo-require-preflight": "true" },
      });
      expect(response.status).toBe(400);
      expect(
        ((await response.json()) as { errors: Array<{ extensions: unknown }> })
          .errors[0]!.extensions,
      ).toEqual({ code: "BAD_REQUEST", maxDepth: MAX_JSON_DEPTH });
    });

    it("answers a deeply nested GraphQL document with a 400, never a 500", async () => {
      const list = `{ products(first: 1, search: ${"[".repeat(50_000)}"x"${"]".repeat(50_000)}) { totalCount } }`;
      const selections = `{ products(first: 1) { ${"edges { node { ".repeat(20_000)} } }`;
      for (const query of [list, selections]) {
        const response = await fetch(stack.routerUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query }),
        });
        expect(response.status).toBe(400);
      }
    });
  });

  describe("a NUL byte in string input", () => {
    const SIGN_UP =
      "mutation($input: SignUpInput!) { signUp(input: $input) { token } }";
    const CREATE =
      "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }";
    const PLACE =
      "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }";
    const cases: Array<
      [
        string,
        string,
        Record<string, unknown>,
        () => Record<string, string>,
        string,
      ]
    > = [
      [
        "a variable",
        SIGN_UP,
        {
          input: {
            email: `nul-${randomUUID()}@example.com`,
            name: "a\u0000b",
            password: "correct horse battery staple",
          },
        },
        () => ({}),
        "$input.name",
      ],
      [
        "a nested input object",
        CREATE,
        {
          input: {
            sku: `NUL-${randomUUID().slice(0, 8)}`,
            name: "X",
            price: "1.00",
            description: "\u0000",
          },
        },
        () => asAdmin,
        "$input.description",
      ],
      [
        "an input list",
        PLACE,
        {
          input: {
            items: [
              { productId: "fine", quantity: 1 },
              { productId: "p\u0000", quantity: 1 },
            ],
            idempotencyKey: randomUUID(),
            paymentToken: "tok_visa",
          },
        },
        () => asAda,
        "$input.items.1.productId",
      ],
      [
        "a query literal",
        '{ products(first: 1, search: "a\\u0000b") { totalCount } }',
        {},
        () => ({}),
        "search",
      ],
      [
        "a nested literal",
        'mutation { createProduct(input: { sku: "NUL-LIT", name: "\\u0000", price: "1.00" }) { id } }',
        {},
        () => asAdmin,
        "input.name",
      ],
    ];

    it.each(cases)(
      "in %s is refused at the router as 400 BAD_USER_INPUT naming where, before any subgraph",
      async (_where, query, variables, headers, field) => {
        const before = await subgraphFetches();
        const response = await gql(
          stack.routerUrl,
          query,
          variables,
          headers(),
        );
        expect(response.status).toBe(400);
        expect(response.errors?.[0]?.extensions).toMatchObject({
          code: "BAD_USER_INPUT",
          field,
        });
        expect(JSON.stringify(response)).not.toMatch(
          /invalid byte sequence|0x00|UTF8/,
        );
        expect(await subgraphFetches()).toBe(before);
      },
    );

    it("hidden in an opaque cursor is refused as BAD_USER_INPUT on `after`, never reaching SQL", async () => {
      // A cursor is base64url JSON: a NUL written as a JSON escape survives the router's string check.
      const cursor = Buffer.from(JSON.stringify("SKU\u0000"), "utf8").toString(
        "base64url",
      );
      const response = await gql(
        stack.routerUrl,
        "query($after: String) { products(first: 1, after: $after) { totalCount } }",
        { after: cursor },
      );
      expect(response.errors?.[0]?.extensions).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "after",
      });
      expect(JSON.stringify(response)).not.toMatch(
        /invalid byte sequence|0x00|UTF8/,
      );
    });

    it("is refused by a subgraph called directly with a valid router token too", async () => {
      const token = await createInternalTokenSigner({
        secret: internalTokenSecret,
      }).sign(null);
      const response = await gql(
        stack.subgraphs.products.url,
        "query($s: String) { products(first: 1, search: $s) { totalCount } }",
        { s: "a\u0000b" },
        { [INTERNAL_TOKEN_HEADER]: token },
      );
      expect(response.status).toBe(400);
      expect(response.errors?.[0]?.extensions).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "$s",
      });
    });
  });
});
