import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Storage } from "../../../../platform/database.ts";
import type { Principal } from "../../../../platform/principal.ts";
import type {
  SubgraphDeps,
  SubgraphModule,
  SubgraphServer,
} from "../../../../platform/subgraph-server.ts";
import { demoOrders } from "../../../../platform/demo-data.ts";
import { formatMinorUnits } from "../../../../platform/scalars.ts";
import {
  createOrdersSubgraph,
  ordersModule,
  type OrdersOptions,
} from "../../../../subgraphs/orders/server.ts";
import { createSimulatedProvider } from "../../../../subgraphs/payments/provider.ts";
import {
  createPaymentsSubgraph,
  paymentsModule,
} from "../../../../subgraphs/payments/server.ts";
import {
  createProductsSubgraph,
  productsModule,
} from "../../../../subgraphs/products/server.ts";
import {
  memoryStorage,
  startSubgraph,
  type InProcessSubgraph,
} from "../../../support/subgraph.ts";
import {
  expectOwnerAndAdminsOnly,
  readersOf,
} from "../../../support/subgraph-access.ts";
import { stockIn } from "../../../support/stock.ts";

const SECRET = "orders-unit-test-secret";
const order = demoOrders[0]!;
const readers = readersOf(order.userId);
const { owner } = readers;
const PLACE =
  "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status total items { quantity unitPrice product { id } } } }";

/**
 * Orders through createOrdersSubgraph, with the products and payments subgraphs it calls built by
 * their own factories beside it (one PGlite, a schema each): the saga runs over real internal HTTP,
 * with no router and no broker.
 */
describe("the orders subgraph (createOrdersSubgraph, in-process on PGlite)", () => {
  let storage: Storage;
  let products: InProcessSubgraph<ReturnType<typeof createProductsSubgraph>>;
  let payments: InProcessSubgraph<ReturnType<typeof createPaymentsSubgraph>>;
  let orders: InProcessSubgraph<ReturnType<typeof createOrdersSubgraph>>;

  /** A product of its own with `units` in stock at 10.00. */
  async function product(units: number): Promise<string> {
    const id = randomUUID();
    await products.db.query(
      `INSERT INTO products.products (id, sku, name, description, price_minor, currency, inventory) VALUES ($1, $2, 'Orders unit test', '', 1000, 'USD', $3)`,
      [id, `ORD-${id.slice(0, 8)}`, units],
    );
    return id;
  }
  /** Places an order of `items` as `principal`, with a fresh idempotency key and `payment`. */
  const place = (
    items: Array<{ productId: string; quantity: number }>,
    payment: { paymentToken?: string | null } = { paymentToken: "tok_visa" },
    principal: Principal | null = owner,
  ) =>
    orders.query(
      PLACE,
      { input: { items, idempotencyKey: randomUUID(), ...payment } },
      principal,
    );
  const stockOf = (id: string) => stockIn(products.db, id);

  beforeAll(async () => {
    storage = await memoryStorage();
    /** A subgraph from its module and factory, both given the same `options`, on `storage`. */
    const start = <Options, Server extends SubgraphServer>(
      module: (options: Options) => SubgraphModule,
      create: (deps: SubgraphDeps, options: Options) => Server,
      options: Options,
    ) =>
      startSubgraph(module(options), (deps) => create(deps, options), {
        storage,
      });
    products = await start(productsModule, createProductsSubgraph, {
      internalServiceSecret: SECRET,
      reservationTtlSeconds: 900,
      reservationSweepIntervalMs: 3_600_000,
    });
    payments = await start(paymentsModule, createPaymentsSubgraph, {
      internalServiceSecret: SECRET,
      provider: createSimulatedProvider({ timeoutMs: 50 }),
    });
    orders = await start(ordersModule, createOrdersSubgraph, {
      internalServiceSecret: SECRET,
      productsInternalUrl: products.url,
      paymentsInternalUrl: payments.url,
      serviceTimeoutMs: 2000,
      placeOrderWaitMs: 10_000,
      sagaResumeIntervalMs: 3_600_000,
      sagaLeaseMs: 30_000,
    } satisfies OrdersOptions);
  });
  afterAll(async () => {
    await orders?.stop();
    await payments?.stop();
    await products?.stop();
    await storage?.close();
  });

  it("shows an order to its owner and admins only", async () => {
    const query =
      "query($id: ID!) { order(id: $id) { id status total currency user { id } items { quantity product { id } } } }";
    const expected = {
      id: order.id,
      status: order.status,
      total: formatMinorUnits(order.totalMinor),
      currency: "USD",
      user: { id: order.userId },
      items: order.items.map((item) => ({
        quantity: item.quantity,
        product: { id: item.productId },
      })),
    };
    await expectOwnerAndAdminsOnly(
      orders,
      readers,
      { document: query, variables: { id: order.id }, field: "order" },
      expected,
    );
  });

  it("pages a user’s orders, newest first, on the router’s User entities", async () => {
    const mine = demoOrders
      .filter((candidate) => candidate.userId === order.userId)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const { data, errors } = await orders.query(
      "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { orders(first: 2) { totalCount edges { node { id } } } } } }",
      { r: [{ __typename: "User", id: order.userId }] },
      owner,
    );
    expect(errors).toBeUndefined();
    expect(data._entities[0].orders.totalCount).toBe(mine.length);
    expect(
      data._entities[0].orders.edges.map(
        (edge: { node: { id: string } }) => edge.node.id,
      ),
    ).toEqual(mine.slice(0, 2).map((candidate) => candidate.id));
  });

  it("places an order through the saga: CONFIRMED, stock taken, priced by products", async () => {
    const id = await product(5);
    const { data, errors } = await place([{ productId: id, quantity: 2 }]);
    expect(errors).toBeUndefined();
    expect(data.placeOrder).toMatchObject({
      status: "CONFIRMED",
      total: "20.00",
      items: [{ quantity: 2, unitPrice: "10.00", product: { id } }],
    });
    expect(await stockOf(id)).toBe(3);
  });

  it("fails with INSUFFICIENT_STOCK when products has too few units, and leaves the stock as it was", async () => {
    const id = await product(1);
    const { errors } = await place([{ productId: id, quantity: 2 }]);
    expect(errors?.[0]?.extensions?.code).toBe("INSUFFICIENT_STOCK");
    expect(await stockOf(id)).toBe(1);
  });

  it("refuses an order without a payment token (absent or null) with BAD_USER_INPUT on input.paymentToken, charging no default card and holding no stock", async () => {
    const id = await product(5);
    for (const token of [{}, { paymentToken: null }]) {
      const { data, errors } = await place(
        [{ productId: id, quantity: 1 }],
        token,
      );
      expect(data).toBeNull();
      expect(errors?.[0]?.extensions).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "input.paymentToken",
      });
    }
    expect(await stockOf(id)).toBe(5);
  });

  it("refuses to place an order for nobody", async () => {
    const { errors } = await place(
      [{ productId: randomUUID(), quantity: 1 }],
      undefined,
      null,
    );
    expect(errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});
