import DataLoader from "dataloader";
import type { Page } from "./pagination.ts";

/**
 * DataLoaders for a paginated list field on an entity (`User.orders(first, after)`): the field takes
 * arguments, so one loader is kept per distinct (first, after) and every parent asked for with the
 * same page arguments shares one batched query. Build it per request, like any DataLoader.
 */
export function createPageLoaders<Cursor, Result>(
  loadPages: (
    parentIds: readonly string[],
    page: Page<Cursor>,
  ) => Promise<Result[]>,
) {
  const loaders = new Map<string, DataLoader<string, Result>>();
  return (page: Page<Cursor>): DataLoader<string, Result> => {
    const key = JSON.stringify(page);
    let loader = loaders.get(key);
    if (!loader) {
      loader = new DataLoader((parentIds: readonly string[]) =>
        loadPages(parentIds, page),
      );
      loaders.set(key, loader);
    }
    return loader;
  };
}
