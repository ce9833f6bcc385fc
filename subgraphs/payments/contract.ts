/**
 * The payments service's internal REST contract: paths, codes and body shapes shared by the server
 * (`internal-api.ts` maps charge outcomes onto them) and the orders saga's client (which decodes
 * them). Types and constants only, so the client never imports server code.
 */

export const PAYMENTS_PATHS = {
  charge: "/internal/payments/charge",
  refund: "/internal/payments/refund",
} as const;

export const PAYMENT_STATUSES = [
  "PENDING",
  "AUTHORIZED",
  "CAPTURED",
  "DECLINED",
  "VOIDED",
  "REFUNDED",
  "FAILED",
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** The `code` of a charge that did not (or not yet) take money. */
export const CHARGE_CODES = {
  declined: "PAYMENT_DECLINED",
  failed: "PAYMENT_FAILED",
  inProgress: "IN_PROGRESS",
  voided: "VOIDED",
  keyReused: "IDEMPOTENCY_KEY_REUSED",
  notFound: "NOT_FOUND",
} as const;
export type ChargeCode = (typeof CHARGE_CODES)[keyof typeof CHARGE_CODES];

/** What a charge answers about its payment, whatever became of it. */
export interface ChargeBody {
  paymentId: string;
  orderId: string;
  status: PaymentStatus;
  amountMinor: number;
  currency: string;
}

/** What a refund answers: the payment as the refund left it. */
export interface RefundBody {
  paymentId: string;
  orderId: string;
  status: PaymentStatus;
}
