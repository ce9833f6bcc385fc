import DataLoader from "dataloader";
import { createPageLoaders } from "../../platform/page-loaders.ts";
import type { NotificationRepository } from "./repository.ts";

/** Built fresh for every request, so nothing cached outlives the request that loaded it. */
export function createLoaders(repo: NotificationRepository) {
  return {
    notificationById: new DataLoader((ids: readonly string[]) =>
      repo.byIds(ids),
    ),
    notificationsPageByUser: createPageLoaders(repo.pagesByUsers),
  };
}

export type NotificationLoaders = ReturnType<typeof createLoaders>;
