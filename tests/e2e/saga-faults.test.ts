import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { listen } from "../../platform/http-server.ts";
import type { Stack } from "../../stack.ts";
import type { SagaStep } from "../../subgraphs/orders/saga.ts";
import { createOrdersSubgraph } from "../../subgraphs/orders/server.ts";
import { allBackends } from "../support/storage.ts";
import { placeOrderInProcess } from "../support/place-order.ts";
import { silentLogger, stackForFile } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";
import {
  customer,
  eventTypesFor,
  inventoryOf,
  newProduct,
  ordersOf,
  paymentsFor,
  stockOf,
} from "../support/saga.ts";

const backends = await allBackends();

class SimulatedCrash extends Error {}

const LEASE_MS = 250;

/**
 * Fails the saga's process at chosen steps: the plan maps a customer to the step to die before.
 * RESERVE is placeOrder's crash point between the priced reservation and the order's insert.
 */
function crashPlan() {
  const plan = new Map<string, SagaStep>();
  return {
    plan,
    checkpoint(orderId: string, step: SagaStep, userId: string) {
      if (plan.get(userId) === step) {
        plan.delete(userId);
        throw new SimulatedCrash(
          `simulated crash before ${step} of ${orderId}`,
        );
      }
    },
  };
}

/** An orders service started afresh against the same database: what a restart after a crash runs. */
function restartedOrders(stack: Stack) {
  const base = (name: "products" | "payments") =>
    stack.subgraphs[name].url.replace("/graphql", "");
  return createOrdersSubgraph(
    {
      db: stack.subgraphs.orders.db,
      logger: silentLogger,
      production: false,
      internalTokenSecret: "unused-here-the-restarted-saga-serves-no-graphql",
    },
    {
      internalServiceSecret: SECRET,
      productsInternalUrl: base("products"),
      paymentsInternalUrl: base("payments"),
      serviceTimeoutMs: 2000,
      placeOrderWaitMs: 5000,
      sagaResumeIntervalMs: 3_600_000,
      sagaLeaseMs: LEASE_MS,
    },
  );
}

/**
 * Resumes every due saga until none is left. A saga whose lease has not lapsed yet is not due, so
 * this polls (every half lease) until the orders table shows every saga DONE; the deadline makes
 * a saga that never settles fail the test.
 */
async function resumeAll(stack: Stack): Promise<void> {
  const restarted = restartedOrders(stack);
  try {
    await waitFor(
      async () => {
        const [pending] = await stack.subgraphs.orders.db.query<{
          count: number;
        }>(
          `SELECT count(*)::int AS count FROM orders.orders WHERE saga_step <> 'DONE'`,
        );
        if (pending!.count === 0) return true;
        for (const orderId of await restarted.saga.due())
          await restarted.saga.run(orderId);
        return undefined;
      },
      {
        timeoutMs: 30_000,
        intervalMs: LEASE_MS / 2,
        what: "every saga to settle after the crash",
      },
    );
  } finally {
    // Only the saga runs here (no HTTP server was started): close its outbound clients.
    await Promise.all([
      restarted.breakers.products.close(),
      restarted.breakers.payments.close(),
    ]);
  }
}

const SECRET = "test-internal-secret-0123456789abcdefghijklmnop";

describe.each(backends)("the saga under failures on $name", (backend) => {
  const crashes = crashPlan();
  const running = stackForFile(backend, {
    internalServiceSecret: SECRET,
    payments: { providerTimeoutMs: 50 },
    orders: {
      checkpoint: crashes.checkpoint,
      sagaLeaseMs: LEASE_MS,
      sagaResumeIntervalMs: 3_600_000,
      serviceRetries: 1,
      breaker: {
        volumeThreshold: 4,
        errorThresholdPercentage: 50,
        resetTimeoutMs: 400,
        windowMs: 10_000,
      },
    },
  });
  // The tests below use the stack stackForFile booted (nothing boots when the backend is unavailable).
  let stack: Stack;
  beforeAll(() => {
    if (!backend.unavailable) stack = running();
  });
  const place = (
    userId: string,
    productId: string,
    quantity = 1,
    paymentToken = "tok_visa",
  ) =>
    placeOrderInProcess(stack, userId, [{ productId, quantity }], {
      paymentToken,
    });
  /**
   * Orders `quantity` of a fresh product (5 in stock) as a customer of its own whose saga crashes
   * before `step`: placeOrder throws the crash, and what it left is for the test to check.
   */
  const crashedOrder = async (
    step: SagaStep,
    quantity: number,
    paymentToken?: string,
  ) => {
    const product = await newProduct(stack, 5);
    const userId = customer(`crash-before-${step}`);
    crashes.plan.set(userId, step);
    await expect(
      place(userId, product, quantity, paymentToken),
    ).rejects.toThrow(SimulatedCrash);
    return { product, userId };
  };

  it.skipIf(backend.unavailable)(
    "resumes a saga that crashed after payment, before confirming, and confirms it exactly once",
    async () => {
      const { product, userId } = await crashedOrder("COMMIT", 2);
      const [stuck] = await stack.subgraphs.orders.db.query<{
        id: string;
        status: string;
        saga_step: string;
      }>("SELECT id, status, saga_step FROM orders.orders WHERE user_id = $1", [
        userId,
      ]);
      // Paid and not yet confirmed: still at PAY, whose re-run answers the first capture.
      expect(stuck).toMatchObject({ status: "PENDING", saga_step: "PAY" });
      expect(
        (await paymentsFor(stack, stuck!.id)).map((payment) => payment.status),
      ).toEqual(["CAPTURED"]);

      await resumeAll(stack);
      const [order] = await stack.subgraphs.orders.db.query<{ status: string }>(
        "SELECT status FROM orders.orders WHERE id = $1",
        [stuck!.id],
      );
      expect(order!.status).toBe("CONFIRMED");
      expect(await paymentsFor(stack, stuck!.id)).toHaveLength(1);
      expect(await stockOf(stack, product)).toBe(3);
      expect(await eventTypesFor(stack, "orders", stuck!.id)).toEqual([
        "orders.order.placed",
        "orders.order.confirmed",
      ]);
    },
  );

  it.skipIf(backend.unavailable)(
    "resumes a compensation that crashed halfway and gives everything back exactly once",
    async () => {
      const { product, userId } = await crashedOrder(
        "COMPENSATE",
        3,
        "tok_declined",
      );
      expect(await stockOf(stack, product)).toBe(2);
      await resumeAll(stack);
      expect(await stockOf(stack, product)).toBe(5);
      const [order] = await stack.subgraphs.orders.db.query<{
        status: string;
        failure_code: string;
      }>("SELECT status, failure_code FROM orders.orders WHERE user_id = $1", [
        userId,
      ]);
      expect(order).toEqual({
        status: "FAILED",
        failure_code: "PAYMENT_DECLINED",
      });
    },
  );

  it.skipIf(backend.unavailable)(
    "with payments down, compensates and fails fast with SUBGRAPH_UNAVAILABLE, then recovers through half-open",
    async () => {
      const product = await newProduct(stack, 20);
      const payments = stack.subgraphs.payments;
      // "Down" must mean connections refused (nothing listening): only then does the saga know the
      // authorization never reached payments and fail without voiding. So payments really stops
      // listening and comes back on its own port, as a restarted service would; if another process
      // took that port meanwhile, listen() fails the test with EADDRINUSE rather than passing wrongly.
      await payments.running.close();
      try {
        for (let attempt = 0; attempt < 4; attempt += 1) {
          const order = await place(customer(`down-${attempt}`), product);
          expect(order).toMatchObject({
            status: "FAILED",
            failure_code: "SUBGRAPH_UNAVAILABLE",
          });
        }
        expect(ordersOf(stack).breakers.payments.breakerState).toBe("open");
        // With the breaker open nothing is sent: the order fails without waiting on the network.
        const fast = await place(customer("down-open"), product);
        expect(fast).toMatchObject({
          status: "FAILED",
          failure_code: "SUBGRAPH_UNAVAILABLE",
        });
        expect(await stockOf(stack, product)).toBe(20);
      } finally {
        Object.assign(payments, {
          running: await listen(payments.server.handler, {
            port: payments.running.port,
          }),
        });
      }
      await waitFor(
        () =>
          ordersOf(stack).breakers.payments.breakerState === "half-open"
            ? true
            : undefined,
        {
          timeoutMs: 10_000,
          what: "the payments breaker to half-open after its reset timeout",
        },
      );
      const recovered = await place(customer("after-recovery"), product);
      expect(recovered.status).toBe("CONFIRMED");
      expect(ordersOf(stack).breakers.payments.breakerState).toBe("closed");
      expect(await stockOf(stack, product)).toBe(19);
    },
  );

  it.skipIf(backend.unavailable)(
    "keeps captured payments = confirmed orders and stock = what confirmed orders took, over random interleavings of failures",
    { timeout: 120_000 },
    async () => {
      const steps: Array<SagaStep | "none"> = [
        "none",
        "none",
        "RESERVE",
        "PAY",
        "COMMIT",
        "COMPENSATE",
      ];
      const orderArbitrary = fc.record({
        product: fc.integer({ min: 0, max: 1 }),
        quantity: fc.integer({ min: 1, max: 4 }),
        card: fc.constantFrom(
          "tok_visa",
          "tok_visa",
          "tok_declined",
          "tok_error",
        ),
        crashAt: fc.constantFrom(...steps),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(orderArbitrary, { minLength: 1, maxLength: 6 }),
          async (plan) => {
            const products = [
              await newProduct(stack, 6),
              await newProduct(stack, 6),
            ];
            const users = plan.map((_, index) =>
              customer(`prop-${index}-${randomUUID()}`),
            );
            plan.forEach(
              (entry, index) =>
                entry.crashAt !== "none" &&
                crashes.plan.set(users[index]!, entry.crashAt),
            );
            await Promise.allSettled(
              plan.map((entry, index) =>
                place(
                  users[index]!,
                  products[entry.product]!,
                  entry.quantity,
                  entry.card,
                ),
              ),
            );
            crashes.plan.clear();
            await resumeAll(stack);
            // A crash between reserving and placing leaves no order, and a reservation that
            // products' sweeper returns once it expires (moved on here rather than waited for).
            await stack.subgraphs.products.db.query(
              `UPDATE products.reservations SET expires_at = now() - interval '1 second' WHERE status = 'RESERVED' AND user_id = ANY($1::uuid[])`,
              [users],
            );
            await inventoryOf(stack).sweepExpired();

            const orders = await stack.subgraphs.orders.db.query<{
              id: string;
              status: string;
              total_minor: number;
              product_id: string;
              quantity: number;
            }>(
              `SELECT o.id, o.status, o.total_minor, i.product_id, i.quantity FROM orders.orders o JOIN orders.order_items i ON i.order_id = o.id WHERE o.user_id = ANY($1::uuid[])`,
              [users],
            );
            expect(orders).toHaveLength(
              plan.filter((entry) => entry.crashAt !== "RESERVE").length,
            );
            expect(
              orders.every(
                (order) =>
                  order.status === "CONFIRMED" || order.status === "FAILED",
              ),
            ).toBe(true);
            const captured = await stack.subgraphs.payments.db.query<{
              order_id: string;
              amount_minor: number;
            }>(
              `SELECT order_id, amount_minor FROM payments.payments WHERE status = 'CAPTURED' AND order_id = ANY($1::uuid[])`,
              [orders.map((order) => order.id)],
            );
            const confirmed = orders.filter(
              (order) => order.status === "CONFIRMED",
            );
            expect(captured.map((payment) => payment.order_id).sort()).toEqual(
              confirmed.map((order) => order.id).sort(),
            );
            for (const payment of captured)
              expect(payment.amount_minor).toBe(
                confirmed.find((order) => order.id === payment.order_id)!
                  .total_minor,
              );
            for (const product of products) {
              const sold = confirmed
                .filter((order) => order.product_id === product)
                .reduce((sum, order) => sum + order.quantity, 0);
              expect(await stockOf(stack, product)).toBe(6 - sold);
            }
            const [held] = await stack.subgraphs.products.db.query<{
              count: number;
            }>(
              `SELECT count(*)::int AS count FROM products.reservations WHERE status = 'RESERVED' AND user_id = ANY($1::uuid[])`,
              [users],
            );
            expect(held!.count).toBe(0);
          },
        ),
        { numRuns: 8 },
      );
    },
  );
});
