import DataLoader from 'dataloader';
import type { UserRepository } from './repository.ts';

/** Built fresh for every request, so nothing cached outlives the request that loaded it. */
export function createLoaders(repo: UserRepository) {
  return {
    userById: new DataLoader((ids: readonly string[]) => repo.usersByIds(ids)),
  };
}

export type UserLoaders = ReturnType<typeof createLoaders>;
