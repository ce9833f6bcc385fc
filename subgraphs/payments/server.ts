import { demoPayments } from '../../platform/demo-data.ts';
import { createSubgraphServer, loadSchemaFile, type SubgraphDeps, type SubgraphModule } from '../../platform/subgraph-server.ts';
import { createLoaders } from './loaders.ts';
import { createPaymentRepository } from './repository.ts';
import { resolvers, type PaymentsContext } from './resolvers.ts';

export const typeDefs = loadSchemaFile(new URL('./schema.graphql', import.meta.url));

export function createPaymentsSubgraph(deps: SubgraphDeps) {
  const repo = createPaymentRepository(deps.db);
  return createSubgraphServer<PaymentsContext>({
    name: 'payments',
    typeDefs,
    resolvers,
    deps,
    context: (_req, principal) => ({ repo, loaders: createLoaders(repo), principal }),
  });
}

export function paymentsModule(): SubgraphModule {
  return {
    name: 'payments',
    migrationsDir: new URL('./migrations', import.meta.url).pathname,
    async seed(tx) {
      for (const payment of demoPayments) {
        await tx.query(
          `INSERT INTO payments.payments (id, order_id, user_id, amount_minor, currency, status, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING`,
          [payment.id, payment.orderId, payment.userId, payment.amountMinor, payment.currency, payment.status, payment.createdAt],
        );
      }
    },
    create: createPaymentsSubgraph,
  };
}
