import type { Database } from '../../platform/database.ts';
import type { ErrorCode } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { appendEvent } from '../../events/outbox-writer.ts';
import { currentCorrelationId, withCorrelation } from '../../platform/correlation.ts';
import { ServiceRefusedError, ServiceUnavailableError } from '../../platform/service-client.ts';
import type { PaymentsClient } from './clients/payments-client.ts';
import type { ProductsClient } from './clients/products-client.ts';

/** The next thing a saga must do. Every step is idempotent, so a resumed step may run twice safely. */
export type SagaStep = 'RESERVE' | 'PAY' | 'COMMIT' | 'COMPENSATE' | 'CANCEL' | 'DONE';

interface SagaRow {
  id: string;
  user_id: string;
  status: 'PENDING' | 'CONFIRMED' | 'FAILED' | 'CANCELLED';
  total_minor: number;
  currency: string;
  payment_token: string | null;
  failure_code: string | null;
  saga_step: SagaStep;
  reserve_attempted: boolean;
  payment_attempted: boolean;
}

export interface SagaOptions {
  db: Database;
  products: ProductsClient;
  payments: PaymentsClient;
  logger: Logger;
  /** How long a runner owns a saga before another may take it over. @default 30000 */
  leaseMs?: number;
  /** How long a saga waits before retrying a step whose service was down. @default 2000 */
  retryDelayMs?: number;
  /**
   * Called before each step: production passes nothing. Fault-injection tests throw from it to
   * simulate a process dying between two steps (nothing after the throw runs, the lease is kept).
   */
  checkpoint?: (orderId: string, step: SagaStep) => void | Promise<void>;
}

export type SagaRunResult = 'done' | 'deferred' | 'busy';

const SAGA_COLUMNS = 'id, user_id, status, total_minor, currency, payment_token, failure_code, saga_step, reserve_attempted, payment_attempted';

/**
 * The place-order (and cancel-order) saga, orchestrated by the orders service with its state in
 * the orders database:
 *   RESERVE stock -> PAY (authorize + capture) -> COMMIT the reservation -> CONFIRMED
 * and on any failure COMPENSATE in reverse (refund/void the payment, release the stock) -> FAILED
 * with a coded reason. CANCEL refunds and releases a confirmed order -> CANCELLED.
 * Each downstream answer falls in one of three classes:
 * - an outcome the step knows (reserved, out of stock, captured, declined...): followed;
 * - a definitive refusal (ServiceRefusedError: any other 4xx, e.g. an amount payments cannot
 *   charge): a forward step (RESERVE, PAY, COMMIT) compensates and fails with ORDER_REJECTED;
 *   a compensation is deferred and retried, since refund and release never refuse a valid request;
 * - unavailability (ServiceUnavailableError: 5xx, timeout, reset, breaker open): before money moved
 *   (RESERVE, PAY) the order compensates (fail fast, give back); once paid, COMMIT and
 *   compensations are deferred and retried, since giving up there would strand money or stock.
 * Any other error is a bug: it propagates, and the lease makes the resumer try again later.
 */
export function createSaga({ db, products, payments, logger, leaseMs = 30_000, retryDelayMs = 2000, checkpoint }: SagaOptions) {
  async function advance(row: SagaRow, from: SagaStep, to: SagaStep, extra: { failureCode?: ErrorCode } = {}): Promise<SagaRow> {
    const [next] = await db.query<SagaRow>(
      `UPDATE orders.orders SET saga_step = $3, failure_code = coalesce($4, failure_code), updated_at = date_trunc('milliseconds', now())
        WHERE id = $1 AND saga_step = $2 RETURNING ${SAGA_COLUMNS}`,
      [row.id, from, to, extra.failureCode ?? null],
    );
    if (!next) throw new Error(`saga ${row.id} left step ${from} under another runner`);
    return next;
  }

  async function finish(row: SagaRow, from: SagaStep, status: 'CONFIRMED' | 'FAILED' | 'CANCELLED'): Promise<void> {
    const type = { CONFIRMED: 'orders.order.confirmed', FAILED: 'orders.order.failed', CANCELLED: 'orders.order.cancelled' }[status];
    await db.transaction(async (tx) => {
      const [done] = await tx.query<SagaRow>(
        `UPDATE orders.orders SET status = $3, saga_step = 'DONE', lease_until = NULL, updated_at = date_trunc('milliseconds', now())
          WHERE id = $1 AND saga_step = $2 RETURNING ${SAGA_COLUMNS}`,
        [row.id, from, status],
      );
      if (!done) throw new Error(`saga ${row.id} left step ${from} under another runner`);
      await appendEvent(tx, 'orders', {
        type,
        key: row.user_id,
        correlationId: row.id,
        data: { orderId: row.id, userId: row.user_id, status, total: row.total_minor, currency: row.currency, ...(status === 'FAILED' ? { reason: done.failure_code } : {}) },
      });
    });
    logger.info({ orderId: row.id, status, reason: status === 'FAILED' ? row.failure_code : undefined }, 'order saga finished');
  }

  async function markAttempted(row: SagaRow, column: 'reserve_attempted' | 'payment_attempted'): Promise<void> {
    // Recorded before the call: if the process dies mid-call, compensation knows it may be owed.
    if (!row[column]) await db.query(`UPDATE orders.orders SET ${column} = true WHERE id = $1`, [row.id]);
  }

  async function items(orderId: string) {
    return db.query<{ productId: string; quantity: number }>('SELECT product_id AS "productId", quantity FROM orders.order_items WHERE order_id = $1 ORDER BY position', [orderId]);
  }

  async function defer(row: SagaRow, error: unknown): Promise<SagaRunResult> {
    logger.warn({ orderId: row.id, step: row.saga_step, err: error }, 'saga step deferred');
    await db.query(`UPDATE orders.orders SET lease_until = now() + make_interval(secs => $2) WHERE id = $1`, [row.id, retryDelayMs / 1000]);
    return 'deferred';
  }

  /** Runs the order's saga as far as it can go now. Safe to call from several processes at once. */
  async function run(orderId: string): Promise<SagaRunResult> {
    const [claimed] = await db.query<SagaRow & { correlation_id: string | null }>(
      `UPDATE orders.orders SET lease_until = now() + make_interval(secs => $2), saga_attempts = saga_attempts + 1
        WHERE id = $1 AND saga_step <> 'DONE' AND (lease_until IS NULL OR lease_until < now())
        RETURNING ${SAGA_COLUMNS}, correlation_id`,
      [orderId, leaseMs / 1000],
    );
    if (!claimed) return 'busy';
    // A saga resumed outside its request (by the resumer, after a crash or a deferral) continues
    // under the correlation id of the request that placed the order, so its logs and events join that story.
    if (currentCorrelationId() === undefined) return withCorrelation(claimed.correlation_id ?? claimed.id, () => drive(claimed));
    return drive(claimed);
  }

  async function drive(claimed: SagaRow): Promise<SagaRunResult> {
    let row = claimed;
    for (;;) {
      await checkpoint?.(row.id, row.saga_step);
      const step = row.saga_step;
      try {
        switch (step) {
          case 'RESERVE': {
            await markAttempted(row, 'reserve_attempted');
            row.reserve_attempted = true;
            const outcome = await products.reserve(row.id, row.user_id, await items(row.id));
            if (outcome.ok) row = await advance(row, 'RESERVE', 'PAY');
            else
              row = await advance(row, 'RESERVE', 'COMPENSATE', {
                failureCode: outcome.code === 'INSUFFICIENT_STOCK' ? 'INSUFFICIENT_STOCK' : outcome.code === 'NOT_FOUND' ? 'NOT_FOUND' : 'SUBGRAPH_UNAVAILABLE',
              });
            break;
          }
          case 'PAY': {
            await markAttempted(row, 'payment_attempted');
            row.payment_attempted = true;
            const outcome = await payments.charge({ orderId: row.id, userId: row.user_id, amountMinor: row.total_minor, currency: row.currency, paymentToken: row.payment_token ?? 'tok_visa' });
            if (outcome.ok) row = await advance(row, 'PAY', 'COMMIT');
            else if (outcome.code === 'IN_PROGRESS') return await defer(row, new Error('charge still in progress'));
            else row = await advance(row, 'PAY', 'COMPENSATE', { failureCode: outcome.code === 'VOIDED' ? 'SUBGRAPH_UNAVAILABLE' : outcome.code });
            break;
          }
          case 'COMMIT': {
            if ((await products.commit(row.id)) === 'committed') {
              await finish(row, 'COMMIT', 'CONFIRMED');
              return 'done';
            }
            // The reservation expired while the order was stuck: stock is gone, so give the money back.
            row = await advance(row, 'COMMIT', 'COMPENSATE', { failureCode: 'SUBGRAPH_UNAVAILABLE' });
            break;
          }
          case 'COMPENSATE':
          case 'CANCEL': {
            if (row.payment_attempted) await payments.refund({ orderId: row.id, userId: row.user_id });
            if (row.reserve_attempted) await products.release(row.id);
            await finish(row, step, step === 'CANCEL' ? 'CANCELLED' : 'FAILED');
            return 'done';
          }
          case 'DONE':
            return 'done';
          default: {
            const unreachable: never = step;
            throw new Error(`unknown saga step ${String(unreachable)}`);
          }
        }
      } catch (error) {
        if (error instanceof ServiceRefusedError) {
          if (step === 'RESERVE' || step === 'PAY' || step === 'COMMIT') {
            // A definitive no: the same request would be refused again, so undo what was started.
            // The attempted flags stay set: compensating something that never happened is a no-op.
            logger.warn({ orderId: row.id, step, service: error.service, status: error.status, code: error.code }, 'saga step refused; compensating');
            row = await advance(row, step, 'COMPENSATE', { failureCode: 'ORDER_REJECTED' });
            continue;
          }
          // Refund and release accept every well-formed signed request (an unknown id leaves a
          // tombstone), so a refusal here is a misconfiguration (secret, version skew) an operator
          // must fix. Giving up would strand money or stock: keep retrying, loudly.
          logger.error({ orderId: row.id, step, service: error.service, status: error.status, code: error.code }, 'saga compensation refused; retrying later');
          return defer(row, error);
        }
        if (!(error instanceof ServiceUnavailableError)) throw error;
        // Before money moved, an unreachable dependency fails the order (and compensates);
        // after, the step is retried later so nothing is stranded.
        if (step === 'RESERVE' || step === 'PAY') {
          if (!error.mayHaveReached) {
            // No request left this process, so there is nothing to give back on that side.
            const column = step === 'RESERVE' ? 'reserve_attempted' : 'payment_attempted';
            await db.query(`UPDATE orders.orders SET ${column} = false WHERE id = $1`, [row.id]);
            row[column] = false;
          }
          row = await advance(row, step, 'COMPENSATE', { failureCode: 'SUBGRAPH_UNAVAILABLE' });
        } else return defer(row, error);
      }
    }
  }

  return {
    run,
    /** Sagas whose runner is gone (crashed, or deferred and due): what the resumer picks up. */
    async due(limit = 20): Promise<string[]> {
      const rows = await db.query<{ id: string }>(
        `SELECT id FROM orders.orders WHERE saga_step <> 'DONE' AND (lease_until IS NULL OR lease_until < now()) ORDER BY lease_until NULLS FIRST LIMIT $1`,
        [limit],
      );
      return rows.map((row) => row.id);
    },
  };
}

export type Saga = ReturnType<typeof createSaga>;
