import { demoProducts } from "../../platform/demo-data.ts";
import {
  contextWithLoaders,
  subgraphFolder,
  type SubgraphDeps,
} from "../../platform/subgraph-server.ts";
import { every } from "../../platform/background.ts";
import { createInternalRoutes } from "./internal-api.ts";
import { createInventory } from "./inventory.ts";
import { createLoaders } from "./loaders.ts";
import { createProductRepository, insertProduct } from "./repository.ts";
import { resolvers, type ProductsContext } from "./resolvers.ts";

const folder = subgraphFolder(
  "products",
  {
    schema: new URL("./schema.graphql", import.meta.url),
    migrations: new URL("./migrations", import.meta.url),
  },
  resolvers,
);

export interface ProductsOptions {
  internalServiceSecret: string;
  reservationTtlSeconds: number;
  reservationSweepIntervalMs: number;
}

export function createProductsSubgraph(
  deps: SubgraphDeps,
  options: ProductsOptions,
) {
  const repo = createProductRepository(deps.db);
  const inventory = createInventory({
    db: deps.db,
    reservationTtlSeconds: options.reservationTtlSeconds,
  });
  const server = folder.server<ProductsContext>(deps, {
    context: contextWithLoaders(repo, createLoaders, { repo }),
    routes: createInternalRoutes({
      inventory,
      secret: options.internalServiceSecret,
      logger: deps.logger,
    }),
    tasks: [
      every(
        "reservation-sweeper",
        options.reservationSweepIntervalMs,
        async () => {
          const released = await inventory.sweepExpired();
          if (released > 0)
            deps.logger.info({ released }, "expired reservations released");
        },
        deps.logger,
      ),
    ],
  });
  return Object.assign(server, { inventory });
}

export function productsModule(options: ProductsOptions) {
  return folder.module({
    async seed(tx) {
      for (const product of demoProducts) {
        const { priceMinor, ...rest } = product;
        await insertProduct(
          tx,
          { ...rest, price_minor: priceMinor },
          { ignoreExisting: true },
        );
      }
    },
    create: (deps) => createProductsSubgraph(deps, options),
  });
}
