import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, type Storage } from "../../../../platform/database.ts";
import { scratchPglite } from "../../../support/pglite.ts";
import { ERROR_CODES } from "../../../../platform/errors.ts";
import { migrate } from "../../../../platform/migrate.ts";
import {
  isPayableAmount,
  MAX_PAYMENT_MINOR,
} from "../../../../platform/scalars.ts";
import {
  ServiceUnavailableError,
  type ServiceClient,
  type ServiceResponse,
} from "../../../../platform/service-client.ts";
import { createPaymentsClient } from "../../../../subgraphs/orders/clients/payments-client.ts";
import { createProductsClient } from "../../../../subgraphs/orders/clients/products-client.ts";
import { createOrderService } from "../../../../subgraphs/orders/order-service.ts";
import { createSaga } from "../../../../subgraphs/orders/saga.ts";
import { createCharges } from "../../../../subgraphs/payments/charges.ts";
import {
  chargeReply,
  refundReply,
} from "../../../../subgraphs/payments/internal-api.ts";
import { createSimulatedProvider } from "../../../../subgraphs/payments/provider.ts";
import { createInventory } from "../../../../subgraphs/products/inventory.ts";
import {
  commitReply,
  releaseReply,
  reserveReply,
} from "../../../../subgraphs/products/internal-api.ts";
import { silentLogger } from "../../../support/logger.ts";
import { stockIn } from "../../../support/stock.ts";

/**
 * The saga against the real inventory and charges modules (PGlite in memory), reached through
 * in-process fakes of the internal REST calls that inject every downstream outcome class at every
 * call the saga makes. The fakes answer what the real endpoints answer (including payments' 400
 * for an amount outside the shared bounds) and fail the way platform/service-client.ts reports
 * failures once its retries are spent.
 */

type Call = "reserve" | "charge" | "commit" | "refund" | "release";
type Outcome = "2xx" | "4xx" | "5xx" | "timeout" | "reset" | "breaker-open";
interface Fault {
  outcome: Outcome;
  /** How many calls in a row get it (a 4xx at a forward step gets every call; see the fake). */
  times: number;
  /** For 5xx, timeout and reset: whether the request had its effect before the failure. */
  applied: boolean;
}

const CALLS: Call[] = ["reserve", "charge", "commit", "refund", "release"];
const OUTCOMES: Outcome[] = [
  "2xx",
  "4xx",
  "5xx",
  "timeout",
  "reset",
  "breaker-open",
];
const PATHS: Record<string, Call> = {
  "/internal/reservations": "reserve",
  "/internal/payments/charge": "charge",
  "/internal/reservations/commit": "commit",
  "/internal/payments/refund": "refund",
  "/internal/reservations/release": "release",
};
const LEASE_MS = 30_000;

/** A place-order input for `items` under a fresh idempotency key, paid with `paymentToken`. */
const orderInput = (
  items: Array<{ productId: string; quantity: number }>,
  paymentToken = "tok_visa",
) => ({ items, idempotencyKey: randomUUID(), paymentToken });
const STOCK = 10;

describe("the place-order saga under every downstream outcome at every call", () => {
  let storage: Storage;
  let orders: Database;
  let products: Database;
  let payments: Database;
  const faults = new Map<Call, Fault>();
  /** Every call the orders clients made, in order (what reached the fakes, faulty or not). */
  const calls: Call[] = [];

  beforeAll(async () => {
    storage = await scratchPglite();
    [orders, products, payments] = [
      storage.forService("orders"),
      storage.forService("products"),
      storage.forService("payments"),
    ];
    for (const [schema, db] of [
      ["orders", orders],
      ["products", products],
      ["payments", payments],
    ] as const) {
      await migrate(db, {
        schema,
        dir: new URL(
          `../../../../subgraphs/${schema}/migrations`,
          import.meta.url,
        ).pathname,
      });
    }
  });
  afterAll(async () => {
    await storage?.close();
  });

  /** One downstream service as the orders clients see it: the real module behind a fault plan. */
  function fakeService(
    service: "products" | "payments",
  ): Pick<ServiceClient, "call"> {
    const inventory = createInventory({
      db: products,
      reservationTtlSeconds: 3600,
    });
    const charges = createCharges({
      db: payments,
      provider: createSimulatedProvider({ timeoutMs: 20 }),
      logger: silentLogger,
    });
    const effect = async (
      call: Call,
      body: Record<string, unknown>,
    ): Promise<ServiceResponse> => {
      switch (call) {
        case "reserve":
          return reserveReply(
            await inventory.reserve(
              body as Parameters<typeof inventory.reserve>[0],
            ),
          );
        case "commit":
          return commitReply(
            await inventory.commit(body.reservationId as string),
          );
        case "release":
          return releaseReply(
            await inventory.release(body.reservationId as string),
          );
        case "charge":
          // What the real endpoint's parser answers (subgraphs/payments/internal-api.ts).
          if (!isPayableAmount(body.amountMinor as number))
            return {
              status: 400,
              body: {
                code: "BAD_REQUEST",
                message: "amountMinor out of range",
              },
            };
          return chargeReply(
            await charges.charge(
              body as unknown as Parameters<typeof charges.charge>[0],
            ),
          );
        case "refund":
          return refundReply(
            await charges.refund(body as Parameters<typeof charges.refund>[0]),
          );
        default: {
          const unreachable: never = call;
          throw new Error(`unknown call ${String(unreachable)}`);
        }
      }
    };
    return {
      async call<Body>({
        path,
        body,
      }: {
        path: string;
        body?: unknown;
      }): Promise<ServiceResponse<Body>> {
        const call = PATHS[path];
        if (!call) throw new Error(`unexpected path ${path}`);
        calls.push(call);
        const request = body as Record<string, unknown>;
        const fault = faults.get(call);
        if (!fault || fault.times <= 0 || fault.outcome === "2xx")
          return (await effect(call, request)) as ServiceResponse<Body>;
        // A refusal of a forward step is definitive: the same request is refused every time. At a
        // compensation it stands for a misconfiguration that an operator fixes after `times` calls.
        if (fault.outcome !== "4xx" || call === "refund" || call === "release")
          fault.times -= 1;
        switch (fault.outcome) {
          case "4xx":
            return {
              status: 400,
              body: {
                code: "BAD_REQUEST",
                message: "refused by the fault plan",
              } as Body,
            };
          case "5xx":
            if (fault.applied) await effect(call, request);
            throw new ServiceUnavailableError(service, "status", {
              status: 503,
            });
          case "timeout":
            if (fault.applied) await effect(call, request);
            throw new ServiceUnavailableError(service, "timeout", {
              cause: new DOMException("timed out", "TimeoutError"),
            });
          case "reset":
            if (fault.applied) await effect(call, request);
            throw new ServiceUnavailableError(service, "network", {
              cause: Object.assign(new Error("socket hang up"), {
                code: "ECONNRESET",
              }),
            });
          case "breaker-open":
            throw new ServiceUnavailableError(service, "breaker-open", {
              mayHaveReached: false,
            });
          default: {
            const unreachable: never = fault.outcome;
            throw new Error(`unknown outcome ${String(unreachable)}`);
          }
        }
      },
    };
  }

  let productsClient: ReturnType<typeof createProductsClient>;
  let paymentsClient: ReturnType<typeof createPaymentsClient>;
  beforeAll(() => {
    productsClient = createProductsClient(fakeService("products"));
    paymentsClient = createPaymentsClient(fakeService("payments"));
  });
  const saga = () =>
    createSaga({
      db: orders,
      products: productsClient,
      payments: paymentsClient,
      logger: silentLogger,
      leaseMs: LEASE_MS,
      retryDelayMs: 1000,
    });

  const ordersOfUser = (userId: string) =>
    orders.query("SELECT id FROM orders.orders WHERE user_id = $1", [userId]);

  async function newProduct(priceMinor = 1250): Promise<string> {
    const id = randomUUID();
    await products.query(
      `INSERT INTO products.products (id, sku, name, description, price_minor, currency, inventory) VALUES ($1, $2, 'Test', '', $3, 'USD', $4)`,
      [id, `T-${id}`, priceMinor, STOCK],
    );
    return id;
  }

  /**
   * What the resumer does once leases have run out, until nothing is due: time is moved on by
   * expiring the leases rather than waited for. Bounded, so a saga that never settles is reported.
   */
  async function resumeAll(runner: ReturnType<typeof saga>): Promise<void> {
    for (let round = 0; round < 10; round += 1) {
      await orders.query(
        `UPDATE orders.orders SET lease_until = now() - interval '1 second' WHERE saga_step <> 'DONE'`,
      );
      const due = await runner.due(100);
      if (due.length === 0) return;
      // A step that throws is logged by the resumer and retried on the next round, as in production.
      for (const orderId of due)
        await runner.run(orderId).catch(() => undefined);
    }
  }

  /**
   * What products' sweeper does once reservations expire: a reservation still RESERVED when every
   * saga is done belongs to no order (placeOrder reserved, then could not place nor give it back).
   */
  async function sweepOrphans(): Promise<void> {
    await products.query(
      `UPDATE products.reservations SET expires_at = now() - interval '1 second' WHERE status = 'RESERVED'`,
    );
    await createInventory({
      db: products,
      reservationTtlSeconds: 3600,
    }).sweepExpired();
  }

  /** Places one order under the current fault plan, resumes, and returns where everything ended. */
  async function placeAndSettle(card: string, quantity: number) {
    const productId = await newProduct();
    const userId = randomUUID();
    const runner = saga();
    const service = createOrderService({
      db: orders,
      products: productsClient,
      saga: runner,
      logger: silentLogger,
      waitMs: 0,
    });
    const answer = await service
      .placeOrder(userId, orderInput([{ productId, quantity }], card))
      .then(
        (order) => ({ order }),
        (error: unknown) => ({ error }),
      );
    // Faults planned for more than one call go on hitting the resumed saga until spent.
    await resumeAll(runner);
    faults.clear();
    await sweepOrphans();
    const [order] = await orders.query<{
      id: string;
      status: string;
      saga_step: string;
      failure_code: string | null;
      total_minor: number;
    }>(
      "SELECT id, status, saga_step, failure_code, total_minor FROM orders.orders WHERE user_id = $1",
      [userId],
    );
    const held = order
      ? await payments.query<{ status: string; amount_minor: number }>(
          "SELECT status, amount_minor FROM payments.payments WHERE order_id = $1",
          [order.id],
        )
      : [];
    const [reservation] = order
      ? await products.query<{ status: string }>(
          "SELECT status FROM products.reservations WHERE id = $1",
          [order.id],
        )
      : [];
    return {
      answer,
      order,
      payments: held,
      reservation: reservation?.status,
      stock: await stockIn(products, productId),
      quantity,
    };
  }

  /** The invariants: nothing PENDING after resume, and money and stock held exactly for confirmed orders. */
  function expectSettled(result: Awaited<ReturnType<typeof placeAndSettle>>) {
    const { order, payments: rows, reservation, stock, quantity } = result;
    if (!order) {
      // Refused before an order existed: nothing may have been taken.
      expect(stock).toBe(STOCK);
      return;
    }
    expect(order.saga_step).toBe("DONE");
    expect(["CONFIRMED", "FAILED"]).toContain(order.status);
    if (order.status === "CONFIRMED") {
      expect(rows).toEqual([
        { status: "CAPTURED", amount_minor: order.total_minor },
      ]);
      expect(reservation).toBe("COMMITTED");
      expect(stock).toBe(STOCK - quantity);
    } else {
      expect(
        rows.filter((row) =>
          ["PENDING", "AUTHORIZED", "CAPTURED"].includes(row.status),
        ),
      ).toEqual([]);
      expect(reservation === undefined || reservation === "RELEASED").toBe(
        true,
      );
      expect(stock).toBe(STOCK);
      expect(Object.keys(ERROR_CODES)).toContain(order.failure_code);
    }
  }

  /** What the customer should end with when `outcome` happens once at `call` and everything else answers 2xx. */
  function expectedEnd(call: Call, outcome: Outcome): string {
    if (outcome === "2xx")
      return call === "refund" || call === "release"
        ? "FAILED PAYMENT_DECLINED"
        : "CONFIRMED";
    switch (call) {
      case "reserve":
        // placeOrder's one products call: no order is placed, and nothing is kept.
        return outcome === "4xx"
          ? "refused ORDER_REJECTED"
          : "refused SUBGRAPH_UNAVAILABLE";
      case "charge":
        return outcome === "4xx"
          ? "FAILED ORDER_REJECTED"
          : "FAILED SUBGRAPH_UNAVAILABLE";
      case "commit":
        // Unavailable after payment: deferred, then confirmed once commit answers.
        return outcome === "4xx" ? "FAILED ORDER_REJECTED" : "CONFIRMED";
      case "refund":
      case "release":
        // Compensation is retried whatever went wrong, until it went through.
        return "FAILED PAYMENT_DECLINED";
      default: {
        const unreachable: never = call;
        throw new Error(`unknown call ${String(unreachable)}`);
      }
    }
  }

  const matrix = CALLS.flatMap((call) =>
    OUTCOMES.flatMap((outcome) =>
      (outcome === "5xx" || outcome === "timeout" || outcome === "reset"
        ? [true, false]
        : [false]
      ).map((applied) => ({ call, outcome, applied })),
    ),
  );

  it.each(matrix)(
    "$outcome at $call (effect applied: $applied) ends settled with nothing held",
    async ({ call, outcome, applied }) => {
      faults.set(call, { outcome, times: 1, applied });
      // Compensation calls only happen on a failing order: a declined card makes one.
      const card =
        call === "refund" || call === "release" ? "tok_declined" : "tok_visa";
      const result = await placeAndSettle(card, 2);
      expectSettled(result);
      const code = (
        result.answer as { error?: { extensions?: { code?: string } } }
      ).error?.extensions?.code;
      const end = result.order
        ? `${result.order.status}${result.order.failure_code ? ` ${result.order.failure_code}` : ""}`
        : `refused ${code}`;
      expect(end).toBe(expectedEnd(call, outcome));
    },
  );

  it(
    "keeps the invariants over random combinations of outcomes at several calls, repeated up to three times",
    { timeout: 120_000 },
    async () => {
      const fault = fc.record({
        outcome: fc.constantFrom(...OUTCOMES),
        times: fc.integer({ min: 1, max: 3 }),
        applied: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.dictionary(fc.constantFrom(...CALLS), fault, { maxKeys: 4 }),
          fc.constantFrom("tok_visa", "tok_visa", "tok_declined", "tok_error"),
          fc.integer({ min: 1, max: 4 }),
          async (plan, card, quantity) => {
            for (const [call, entry] of Object.entries(plan))
              faults.set(call as Call, { ...entry });
            expectSettled(await placeAndSettle(card, quantity));
          },
        ),
        { numRuns: 60 },
      );
    },
  );

  /**
   * Runs the saga on an order stored as an older orders version could have left it (already in the
   * saga, at its first step) and returns how it ended and the product's stock afterwards.
   */
  async function runStoredOrder({
    unitPriceMinor,
    quantity,
    paymentToken,
  }: {
    unitPriceMinor: number;
    quantity: number;
    paymentToken: string | null;
  }) {
    const productId = await newProduct(unitPriceMinor);
    const orderId = randomUUID();
    await orders.query(
      `INSERT INTO orders.orders (id, user_id, status, total_minor, currency, idempotency_key, request_hash, payment_token, saga_step) VALUES ($1, $2, 'PENDING', $3, 'USD', $4, 'h', $5, 'RESERVE')`,
      [
        orderId,
        randomUUID(),
        unitPriceMinor * quantity,
        randomUUID(),
        paymentToken,
      ],
    );
    await orders.query(
      "INSERT INTO orders.order_items (order_id, position, product_id, quantity, unit_price_minor) VALUES ($1, 0, $2, $3, $4)",
      [orderId, productId, quantity, unitPriceMinor],
    );
    expect(await saga().run(orderId)).toBe("done");
    const [order] = await orders.query<{
      status: string;
      failure_code: string;
    }>("SELECT status, failure_code FROM orders.orders WHERE id = $1", [
      orderId,
    ]);
    return { orderId, order, stock: await stockIn(products, productId) };
  }

  it("an order whose total payments cannot charge (a product priced 0.00 before the bounds agreed) fails with ORDER_REJECTED and gives the stock back", async () => {
    const { order, stock } = await runStoredOrder({
      unitPriceMinor: 0,
      quantity: 3,
      paymentToken: "tok_visa",
    });
    expect(order).toEqual({ status: "FAILED", failure_code: "ORDER_REJECTED" });
    expect(stock).toBe(STOCK);
  });

  it("an order stored without a payment token (placed before one was required) fails with ORDER_REJECTED at PAY: no card is charged, the stock comes back", async () => {
    const { orderId, order, stock } = await runStoredOrder({
      unitPriceMinor: 1250,
      quantity: 2,
      paymentToken: null,
    });
    expect(order).toEqual({ status: "FAILED", failure_code: "ORDER_REJECTED" });
    // Compensation's refund finds no charge and leaves only its VOIDED tombstone: nothing authorized.
    expect(
      await payments.query(
        "SELECT status, provider_authorization FROM payments.payments WHERE order_id = $1",
        [orderId],
      ),
    ).toEqual([{ status: "VOIDED", provider_authorization: null }]);
    expect(stock).toBe(STOCK);
  });

  it("refuses, with BAD_USER_INPUT and nothing kept, an order whose total payments could not charge", async () => {
    const service = createOrderService({
      db: orders,
      products: productsClient,
      saga: saga(),
      logger: silentLogger,
      waitMs: 0,
    });
    const free = await newProduct(0);
    const dear = await newProduct(MAX_PAYMENT_MINOR / 2 + 1);
    for (const items of [
      [{ productId: free, quantity: 1 }],
      [{ productId: dear, quantity: 2 }],
    ]) {
      const userId = randomUUID();
      await expect(
        service.placeOrder(userId, orderInput(items)),
      ).rejects.toMatchObject({
        extensions: { code: "BAD_USER_INPUT", field: "input.items" },
      });
      expect(await ordersOfUser(userId)).toEqual([]);
    }
    const stock = await products.query<{ inventory: number }>(
      "SELECT inventory FROM products.products WHERE id = ANY($1::uuid[])",
      [[free, dear]],
    );
    expect(stock.map((row) => row.inventory)).toEqual([STOCK, STOCK]);
  });

  const service = (checkpoint?: () => void) =>
    createOrderService({
      db: orders,
      products: productsClient,
      saga: createSaga({
        db: orders,
        products: productsClient,
        payments: paymentsClient,
        logger: silentLogger,
        leaseMs: LEASE_MS,
        checkpoint,
      }),
      logger: silentLogger,
      waitMs: 0,
    });
  const stockOf = (productId: string) => stockIn(products, productId);

  it("confirms an order with one products call that prices and reserves: 3 internal calls and 7 statements in all", async () => {
    const productId = await newProduct(1250);
    const counts = () => [
      orders.queryCount,
      products.queryCount,
      payments.queryCount,
    ];
    const before = counts();
    calls.length = 0;
    const order = await service().placeOrder(
      randomUUID(),
      orderInput([{ productId, quantity: 2 }]),
    );
    expect(order).toMatchObject({ status: "CONFIRMED", total_minor: 2500 });
    expect(calls).toEqual(["reserve", "charge", "commit"]);
    // orders: key look-up, insert (at PAY, claimed), finish (confirmed from PAY once committed);
    // products: the priced reservation, its commit; payments: the charge and its settlement.
    expect(counts().map((count, index) => count - before[index]!)).toEqual([
      3, 2, 2,
    ]);
    expect(
      await orders.query(
        "SELECT unit_price_minor FROM orders.order_items WHERE order_id = $1",
        [order.id],
      ),
    ).toEqual([{ unit_price_minor: 1250 }]);
  });

  it("records an order short of stock as FAILED INSUFFICIENT_STOCK at the prices products refused it with, taking nothing", async () => {
    const productId = await newProduct(700);
    calls.length = 0;
    const order = await service().placeOrder(
      randomUUID(),
      orderInput([{ productId, quantity: STOCK + 1 }]),
    );
    expect(order).toMatchObject({
      status: "FAILED",
      failure_code: "INSUFFICIENT_STOCK",
      total_minor: 700 * (STOCK + 1),
    });
    // The release bars a late duplicate of the refused reserve; nothing is charged.
    expect(calls).toEqual(["reserve", "release"]);
    expect(await stockOf(productId)).toBe(STOCK);
  });

  it("refuses an unknown product with BAD_USER_INPUT on its field, placing and keeping nothing", async () => {
    const known = await newProduct();
    const userId = randomUUID();
    await expect(
      service().placeOrder(
        userId,
        orderInput([
          { productId: known, quantity: 1 },
          { productId: randomUUID(), quantity: 1 },
        ]),
      ),
    ).rejects.toMatchObject({
      extensions: { code: "BAD_USER_INPUT", field: "input.items[1].productId" },
    });
    expect(await ordersOfUser(userId)).toEqual([]);
    expect(await stockOf(known)).toBe(STOCK);
  });

  it("after a crash between reserving and placing, nothing is placed, the sweeper returns the stock, and a retry of the key places the order", async () => {
    const productId = await newProduct();
    const userId = randomUUID();
    const input = orderInput([{ productId, quantity: 3 }]);
    const crash = new Error("simulated crash before RESERVE");
    await expect(
      service(() => {
        throw crash;
      }).placeOrder(userId, input),
    ).rejects.toBe(crash);
    expect(await ordersOfUser(userId)).toEqual([]);
    expect(await stockOf(productId)).toBe(STOCK - 3);
    await sweepOrphans();
    expect(await stockOf(productId)).toBe(STOCK);
    expect(await service().placeOrder(userId, input)).toMatchObject({
      status: "CONFIRMED",
    });
    expect(await stockOf(productId)).toBe(STOCK - 3);
  });

  it("places one order for concurrent duplicates of a key; the loser gives back what it reserved", async () => {
    const productId = await newProduct();
    const userId = randomUUID();
    const input = orderInput([{ productId, quantity: 2 }]);
    const placing = service();
    const answers = await Promise.all(
      [1, 2, 3].map(() => placing.placeOrder(userId, input)),
    );
    await resumeAll(saga());
    const ids = new Set(answers.map((order) => order.id));
    expect(ids.size).toBe(1);
    const [order] = await orders.query<{ status: string }>(
      "SELECT status FROM orders.orders WHERE user_id = $1",
      [userId],
    );
    expect(order).toEqual({ status: "CONFIRMED" });
    expect(await stockOf(productId)).toBe(STOCK - 2);
    const [held] = await products.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM products.reservations WHERE status = 'RESERVED' AND user_id = $1",
      [userId],
    );
    expect(held!.count).toBe(0);
  });

  it("times each step of an order in saga_step_duration_seconds: placeOrder's lookup, reserve and place, then PAY (which commits and confirms)", async () => {
    const productId = await newProduct();
    const runner = saga();
    await createOrderService({
      db: orders,
      products: productsClient,
      saga: runner,
      logger: silentLogger,
      waitMs: 0,
    }).placeOrder(randomUUID(), orderInput([{ productId, quantity: 1 }]));
    const { values } = await runner.stepDuration.get();
    const counts = Object.fromEntries(
      values
        .filter((value) => value.metricName?.endsWith("_count"))
        .map((value) => [value.labels.step, value.value]),
    );
    expect(counts).toEqual({
      lookup: 1,
      reserve: 1,
      place: 1,
      PAY: 1,
    });
  });
});
