import DataLoader from 'dataloader';
import type { PaymentRepository } from './repository.ts';

/** Built fresh for every request, so nothing cached outlives the request that loaded it. */
export function createLoaders(repo: PaymentRepository) {
  return {
    paymentById: new DataLoader((ids: readonly string[]) => repo.paymentsByIds(ids)),
    paymentByOrderId: new DataLoader((orderIds: readonly string[]) => repo.latestByOrderIds(orderIds)),
  };
}

export type PaymentLoaders = ReturnType<typeof createLoaders>;
