import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createServiceClient,
  type ServiceClient,
} from "../../platform/service-client.ts";
import type { Stack } from "../../stack.ts";
import { allBackends } from "../support/storage.ts";
import { demoUsers } from "../../platform/demo-data.ts";
import { placeOrderInProcess } from "../support/place-order.ts";
import {
  bearerFor,
  gql,
  silentLogger,
  stackForFile,
} from "../support/stack.ts";
import {
  customer,
  eventsFor,
  eventTypesFor,
  inventoryOf,
  newProduct,
  ordersOf,
  paymentsFor,
  stockOf,
} from "../support/saga.ts";

const backends = await allBackends();

const SECRET = "test-internal-secret-0123456789abcdefghijklmnop";

describe.each(backends)("the place-order saga on $name", (backend) => {
  const running = stackForFile(backend, {
    internalServiceSecret: SECRET,
    payments: { providerTimeoutMs: 50 },
  });
  // The tests below use the stack stackForFile booted (nothing boots when the backend is unavailable).
  let stack: Stack;
  beforeAll(() => {
    if (!backend.unavailable) stack = running();
  });
  const place = (
    userId: string,
    items: Array<{ productId: string; quantity: number }>,
    extra: { paymentToken?: string; idempotencyKey?: string } = {},
  ) => placeOrderInProcess(stack, userId, items, extra);

  it.skipIf(backend.unavailable)(
    "confirms an order: stock taken once, payment captured, every step in the outboxes keyed by the customer",
    async () => {
      const [lamp, mug] = [
        await newProduct(stack, 5, 1250),
        await newProduct(stack, 3, 400),
      ];
      const userId = customer("happy");
      const order = await place(userId, [
        { productId: lamp, quantity: 2 },
        { productId: mug, quantity: 1 },
      ]);
      expect(order).toMatchObject({
        status: "CONFIRMED",
        total_minor: 2 * 1250 + 400,
        saga_step: "DONE",
        failure_code: null,
      });
      expect([await stockOf(stack, lamp), await stockOf(stack, mug)]).toEqual([
        3, 2,
      ]);
      expect(await paymentsFor(stack, order.id)).toEqual([
        { status: "CAPTURED", amount_minor: 2900 },
      ]);
      const orderEvents = await eventsFor(
        stack.subgraphs.orders.db,
        "orders",
        "orderId",
        order.id,
      );
      expect(orderEvents.map((event) => event.type)).toEqual([
        "orders.order.placed",
        "orders.order.confirmed",
      ]);
      expect(await eventTypesFor(stack, "products", order.id)).toEqual([
        "products.stock.reserved",
      ]);
      expect(await eventTypesFor(stack, "payments", order.id)).toEqual([
        "payments.payment.captured",
      ]);
      for (const event of orderEvents) expect(event.event_key).toBe(userId);

      const admin = await bearerFor(stack.routerUrl, demoUsers[0]!.email);
      const { data } = await gql(
        stack.routerUrl,
        `query($id: ID!) { order(id: $id) { status total items { unitPrice quantity } payment { status amount } } }`,
        { id: order.id },
        admin,
      );
      expect(data.order).toEqual({
        status: "CONFIRMED",
        total: "29.00",
        items: [
          { unitPrice: "12.50", quantity: 2 },
          { unitPrice: "4.00", quantity: 1 },
        ],
        payment: { status: "CAPTURED", amount: "29.00" },
      });
    },
  );

  it.skipIf(backend.unavailable)(
    "fails with INSUFFICIENT_STOCK, takes no money and leaves stock as it was",
    async () => {
      const [plenty, scarce] = [
        await newProduct(stack, 10),
        await newProduct(stack, 1),
      ];
      const order = await place(customer("greedy"), [
        { productId: plenty, quantity: 3 },
        { productId: scarce, quantity: 2 },
      ]);
      expect(order).toMatchObject({
        status: "FAILED",
        failure_code: "INSUFFICIENT_STOCK",
      });
      expect([
        await stockOf(stack, plenty),
        await stockOf(stack, scarce),
      ]).toEqual([10, 1]);
      expect(await paymentsFor(stack, order.id)).toEqual([]);
      expect(await eventTypesFor(stack, "orders", order.id)).toEqual([
        "orders.order.placed",
        "orders.order.failed",
      ]);
    },
  );

  it.skipIf(backend.unavailable).each([
    ["tok_declined", "PAYMENT_DECLINED", "DECLINED"],
    ["tok_error", "PAYMENT_FAILED", "FAILED"],
    ["tok_timeout", "PAYMENT_FAILED", "FAILED"],
  ])(
    "with card %s fails with %s and returns the reserved stock",
    async (paymentToken, code, paymentStatus) => {
      const product = await newProduct(stack, 4);
      const order = await place(
        customer(paymentToken),
        [{ productId: product, quantity: 3 }],
        { paymentToken },
      );
      expect(order).toMatchObject({ status: "FAILED", failure_code: code });
      expect(await stockOf(stack, product)).toBe(4);
      expect(
        (await paymentsFor(stack, order.id)).map((payment) => payment.status),
      ).toEqual([paymentStatus]);
      expect(await eventTypesFor(stack, "products", order.id)).toEqual([
        "products.stock.reserved",
        "products.stock.released",
      ]);
    },
  );

  it.skipIf(backend.unavailable)(
    "rejects bad input with coded errors before creating anything",
    async () => {
      const product = await newProduct(stack, 4);
      const userId = customer("careless");
      const cases: Array<[Parameters<typeof place>[1], string]> = [
        [[], "input.items"],
        [[{ productId: product, quantity: 0 }], "input.items[0].quantity"],
        [[{ productId: product, quantity: 101 }], "input.items[0].quantity"],
        [[{ productId: "nope", quantity: 1 }], "input.items[0].productId"],
        [
          [{ productId: randomUUID(), quantity: 1 }],
          "input.items[0].productId",
        ],
        [
          [
            { productId: product, quantity: 1 },
            { productId: product, quantity: 1 },
          ],
          "input.items[1].productId",
        ],
      ];
      for (const [items, field] of cases)
        await expect(place(userId, items)).rejects.toMatchObject({
          extensions: { code: "BAD_USER_INPUT", field },
        });
      await expect(
        place(userId, [{ productId: product, quantity: 1 }], {
          idempotencyKey: "has spaces",
        }),
      ).rejects.toMatchObject({
        extensions: { field: "input.idempotencyKey" },
      });
      expect(
        await stack.subgraphs.orders.db.query(
          "SELECT 1 FROM orders.orders WHERE user_id = $1",
          [userId],
        ),
      ).toEqual([]);
      expect(await stockOf(stack, product)).toBe(4);
    },
  );

  it.skipIf(backend.unavailable)(
    "never oversells: 50 concurrent orders for 10 units confirm exactly 10",
    async () => {
      const product = await newProduct(stack, 10);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          place(customer(`rush-${index}`), [
            { productId: product, quantity: 1 },
          ]),
        ),
      );
      const statuses = results.map((order) => order.status);
      expect(statuses.filter((status) => status === "CONFIRMED")).toHaveLength(
        10,
      );
      expect(
        results
          .filter((order) => order.status === "FAILED")
          .every((order) => order.failure_code === "INSUFFICIENT_STOCK"),
      ).toBe(true);
      expect(await stockOf(stack, product)).toBe(0);
      const [captured] = await stack.subgraphs.payments.db.query<{
        count: number;
      }>(
        `SELECT count(*)::int AS count FROM payments.payments WHERE status = 'CAPTURED' AND order_id = ANY($1::uuid[])`,
        [results.map((order) => order.id)],
      );
      expect(captured!.count).toBe(10);
    },
  );

  it.skipIf(backend.unavailable)(
    "turns 20 concurrent calls with one idempotency key into one order and one payment",
    async () => {
      const product = await newProduct(stack, 50);
      const userId = customer("impatient");
      const key = `checkout-${randomUUID()}`;
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          place(userId, [{ productId: product, quantity: 2 }], {
            idempotencyKey: key,
          }),
        ),
      );
      expect(new Set(results.map((order) => order.id)).size).toBe(1);
      expect(results.every((order) => order.status === "CONFIRMED")).toBe(true);
      expect(await paymentsFor(stack, results[0]!.id)).toHaveLength(1);
      expect(await stockOf(stack, product)).toBe(48);
      // The same key later returns the same order; with another payload it is refused.
      expect(
        (
          await place(userId, [{ productId: product, quantity: 2 }], {
            idempotencyKey: key,
          })
        ).id,
      ).toBe(results[0]!.id);
      await expect(
        place(userId, [{ productId: product, quantity: 3 }], {
          idempotencyKey: key,
        }),
      ).rejects.toMatchObject({
        extensions: { code: "BAD_USER_INPUT", field: "input.idempotencyKey" },
      });
      // Keys are per customer: another customer's identical key is a new order.
      expect(
        (
          await place(
            customer("other"),
            [{ productId: product, quantity: 1 }],
            { idempotencyKey: key },
          )
        ).id,
      ).not.toBe(results[0]!.id);
    },
  );

  it.skipIf(backend.unavailable)(
    "cancels a confirmed order for its owner: refund, stock back, CANCELLED, once",
    async () => {
      const product = await newProduct(stack, 5);
      const userId = customer("regretful");
      const cancelAs = (id: string, orderId: string) =>
        ordersOf(stack).orders.cancelOrder({ id, role: "CUSTOMER" }, orderId);
      const order = await place(userId, [{ productId: product, quantity: 2 }]);
      await expect(
        cancelAs(customer("stranger"), order.id),
      ).rejects.toMatchObject({ extensions: { code: "NOT_FOUND" } });
      const cancelled = await cancelAs(userId, order.id);
      expect(cancelled.status).toBe("CANCELLED");
      expect(await stockOf(stack, product)).toBe(5);
      expect(
        (await paymentsFor(stack, order.id)).map((payment) => payment.status),
      ).toEqual(["REFUNDED"]);
      expect((await cancelAs(userId, order.id)).status).toBe("CANCELLED");
      expect(await stockOf(stack, product)).toBe(5);
      expect(await eventTypesFor(stack, "payments", order.id)).toEqual([
        "payments.payment.captured",
        "payments.payment.refunded",
      ]);
      const failed = await place(userId, [
        { productId: product, quantity: 99 },
      ]);
      await expect(cancelAs(userId, failed.id)).rejects.toMatchObject({
        extensions: { code: "BAD_USER_INPUT" },
      });
    },
  );

  it.skipIf(backend.unavailable)(
    "guards the internal endpoints: unsigned, forged and malformed requests change nothing",
    async () => {
      const product = await newProduct(stack, 5);
      const base = stack.subgraphs.products.url.replace("/graphql", "");
      const body = JSON.stringify({
        reservationId: randomUUID(),
        userId: randomUUID(),
        items: [{ productId: product, quantity: 5 }],
      });
      const unsigned = await fetch(`${base}/internal/reservations`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      });
      expect(unsigned.status).toBe(401);
      const clientAs = (caller: string, secret: string) =>
        createServiceClient({
          service: "products",
          caller,
          baseUrl: base,
          secret,
          logger: silentLogger,
        });
      const reserveStatus = async (client: ServiceClient) =>
        (
          await client.call({
            method: "POST",
            path: "/internal/reservations",
            body: JSON.parse(body),
            retry: false,
          })
        ).status;
      const forged = clientAs(
        "orders",
        "not-the-secret-but-long-enough-0123456789",
      );
      expect(await reserveStatus(forged)).toBe(401);
      const impostor = clientAs("router", SECRET);
      expect(await reserveStatus(impostor)).toBe(401);
      const genuine = clientAs("orders", SECRET);
      const malformed = await genuine.call<{ code: string }>({
        method: "POST",
        path: "/internal/reservations",
        body: { reservationId: "x", items: [] },
        retry: false,
      });
      expect(malformed).toMatchObject({
        status: 400,
        body: { code: "BAD_REQUEST" },
      });
      expect(await stockOf(stack, product)).toBe(5);
      await Promise.all([forged.close(), impostor.close(), genuine.close()]);
    },
  );

  it.skipIf(backend.unavailable)(
    "sweeps reservations their order never committed, and a late reserve after a release takes nothing",
    async () => {
      const product = await newProduct(stack, 5);
      const inventory = inventoryOf(stack);
      const reserveKind = async (reservationId: string, quantity: number) =>
        (
          await inventory.reserve({
            reservationId,
            userId: randomUUID(),
            items: [{ productId: product, quantity }],
          })
        ).kind;
      const stale = randomUUID();
      expect(await reserveKind(stale, 2)).toBe("reserved");
      expect(await stockOf(stack, product)).toBe(3);
      await stack.subgraphs.products.db.query(
        `UPDATE products.reservations SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [stale],
      );
      expect(await inventory.sweepExpired()).toBeGreaterThanOrEqual(1);
      expect(await stockOf(stack, product)).toBe(5);
      const abandoned = randomUUID();
      await inventory.release(abandoned);
      expect(await reserveKind(abandoned, 1)).toBe("released");
      expect(await stockOf(stack, product)).toBe(5);
    },
  );
});
