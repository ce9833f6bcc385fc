import type { Database, Sql } from "../../platform/database.ts";
import type { Logger } from "../../platform/logger.ts";
import { appendEvent } from "../../events/outbox-writer.ts";
import type { ChargeBody, PaymentStatus, RefundBody } from "./contract.ts";
import { ProviderError, type PaymentProvider } from "./provider.ts";
import { chargeSql, type ChargeRow } from "./repository.ts";

export interface ChargeRequest {
  idempotencyKey: string;
  orderId: string;
  userId: string;
  amountMinor: number;
  currency: string;
  paymentToken: string;
}

/** What a charge came to, now or when it is asked again with the same key. */
export type ChargeOutcome =
  | { kind: "charged"; payment: ChargeBody }
  | { kind: "declined"; payment: ChargeBody }
  | { kind: "failed"; payment: ChargeBody }
  | { kind: "in-progress"; payment: ChargeBody }
  | { kind: "voided"; payment: ChargeBody }
  | { kind: "key-reused" }
  | { kind: "unknown-charge" };

export type RefundOutcome = { kind: "given-back"; payment: RefundBody };

/**
 * Marks a captured payment REFUNDED and writes its `payments.payment.refunded` event in the same
 * transaction; `reason` is the event's optional field (absent for a saga's compensation).
 */
async function markRefunded(
  tx: Sql,
  row: ChargeRow,
  reason?: string,
): Promise<ChargeRow | undefined> {
  const refunded = await chargeSql.markRefunded(tx, row.id);
  await appendEvent(tx, "payments", {
    type: "payments.payment.refunded",
    key: row.user_id,
    data: {
      paymentId: row.id,
      orderId: row.order_id,
      userId: row.user_id,
      amount: row.amount_minor,
      currency: row.currency,
      ...(reason === undefined ? {} : { reason }),
    },
  });
  return refunded;
}

/** The outcome a payment's state stands for: captured money stays charged even once refunded. */
function chargeOutcome(row: ChargeRow): ChargeOutcome {
  const payment: ChargeBody = {
    paymentId: row.id,
    orderId: row.order_id,
    status: row.status,
    amountMinor: row.amount_minor,
    currency: row.currency,
  };
  switch (row.status) {
    case "CAPTURED":
    case "REFUNDED":
      return { kind: "charged", payment };
    case "DECLINED":
      return { kind: "declined", payment };
    case "FAILED":
      return { kind: "failed", payment };
    case "PENDING":
    case "AUTHORIZED":
      return { kind: "in-progress", payment };
    case "VOIDED":
      return { kind: "voided", payment };
    default: {
      const unreachable: never = row.status;
      throw new Error(`unknown payment status ${String(unreachable)}`);
    }
  }
}

/**
 * Charges (authorize + capture) and refunds, idempotent by key. A refund can overtake a charge
 * still talking to the provider: it marks the payment VOIDED, and the charge, finding its row no
 * longer PENDING when the provider answers, voids the authorization instead of keeping the money.
 */
export function createCharges({
  db,
  provider,
  logger,
}: {
  db: Database;
  provider: PaymentProvider;
  logger: Logger;
}) {
  /**
   * Settles the PENDING payment `pending` and writes its event in the same statement (the event's
   * data is the row as the update leaves it, known beforehand: nothing else changes a PENDING row).
   */
  async function settle(
    pending: ChargeRow,
    fields: {
      status: PaymentStatus;
      failureCode?: string;
      authorization?: string;
      capture?: string;
    },
    event: string,
  ): Promise<ChargeRow | undefined> {
    return chargeSql.settle(db, pending.id, fields, {
      type: event,
      key: pending.user_id,
      data: {
        paymentId: pending.id,
        orderId: pending.order_id,
        userId: pending.user_id,
        amount: pending.amount_minor,
        currency: pending.currency,
        status: fields.status,
        failureCode: fields.failureCode ?? null,
      },
    });
  }

  return {
    async charge(request: ChargeRequest): Promise<ChargeOutcome> {
      const inserted = await chargeSql.insertPending(db, request);
      if (!inserted) {
        const existing = await chargeSql.byKey(db, request.idempotencyKey);
        if (!existing)
          throw new Error(`payment for ${request.idempotencyKey} vanished`);
        if (
          existing.order_id !== request.orderId ||
          existing.amount_minor !== request.amountMinor
        )
          return { kind: "key-reused" };
        return chargeOutcome(existing);
      }
      let authorization;
      try {
        authorization = await provider.authorize(request);
      } catch (error) {
        logger.warn(
          { err: error, paymentId: inserted.id, orderId: request.orderId },
          "provider authorization failed",
        );
        const failed = await settle(
          inserted,
          {
            status: "FAILED",
            failureCode:
              error instanceof ProviderError
                ? `provider_${error.kind}`
                : "provider_error",
          },
          "payments.payment.failed",
        );
        return failed
          ? chargeOutcome(failed)
          : this.current(request.idempotencyKey);
      }
      if (!authorization.approved) {
        const declined = await settle(
          inserted,
          { status: "DECLINED", failureCode: authorization.reason },
          "payments.payment.declined",
        );
        return declined
          ? chargeOutcome(declined)
          : this.current(request.idempotencyKey);
      }
      let capture;
      try {
        capture = await provider.capture(authorization.authorizationId);
      } catch (error) {
        logger.warn(
          { err: error, paymentId: inserted.id },
          "provider capture failed; voiding",
        );
        await provider.void(authorization.authorizationId);
        const failed = await settle(
          inserted,
          {
            status: "FAILED",
            failureCode: "capture_failed",
            authorization: authorization.authorizationId,
          },
          "payments.payment.failed",
        );
        return failed
          ? chargeOutcome(failed)
          : this.current(request.idempotencyKey);
      }
      const captured = await settle(
        inserted,
        {
          status: "CAPTURED",
          authorization: authorization.authorizationId,
          capture: capture.captureId,
        },
        "payments.payment.captured",
      );
      if (!captured) {
        // Voided while the provider was answering: give the money back rather than keep it.
        await provider.refund(capture.captureId);
        await chargeSql.recordProviderRefs(db, inserted.id, {
          authorization: authorization.authorizationId,
          capture: capture.captureId,
        });
        logger.warn(
          { paymentId: inserted.id, orderId: request.orderId },
          "charge completed after it was voided; refunded",
        );
        return this.current(request.idempotencyKey);
      }
      return chargeOutcome(captured);
    },

    async current(idempotencyKey: string): Promise<ChargeOutcome> {
      const row = await chargeSql.byKey(db, idempotencyKey);
      return row ? chargeOutcome(row) : { kind: "unknown-charge" };
    },

    /** Admin refund of one payment by id: REFUNDED if it was captured, unchanged otherwise. */
    async refundById(paymentId: string): Promise<ChargeRow | undefined> {
      return db.transaction(async (tx) => {
        const row = await chargeSql.byId(tx, paymentId, { forUpdate: true });
        if (!row || row.status !== "CAPTURED") return row;
        if (row.provider_capture) await provider.refund(row.provider_capture);
        return markRefunded(tx, row, "admin");
      });
    },

    /**
     * Gives back whatever a charge took: refunds a capture, voids a charge still in flight, and for
     * a charge never seen leaves a VOIDED tombstone under its key so a late request cannot charge.
     */
    async refund({
      idempotencyKey,
      orderId,
      userId,
    }: {
      idempotencyKey: string;
      orderId: string;
      userId: string;
    }): Promise<RefundOutcome> {
      return db.transaction(async (tx) => {
        await chargeSql.voidedTombstone(tx, {
          idempotencyKey,
          orderId,
          userId,
        });
        const row = await chargeSql.byKey(tx, idempotencyKey, {
          forUpdate: true,
        });
        if (!row) throw new Error(`payment for ${idempotencyKey} vanished`);
        if (row.status === "PENDING" || row.status === "AUTHORIZED") {
          await chargeSql.voidInFlight(tx, row.id);
        } else if (row.status === "CAPTURED") {
          await provider.refund(row.provider_capture!);
          await markRefunded(tx, row);
        }
        const after = (await chargeSql.byId(tx, row.id))!;
        return {
          kind: "given-back",
          payment: {
            paymentId: after.id,
            orderId: after.order_id,
            status: after.status,
          },
        };
      });
    },
  };
}

export type Charges = ReturnType<typeof createCharges>;
