import DataLoader from "dataloader";
import { ignoreBatches, observedBatch, type BatchObserver } from "./metrics.ts";
import type { Page } from "./pagination.ts";

/** Makes a DataLoader by id whose batch sizes are observed under `<service>.<loader>`. */
export type ObservedLoaderFactory = <V>(
  loader: string,
  load: (ids: readonly string[]) => Promise<V[]>,
) => DataLoader<string, V>;

/**
 * A subgraph's `createLoaders(repo, observe?)`: `build` names its loaders once, and each one reports
 * its batch sizes to `observe` (the `dataloader_batch_size` series; ignored where nobody listens).
 */
export function defineLoaders<Repo, Loaders>(
  build: (repo: Repo, byId: ObservedLoaderFactory) => Loaders,
) {
  return (repo: Repo, observe: BatchObserver = ignoreBatches): Loaders =>
    build(
      repo,
      (loader, load) => new DataLoader(observedBatch(loader, observe, load)),
    );
}

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
