import { randomBytes, randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  demoOrders,
  demoPayments,
  demoProducts,
  demoUsers,
  DEMO_PASSWORD,
} from "../../platform/demo-data.ts";
import {
  createInternalTokenSigner,
  DEV_INTERNAL_TOKEN_SECRET,
  INTERNAL_TOKEN_HEADER,
} from "../../platform/internal-token.ts";
import type { Stack } from "../../stack.ts";
import { pgliteBackend } from "../support/storage.ts";
import { withSubgraphSettings } from "../../router/config.ts";
import {
  bearerFor,
  bootStack,
  counterTotal,
  gql,
  routerDefaults,
  serveRouter,
  staticDiscoveryOf,
  type Json,
} from "../support/stack.ts";

const pglite = pgliteBackend;
const [admin, ada, grace] = [demoUsers[0]!, demoUsers[1]!, demoUsers[2]!];
const ISSUER = "switchyard-users";
const AUDIENCE = "switchyard";
const CREATE_PRODUCT = `mutation($sku: String!) { createProduct(input: { sku: $sku, name: "Hostile", price: "1.00", inventory: 5 }) { id sku } }`;

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

const b64 = (value: unknown) =>
  Buffer.from(JSON.stringify(value)).toString("base64url");

describe("edge security (hostile input)", () => {
  const internalTokenSecret = randomBytes(32).toString("base64url");
  let stack: Stack;
  let drop: () => Promise<void>;
  let trusted: { kid: string; privateKey: PrivateKey };
  let publicJwk: JWK;
  let adminToken: string;
  let headers: {
    admin: Record<string, string>;
    ada: Record<string, string>;
    grace: Record<string, string>;
  };

  /** An access token signed by a key the users JWKS publishes (a test key inserted into its table). */
  async function signed(
    claims: Record<string, unknown>,
    {
      kid = trusted.kid,
      key = trusted.privateKey as PrivateKey | Uint8Array,
      alg = "ES256",
      iss = ISSUER,
      aud = AUDIENCE,
      exp = "10m" as string | number,
      nbf = undefined as number | undefined,
    } = {},
  ) {
    const jwt = new SignJWT({ role: "ADMIN", scope: "admin", ...claims })
      .setProtectedHeader({ alg, kid, typ: "JWT" })
      .setSubject(admin.id)
      .setIssuer(iss)
      .setAudience(aud)
      .setIssuedAt()
      .setExpirationTime(exp);
    if (nbf !== undefined) jwt.setNotBefore(nbf);
    return jwt.sign(key);
  }

  async function skuExists(sku: string): Promise<boolean> {
    return (
      (
        await stack.subgraphs.products.db.query(
          "SELECT 1 FROM products.products WHERE sku = $1",
          [sku],
        )
      ).length > 0
    );
  }

  const subgraphFetches = () =>
    counterTotal(
      stack.router.metrics.registry,
      "router_subgraph_fetches_total",
    );

  /** Asserts a refusal with `status` and BAD_REQUEST; with `sku`, that the product was not created. */
  async function expectBadRequest(
    response: Response,
    status: number,
    sku?: string,
  ) {
    expect(response.status).toBe(status);
    expect(((await response.json()) as Json).errors[0].extensions.code).toBe(
      "BAD_REQUEST",
    );
    if (sku !== undefined) expect(await skuExists(sku)).toBe(false);
  }

  beforeAll(async () => {
    const opened = await pglite.open();
    drop = opened.drop;
    stack = await bootStack(opened.storage, { internalTokenSecret });
    // A test key in the users key table, retired so it is published in the JWKS but never signs.
    const pair = await generateKeyPair("ES256", { extractable: true });
    const kid = `test-${randomUUID()}`;
    publicJwk = {
      ...(await exportJWK(pair.publicKey)),
      kid,
      alg: "ES256",
      use: "sig",
    };
    await stack.subgraphs.users.db.query(
      `INSERT INTO users.signing_keys (kid, algorithm, private_jwk, public_jwk, retired_at) VALUES ($1, 'ES256', $2, $3, now())`,
      [
        kid,
        JSON.stringify({ ...(await exportJWK(pair.privateKey)), kid }),
        JSON.stringify(publicJwk),
      ],
    );
    trusted = { kid, privateKey: pair.privateKey };
    headers = {
      admin: await bearerFor(stack.routerUrl, admin.email),
      ada: await bearerFor(stack.routerUrl, ada.email),
      grace: await bearerFor(stack.routerUrl, grace.email),
    };
    adminToken = headers.admin.authorization!.slice("Bearer ".length);
  });
  afterAll(async () => {
    await stack?.stop();
    await drop?.();
  });

  it("accepts a well-formed token from the test key (the control for the table below)", async () => {
    const sku = `CONTROL-${randomUUID().slice(0, 8)}`;
    const response = await gql(
      stack.routerUrl,
      CREATE_PRODUCT,
      { sku },
      { authorization: `Bearer ${await signed({})}` },
    );
    expect(response.errors).toBeUndefined();
    expect(await skuExists(sku)).toBe(true);
  });

  const hostileTokens: Array<[string, () => Promise<string>]> = [
    [
      "alg none",
      async () =>
        `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: admin.id, role: "ADMIN", scope: "admin", iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 })}.`,
    ],
    [
      "HS256 signed with the public key as the secret",
      () =>
        signed(
          {},
          {
            alg: "HS256",
            key: new TextEncoder().encode(JSON.stringify(publicJwk)),
          },
        ),
    ],
    [
      "an expired token",
      () => signed({}, { exp: Math.floor(Date.now() / 1000) - 3600 }),
    ],
    [
      "a not-yet-valid token",
      () => signed({}, { nbf: Math.floor(Date.now() / 1000) + 3600 }),
    ],
    ["a wrong issuer", () => signed({}, { iss: "someone-else" })],
    ["a wrong audience", () => signed({}, { aud: "another-api" })],
    [
      "an unknown kid",
      async () =>
        signed(
          {},
          {
            kid: randomUUID(),
            key: (await generateKeyPair("ES256")).privateKey,
          },
        ),
    ],
    [
      "a known kid with a signature from another key",
      async () =>
        signed({}, { key: (await generateKeyPair("ES256")).privateKey }),
    ],
    [
      "a tampered payload (customer token promoted to admin)",
      async () => {
        const [header, payload, signature] = (
          await bearerFor(stack.routerUrl, ada.email)
        )
          .authorization!.slice(7)
          .split(".");
        const claims = JSON.parse(
          Buffer.from(payload!, "base64url").toString(),
        );
        return `${header}.${b64({ ...claims, role: "ADMIN", scope: "admin" })}.${signature}`;
      },
    ],
    [
      "a token with its signature cut off",
      async () => adminToken.split(".").slice(0, 2).join(".") + ".",
    ],
  ];

  describe.each(hostileTokens)("given %s", (_label, token) => {
    it("answers 401 UNAUTHENTICATED, calls no subgraph and writes nothing", async () => {
      const sku = `HOSTILE-${randomUUID().slice(0, 8)}`;
      const authorization = `Bearer ${await token()}`;
      const fetchesBefore = await subgraphFetches();
      const response = await gql(
        stack.routerUrl,
        CREATE_PRODUCT,
        { sku },
        { authorization },
      );
      expect(response.status).toBe(401);
      expect(response.errors?.map((error) => error.extensions?.code)).toEqual([
        "UNAUTHENTICATED",
      ]);
      expect(await subgraphFetches()).toBe(fetchesBefore);
      expect(await skuExists(sku)).toBe(false);
    });
  });

  it("refetches the JWKS for unknown kids at most once per cooldown, so made-up kids cannot flood users", async () => {
    const jwksFetches = async () => {
      const { values } =
        await stack.subgraphs.users.server.metrics.httpDuration.get();
      return values
        .filter(
          (value) =>
            value.metricName === "http_request_duration_seconds_count" &&
            value.labels.route === "/.well-known/jwks.json",
        )
        .reduce((sum, value) => sum + value.value, 0);
    };
    const before = await jwksFetches();
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const token = await signed(
        {},
        { kid: randomUUID(), key: (await generateKeyPair("ES256")).privateKey },
      );
      expect(
        (
          await gql(
            stack.routerUrl,
            "{ me { id } }",
            {},
            { authorization: `Bearer ${token}` },
          )
        ).status,
      ).toBe(401);
    }
    expect(await jwksFetches()).toBeLessThanOrEqual(before + 1);
  });

  it("answers 503 SUBGRAPH_UNAVAILABLE to a signed-in request when the JWKS cannot be fetched, and still serves anonymous ones", async () => {
    const defaults = routerDefaults();
    const { url, stop } = await serveRouter({
      ...defaults,
      port: 0,
      subgraphs: withSubgraphSettings(defaults, staticDiscoveryOf(stack))
        .subgraphs,
      // Nothing listens on the discard port: every JWKS fetch is refused.
      security: {
        ...defaults.security,
        internalTokenSecret,
        jwksUrl: "http://127.0.0.1:9/.well-known/jwks.json",
      },
    });
    try {
      const signedIn = await gql(url, "{ me { id } }", {}, headers.ada);
      expect(signedIn.status).toBe(503);
      expect(signedIn.errors?.[0]?.extensions).toMatchObject({
        code: "SUBGRAPH_UNAVAILABLE",
        service: "users",
      });
      expect(
        (await gql(url, "{ products(first: 1) { totalCount } }")).errors,
      ).toBeUndefined();
    } finally {
      await stop();
    }
  });

  describe.each([
    ["garbage", "Bearer not-a-jwt"],
    [
      "a Basic scheme",
      `Basic ${Buffer.from(`${admin.email}:${DEMO_PASSWORD}`).toString("base64")}`,
    ],
    ["an empty bearer", "Bearer "],
  ])("given an Authorization header with %s", (_label, authorization) => {
    it("answers 401 UNAUTHENTICATED and calls no subgraph", async () => {
      const fetchesBefore = await subgraphFetches();
      const response = await gql(
        stack.routerUrl,
        "{ products(first: 1) { totalCount } }",
        {},
        { authorization },
      );
      expect(response.status).toBe(401);
      expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      expect(await subgraphFetches()).toBe(fetchesBefore);
    });
  });

  describe("direct subgraph calls", () => {
    const direct = async (extra: Record<string, string>, sku: string) => {
      const response = await fetch(stack.subgraphs.products.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...extra },
        body: JSON.stringify({ query: CREATE_PRODUCT, variables: { sku } }),
      });
      return { status: response.status, body: (await response.json()) as Json };
    };

    it.each([
      ["no identity at all", {}],
      [
        "a forged x-user-id header",
        { "x-user-id": admin.id, "x-user-role": "ADMIN" },
      ],
      [
        "the client access token of an admin",
        { authorization: "Bearer __ADMIN__" },
      ],
      [
        "a router token signed with the development default secret",
        { [INTERNAL_TOKEN_HEADER]: "__DEV__" },
      ],
      [
        "a router token signed with a guessed secret",
        { [INTERNAL_TOKEN_HEADER]: "__GUESSED__" },
      ],
    ] as Array<[string, Record<string, string>]>)(
      "are refused with 401 UNAUTHENTICATED given %s, and write nothing",
      async (_label, extra) => {
        const principal = {
          id: admin.id,
          role: "ADMIN" as const,
          scopes: ["admin"],
        };
        const resolved = Object.fromEntries(
          await Promise.all(
            Object.entries(extra).map(async ([name, value]) => [
              name,
              value === "__ADMIN__"
                ? `Bearer ${adminToken}`
                : value === "__DEV__"
                  ? await createInternalTokenSigner({
                      secret: DEV_INTERNAL_TOKEN_SECRET,
                    }).sign(principal)
                  : value === "__GUESSED__"
                    ? await createInternalTokenSigner({
                        secret: "a".repeat(64),
                      }).sign(principal)
                    : value,
            ]),
          ),
        );
        const sku = `DIRECT-${randomUUID().slice(0, 8)}`;
        const { status, body } = await direct(resolved, sku);
        expect(status).toBe(401);
        expect(body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
        expect(body.data).toBeUndefined();
        expect(await skuExists(sku)).toBe(false);
      },
    );

    it("also refuses anonymous reads that carry no router token", async () => {
      const response = await fetch(stack.subgraphs.products.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: "{ products(first: 1) { totalCount } }",
        }),
      });
      expect(response.status).toBe(401);
    });
  });

  it("ignores identity headers a client sends to the router", async () => {
    const forged = await createInternalTokenSigner({
      secret: DEV_INTERNAL_TOKEN_SECRET,
    }).sign({ id: admin.id, role: "ADMIN", scopes: ["admin"] });
    const sku = `SMUGGLED-${randomUUID().slice(0, 8)}`;
    const clientHeaders = {
      [INTERNAL_TOKEN_HEADER]: forged,
      "x-user-id": admin.id,
    };
    const me = await gql(stack.routerUrl, "{ me { id } }", {}, clientHeaders);
    expect(me.data).toEqual({ me: null });
    const create = await gql(
      stack.routerUrl,
      CREATE_PRODUCT,
      { sku },
      clientHeaders,
    );
    expect(create.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(await skuExists(sku)).toBe(false);
  });

  describe("authorization in the subgraphs", () => {
    const adaOrder = demoOrders.find((order) => order.userId === ada.id)!;
    const adaPayment = demoPayments.find(
      (payment) => payment.userId === ada.id,
    )!;

    it("lets a customer read their own order, and the principal reaches every subgraph", async () => {
      const { data, errors } = await gql(
        stack.routerUrl,
        `query($id: ID!) { me { id email } order(id: $id) { id user { id email } payment { id } } }`,
        { id: adaOrder.id },
        headers.ada,
      );
      expect(errors).toBeUndefined();
      expect(data.me).toEqual({ id: ada.id, email: ada.email });
      expect(data.order.user).toEqual({ id: ada.id, email: ada.email });
    });

    it.each([
      [
        "an order",
        `query($id: ID!) { order(id: $id) { id } }`,
        () => adaOrder.id,
      ],
      [
        "a payment",
        `query($id: ID!) { payment(id: $id) { id } }`,
        () => adaPayment.id,
      ],
      [
        "a user's order list",
        `query($id: ID!) { user(id: $id) { orders { totalCount } } }`,
        () => ada.id,
      ],
      [
        "a user's email",
        `query($id: ID!) { user(id: $id) { email } }`,
        () => ada.id,
      ],
    ])(
      "answers FORBIDDEN for another customer's %s",
      async (_label, query, id) => {
        const response = await gql(
          stack.routerUrl,
          query,
          { id: id() },
          headers.grace,
        );
        expect(response.errors?.map((error) => error.extensions?.code)).toEqual(
          ["FORBIDDEN"],
        );
        expect(JSON.stringify(response.data)).not.toContain(ada.email);
      },
    );

    it("shows another user's name but not their email or role", async () => {
      const { data, errors } = await gql(
        stack.routerUrl,
        `query($id: ID!) { user(id: $id) { id name } }`,
        { id: ada.id },
        headers.grace,
      );
      expect(errors).toBeUndefined();
      expect(data.user).toEqual({ id: ada.id, name: ada.name });
    });

    it("lets an admin read any order, payment and email", async () => {
      const { data, errors } = await gql(
        stack.routerUrl,
        `query($o: ID!, $p: ID!, $u: ID!) { order(id: $o) { id } payment(id: $p) { id } user(id: $u) { email role orders { totalCount } } }`,
        { o: adaOrder.id, p: adaPayment.id, u: ada.id },
        headers.admin,
      );
      expect(errors).toBeUndefined();
      expect(data.user.email).toBe(ada.email);
    });

    it.each([
      ["order", `query($id: ID!) { order(id: $id) { id } }`, () => adaOrder.id],
      [
        "payment",
        `query($id: ID!) { payment(id: $id) { id } }`,
        () => adaPayment.id,
      ],
      ["user", `query($id: ID!) { user(id: $id) { name } }`, () => ada.id],
    ])(
      "answers UNAUTHENTICATED for an anonymous %s lookup",
      async (_label, query, id) => {
        const response = await gql(stack.routerUrl, query, { id: id() });
        expect(response.errors?.map((error) => error.extensions?.code)).toEqual(
          ["UNAUTHENTICATED"],
        );
      },
    );

    it("serves the public catalogue and me to anonymous callers", async () => {
      const { data, errors } = await gql(
        stack.routerUrl,
        "{ me { id } products(first: 1) { totalCount } }",
      );
      expect(errors).toBeUndefined();
      expect(data).toEqual({
        me: null,
        products: { totalCount: expect.any(Number) },
      });
    });

    it("refuses createProduct and restockProduct to customers (FORBIDDEN) and anonymous callers (UNAUTHENTICATED)", async () => {
      const product = demoProducts[1]!;
      const sku = `CUSTOMER-${randomUUID().slice(0, 8)}`;
      expect(
        (await gql(stack.routerUrl, CREATE_PRODUCT, { sku }, headers.ada))
          .errors?.[0]?.extensions?.code,
      ).toBe("FORBIDDEN");
      expect(
        (await gql(stack.routerUrl, CREATE_PRODUCT, { sku })).errors?.[0]
          ?.extensions?.code,
      ).toBe("UNAUTHENTICATED");
      expect(await skuExists(sku)).toBe(false);
      const restock = `mutation($id: ID!) { restockProduct(id: $id, quantity: 5) { inventory } }`;
      const [before] = await stack.subgraphs.products.db.query<{
        inventory: number;
      }>("SELECT inventory FROM products.products WHERE id = $1", [product.id]);
      expect(
        (await gql(stack.routerUrl, restock, { id: product.id }, headers.ada))
          .errors?.[0]?.extensions?.code,
      ).toBe("FORBIDDEN");
      const [after] = await stack.subgraphs.products.db.query<{
        inventory: number;
      }>("SELECT inventory FROM products.products WHERE id = $1", [product.id]);
      expect(after!.inventory).toBe(before!.inventory);
    });

    it("lets an admin create and restock products, validating input with coded errors", async () => {
      const sku = `ADMIN-${randomUUID().slice(0, 8)}`;
      const created = await gql(
        stack.routerUrl,
        `mutation($input: CreateProductInput!) { createProduct(input: $input) { id sku name price currency inventory inStock } }`,
        { input: { sku, name: " Teak Tray ", price: "24.50", inventory: 0 } },
        headers.admin,
      );
      expect(created.errors).toBeUndefined();
      expect(created.data.createProduct).toMatchObject({
        sku,
        name: "Teak Tray",
        price: "24.50",
        currency: "USD",
        inventory: 0,
        inStock: false,
      });
      const restocked = await gql(
        stack.routerUrl,
        `mutation($id: ID!) { restockProduct(id: $id, quantity: 7) { inventory inStock } }`,
        { id: created.data.createProduct.id },
        headers.admin,
      );
      expect(restocked.data.restockProduct).toEqual({
        inventory: 7,
        inStock: true,
      });

      const invalid: Array<[Record<string, unknown>, string]> = [
        [{ sku: "bad sku!", name: "X", price: "1.00" }, "input.sku"],
        [
          { sku: `N-${randomUUID().slice(0, 8)}`, name: "  ", price: "1.00" },
          "input.name",
        ],
        [
          { sku: `P-${randomUUID().slice(0, 8)}`, name: "X", price: "-1.00" },
          "input.price",
        ],
        [
          {
            sku: `C-${randomUUID().slice(0, 8)}`,
            name: "X",
            price: "1.00",
            currency: "XXX",
          },
          "input.currency",
        ],
        [
          {
            sku: `I-${randomUUID().slice(0, 8)}`,
            name: "X",
            price: "1.00",
            inventory: -1,
          },
          "input.inventory",
        ],
        [{ sku, name: "Duplicate", price: "1.00" }, "input.sku"],
      ];
      for (const [input, field] of invalid) {
        const response = await gql(
          stack.routerUrl,
          `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
          { input },
          headers.admin,
        );
        expect(response.errors?.[0]?.extensions).toMatchObject({
          code: "BAD_USER_INPUT",
          field,
        });
      }
      const zero = await gql(
        stack.routerUrl,
        `mutation($id: ID!) { restockProduct(id: $id, quantity: 0) { inventory } }`,
        { id: created.data.createProduct.id },
        headers.admin,
      );
      expect(zero.errors?.[0]?.extensions).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "quantity",
      });
      const missing = await gql(
        stack.routerUrl,
        `mutation($id: ID!) { restockProduct(id: $id, quantity: 1) { inventory } }`,
        { id: randomUUID() },
        headers.admin,
      );
      expect(missing.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    });
  });

  describe("operation limits", () => {
    const deep = `query($id: ID!) { order(id: $id) { user { orders { edges { node { user { orders { edges { node { user { orders { edges { node { id } } } } } } } } } } } } } }`;
    const aliased = `{ products(first: 1) { ${Array.from({ length: 31 }, (_, index) => `a${index}: totalCount`).join(" ")} } }`;
    const wide = `{ ${Array.from({ length: 21 }, () => "products(first: 1) { totalCount }").join(" ")} }`;
    const costly = `query($id: ID!) { user(id: $id) { orders(first: 1000) { edges { node { user { orders(first: 1000) { totalCount } } } } } } }`;
    it.each([
      ["too deep", deep, "depth"],
      ["too many aliases", aliased, "aliases"],
      ["too many root fields", wide, "root fields"],
      ["too expensive", costly, "cost"],
    ])(
      "refuses an operation that is %s with 400 QUERY_TOO_COMPLEX before any subgraph is called",
      async (_label, query, limit) => {
        const fetchesBefore = await subgraphFetches();
        const response = await gql(
          stack.routerUrl,
          query,
          { id: ada.id },
          headers.admin,
        );
        expect(response.status).toBe(400);
        expect(response.errors?.[0]?.extensions).toMatchObject({
          code: "QUERY_TOO_COMPLEX",
          limit,
        });
        expect(await subgraphFetches()).toBe(fetchesBefore);
      },
    );

    it("refuses an oversized body with 413 BAD_REQUEST", async () => {
      const sku = `BIG-${randomUUID().slice(0, 8)}`;
      const response = await fetch(stack.routerUrl, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers.admin },
        body: JSON.stringify({
          query: CREATE_PRODUCT,
          variables: { sku, padding: "x".repeat(1_100_000) },
        }),
      });
      await expectBadRequest(response, 413, sku);
    });

    it("refuses batched requests", async () => {
      const response = await fetch(stack.routerUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify([
          { query: "{ products(first: 1) { totalCount } }" },
          { query: "{ products(first: 1) { totalCount } }" },
        ]),
      });
      await expectBadRequest(response, 400);
    });
  });

  describe("HTTP method and CSRF", () => {
    const getUrl = (sku: string) =>
      `${stack.routerUrl}?${new URLSearchParams({ query: CREATE_PRODUCT, variables: JSON.stringify({ sku }) })}`;

    it("refuses a mutation over GET with 405 and writes nothing", async () => {
      const sku = `GET-${randomUUID().slice(0, 8)}`;
      const response = await fetch(getUrl(sku), {
        headers: { "apollo-require-preflight": "true", ...headers.admin },
      });
      await expectBadRequest(response, 405, sku);
    });

    it("refuses a GET a browser could send cross-site (no preflight header) with 400 BAD_REQUEST", async () => {
      const sku = `CSRF-${randomUUID().slice(0, 8)}`;
      const response = await fetch(getUrl(sku), { headers: headers.admin });
      await expectBadRequest(response, 400, sku);
    });

    it("refuses a simple-content-type POST (form or text/plain) with 400 BAD_REQUEST", async () => {
      const sku = `FORM-${randomUUID().slice(0, 8)}`;
      const response = await fetch(stack.routerUrl, {
        method: "POST",
        headers: { "content-type": "text/plain", ...headers.admin },
        body: JSON.stringify({ query: CREATE_PRODUCT, variables: { sku } }),
      });
      await expectBadRequest(response, 400, sku);
    });
  });
});
