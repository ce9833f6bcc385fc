import type { Handler } from "../../platform/http-server.ts";
import {
  field,
  internalEndpoint,
  InvalidRequestError,
  type InternalReply,
} from "../../platform/internal-api.ts";
import type { Logger } from "../../platform/logger.ts";
import {
  MAX_PAYMENT_MINOR,
  MIN_PAYMENT_MINOR,
} from "../../platform/scalars.ts";
import type { ChargeOutcome, Charges, RefundOutcome } from "./charges.ts";
import { CHARGE_CODES, PAYMENTS_PATHS } from "./contract.ts";

const CALLERS = ["orders"] as const;

/** Charges that took no money (or not yet): the payment as it stands, under its status and code. */
const NOT_CHARGED = {
  declined: { status: 402, code: CHARGE_CODES.declined },
  failed: { status: 422, code: CHARGE_CODES.failed },
  "in-progress": { status: 409, code: CHARGE_CODES.inProgress },
  voided: { status: 409, code: CHARGE_CODES.voided },
} as const satisfies Partial<
  Record<ChargeOutcome["kind"], { status: number; code: string }>
>;

/** The one place a charge outcome becomes HTTP: money taken 200, declined 402, failed 422, not settled 409. */
export function chargeReply(outcome: ChargeOutcome): InternalReply {
  switch (outcome.kind) {
    case "charged":
      return { status: 200, body: outcome.payment };
    case "declined":
    case "failed":
    case "in-progress":
    case "voided": {
      const { status, code } = NOT_CHARGED[outcome.kind];
      return { status, body: { ...outcome.payment, code } };
    }
    case "key-reused":
      return {
        status: 422,
        body: {
          code: CHARGE_CODES.keyReused,
          message: "this idempotency key was used for another charge",
        },
      };
    case "unknown-charge":
      return { status: 404, body: { code: CHARGE_CODES.notFound } };
    default: {
      const unreachable: never = outcome;
      throw new Error(
        `unhandled charge outcome ${JSON.stringify(unreachable)}`,
      );
    }
  }
}

export function refundReply(outcome: RefundOutcome): InternalReply {
  return { status: 200, body: outcome.payment };
}

/** Internal REST endpoints the orders saga calls; each is idempotent by `idempotencyKey`. */
export function createInternalRoutes({
  charges,
  secret,
  logger,
}: {
  charges: Charges;
  secret: string;
  logger: Logger;
}): Record<string, Handler> {
  const common = { secret, allowed: CALLERS, logger };
  const key = (value: unknown) => {
    const text = field.string(value, "idempotencyKey", 120);
    if (!/^[\w:.-]+$/.test(text))
      throw new InvalidRequestError(
        "idempotencyKey may hold letters, digits and _ : . - only",
      );
    return text;
  };
  return {
    [PAYMENTS_PATHS.charge]: internalEndpoint({
      ...common,
      parse(body) {
        const object = field.object(body);
        const currency = field.string(object.currency, "currency", 3);
        if (!/^[A-Z]{3}$/.test(currency))
          throw new InvalidRequestError("currency must be an ISO 4217 code");
        return {
          idempotencyKey: key(object.idempotencyKey),
          orderId: field.uuid(object.orderId, "orderId"),
          userId: field.uuid(object.userId, "userId"),
          amountMinor: field.int(
            object.amountMinor,
            "amountMinor",
            MIN_PAYMENT_MINOR,
            MAX_PAYMENT_MINOR,
          ),
          currency,
          paymentToken: field.string(object.paymentToken, "paymentToken", 64),
        };
      },
      handle: async (request) => chargeReply(await charges.charge(request)),
    }),
    [PAYMENTS_PATHS.refund]: internalEndpoint({
      ...common,
      parse(body) {
        const object = field.object(body);
        return {
          idempotencyKey: key(object.idempotencyKey),
          orderId: field.uuid(object.orderId, "orderId"),
          userId: field.uuid(object.userId, "userId"),
        };
      },
      handle: async (request) => refundReply(await charges.refund(request)),
    }),
  };
}
