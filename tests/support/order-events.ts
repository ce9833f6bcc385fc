import type { NewEvent } from "../../events/envelope.ts";

/**
 * The event the pipeline tests feed through the outbox, the event log and the worker: a USD
 * `orders.order.confirmed` of `userId`'s order, keyed by the user (the worker keeps one user's
 * events in order). For `buildEnvelope` or `appendToOutbox`.
 */
export function orderConfirmed({
  userId,
  orderId,
  total,
  correlationId,
}: {
  userId: string;
  orderId: string;
  total: number;
  /** @default the event id */
  correlationId?: string;
}): NewEvent<{
  orderId: string;
  userId: string;
  total: number;
  currency: string;
}> {
  return {
    type: "orders.order.confirmed",
    key: userId,
    correlationId,
    data: { orderId, userId, total, currency: "USD" },
  };
}
