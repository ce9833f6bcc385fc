import DataLoader from "dataloader";
import {
  ignoreBatches,
  observedBatch,
  type BatchObserver,
} from "../../platform/metrics.ts";
import { createPageLoaders } from "../../platform/page-loaders.ts";
import type { OrderCursor, OrderRepository } from "./repository.ts";

/** Built fresh for every request, so nothing cached outlives the request that loaded it. */
export function createLoaders(
  repo: OrderRepository,
  observe: BatchObserver = ignoreBatches,
) {
  return {
    orderById: new DataLoader(
      observedBatch("orders.orderById", observe, (ids: readonly string[]) =>
        repo.ordersByIds(ids),
      ),
    ),
    itemsByOrderId: new DataLoader(
      observedBatch(
        "orders.itemsByOrderId",
        observe,
        (ids: readonly string[]) => repo.itemsByOrderIds(ids),
      ),
    ),
    ordersPageByUser: createPageLoaders<
      OrderCursor,
      Awaited<ReturnType<OrderRepository["pagesByUsers"]>>[number]
    >((userIds, page) => repo.pagesByUsers(userIds, page)),
  };
}

export type OrderLoaders = ReturnType<typeof createLoaders>;
