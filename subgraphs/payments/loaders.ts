import { defineLoaders } from "../../platform/page-loaders.ts";
import type { PaymentRepository } from "./repository.ts";

/** Built fresh for every request, so nothing cached outlives the request that loaded it. */
export const createLoaders = defineLoaders((repo: PaymentRepository, byId) => ({
  paymentById: byId("payments.paymentById", (ids) => repo.paymentsByIds(ids)),
  paymentByOrderId: byId("payments.paymentByOrderId", (orderIds) =>
    repo.latestByOrderIds(orderIds),
  ),
}));

export type PaymentLoaders = ReturnType<typeof createLoaders>;
