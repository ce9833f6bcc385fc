import DataLoader from 'dataloader';
import { createPageLoaders } from '../../platform/page-loaders.ts';
import type { OrderCursor, OrderRepository } from './repository.ts';

/** Built fresh for every request, so nothing cached outlives the request that loaded it. */
export function createLoaders(repo: OrderRepository) {
  return {
    orderById: new DataLoader((ids: readonly string[]) => repo.ordersByIds(ids)),
    itemsByOrderId: new DataLoader((ids: readonly string[]) => repo.itemsByOrderIds(ids)),
    ordersPageByUser: createPageLoaders<OrderCursor, Awaited<ReturnType<OrderRepository['pagesByUsers']>>[number]>((userIds, page) => repo.pagesByUsers(userIds, page)),
  };
}

export type OrderLoaders = ReturnType<typeof createLoaders>;
