import { randomUUID } from "node:crypto";

/** A charge for an order of its own (fresh order and user ids), keyed as orders keys it. */
export function chargeRequest({
  amountMinor,
  currency,
}: {
  amountMinor: number;
  currency: string;
}) {
  const orderId = randomUUID();
  return {
    idempotencyKey: `charge:${orderId}`,
    orderId,
    userId: randomUUID(),
    amountMinor,
    currency,
  };
}
