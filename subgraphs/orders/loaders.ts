import {
  createPageLoaders,
  defineLoaders,
} from "../../platform/page-loaders.ts";
import type { Page } from "../../platform/pagination.ts";
import type { OrderCursor, OrderRepository } from "./repository.ts";

/** Built fresh for every request, so nothing cached outlives the request that loaded it. */
export const createLoaders = defineLoaders((repo: OrderRepository, byId) => {
  const orderById = byId("orders.orderById", (ids) => repo.ordersByIds(ids));
  return {
    orderById,
    itemsByOrderId: byId("orders.itemsByOrderId", (ids) =>
      repo.itemsByOrderIds(ids),
    ),
    // A listed order's fields, or an entity fetch of it, then read it without a query of their own.
    ordersPageByUser: createPageLoaders(
      async (userIds, page: Page<OrderCursor>) => {
        const pages = await repo.pagesByUsers(userIds, page);
        for (const { rows } of pages)
          for (const row of rows) orderById.prime(row.id, row);
        return pages;
      },
    ),
  };
});

export type OrderLoaders = ReturnType<typeof createLoaders>;
