import DataLoader from 'dataloader';
import type { OrderCursor, OrderRepository } from './repository.ts';

/**
 * Built fresh for every request. `User.orders` takes arguments, so its loaders are kept per
 * distinct (first, after): all users asked for with the same page arguments share one query.
 */
export function createLoaders(repo: OrderRepository) {
  const pageLoaders = new Map<string, DataLoader<string, Awaited<ReturnType<OrderRepository['pagesByUsers']>>[number]>>();
  return {
    orderById: new DataLoader((ids: readonly string[]) => repo.ordersByIds(ids)),
    itemsByOrderId: new DataLoader((ids: readonly string[]) => repo.itemsByOrderIds(ids)),
    ordersPageByUser(page: { limit: number; after: OrderCursor | undefined }) {
      const key = JSON.stringify(page);
      let loader = pageLoaders.get(key);
      if (!loader) {
        loader = new DataLoader((userIds: readonly string[]) => repo.pagesByUsers(userIds, page));
        pageLoaders.set(key, loader);
      }
      return loader;
    },
  };
}

export type OrderLoaders = ReturnType<typeof createLoaders>;
