import { performance } from "node:perf_hooks";
import { Histogram } from "prom-client";
import type { Database } from "../../platform/database.ts";
import type { ErrorCode } from "../../platform/errors.ts";
import type { Logger } from "../../platform/logger.ts";
import { LATENCY_BUCKETS_SECONDS } from "../../platform/metrics.ts";
import {
  currentCorrelationId,
  withCorrelation,
} from "../../platform/correlation.ts";
import {
  ServiceRefusedError,
  ServiceUnavailableError,
} from "../../platform/service-client.ts";
import { CHARGE_CODES } from "../payments/contract.ts";
import { RESERVATION_CODES } from "../products/contract.ts";
import type { PaymentsClient } from "./clients/payments-client.ts";
import type { ProductsClient } from "./clients/products-client.ts";
import {
  orderSql,
  type ClaimExtras,
  type FinalStatus,
  type OrderRecord,
  type SagaRow,
  type SagaStep,
} from "./repository.ts";

export type { SagaStep } from "./repository.ts";

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
   * Called before each step, and by placeOrder between reserving (step RESERVE) and inserting the
   * order: production passes nothing. Fault-injection tests throw from it to simulate a process
   * dying between two steps (nothing after the throw runs, the lease is kept).
   */
  checkpoint?: (
    orderId: string,
    step: SagaStep,
    userId: string,
  ) => void | Promise<void>;
}

export type SagaRunResult = "done" | "deferred" | "busy";

/** What `saga_step_duration_seconds` times: placeOrder's phases before the saga, then each saga step. */
export type TimedStep = "lookup" | "reserve" | "place" | SagaStep;

/**
 * `saga_step_duration_seconds{step}`: where an order's time goes. Unregistered here: the orders
 * server adds it to its service registry (a saga built by a test reports nowhere).
 */
function stepHistogram(): Histogram<"step"> {
  return new Histogram({
    name: "saga_step_duration_seconds",
    help: "Time per place-order step: placeOrder's key lookup, priced reservation and insert, then each saga step with its calls and state writes",
    labelNames: ["step"],
    buckets: [...LATENCY_BUCKETS_SECONDS],
    registers: [],
  });
}

/**
 * The place-order (and cancel-order) saga, orchestrated by the orders service with its state in
 * the orders database:
 *   RESERVE stock -> PAY (authorize + capture) -> COMMIT the reservation -> CONFIRMED
 * (placeOrder reserves before the order exists and inserts it at PAY; PAY commits and confirms
 * itself once captured, recording COMMIT only when that commit fails)
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
export function createSaga({
  db,
  products,
  payments,
  logger,
  leaseMs = 30_000,
  retryDelayMs = 2000,
  checkpoint,
}: SagaOptions) {
  const stepDuration = stepHistogram();
  /** Records the time since `started` (a `performance.now()`) against `step`. */
  const observeStep = (step: TimedStep, started: number) =>
    stepDuration.observe({ step }, (performance.now() - started) / 1000);

  async function advance(
    row: SagaRow,
    from: SagaStep,
    to: SagaStep,
    extra: { failureCode?: ErrorCode } = {},
  ): Promise<SagaRow> {
    const next = await orderSql.advance(
      db,
      row.id,
      from,
      to,
      extra.failureCode ?? null,
    );
    if (!next)
      throw new Error(`saga ${row.id} left step ${from} under another runner`);
    return next;
  }

  /** Ends the saga; its event is written by the same statement. Answers the final order. */
  async function finish(
    row: SagaRow,
    from: SagaStep,
    status: FinalStatus,
  ): Promise<OrderRecord> {
    const type = {
      CONFIRMED: "orders.order.confirmed",
      FAILED: "orders.order.failed",
      CANCELLED: "orders.order.cancelled",
    }[status];
    // `row` is what the last claim or advance returned, and nothing changes an order's failure code
    // but an advance of the runner holding it: the event's reason is the row's as finish leaves it.
    const done = await orderSql.finish(db, row.id, from, status, {
      type,
      key: row.user_id,
      correlationId: row.id,
      data: {
        orderId: row.id,
        userId: row.user_id,
        status,
        total: row.total_minor,
        currency: row.currency,
        ...(status === "FAILED" ? { reason: row.failure_code } : {}),
      },
    });
    if (!done)
      throw new Error(`saga ${row.id} left step ${from} under another runner`);
    logger.info(
      {
        orderId: row.id,
        status,
        reason: status === "FAILED" ? row.failure_code : undefined,
      },
      "order saga finished",
    );
    return done;
  }

  async function markAttempted(
    row: SagaRow,
    column: "reserve_attempted" | "payment_attempted",
  ): Promise<void> {
    // Recorded before the call: if the process dies mid-call, compensation knows it may be owed.
    if (!row[column]) await orderSql.setAttempted(db, row.id, column, true);
  }

  async function defer(row: SagaRow, error: unknown): Promise<SagaRunResult> {
    logger.warn(
      { orderId: row.id, step: row.saga_step, err: error },
      "saga step deferred",
    );
    await orderSql.extendLease(db, row.id, retryDelayMs / 1000);
    return "deferred";
  }

  /**
   * Runs the order's saga as far as it can go now. Safe to call from several processes at once.
   * `finished` receives the final order when this run ends the saga.
   */
  async function run(
    orderId: string,
    finished?: (record: OrderRecord) => void,
  ): Promise<SagaRunResult> {
    const claimed = await orderSql.claim(db, orderId, leaseMs / 1000);
    if (!claimed) return "busy";
    return runClaimed(claimed, finished);
  }

  /** Runs a saga this process already holds the lease of (a claim's or a claimed insert's row). */
  function runClaimed(
    claimed: SagaRow & ClaimExtras,
    finished?: (record: OrderRecord) => void,
  ): Promise<SagaRunResult> {
    // A saga resumed outside its request (by the resumer, after a crash or a deferral) continues
    // under the correlation id of the request that placed the order, so its logs and events join that story.
    if (currentCorrelationId() === undefined)
      return withCorrelation(claimed.correlation_id ?? claimed.id, () =>
        drive(claimed, finished),
      );
    return drive(claimed, finished);
  }

  async function drive(
    claimed: SagaRow & ClaimExtras,
    finished?: (record: OrderRecord) => void,
  ): Promise<SagaRunResult> {
    let row: SagaRow = claimed;
    for (;;) {
      await checkpoint?.(row.id, row.saga_step, row.user_id);
      const step = row.saga_step;
      const started = performance.now();
      try {
        switch (step) {
          case "RESERVE": {
            await markAttempted(row, "reserve_attempted");
            row.reserve_attempted = true;
            const outcome = await products.reserve(
              row.id,
              row.user_id,
              claimed.items,
            );
            if (outcome.ok) row = await advance(row, "RESERVE", "PAY");
            else
              row = await advance(row, "RESERVE", "COMPENSATE", {
                failureCode:
                  outcome.code === RESERVATION_CODES.insufficientStock
                    ? "INSUFFICIENT_STOCK"
                    : outcome.code === RESERVATION_CODES.notFound
                      ? "NOT_FOUND"
                      : "SUBGRAPH_UNAVAILABLE",
              });
            break;
          }
          case "PAY": {
            // A row stored without a token (placed before orders required one) is never charged
            // with a card chosen here: it fails before any charge, and compensation releases its stock.
            if (row.payment_token === null) {
              row = await advance(row, "PAY", "COMPENSATE", {
                failureCode: "ORDER_REJECTED",
              });
              break;
            }
            await markAttempted(row, "payment_attempted");
            row.payment_attempted = true;
            const outcome = await payments.charge({
              orderId: row.id,
              userId: row.user_id,
              amountMinor: row.total_minor,
              currency: row.currency,
              paymentToken: row.payment_token,
            });
            if (outcome.ok) {
              // Paid: commit at once and confirm from PAY, without recording COMMIT first (a crash
              // before the finish re-runs PAY, whose charge answers the first capture, and the
              // commit answers its first result). Only a commit that fails is recorded at COMMIT,
              // where the step's own rules apply (retried when unavailable, never compensated).
              await checkpoint?.(row.id, "COMMIT", row.user_id);
              const committed = await products
                .commit(row.id)
                .catch(() => undefined);
              if (committed === undefined) {
                row = await advance(row, "PAY", "COMMIT");
                break;
              }
              if (committed === "committed") {
                const record = await finish(row, "PAY", "CONFIRMED");
                finished?.(record);
                return "done";
              }
              // The reservation expired while the order was stuck: give the money back.
              row = await advance(row, "PAY", "COMPENSATE", {
                failureCode: "SUBGRAPH_UNAVAILABLE",
              });
            } else if (outcome.code === CHARGE_CODES.inProgress)
              return await defer(row, new Error("charge still in progress"));
            else
              row = await advance(row, "PAY", "COMPENSATE", {
                failureCode:
                  outcome.code === CHARGE_CODES.voided
                    ? "SUBGRAPH_UNAVAILABLE"
                    : outcome.code,
              });
            break;
          }
          case "COMMIT": {
            if ((await products.commit(row.id)) === "committed") {
              // Not `finished?.(await finish(...))`: an absent callback would skip the finish.
              const record = await finish(row, "COMMIT", "CONFIRMED");
              finished?.(record);
              return "done";
            }
            // The reservation expired while the order was stuck: stock is gone, so give the money back.
            row = await advance(row, "COMMIT", "COMPENSATE", {
              failureCode: "SUBGRAPH_UNAVAILABLE",
            });
            break;
          }
          case "COMPENSATE":
          case "CANCEL": {
            if (row.payment_attempted)
              await payments.refund({ orderId: row.id, userId: row.user_id });
            if (row.reserve_attempted) await products.release(row.id);
            const record = await finish(
              row,
              step,
              step === "CANCEL" ? "CANCELLED" : "FAILED",
            );
            finished?.(record);
            return "done";
          }
          case "DONE":
            return "done";
          default: {
            const unreachable: never = step;
            throw new Error(`unknown saga step ${String(unreachable)}`);
          }
        }
      } catch (error) {
        if (error instanceof ServiceRefusedError) {
          if (step === "RESERVE" || step === "PAY" || step === "COMMIT") {
            // A definitive no: the same request would be refused again, so undo what was started.
            // The attempted flags stay set: compensating something that never happened is a no-op.
            logger.warn(
              {
                orderId: row.id,
                step,
                service: error.service,
                status: error.status,
                code: error.code,
              },
              "saga step refused; compensating",
            );
            row = await advance(row, step, "COMPENSATE", {
              failureCode: "ORDER_REJECTED",
            });
            continue;
          }
          // Refund and release accept every well-formed signed request (an unknown id leaves a
          // tombstone), so a refusal here is a misconfiguration (secret, version skew) an operator
          // must fix. Giving up would strand money or stock: keep retrying, loudly.
          logger.error(
            {
              orderId: row.id,
              step,
              service: error.service,
              status: error.status,
              code: error.code,
            },
            "saga compensation refused; retrying later",
          );
          return defer(row, error);
        }
        if (!(error instanceof ServiceUnavailableError)) throw error;
        // Before money moved, an unreachable dependency fails the order (and compensates);
        // after, the step is retried later so nothing is stranded.
        if (step === "RESERVE" || step === "PAY") {
          if (!error.mayHaveReached) {
            // No request left this process, so there is nothing to give back on that side.
            const column =
              step === "RESERVE" ? "reserve_attempted" : "payment_attempted";
            await orderSql.setAttempted(db, row.id, column, false);
            row[column] = false;
          }
          row = await advance(row, step, "COMPENSATE", {
            failureCode: "SUBGRAPH_UNAVAILABLE",
          });
        } else return defer(row, error);
      } finally {
        observeStep(step, started);
      }
    }
  }

  return {
    run,
    runClaimed,
    stepDuration,
    observeStep,
    /** The fault-injection hook (see SagaOptions.checkpoint) for placeOrder's crash point. */
    async checkpoint(orderId: string, step: SagaStep, userId: string) {
      await checkpoint?.(orderId, step, userId);
    },
    /** How long a runner owns a saga: what an order inserted already claimed is leased for. */
    leaseSeconds: leaseMs / 1000,
    /** Sagas whose runner is gone (crashed, or deferred and due): what the resumer picks up. */
    async due(limit = 20): Promise<string[]> {
      return orderSql.due(db, limit);
    },
  };
}

export type Saga = ReturnType<typeof createSaga>;
