import {
  createPageLoaders,
  defineLoaders,
} from "../../platform/page-loaders.ts";
import type { OrderCursor, OrderRepository } from "./repository.ts";

/** Built fresh for every request, so nothing cached outlives the request that loaded it. */
export const createLoaders = defineLoaders((repo: OrderRepository, byId) => ({
  orderById: byId("orders.orderById", (ids) => repo.ordersByIds(ids)),
  itemsByOrderId: byId("orders.itemsByOrderId", (ids) =>
    repo.itemsByOrderIds(ids),
  ),
  ordersPageByUser: createPageLoaders<
    OrderCursor,
    Awaited<ReturnType<OrderRepository["pagesByUsers"]>>[number]
  >((userIds, page) => repo.pagesByUsers(userIds, page)),
}));

export type OrderLoaders = ReturnType<typeof createLoaders>;
