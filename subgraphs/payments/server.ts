import { demoPayments } from "../../platform/demo-data.ts";
import {
  contextWithLoaders,
  subgraphFolder,
  type SubgraphDeps,
} from "../../platform/subgraph-server.ts";
import { createCharges } from "./charges.ts";
import { createInternalRoutes } from "./internal-api.ts";
import { createLoaders } from "./loaders.ts";
import type { PaymentProvider } from "./provider.ts";
import { createPaymentRepository } from "./repository.ts";
import { resolvers, type PaymentsContext } from "./resolvers.ts";

const folder = subgraphFolder(
  "payments",
  {
    schema: new URL("./schema.graphql", import.meta.url),
    migrations: new URL("./migrations", import.meta.url),
  },
  resolvers,
);

export interface PaymentsOptions {
  internalServiceSecret: string;
  provider: PaymentProvider;
}

export function createPaymentsSubgraph(
  deps: SubgraphDeps,
  options: PaymentsOptions,
) {
  const repo = createPaymentRepository(deps.db);
  const charges = createCharges({
    db: deps.db,
    provider: options.provider,
    logger: deps.logger,
  });
  return folder.server<PaymentsContext>(deps, {
    context: contextWithLoaders(repo, createLoaders, { repo, charges }),
    routes: createInternalRoutes({
      charges,
      secret: options.internalServiceSecret,
      logger: deps.logger,
    }),
  });
}

export function paymentsModule(options: PaymentsOptions) {
  return folder.module({
    async seed(tx) {
      for (const payment of demoPayments) {
        await tx.query(
          `INSERT INTO payments.payments (id, order_id, user_id, amount_minor, currency, status, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING`,
          [
            payment.id,
            payment.orderId,
            payment.userId,
            payment.amountMinor,
            payment.currency,
            payment.status,
            payment.createdAt,
          ],
        );
      }
    },
    create: (deps) => createPaymentsSubgraph(deps, options),
  });
}
