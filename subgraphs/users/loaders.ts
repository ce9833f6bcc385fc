import DataLoader from "dataloader";
import {
  ignoreBatches,
  observedBatch,
  type BatchObserver,
} from "../../platform/metrics.ts";
import type { UserRepository } from "./repository.ts";

/** Built fresh for every request, so nothing cached outlives the request that loaded it. */
export function createLoaders(
  repo: UserRepository,
  observe: BatchObserver = ignoreBatches,
) {
  return {
    userById: new DataLoader(
      observedBatch("users.userById", observe, (ids: readonly string[]) =>
        repo.usersByIds(ids),
      ),
    ),
  };
}

export type UserLoaders = ReturnType<typeof createLoaders>;
