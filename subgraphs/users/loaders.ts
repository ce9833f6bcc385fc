import { defineLoaders } from "../../platform/page-loaders.ts";
import type { UserRepository } from "./repository.ts";

/** Built fresh for every request, so nothing cached outlives the request that loaded it. */
export const createLoaders = defineLoaders((repo: UserRepository, byId) => ({
  userById: byId("users.userById", (ids) => repo.usersByIds(ids)),
}));

export type UserLoaders = ReturnType<typeof createLoaders>;
