import { demoProducts } from '../../platform/demo-data.ts';
import { createSubgraphServer, loadSchemaFile, type SubgraphDeps, type SubgraphModule } from '../../platform/subgraph-server.ts';
import { createLoaders } from './loaders.ts';
import { createProductRepository } from './repository.ts';
import { resolvers, type ProductsContext } from './resolvers.ts';

export const typeDefs = loadSchemaFile(new URL('./schema.graphql', import.meta.url));

export function createProductsSubgraph(deps: SubgraphDeps) {
  const repo = createProductRepository(deps.db);
  return createSubgraphServer<ProductsContext>({
    name: 'products',
    typeDefs,
    resolvers,
    deps,
    context: (_req, principal) => ({ repo, loaders: createLoaders(repo), principal }),
  });
}

export function productsModule(): SubgraphModule {
  return {
    name: 'products',
    migrationsDir: new URL('./migrations', import.meta.url).pathname,
    async seed(tx) {
      for (const product of demoProducts) {
        await tx.query(
          `INSERT INTO products.products (id, sku, name, description, price_minor, currency, inventory)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
          [product.id, product.sku, product.name, product.description, product.priceMinor, product.currency, product.inventory],
        );
      }
    },
    create: createProductsSubgraph,
  };
}
