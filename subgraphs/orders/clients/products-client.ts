import { unexpectedAnswer, type ServiceClient } from '../../../platform/service-client.ts';

export type ReserveOutcome = { ok: true } | { ok: false; code: 'INSUFFICIENT_STOCK' | 'RESERVATION_RELEASED' | 'NOT_FOUND'; productId?: string };

const PRICES = '/internal/prices';
const RESERVE = '/internal/reservations';
const COMMIT = '/internal/reservations/commit';
const RELEASE = '/internal/reservations/release';

/**
 * The products service's internal API as the saga sees it. Unavailability throws
 * ServiceUnavailableError; any other answer than the ones below throws ServiceRefusedError.
 */
export function createProductsClient(client: Pick<ServiceClient, 'call'>) {
  return {
    async quote(productIds: string[]): Promise<Array<{ productId: string; unitPriceMinor: number; currency: string }>> {
      const answer = await client.call<{ prices: Array<{ productId: string; unitPriceMinor: number; currency: string }> }>({ method: 'POST', path: PRICES, body: { productIds }, retry: true });
      if (answer.status !== 200) throw unexpectedAnswer('products', PRICES, answer);
      return answer.body.prices;
    },
    async reserve(reservationId: string, userId: string, items: Array<{ productId: string; quantity: number }>): Promise<ReserveOutcome> {
      // Retrying is safe: the reservation id makes a repeated reserve return the first one's result.
      const answer = await client.call<{ code?: ReserveOutcome extends { code: infer C } ? C : never; productId?: string }>({
        method: 'POST',
        path: RESERVE,
        body: { reservationId, userId, items },
        retry: true,
      });
      const { status, body } = answer;
      if (status === 200 || status === 201) return { ok: true };
      if (status === 409 || status === 404) return { ok: false, code: body.code ?? 'NOT_FOUND', ...(body.productId ? { productId: body.productId } : {}) };
      throw unexpectedAnswer('products', RESERVE, answer);
    },
    async commit(reservationId: string): Promise<'committed' | 'released'> {
      const answer = await client.call({ method: 'POST', path: COMMIT, body: { reservationId }, retry: true });
      if (answer.status === 200) return 'committed';
      if (answer.status === 409 || answer.status === 404) return 'released';
      throw unexpectedAnswer('products', COMMIT, answer);
    },
    async release(reservationId: string): Promise<void> {
      const answer = await client.call({ method: 'POST', path: RELEASE, body: { reservationId }, retry: true });
      if (answer.status !== 200) throw unexpectedAnswer('products', RELEASE, answer);
    },
  };
}

export type ProductsClient = ReturnType<typeof createProductsClient>;
