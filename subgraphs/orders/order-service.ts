import { createHash, randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Database } from "../../platform/database.ts";
import { badInput, codedError, notFound } from "../../platform/errors.ts";
import { isId } from "../../platform/ids.ts";
import type { Logger } from "../../platform/logger.ts";
import { currentCorrelationId } from "../../platform/correlation.ts";
import {
  formatMinorUnits,
  isPayableAmount,
  MAX_PAYMENT_MINOR,
  MIN_PAYMENT_MINOR,
} from "../../platform/scalars.ts";
import {
  ServiceRefusedError,
  ServiceUnavailableError,
} from "../../platform/service-client.ts";
import { RESERVATION_CODES, type Price } from "../products/contract.ts";
import type {
  ProductsClient,
  ReserveOutcome,
} from "./clients/products-client.ts";
import {
  orderSql,
  type ClaimExtras,
  type OrderRecord,
  type SagaRow,
} from "./repository.ts";
import type { Saga } from "./saga.ts";

export interface PlaceOrderInput {
  items: Array<{ productId: string; quantity: number }>;
  idempotencyKey: string;
  paymentToken?: string | null;
}

/** What placeOrder refuses once prices are known: payments could not charge the total. */
function checkPriced(
  lines: ReadonlyArray<{ quantity: number; unitPriceMinor: number }>,
  prices: ReadonlyMap<string, Price>,
) {
  // Products prices every line it reserves (or refuses for stock): a line without a price is its bug.
  if (lines.some((line) => Number.isNaN(line.unitPriceMinor)))
    return codedError(
      "ORDER_REJECTED",
      "the products service answered without a price; no order was placed",
      { service: "products" },
    );
  if (new Set([...prices.values()].map((price) => price.currency)).size !== 1)
    return badInput(
      "input.items",
      "all items of an order must be sold in one currency",
    );
  const total = lines.reduce(
    (sum, line) => sum + line.quantity * line.unitPriceMinor,
    0,
  );
  if (!isPayableAmount(total))
    return badInput(
      "input.items",
      `an order total must be ${formatMinorUnits(MIN_PAYMENT_MINOR)} to ${formatMinorUnits(MAX_PAYMENT_MINOR)}`,
    );
  return undefined;
}

export const MAX_ITEMS = 50;
export const MAX_QUANTITY = 100;
const KEY = /^[\w:.-]{1,100}$/;

/**
 * placeOrder and cancelOrder: validation, end-to-end idempotency, and waiting for the saga.
 * The idempotency key is scoped to the user; the (user_id, idempotency_key) unique index makes
 * concurrent duplicates collapse into one order, and the stored request hash tells a retry
 * (same payload) from a reuse of the key for something else (BAD_USER_INPUT).
 */
export function createOrderService({
  db,
  products,
  saga,
  logger,
  waitMs = 10_000,
  pollMs = 25,
}: {
  db: Database;
  products: ProductsClient;
  saga: Saga;
  logger: Logger;
  waitMs?: number;
  pollMs?: number;
}) {
  const load = (id: string): Promise<OrderRecord | undefined> =>
    orderSql.record(db, id);

  /**
   * Runs (or waits for) the saga until the order is final or `waitMs` passes; returns the order then.
   * `claimed` is the row of an order this request inserted already claimed: its first run needs no claim.
   */
  async function settle(
    id: string,
    claimed?: SagaRow & ClaimExtras,
  ): Promise<OrderRecord> {
    const deadline = Date.now() + waitMs;
    for (let held = claimed; ; held = undefined) {
      let finished: OrderRecord | undefined;
      const hand = (record: OrderRecord) => {
        finished = record;
      };
      // The run that finishes the saga hands over the final row: no read after it.
      if (
        (await (held ? saga.runClaimed(held, hand) : saga.run(id, hand))) ===
        "done"
      )
        return finished ?? (await load(id))!;
      const row = (await load(id))!;
      if (row.saga_step === "DONE" || Date.now() > deadline) return row;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  function validate(input: PlaceOrderInput) {
    if (!KEY.test(input.idempotencyKey))
      throw badInput(
        "input.idempotencyKey",
        "idempotencyKey must be 1 to 100 letters, digits or _ : . -",
      );
    if (input.items.length < 1 || input.items.length > MAX_ITEMS)
      throw badInput("input.items", `an order has 1 to ${MAX_ITEMS} items`);
    const seen = new Set<string>();
    input.items.forEach((item, index) => {
      if (!isId(item.productId))
        throw badInput(
          `input.items[${index}].productId`,
          "productId must be a UUID",
        );
      if (
        !Number.isInteger(item.quantity) ||
        item.quantity < 1 ||
        item.quantity > MAX_QUANTITY
      )
        throw badInput(
          `input.items[${index}].quantity`,
          `quantity must be 1 to ${MAX_QUANTITY}`,
        );
      if (seen.has(item.productId.toLowerCase()))
        throw badInput(
          `input.items[${index}].productId`,
          "each product may appear once; add up the quantities",
        );
      seen.add(item.productId.toLowerCase());
    });
    // Required, though the schema keeps the field nullable (non-null would break clients by the
    // schema gate): a shop never picks a card for the customer, least of all a test card.
    const paymentToken = input.paymentToken;
    if (
      paymentToken === undefined ||
      paymentToken === null ||
      paymentToken.length < 1 ||
      paymentToken.length > 64
    )
      throw badInput(
        "input.paymentToken",
        "paymentToken is required, 1 to 64 characters",
      );
    const items = input.items.map((item) => ({
      productId: item.productId.toLowerCase(),
      quantity: item.quantity,
    }));
    const hash = createHash("sha256")
      .update(
        JSON.stringify({
          items: [...items].sort((a, b) =>
            a.productId.localeCompare(b.productId),
          ),
          paymentToken,
        }),
      )
      .digest("hex");
    return { items, paymentToken, hash };
  }

  /**
   * Gives back a reservation taken for an order that will not exist. Best effort: if products
   * cannot be reached, the reservation expires and products' sweeper returns its stock.
   */
  async function abandon(orderId: string): Promise<void> {
    try {
      await products.release(orderId);
    } catch (error) {
      logger.warn(
        { orderId, err: error },
        "reservation of an order not placed left to expire",
      );
    }
  }

  /** The one products call of placeOrder; a failure of it places no order and keeps nothing. */
  async function reserve(
    orderId: string,
    userId: string,
    items: Array<{ productId: string; quantity: number }>,
  ): Promise<ReserveOutcome> {
    try {
      return await products.reserve(orderId, userId, items);
    } catch (error) {
      // Only a call that never left this process (breaker open, connection refused) cannot have
      // reserved anything under the id.
      if (!(error instanceof ServiceUnavailableError) || error.mayHaveReached)
        await abandon(orderId);
      if (error instanceof ServiceUnavailableError)
        throw codedError(
          "SUBGRAPH_UNAVAILABLE",
          "the products service is unavailable; no order was placed",
          { service: "products" },
        );
      if (error instanceof ServiceRefusedError)
        throw codedError(
          "ORDER_REJECTED",
          "the products service refused to reserve this order; no order was placed",
          { service: "products" },
        );
      throw error;
    }
  }

  async function existing(
    userId: string,
    key: string,
    hash: string,
  ): Promise<OrderRecord | undefined> {
    const row = await orderSql.recordByKey(db, userId, key);
    if (row && row.request_hash !== hash)
      throw badInput(
        "input.idempotencyKey",
        "this idempotency key was already used for a different order",
      );
    return row;
  }

  return {
    settle,

    async placeOrder(
      userId: string,
      input: PlaceOrderInput,
    ): Promise<OrderRecord> {
      const { items, paymentToken, hash } = validate(input);
      let started = performance.now();
      const previous = await existing(userId, input.idempotencyKey, hash);
      saga.observeStep("lookup", started);
      if (previous) return settle(previous.id);

      // Products prices the order as it reserves it: one call. The reservation is taken under the
      // new order's id before the order exists; whatever ends this request without an order gives
      // it back (`abandon`), and a crash in between leaves it to products' expiry sweeper.
      const orderId = randomUUID();
      started = performance.now();
      const reserved = await reserve(orderId, userId, items);
      saga.observeStep("reserve", started);
      const prices = new Map(
        (reserved.ok ? reserved.items : (reserved.prices ?? [])).map(
          (price) => [price.productId, price],
        ),
      );
      if (
        !reserved.ok &&
        reserved.code !== RESERVATION_CODES.insufficientStock
      ) {
        // Nothing was reserved: a product is unknown (or the fresh id was refused, which no
        // order of this request can have caused).
        const index = items.findIndex(
          (item) => item.productId === reserved.productId,
        );
        if (reserved.code === RESERVATION_CODES.notFound && index >= 0)
          throw badInput(
            `input.items[${index}].productId`,
            `product ${reserved.productId} does not exist`,
          );
        throw codedError(
          "ORDER_REJECTED",
          "the products service refused to reserve this order; no order was placed",
          { service: "products" },
        );
      }
      const lines = items.map((item) => ({
        ...item,
        unitPriceMinor: prices.get(item.productId)?.unitPriceMinor ?? NaN,
      }));
      const refusal = checkPriced(lines, prices);
      if (refusal) {
        if (reserved.ok) await abandon(orderId);
        throw refusal;
      }
      const currency = prices.get(items[0]!.productId)!.currency;
      const total = lines.reduce(
        (sum, line) => sum + line.quantity * line.unitPriceMinor,
        0,
      );
      await saga.checkpoint(orderId, "RESERVE", userId);

      let created;
      started = performance.now();
      try {
        created = await orderSql.insert(
          db,
          {
            id: orderId,
            userId,
            totalMinor: total,
            currency,
            idempotencyKey: input.idempotencyKey,
            requestHash: hash,
            paymentToken,
            correlationId: currentCorrelationId() ?? null,
            leaseSeconds: saga.leaseSeconds,
            items: lines,
            // Reserved: the saga goes on to pay. Short of stock: it fails at once (the release it
            // runs is a no-op that also bars a late duplicate of the reserve from taking stock).
            start: reserved.ok
              ? { step: "PAY" }
              : { step: "COMPENSATE", failureCode: "INSUFFICIENT_STOCK" },
          },
          {
            type: "orders.order.placed",
            key: userId,
            data: {
              orderId,
              userId,
              items: lines.map(({ productId, quantity, unitPriceMinor }) => ({
                productId,
                quantity,
                unitPrice: unitPriceMinor,
              })),
              total,
              currency,
            },
          },
        );
      } catch (error) {
        if (reserved.ok) await abandon(orderId);
        throw error;
      }
      saga.observeStep("place", started);
      if (!created) {
        // A concurrent duplicate won the insert: this request becomes a retry of that one, and
        // gives back what it reserved for itself.
        if (reserved.ok) await abandon(orderId);
        const winner = await existing(userId, input.idempotencyKey, hash);
        return settle(winner!.id);
      }
      logger.info({ orderId, userId, total, currency }, "order placed");
      return settle(orderId, created);
    },

    async cancelOrder(
      caller: { id: string; role: string },
      orderId: string,
    ): Promise<OrderRecord> {
      const order = await load(orderId);
      if (!order || (order.user_id !== caller.id && caller.role !== "ADMIN"))
        throw notFound("Order", orderId);
      if (order.status === "CANCELLED") return order;
      if (!(await orderSql.startCancel(db, orderId))) {
        const current = (await load(orderId))!;
        if (current.saga_step !== "CANCEL")
          throw badInput(
            "id",
            `an order that is ${current.status.toLowerCase()} cannot be cancelled`,
          );
      }
      return settle(orderId);
    },
  };
}

export type OrderService = ReturnType<typeof createOrderService>;
