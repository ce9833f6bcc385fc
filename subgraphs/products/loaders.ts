import { defineLoaders } from "../../platform/page-loaders.ts";
import type { ProductRepository } from "./repository.ts";

/** Built fresh for every request, so nothing cached outlives the request that loaded it. */
export const createLoaders = defineLoaders((repo: ProductRepository, byId) => ({
  productById: byId("products.productById", (ids) => repo.productsByIds(ids)),
}));

export type ProductLoaders = ReturnType<typeof createLoaders>;
