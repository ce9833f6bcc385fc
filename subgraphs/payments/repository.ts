import { randomUUID } from "node:crypto";
import type { Database, Sql } from "../../platform/database.ts";
import type { NewEvent } from "../../events/envelope.ts";
import { changeWithEvent } from "../../events/outbox-writer.ts";
import {
  batchByKey,
  batchByUuid,
  firstRow,
  type RowLock,
} from "../../platform/sql-rows.ts";
import type { PaymentStatus } from "./contract.ts";

export interface PaymentRow {
  id: string;
  order_id: string;
  user_id: string;
  amount_minor: number;
  currency: string;
  status: PaymentStatus;
  created_at: Date;
}

/** A payment with what the charge flow keeps about it. */
export type ChargeRow = PaymentRow & {
  idempotency_key: string | null;
  provider_authorization: string | null;
  provider_capture: string | null;
  failure_code: string | null;
};

const COLUMNS =
  "id, order_id, user_id, amount_minor, currency, status, created_at";
const CHARGE_COLUMNS = `${COLUMNS}, idempotency_key, provider_authorization, provider_capture, failure_code`;

/** Reads one charge by a unique column (`id` or `idempotency_key`). */
const chargeBy =
  (column: "id" | "idempotency_key") =>
  (tx: Sql, value: string, lock?: RowLock): Promise<ChargeRow | undefined> =>
    firstRow(
      tx,
      `SELECT ${CHARGE_COLUMNS} FROM payments.payments WHERE ${column} = $1`,
      [value],
      lock,
    );

/**
 * The SQL of charges and refunds. Every function takes the handle to run on (`Database` or a
 * transaction), so the domain decides what one transaction holds.
 */
export const chargeSql = {
  /** Inserts a PENDING payment under its key; undefined when the key exists already. */
  async insertPending(
    tx: Sql,
    request: {
      idempotencyKey: string;
      orderId: string;
      userId: string;
      amountMinor: number;
      currency: string;
    },
  ): Promise<ChargeRow | undefined> {
    const [row] = await tx.query<ChargeRow>(
      `INSERT INTO payments.payments (id, order_id, user_id, amount_minor, currency, status, idempotency_key)
       VALUES ($1, $2, $3, $4, $5, 'PENDING', $6) ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${CHARGE_COLUMNS}`,
      [
        randomUUID(),
        request.orderId,
        request.userId,
        request.amountMinor,
        request.currency,
        request.idempotencyKey,
      ],
    );
    return row;
  },

  /** Inserts a VOIDED tombstone under the key unless it exists, so a late charge cannot take money. */
  async voidedTombstone(
    tx: Sql,
    {
      idempotencyKey,
      orderId,
      userId,
    }: { idempotencyKey: string; orderId: string; userId: string },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO payments.payments (id, order_id, user_id, amount_minor, currency, status, idempotency_key, failure_code)
       VALUES ($1, $2, $3, 0, 'USD', 'VOIDED', $4, 'voided_before_charge') ON CONFLICT (idempotency_key) DO NOTHING`,
      [randomUUID(), orderId, userId, idempotencyKey],
    );
  },

  byKey: chargeBy("idempotency_key"),
  byId: chargeBy("id"),

  /**
   * Moves a still-PENDING payment to its result and writes `event` with it, in one statement;
   * undefined (and no event) when it is no longer PENDING (a refund voided it).
   */
  async settle(
    tx: Sql,
    id: string,
    fields: {
      status: PaymentStatus;
      failureCode?: string;
      authorization?: string;
      capture?: string;
    },
    event: NewEvent,
  ): Promise<ChargeRow | undefined> {
    const [row] = await changeWithEvent<ChargeRow, Record<string, unknown>>(
      tx,
      "payments",
      {
        text: `UPDATE payments.payments
          SET status = $2, failure_code = $3, provider_authorization = coalesce($4, provider_authorization),
              provider_capture = coalesce($5, provider_capture), updated_at = now()
        WHERE id = $1 AND status = 'PENDING' RETURNING ${CHARGE_COLUMNS}`,
        params: [
          id,
          fields.status,
          fields.failureCode ?? null,
          fields.authorization ?? null,
          fields.capture ?? null,
        ],
      },
      event,
    );
    return row;
  },

  /** Keeps the provider's references of a charge that completed after it was voided. */
  async recordProviderRefs(
    tx: Sql,
    id: string,
    { authorization, capture }: { authorization: string; capture: string },
  ): Promise<void> {
    await tx.query(
      "UPDATE payments.payments SET provider_authorization = $2, provider_capture = $3 WHERE id = $1",
      [id, authorization, capture],
    );
  },

  async markRefunded(tx: Sql, id: string): Promise<ChargeRow | undefined> {
    const [row] = await tx.query<ChargeRow>(
      `UPDATE payments.payments SET status = 'REFUNDED', updated_at = now() WHERE id = $1 RETURNING ${CHARGE_COLUMNS}`,
      [id],
    );
    return row;
  },

  async voidInFlight(tx: Sql, id: string): Promise<void> {
    await tx.query(
      `UPDATE payments.payments SET status = 'VOIDED', failure_code = 'voided_in_flight', updated_at = now() WHERE id = $1`,
      [id],
    );
  },
};

export function createPaymentRepository(db: Database) {
  return {
    paymentsByIds: batchByUuid<PaymentRow>(db, "payments.payments", COLUMNS),

    /** The latest payment attempt of each order, in key order. */
    latestByOrderIds: batchByKey<PaymentRow>(
      db,
      `SELECT DISTINCT ON (order_id) ${COLUMNS} FROM payments.payments
        WHERE order_id = ANY($1::uuid[])
        ORDER BY order_id, created_at DESC, id DESC`,
      (row) => row.order_id,
    ),
  };
}

export type PaymentRepository = ReturnType<typeof createPaymentRepository>;
