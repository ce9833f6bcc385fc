import DataLoader from 'dataloader';
import type { NotificationCursor, NotificationRepository } from './repository.ts';

/**
 * Built fresh for every request. `User.notifications` takes arguments, so its loaders are kept per
 * distinct (first, after): all users asked for with the same page arguments share one query.
 */
export function createLoaders(repo: NotificationRepository) {
  const pageLoaders = new Map<string, DataLoader<string, Awaited<ReturnType<NotificationRepository['pagesByUsers']>>[number]>>();
  return {
    notificationsPageByUser(page: { limit: number; after: NotificationCursor | undefined }) {
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

export type NotificationLoaders = ReturnType<typeof createLoaders>;
