import DataLoader from "dataloader";
import { createPageLoaders } from "../../platform/page-loaders.ts";
import type {
  NotificationCursor,
  NotificationRepository,
} from "./repository.ts";

/** Built fresh for every request, so nothing cached outlives the request that loaded it. */
export function createLoaders(repo: NotificationRepository) {
  return {
    notificationById: new DataLoader((ids: readonly string[]) =>
      repo.byIds(ids),
    ),
    notificationsPageByUser: createPageLoaders<
      NotificationCursor,
      Awaited<ReturnType<NotificationRepository["pagesByUsers"]>>[number]
    >((userIds, page) => repo.pagesByUsers(userIds, page)),
  };
}

export type NotificationLoaders = ReturnType<typeof createLoaders>;
