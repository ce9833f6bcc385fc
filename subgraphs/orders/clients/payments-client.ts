import { unexpectedAnswer, type ServiceClient } from '../../../platform/service-client.ts';

export type ChargeOutcome = { ok: true; paymentId: string } | { ok: false; code: 'PAYMENT_DECLINED' | 'PAYMENT_FAILED' | 'IN_PROGRESS' | 'VOIDED' };

/** The one idempotency key per order's charge: a retried or resumed charge can never charge twice. */
export const chargeKey = (orderId: string) => `charge:${orderId}`;

const CHARGE = '/internal/payments/charge';
const REFUND = '/internal/payments/refund';

/**
 * The payments service's internal API as the saga sees it. Unavailability throws
 * ServiceUnavailableError; any other answer than the ones below (a 400 for an amount payments cannot
 * charge, a reused key, a bad signature) throws ServiceRefusedError.
 */
export function createPaymentsClient(client: Pick<ServiceClient, 'call'>) {
  return {
    async charge(request: { orderId: string; userId: string; amountMinor: number; currency: string; paymentToken: string }): Promise<ChargeOutcome> {
      const answer = await client.call<{ paymentId: string; code?: string }>({
        method: 'POST',
        path: CHARGE,
        body: { ...request, idempotencyKey: chargeKey(request.orderId) },
        retry: true,
      });
      const { status, body } = answer;
      if (status === 200) return { ok: true, paymentId: body.paymentId };
      if (status === 402) return { ok: false, code: 'PAYMENT_DECLINED' };
      if (status === 422 && body.code === 'PAYMENT_FAILED') return { ok: false, code: 'PAYMENT_FAILED' };
      if (status === 409 && (body.code === 'IN_PROGRESS' || body.code === 'VOIDED')) return { ok: false, code: body.code };
      throw unexpectedAnswer('payments', CHARGE, answer);
    },
    async refund(request: { orderId: string; userId: string }): Promise<void> {
      const answer = await client.call({ method: 'POST', path: REFUND, body: { ...request, idempotencyKey: chargeKey(request.orderId) }, retry: true });
      if (answer.status !== 200) throw unexpectedAnswer('payments', REFUND, answer);
    },
  };
}

export type PaymentsClient = ReturnType<typeof createPaymentsClient>;
