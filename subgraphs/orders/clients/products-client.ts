import type { ServiceClient } from '../../../platform/service-client.ts';

export type ReserveOutcome = { ok: true } | { ok: false; code: 'INSUFFICIENT_STOCK' | 'RESERVATION_RELEASED' | 'NOT_FOUND'; productId?: string };

/** The products service's internal API as the saga sees it. Unavailability throws ServiceUnavailableError. */
export function createProductsClient(client: ServiceClient) {
  return {
    async quote(productIds: string[]): Promise<Array<{ productId: string; unitPriceMinor: number; currency: string }>> {
      const { status, body } = await client.call<{ prices: Array<{ productId: string; unitPriceMinor: number; currency: string }> }>({ method: 'POST', path: '/internal/prices', body: { productIds }, retry: true });
      if (status !== 200) throw new Error(`products /internal/prices answered ${status}`);
      return body.prices;
    },
    async reserve(reservationId: string, userId: string, items: Array<{ productId: string; quantity: number }>): Promise<ReserveOutcome> {
      // Retrying is safe: the reservation id makes a repeated reserve return the first one's result.
      const { status, body } = await client.call<{ code?: ReserveOutcome extends { code: infer C } ? C : never; productId?: string }>({
        method: 'POST',
        path: '/internal/reservations',
        body: { reservationId, userId, items },
        retry: true,
      });
      if (status === 200 || status === 201) return { ok: true };
      if (status === 409 || status === 404) return { ok: false, code: body.code ?? 'NOT_FOUND', ...(body.productId ? { productId: body.productId } : {}) };
      throw new Error(`products /internal/reservations answered ${status}`);
    },
    async commit(reservationId: string): Promise<'committed' | 'released'> {
      const { status } = await client.call({ method: 'POST', path: '/internal/reservations/commit', body: { reservationId }, retry: true });
      if (status === 200) return 'committed';
      if (status === 409 || status === 404) return 'released';
      throw new Error(`products /internal/reservations/commit answered ${status}`);
    },
    async release(reservationId: string): Promise<void> {
      const { status } = await client.call({ method: 'POST', path: '/internal/reservations/release', body: { reservationId }, retry: true });
      if (status !== 200) throw new Error(`products /internal/reservations/release answered ${status}`);
    },
  };
}

export type ProductsClient = ReturnType<typeof createProductsClient>;
