import { randomUUID } from 'node:crypto';
import type { Database } from '../../platform/database.ts';
import type { InternalReply } from '../../platform/internal-api.ts';
import type { Logger } from '../../platform/logger.ts';
import { appendEvent } from '../../events/outbox-writer.ts';
import { ProviderError, type PaymentProvider } from './provider.ts';
import type { PaymentRow } from './repository.ts';

type ChargeRow = PaymentRow & { idempotency_key: string | null; provider_authorization: string | null; provider_capture: string | null; failure_code: string | null };

export interface ChargeRequest {
  idempotencyKey: string;
  orderId: string;
  userId: string;
  amountMinor: number;
  currency: string;
  paymentToken: string;
}

/** The answer a charge gets, now or when it is asked again with the same key. */
function chargeReply(row: ChargeRow): InternalReply {
  const body = { paymentId: row.id, orderId: row.order_id, status: row.status, amountMinor: row.amount_minor, currency: row.currency };
  switch (row.status) {
    case 'CAPTURED':
    case 'REFUNDED':
      return { status: 200, body };
    case 'DECLINED':
      return { status: 402, body: { ...body, code: 'PAYMENT_DECLINED' } };
    case 'FAILED':
      return { status: 422, body: { ...body, code: 'PAYMENT_FAILED' } };
    case 'PENDING':
    case 'AUTHORIZED':
      return { status: 409, body: { ...body, code: 'IN_PROGRESS' } };
    case 'VOIDED':
      return { status: 409, body: { ...body, code: 'VOIDED' } };
    default: {
      const unreachable: never = row.status;
      throw new Error(`unknown payment status ${String(unreachable)}`);
    }
  }
}

const COLUMNS = 'id, order_id, user_id, amount_minor, currency, status, created_at, idempotency_key, provider_authorization, provider_capture, failure_code';

/**
 * Charges (authorize + capture) and refunds, idempotent by key. A refund can overtake a charge
 * still talking to the provider: it marks the payment VOIDED, and the charge, finding its row no
 * longer PENDING when the provider answers, voids the authorization instead of keeping the money.
 */
export function createCharges({ db, provider, logger }: { db: Database; provider: PaymentProvider; logger: Logger }) {
  async function settle(id: string, fields: { status: ChargeRow['status']; failureCode?: string; authorization?: string; capture?: string }, event?: string): Promise<ChargeRow | undefined> {
    return db.transaction(async (tx) => {
      const [row] = await tx.query<ChargeRow>(
        `UPDATE payments.payments
            SET status = $2, failure_code = $3, provider_authorization = coalesce($4, provider_authorization),
                provider_capture = coalesce($5, provider_capture), updated_at = now()
          WHERE id = $1 AND status = 'PENDING' RETURNING ${COLUMNS}`,
        [id, fields.status, fields.failureCode ?? null, fields.authorization ?? null, fields.capture ?? null],
      );
      if (row && event) {
        await appendEvent(tx, 'payments', {
          type: event,
          key: row.user_id,
          data: { paymentId: row.id, orderId: row.order_id, userId: row.user_id, amount: row.amount_minor, currency: row.currency, status: row.status, failureCode: row.failure_code },
        });
      }
      return row;
    });
  }

  return {
    async charge(request: ChargeRequest): Promise<InternalReply> {
      const [inserted] = await db.query<ChargeRow>(
        `INSERT INTO payments.payments (id, order_id, user_id, amount_minor, currency, status, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, 'PENDING', $6) ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${COLUMNS}`,
        [randomUUID(), request.orderId, request.userId, request.amountMinor, request.currency, request.idempotencyKey],
      );
      if (!inserted) {
        const [existing] = await db.query<ChargeRow>(`SELECT ${COLUMNS} FROM payments.payments WHERE idempotency_key = $1`, [request.idempotencyKey]);
        if (!existing) throw new Error(`payment for ${request.idempotencyKey} vanished`);
        if (existing.order_id !== request.orderId || existing.amount_minor !== request.amountMinor) {
          return { status: 422, body: { code: 'IDEMPOTENCY_KEY_REUSED', message: 'this idempotency key was used for another charge' } };
        }
        return chargeReply(existing);
      }
      let authorization;
      try {
        authorization = await provider.authorize(request);
      } catch (error) {
        logger.warn({ err: error, paymentId: inserted.id, orderId: request.orderId }, 'provider authorization failed');
        const failed = await settle(inserted.id, { status: 'FAILED', failureCode: error instanceof ProviderError ? `provider_${error.kind}` : 'provider_error' }, 'payments.payment.failed');
        return failed ? chargeReply(failed) : this.current(request.idempotencyKey);
      }
      if (!authorization.approved) {
        const declined = await settle(inserted.id, { status: 'DECLINED', failureCode: authorization.reason }, 'payments.payment.declined');
        return declined ? chargeReply(declined) : this.current(request.idempotencyKey);
      }
      let capture;
      try {
        capture = await provider.capture(authorization.authorizationId);
      } catch (error) {
        logger.warn({ err: error, paymentId: inserted.id }, 'provider capture failed; voiding');
        await provider.void(authorization.authorizationId);
        const failed = await settle(inserted.id, { status: 'FAILED', failureCode: 'capture_failed', authorization: authorization.authorizationId }, 'payments.payment.failed');
        return failed ? chargeReply(failed) : this.current(request.idempotencyKey);
      }
      const captured = await settle(inserted.id, { status: 'CAPTURED', authorization: authorization.authorizationId, capture: capture.captureId }, 'payments.payment.captured');
      if (!captured) {
        // Voided while the provider was answering: give the money back rather than keep it.
        await provider.refund(capture.captureId);
        await db.query('UPDATE payments.payments SET provider_authorization = $2, provider_capture = $3 WHERE id = $1', [inserted.id, authorization.authorizationId, capture.captureId]);
        logger.warn({ paymentId: inserted.id, orderId: request.orderId }, 'charge completed after it was voided; refunded');
      }
      return this.current(request.idempotencyKey);
    },

    async current(idempotencyKey: string): Promise<InternalReply> {
      const [row] = await db.query<ChargeRow>(`SELECT ${COLUMNS} FROM payments.payments WHERE idempotency_key = $1`, [idempotencyKey]);
      return row ? chargeReply(row) : { status: 404, body: { code: 'NOT_FOUND' } };
    },

    /** Admin refund of one payment by id: REFUNDED if it was captured, unchanged otherwise. */
    async refundById(paymentId: string): Promise<ChargeRow | undefined> {
      return db.transaction(async (tx) => {
        const [row] = await tx.query<ChargeRow>(`SELECT ${COLUMNS} FROM payments.payments WHERE id = $1 FOR UPDATE`, [paymentId]);
        if (!row || row.status !== 'CAPTURED') return row;
        if (row.provider_capture) await provider.refund(row.provider_capture);
        const [refunded] = await tx.query<ChargeRow>(`UPDATE payments.payments SET status = 'REFUNDED', updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [row.id]);
        await appendEvent(tx, 'payments', {
          type: 'payments.payment.refunded',
          key: row.user_id,
          data: { paymentId: row.id, orderId: row.order_id, userId: row.user_id, amount: row.amount_minor, currency: row.currency, reason: 'admin' },
        });
        return refunded;
      });
    },

    /**
     * Gives back whatever a charge took: refunds a capture, voids a charge still in flight, and for
     * a charge never seen leaves a VOIDED tombstone under its key so a late request cannot charge.
     */
    async refund({ idempotencyKey, orderId, userId }: { idempotencyKey: string; orderId: string; userId: string }): Promise<InternalReply> {
      return db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO payments.payments (id, order_id, user_id, amount_minor, currency, status, idempotency_key, failure_code)
           VALUES ($1, $2, $3, 0, 'USD', 'VOIDED', $4, 'voided_before_charge') ON CONFLICT (idempotency_key) DO NOTHING`,
          [randomUUID(), orderId, userId, idempotencyKey],
        );
        const [row] = await tx.query<ChargeRow>(`SELECT ${COLUMNS} FROM payments.payments WHERE idempotency_key = $1 FOR UPDATE`, [idempotencyKey]);
        if (!row) throw new Error(`payment for ${idempotencyKey} vanished`);
        if (row.status === 'PENDING' || row.status === 'AUTHORIZED') {
          await tx.query(`UPDATE payments.payments SET status = 'VOIDED', failure_code = 'voided_in_flight', updated_at = now() WHERE id = $1`, [row.id]);
        } else if (row.status === 'CAPTURED') {
          await provider.refund(row.provider_capture!);
          await tx.query(`UPDATE payments.payments SET status = 'REFUNDED', updated_at = now() WHERE id = $1`, [row.id]);
          await appendEvent(tx, 'payments', {
            type: 'payments.payment.refunded',
            key: row.user_id,
            data: { paymentId: row.id, orderId: row.order_id, userId: row.user_id, amount: row.amount_minor, currency: row.currency },
          });
        }
        const [after] = await tx.query<ChargeRow>(`SELECT ${COLUMNS} FROM payments.payments WHERE id = $1`, [row.id]);
        return { status: 200, body: { paymentId: after!.id, orderId: after!.order_id, status: after!.status } };
      });
    },
  };
}

export type Charges = ReturnType<typeof createCharges>;
