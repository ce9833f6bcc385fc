import { every } from "../../platform/background.ts";
import { demoOrders } from "../../platform/demo-data.ts";
import {
  createServiceClient,
  type ServiceClientOptions,
} from "../../platform/service-client.ts";
import {
  contextWithLoaders,
  subgraphFolder,
  type SubgraphDeps,
} from "../../platform/subgraph-server.ts";
import { createPaymentsClient } from "./clients/payments-client.ts";
import { createProductsClient } from "./clients/products-client.ts";
import { createLoaders } from "./loaders.ts";
import { createOrderService } from "./order-service.ts";
import { createOrderRepository } from "./repository.ts";
import { resolvers, type OrdersContext } from "./resolvers.ts";
import { createSaga, type SagaOptions } from "./saga.ts";

const folder = subgraphFolder(
  "orders",
  {
    schema: new URL("./schema.graphql", import.meta.url),
    migrations: new URL("./migrations", import.meta.url),
  },
  resolvers,
);

export interface OrdersOptions {
  internalServiceSecret: string;
  productsInternalUrl: string;
  paymentsInternalUrl: string;
  serviceTimeoutMs: number;
  placeOrderWaitMs: number;
  sagaResumeIntervalMs: number;
  sagaLeaseMs: number;
  /** Retries per internal call after the first attempt. @default 2 */
  serviceRetries?: number;
  /** Breaker settings for the products and payments clients (see ServiceClientOptions.breaker). */
  breaker?: ServiceClientOptions["breaker"];
  /** Fault injection for tests; see SagaOptions.checkpoint. */
  checkpoint?: SagaOptions["checkpoint"];
}

export function createOrdersSubgraph(
  deps: SubgraphDeps,
  options: OrdersOptions,
) {
  const { db, logger } = deps;
  const repo = createOrderRepository(db);
  const client = (service: string, baseUrl: string) =>
    createServiceClient({
      service,
      caller: "orders",
      baseUrl,
      secret: options.internalServiceSecret,
      logger,
      timeoutMs: options.serviceTimeoutMs,
      retries: options.serviceRetries ?? 2,
      breaker: options.breaker,
    });
  const productsHttp = client("products", options.productsInternalUrl);
  const paymentsHttp = client("payments", options.paymentsInternalUrl);
  const products = createProductsClient(productsHttp);
  const saga = createSaga({
    db,
    products,
    payments: createPaymentsClient(paymentsHttp),
    logger,
    leaseMs: options.sagaLeaseMs,
    checkpoint: options.checkpoint,
  });
  const orders = createOrderService({
    db,
    products,
    saga,
    logger,
    waitMs: options.placeOrderWaitMs,
  });
  const resumer = every(
    "saga-resumer",
    options.sagaResumeIntervalMs,
    async () => {
      for (const orderId of await saga.due()) await saga.run(orderId);
    },
    logger,
  );
  const server = folder.server<OrdersContext>(deps, {
    context: contextWithLoaders(repo, createLoaders, { repo, orders }),
    tasks: [
      resumer,
      {
        start: () => undefined,
        stop: async () =>
          Promise.all([productsHttp.close(), paymentsHttp.close()]).then(
            () => undefined,
          ),
      },
    ],
  });
  server.metrics.registry.registerMetric(saga.stepDuration);
  return Object.assign(server, {
    orders,
    saga,
    breakers: { products: productsHttp, payments: paymentsHttp },
  });
}

export function ordersModule(options: OrdersOptions) {
  return folder.module({
    async seed(tx) {
      for (const order of demoOrders) {
        await tx.query(
          `INSERT INTO orders.orders (id, user_id, status, total_minor, currency, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING`,
          [
            order.id,
            order.userId,
            order.status,
            order.totalMinor,
            order.currency,
            order.createdAt,
          ],
        );
        for (const [position, item] of order.items.entries()) {
          await tx.query(
            `INSERT INTO orders.order_items (order_id, position, product_id, quantity, unit_price_minor)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
            [
              order.id,
              position,
              item.productId,
              item.quantity,
              item.unitPriceMinor,
            ],
          );
        }
      }
    },
    create: (deps) => createOrdersSubgraph(deps, options),
  });
}
