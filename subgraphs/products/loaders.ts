import DataLoader from 'dataloader';
import type { ProductRepository } from './repository.ts';

/** Built fresh for every request, so nothing cached outlives the request that loaded it. */
export function createLoaders(repo: ProductRepository) {
  return {
    productById: new DataLoader((ids: readonly string[]) => repo.productsByIds(ids)),
  };
}

export type ProductLoaders = ReturnType<typeof createLoaders>;
