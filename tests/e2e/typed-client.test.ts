import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientError, createClient } from "../../clients/client.ts";
import {
  BrowseProductsDocument,
  CancelOrderDocument,
  LogInDocument,
  MyNotificationsDocument,
  MyOrdersDocument,
  OrderDocument,
  PlaceOrderDocument,
  ProductPageDocument,
  RefundPaymentDocument,
  RestockProductDocument,
  SignUpDocument,
} from "../../clients/generated/graphql.ts";
import { DEMO_PASSWORD, demoProducts } from "../../platform/demo-data.ts";
import type { Storage } from "../../platform/database.ts";
import { scratchPglite } from "../support/pglite.ts";
import type { Stack } from "../../stack.ts";
import { bootStack, inProcessEvents } from "../support/stack.ts";

const run = promisify(execFile);

describe("the typed client through the router", () => {
  let storage: Storage;
  let stack: Stack;
  beforeAll(async () => {
    storage = await scratchPglite();
    // With the event pipeline, as `npm start` runs: `npm run example` follows its order live.
    // Logins and live events share two loaded cores with the other test files: generous timeouts.
    stack = await bootStack(storage, {
      events: inProcessEvents(),
      routerEnv: {
        ROUTER_SUBGRAPH_TIMEOUT_MS: "30000",
        ROUTER_REQUEST_DEADLINE_MS: "30000",
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await storage?.close();
  });

  it("browses the catalogue and opens a product page anonymously", async () => {
    const client = createClient({ url: stack.routerUrl });
    const { products } = await client.request(BrowseProductsDocument, {
      first: 3,
    });
    expect(products.totalCount).toBe(demoProducts.length);
    expect(products.edges).toHaveLength(3);
    expect(products.pageInfo.hasNextPage).toBe(true);
    const next = await client.request(BrowseProductsDocument, {
      first: 3,
      after: products.pageInfo.endCursor,
    });
    expect(next.products.edges[0]!.node.id).not.toBe(
      products.edges[0]!.node.id,
    );
    const { product } = await client.request(ProductPageDocument, {
      id: products.edges[0]!.node.id,
    });
    expect(product).toMatchObject({
      id: products.edges[0]!.node.id,
      price: expect.stringMatching(/^\d+\.\d{2}$/),
    });
  });

  it("signs up, places an order, and finds it with items and payment in my orders", async () => {
    const client = createClient({ url: stack.routerUrl });
    const email = `typed-${randomUUID()}@example.com`;
    const { signUp } = await client.request(SignUpDocument, {
      input: { email, name: "Typed Client", password: "typed-client-pw" },
    });
    expect(signUp.user).toMatchObject({ email, role: "CUSTOMER" });
    client.setToken(signUp.token);

    const { products } = await client.request(BrowseProductsDocument, {
      first: 10,
    });
    const product = products.edges.find(({ node }) => node.inStock)!.node;
    const { placeOrder } = await client.request(PlaceOrderDocument, {
      input: {
        idempotencyKey: randomUUID(),
        items: [{ productId: product.id, quantity: 2 }],
        paymentToken: "tok_visa",
      },
    });
    expect(placeOrder).toMatchObject({
      status: "CONFIRMED",
      failureCode: null,
      items: [
        {
          quantity: 2,
          unitPrice: product.price,
          product: { id: product.id, name: product.name },
        },
      ],
      payment: { status: "CAPTURED", amount: placeOrder.total },
    });

    const { me } = await client.request(MyOrdersDocument, {});
    expect(me?.orders.totalCount).toBe(1);
    expect(me?.orders.edges[0]!.node).toEqual(placeOrder);
    const { order } = await client.request(OrderDocument, {
      id: placeOrder.id,
    });
    expect(order?.user).toMatchObject({ id: signUp.user.id, email });

    const { me: withNotifications } = await client.request(
      MyNotificationsDocument,
      { first: 5 },
    );
    expect(withNotifications?.notifications).toMatchObject({
      totalCount: expect.any(Number),
      pageInfo: { hasNextPage: expect.any(Boolean) },
    });

    const { cancelOrder } = await client.request(CancelOrderDocument, {
      id: placeOrder.id,
    });
    expect(cancelOrder).toMatchObject({
      status: "CANCELLED",
      payment: { status: "REFUNDED" },
    });
  });

  it("runs the admin operations with an admin token, and a customer gets FORBIDDEN as a ClientError", async () => {
    /** A client of its own, logged in as the demo account `email`. */
    const signedIn = async (email: string) => {
      const client = createClient({ url: stack.routerUrl });
      const { logIn } = await client.request(LogInDocument, {
        email,
        password: DEMO_PASSWORD,
      });
      client.setToken(logIn.token);
      return client;
    };
    const admin = await signedIn("admin@switchyard.dev");
    const customer = await signedIn("grace@switchyard.dev");

    const { product } = await admin.request(ProductPageDocument, {
      id: demoProducts[0]!.id,
    });
    const { restockProduct } = await admin.request(RestockProductDocument, {
      id: demoProducts[0]!.id,
      quantity: 7,
    });
    expect(restockProduct.inventory).toBe(product!.inventory + 7);

    const { placeOrder } = await customer.request(PlaceOrderDocument, {
      input: {
        idempotencyKey: randomUUID(),
        paymentToken: "tok_visa",
        items: [{ productId: demoProducts[0]!.id, quantity: 1 }],
      },
    });
    const { refundPayment } = await admin.request(RefundPaymentDocument, {
      id: placeOrder.payment!.id,
    });
    expect(refundPayment).toMatchObject({
      id: placeOrder.payment!.id,
      status: "REFUNDED",
      order: { id: placeOrder.id },
    });

    const refused = await customer
      .request(RestockProductDocument, { id: demoProducts[0]!.id, quantity: 1 })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ClientError);
    expect(refused).toMatchObject({
      code: "FORBIDDEN",
      errors: [{ path: ["restockProduct"] }],
    });
  });

  it("raises coded errors: UNAUTHENTICATED from the server, NETWORK_ERROR when nothing answers", async () => {
    const anonymous = createClient({ url: stack.routerUrl });
    const unauthenticated = await anonymous
      .request(PlaceOrderDocument, {
        input: {
          idempotencyKey: randomUUID(),
          paymentToken: "tok_visa",
          items: [{ productId: demoProducts[0]!.id, quantity: 1 }],
        },
      })
      .catch((error: unknown) => error);
    expect(unauthenticated).toMatchObject({
      name: "ClientError",
      code: "UNAUTHENTICATED",
    });

    // Port 1 on loopback: privileged and never served, so the connection is refused for sure (a port
    // freed a moment ago could already belong to another process).
    const nowhere = createClient({
      url: "http://127.0.0.1:1/graphql",
      timeoutMs: 2000,
    });
    const network = await nowhere
      .request(BrowseProductsDocument, {})
      .catch((error: unknown) => error);
    expect(network).toMatchObject({
      name: "ClientError",
      code: "NETWORK_ERROR",
    });
  });

  it("`npm run example` places an order through the router, follows it live from PENDING to CONFIRMED, and lists it", async () => {
    const { stdout } = await run(
      process.execPath,
      [
        "--import",
        "tsx",
        "clients/example.ts",
        "--url",
        stack.routerUrl,
        "--email",
        "linus@switchyard.dev",
      ],
      { timeout: 60_000 },
    );
    expect(stdout).toMatch(/^50 products; the first 5:/m);
    expect(stdout).toMatch(/Logged in as Linus Torvalds \(CUSTOMER\)\./);
    expect(stdout).toMatch(
      /^Order [0-9a-f-]{36}: CONFIRMED, total \d+\.\d{2} USD, payment CAPTURED\.$/m,
    );
    // Live updates over the router's subscription, fields from users, products and payments.
    expect(stdout.match(/^ {2}live: .*$/gm)).toEqual([
      expect.stringMatching(
        /^ {2}live: PENDING {2}\(Linus Torvalds: 1 x [^;]+; payment \w+\)$/,
      ),
      expect.stringMatching(
        /^ {2}live: CONFIRMED {2}\(Linus Torvalds: 1 x [^;]+; payment CAPTURED\)$/,
      ),
    ]);
  });
});
