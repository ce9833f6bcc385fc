import type { ServiceClient } from '../../../platform/service-client.ts';

export type ChargeOutcome = { ok: true; paymentId: string } | { ok: false; code: 'PAYMENT_DECLINED' | 'PAYMENT_FAILED' | 'IN_PROGRESS' | 'VOIDED' };

/** The one idempotency key per order's charge: a retried or resumed charge can never charge twice. */
export const chargeKey = (orderId: string) => `charge:${orderId}`;

/** The payments service's internal API as the saga sees it. Unavailability throws ServiceUnavailableError. */
export function createPaymentsClient(client: ServiceClient) {
  return {
    async charge(request: { orderId: string; userId: string; amountMinor: number; currency: string; paymentToken: string }): Promise<ChargeOutcome> {
      const { status, body } = await client.call<{ paymentId: string; code?: string }>({
        method: 'POST',
        path: '/internal/payments/charge',
        body: { ...request, idempotencyKey: chargeKey(request.orderId) },
        retry: true,
      });
      if (status === 200) return { ok: true, paymentId: body.paymentId };
      if (status === 402) return { ok: false, code: 'PAYMENT_DECLINED' };
      if (status === 422 && body.code === 'PAYMENT_FAILED') return { ok: false, code: 'PAYMENT_FAILED' };
      if (status === 409 && (body.code === 'IN_PROGRESS' || body.code === 'VOIDED')) return { ok: false, code: body.code };
      throw new Error(`payments /internal/payments/charge answered ${status} ${body.code ?? ''}`);
    },
    async refund(request: { orderId: string; userId: string }): Promise<void> {
      const { status } = await client.call({ method: 'POST', path: '/internal/payments/refund', body: { ...request, idempotencyKey: chargeKey(request.orderId) }, retry: true });
      if (status !== 200) throw new Error(`payments /internal/payments/refund answered ${status}`);
    },
  };
}

export type PaymentsClient = ReturnType<typeof createPaymentsClient>;
