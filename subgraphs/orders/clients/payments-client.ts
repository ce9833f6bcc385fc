import {
  unexpectedAnswer,
  type ServiceClient,
  type ServiceResponse,
} from "../../../platform/service-client.ts";
import { expectOk, fieldOf, postIdempotent } from "./internal-call.ts";
import { CHARGE_CODES, PAYMENTS_PATHS } from "../../payments/contract.ts";

type Refusal = (typeof CHARGE_CODES)[
  "declined" | "failed" | "inProgress" | "voided"];
export type ChargeOutcome =
  { ok: true; paymentId: string } | { ok: false; code: Refusal };

/** The one idempotency key per order's charge: a retried or resumed charge can never charge twice. */
export const chargeKey = (orderId: string) => `charge:${orderId}`;

/**
 * The one place the payments service's answers are decoded (the server maps its outcomes onto
 * them in `subgraphs/payments/internal-api.ts`). Anything else is unexpected.
 */
export const decodePayments = {
  charge(answer: ServiceResponse): ChargeOutcome {
    const { status, body } = answer;
    const code = fieldOf(body, "code");
    const paymentId = fieldOf(body, "paymentId");
    if (status === 200 && typeof paymentId === "string")
      return { ok: true, paymentId };
    if (status === 402) return { ok: false, code: CHARGE_CODES.declined };
    if (status === 422 && code === CHARGE_CODES.failed)
      return { ok: false, code };
    if (
      status === 409 &&
      (code === CHARGE_CODES.inProgress || code === CHARGE_CODES.voided)
    )
      return { ok: false, code };
    throw unexpectedAnswer("payments", PAYMENTS_PATHS.charge, answer);
  },
  refund: (answer: ServiceResponse): void =>
    expectOk("payments", PAYMENTS_PATHS.refund, answer),
};

/**
 * The payments service's internal API as the saga sees it. Unavailability throws
 * ServiceUnavailableError; any other answer than the ones below (a 400 for an amount payments cannot
 * charge, a reused key, a bad signature) throws ServiceRefusedError.
 */
export function createPaymentsClient(client: Pick<ServiceClient, "call">) {
  return {
    async charge(request: {
      orderId: string;
      userId: string;
      amountMinor: number;
      currency: string;
      paymentToken: string;
    }): Promise<ChargeOutcome> {
      return decodePayments.charge(
        await postIdempotent(client, PAYMENTS_PATHS.charge, {
          ...request,
          idempotencyKey: chargeKey(request.orderId),
        }),
      );
    },
    async refund(request: { orderId: string; userId: string }): Promise<void> {
      decodePayments.refund(
        await postIdempotent(client, PAYMENTS_PATHS.refund, {
          ...request,
          idempotencyKey: chargeKey(request.orderId),
        }),
      );
    },
  };
}

export type PaymentsClient = ReturnType<typeof createPaymentsClient>;
