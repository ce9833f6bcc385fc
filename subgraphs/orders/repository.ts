import type { Database, Sql } from "../../platform/database.ts";
import type { NewEvent } from "../../events/envelope.ts";
import { changeWithEvent } from "../../events/outbox-writer.ts";
import { batchByUuid } from "../../platform/sql-rows.ts";
import {
  userListPages,
  type UserListCursor,
} from "../../platform/user-lists.ts";

export const ORDER_STATUSES = [
  "PENDING",
  "CONFIRMED",
  "FAILED",
  "CANCELLED",
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
/** How an order ends. */
export type FinalStatus = Exclude<OrderStatus, "PENDING">;

/** The next thing a saga must do. Every step is idempotent, so a resumed step may run twice safely. */
export type SagaStep =
  "RESERVE" | "PAY" | "COMMIT" | "COMPENSATE" | "CANCEL" | "DONE";

export interface OrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  total_minor: number;
  currency: string;
  created_at: Date;
  failure_code?: string | null;
}

export interface OrderItemRow {
  order_id: string;
  position: number;
  product_id: string;
  quantity: number;
  unit_price_minor: number;
}

/** Position in a user's newest-first list: (createdAt, id), compared as a row value. */
export type OrderCursor = UserListCursor;

const COLUMNS =
  "id, user_id, status, total_minor, currency, created_at, failure_code";

/** An order as placeOrder and cancelOrder see it. */
export type OrderRecord = OrderRow & {
  request_hash: string | null;
  failure_code: string | null;
  saga_step: SagaStep;
};
const RECORD_COLUMNS = `${COLUMNS}, request_hash, saga_step`;

/** An order as its saga sees it. */
export interface SagaRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  total_minor: number;
  currency: string;
  payment_token: string | null;
  failure_code: string | null;
  saga_step: SagaStep;
  reserve_attempted: boolean;
  payment_attempted: boolean;
}
/** What a claim answers besides the saga row. */
export interface ClaimExtras {
  correlation_id: string | null;
  items: Array<{ productId: string; quantity: number }>;
}
const SAGA_COLUMNS =
  "id, user_id, status, total_minor, currency, payment_token, failure_code, saga_step, reserve_attempted, payment_attempted";

/**
 * The SQL of placing, cancelling and driving orders. Every function takes the handle to run on
 * (`Database` or a transaction), so the domain decides what one transaction holds.
 */
export const orderSql = {
  async record(tx: Sql, id: string): Promise<OrderRecord | undefined> {
    const [row] = await tx.query<OrderRecord>(
      `SELECT ${RECORD_COLUMNS} FROM orders.orders WHERE id = $1`,
      [id],
    );
    return row;
  },

  async recordByKey(
    tx: Sql,
    userId: string,
    idempotencyKey: string,
  ): Promise<OrderRecord | undefined> {
    const [row] = await tx.query<OrderRecord>(
      `SELECT ${RECORD_COLUMNS} FROM orders.orders WHERE user_id = $1 AND idempotency_key = $2`,
      [userId, idempotencyKey],
    );
    return row;
  },

  /**
   * Inserts a PENDING order with its items and its `orders.order.placed` event, in one statement
   * (atomic on its own: one round trip instead of a transaction's 4 + items), at `start`: PAY for
   * an order whose stock is already reserved under its id (marked `reserve_attempted` and
   * `payment_attempted`, as advancing to PAY would leave it: PAY charges right after), or
   * COMPENSATE with a failure code for one refused before it existed (marked `reserve_attempted`,
   * so compensation releases the id). Already claimed: leased to the caller for `leaseSeconds`
   * (the caller drives the saga on at once; if it dies first, the resumer takes the order once the
   * lease expires, as after a crash right after a claim). Answers the saga row as `claim` does;
   * undefined, with nothing written, when the user's key is taken (a concurrent duplicate).
   */
  async insert(
    tx: Sql,
    order: {
      id: string;
      userId: string;
      totalMinor: number;
      currency: string;
      idempotencyKey: string;
      requestHash: string;
      paymentToken: string;
      correlationId: string | null;
      leaseSeconds: number;
      items: ReadonlyArray<{
        productId: string;
        quantity: number;
        unitPriceMinor: number;
      }>;
      start: { step: "PAY" } | { step: "COMPENSATE"; failureCode: string };
    },
    event: NewEvent,
  ): Promise<(SagaRow & ClaimExtras) | undefined> {
    const [row] = await changeWithEvent<
      SagaRow & { correlation_id: string | null },
      unknown
    >(
      tx,
      "orders",
      {
        text: `INSERT INTO orders.orders (id, user_id, status, total_minor, currency, idempotency_key, request_hash, payment_token, saga_step, correlation_id,
                                   lease_until, saga_attempts, reserve_attempted, payment_attempted, failure_code)
       VALUES ($1, $2, 'PENDING', $3, $4, $5, $6, $7, $13, $8, now() + make_interval(secs => $12), 1, true, $13 = 'PAY', $14)
       ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING ${SAGA_COLUMNS}, correlation_id`,
        params: [
          order.id,
          order.userId,
          order.totalMinor,
          order.currency,
          order.idempotencyKey,
          order.requestHash,
          order.paymentToken,
          order.correlationId,
          order.items.map((item) => item.productId),
          order.items.map((item) => item.quantity),
          order.items.map((item) => item.unitPriceMinor),
          order.leaseSeconds,
          order.start.step,
          order.start.step === "COMPENSATE" ? order.start.failureCode : null,
        ],
        also: `items AS (INSERT INTO orders.order_items (order_id, position, product_id, quantity, unit_price_minor)
          SELECT change.id, (item.ordinality - 1)::smallint, item.product_id, item.quantity, item.unit_price_minor
            FROM change, unnest($9::uuid[], $10::int[], $11::bigint[]) WITH ORDINALITY AS item(product_id, quantity, unit_price_minor, ordinality))`,
      },
      event,
    );
    return (
      row && {
        ...row,
        items: order.items.map(({ productId, quantity }) => ({
          productId,
          quantity,
        })),
      }
    );
  },

  /** Puts a CONFIRMED, finished order on step CANCEL; false when it is not (or no longer) one. */
  async startCancel(tx: Sql, id: string): Promise<boolean> {
    const rows = await tx.query(
      `UPDATE orders.orders SET saga_step = 'CANCEL' WHERE id = $1 AND status = 'CONFIRMED' AND saga_step = 'DONE' RETURNING id`,
      [id],
    );
    return rows.length > 0;
  },

  /** The items of an order, in the order placed. */
  async items(
    tx: Sql,
    orderId: string,
  ): Promise<Array<{ productId: string; quantity: number }>> {
    return tx.query<{ productId: string; quantity: number }>(
      'SELECT product_id AS "productId", quantity FROM orders.order_items WHERE order_id = $1 ORDER BY position',
      [orderId],
    );
  },

  /**
   * Takes the saga's lease if it is unfinished and nobody holds it; undefined otherwise. With it
   * come the order's items (what RESERVE sends), and a saga at RESERVE is marked
   * `reserve_attempted` in the same statement: RESERVE calls products right after, and the flag must
   * be written before that call.
   */
  async claim(
    tx: Sql,
    id: string,
    leaseSeconds: number,
  ): Promise<(SagaRow & ClaimExtras) | undefined> {
    const [row] = await tx.query<SagaRow & ClaimExtras>(
      `UPDATE orders.orders SET lease_until = now() + make_interval(secs => $2), saga_attempts = saga_attempts + 1,
              reserve_attempted = reserve_attempted OR saga_step = 'RESERVE'
        WHERE id = $1 AND saga_step <> 'DONE' AND (lease_until IS NULL OR lease_until < now())
        RETURNING ${SAGA_COLUMNS}, correlation_id,
          (SELECT coalesce(json_agg(json_build_object('productId', i.product_id, 'quantity', i.quantity) ORDER BY i.position), '[]'::json)
             FROM orders.order_items i WHERE i.order_id = orders.orders.id) AS items`,
      [id, leaseSeconds],
    );
    return row;
  },

  /**
   * Moves the saga from step `from` to `to`; undefined when it is no longer at `from`. Moving to PAY
   * also marks `payment_attempted`: PAY charges right after, and the flag must be written first.
   */
  async advance(
    tx: Sql,
    id: string,
    from: SagaStep,
    to: SagaStep,
    failureCode: string | null,
  ): Promise<SagaRow | undefined> {
    const [row] = await tx.query<SagaRow>(
      `UPDATE orders.orders SET saga_step = $3, failure_code = coalesce($4, failure_code), updated_at = date_trunc('milliseconds', now()),
              payment_attempted = payment_attempted OR $3 = 'PAY'
        WHERE id = $1 AND saga_step = $2 RETURNING ${SAGA_COLUMNS}`,
      [id, from, to, failureCode],
    );
    return row;
  },

  /**
   * Ends the saga at `status`, dropping its lease, and writes `event` in the same statement;
   * undefined (and no event) when it is no longer at `from`. Answers the order as placeOrder and
   * cancelOrder return it.
   */
  async finish(
    tx: Sql,
    id: string,
    from: SagaStep,
    status: FinalStatus,
    event: NewEvent,
  ): Promise<OrderRecord | undefined> {
    const [row] = await changeWithEvent<OrderRecord, Record<string, unknown>>(
      tx,
      "orders",
      {
        text: `UPDATE orders.orders SET status = $3, saga_step = 'DONE', lease_until = NULL, updated_at = date_trunc('milliseconds', now())
        WHERE id = $1 AND saga_step = $2 RETURNING ${RECORD_COLUMNS}`,
        params: [id, from, status],
      },
      event,
    );
    return row;
  },

  async setAttempted(
    tx: Sql,
    id: string,
    column: "reserve_attempted" | "payment_attempted",
    value: boolean,
  ): Promise<void> {
    // The column name comes from the union above, never from input.
    await tx.query(`UPDATE orders.orders SET ${column} = $2 WHERE id = $1`, [
      id,
      value,
    ]);
  },

  /** Holds the saga's lease for `seconds` more, so the resumer retries it then. */
  async extendLease(tx: Sql, id: string, seconds: number): Promise<void> {
    await tx.query(
      `UPDATE orders.orders SET lease_until = now() + make_interval(secs => $2) WHERE id = $1`,
      [id, seconds],
    );
  },

  /** Unfinished sagas nobody holds: never claimed first, then longest expired. */
  async due(tx: Sql, limit: number): Promise<string[]> {
    const rows = await tx.query<{ id: string }>(
      `SELECT id FROM orders.orders WHERE saga_step <> 'DONE' AND (lease_until IS NULL OR lease_until < now()) ORDER BY lease_until NULLS FIRST LIMIT $1`,
      [limit],
    );
    return rows.map((row) => row.id);
  },
};

export function createOrderRepository(db: Database) {
  return {
    ordersByIds: batchByUuid<OrderRow>(db, "orders.orders", COLUMNS),

    async itemsByOrderIds(
      orderIds: readonly string[],
    ): Promise<OrderItemRow[][]> {
      const rows = await db.query<OrderItemRow>(
        "SELECT order_id, position, product_id, quantity, unit_price_minor FROM orders.order_items WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, position",
        [orderIds],
      );
      const byOrder = new Map<string, OrderItemRow[]>();
      for (const row of rows) {
        const list = byOrder.get(row.order_id);
        if (list) list.push(row);
        else byOrder.set(row.order_id, [row]);
      }
      return orderIds.map((id) => byOrder.get(id) ?? []);
    },

    /** One page of orders for each of several users, newest first, in one statement. */
    pagesByUsers: userListPages<OrderRow>(db, {
      table: "orders.orders",
      columns: COLUMNS,
      timeColumn: "created_at",
      idColumn: "id",
      keyType: "uuid",
    }),
  };
}

export type OrderRepository = ReturnType<typeof createOrderRepository>;
