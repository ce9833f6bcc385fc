import { demoOrders } from '../../platform/demo-data.ts';
import { createSubgraphServer, loadSchemaFile, type SubgraphDeps, type SubgraphModule } from '../../platform/subgraph-server.ts';
import { createLoaders } from './loaders.ts';
import { createOrderRepository } from './repository.ts';
import { resolvers, type OrdersContext } from './resolvers.ts';

export const typeDefs = loadSchemaFile(new URL('./schema.graphql', import.meta.url));

export function createOrdersSubgraph(deps: SubgraphDeps) {
  const repo = createOrderRepository(deps.db);
  return createSubgraphServer<OrdersContext>({
    name: 'orders',
    typeDefs,
    resolvers,
    deps,
    context: (_req, principal) => ({ repo, loaders: createLoaders(repo), principal }),
  });
}

export function ordersModule(): SubgraphModule {
  return {
    name: 'orders',
    migrationsDir: new URL('./migrations', import.meta.url).pathname,
    async seed(tx) {
      for (const order of demoOrders) {
        await tx.query(
          `INSERT INTO orders.orders (id, user_id, status, total_minor, currency, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING`,
          [order.id, order.userId, order.status, order.totalMinor, order.currency, order.createdAt],
        );
        for (const [position, item] of order.items.entries()) {
          await tx.query(
            `INSERT INTO orders.order_items (order_id, position, product_id, quantity, unit_price_minor)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
            [order.id, position, item.productId, item.quantity, item.unitPriceMinor],
          );
        }
      }
    },
    create: createOrdersSubgraph,
  };
}
