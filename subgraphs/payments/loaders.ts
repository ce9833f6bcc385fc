import DataLoader from "dataloader";
import {
  ignoreBatches,
  observedBatch,
  type BatchObserver,
} from "../../platform/metrics.ts";
import type { PaymentRepository } from "./repository.ts";

/** Built fresh for every request, so nothing cached outlives the request that loaded it. */
export function createLoaders(
  repo: PaymentRepository,
  observe: BatchObserver = ignoreBatches,
) {
  return {
    paymentById: new DataLoader(
      observedBatch("payments.paymentById", observe, (ids: readonly string[]) =>
        repo.paymentsByIds(ids),
      ),
    ),
    paymentByOrderId: new DataLoader(
      observedBatch(
        "payments.paymentByOrderId",
        observe,
        (orderIds: readonly string[]) => repo.latestByOrderIds(orderIds),
      ),
    ),
  };
}

export type PaymentLoaders = ReturnType<typeof createLoaders>;
