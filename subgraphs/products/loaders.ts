import DataLoader from "dataloader";
import {
  ignoreBatches,
  observedBatch,
  type BatchObserver,
} from "../../platform/metrics.ts";
import type { ProductRepository } from "./repository.ts";

/** Built fresh for every request, so nothing cached outlives the request that loaded it. */
export function createLoaders(
  repo: ProductRepository,
  observe: BatchObserver = ignoreBatches,
) {
  return {
    productById: new DataLoader(
      observedBatch("products.productById", observe, (ids: readonly string[]) =>
        repo.productsByIds(ids),
      ),
    ),
  };
}

export type ProductLoaders = ReturnType<typeof createLoaders>;
