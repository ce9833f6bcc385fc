import type { Database, Storage } from './platform/database.ts';
import { listen, type RunningServer } from './platform/http-server.ts';
import type { Logger } from './platform/logger.ts';
import { prepareDatabase, type SubgraphModule, type SubgraphServer } from './platform/subgraph-server.ts';
import type { RouterConfig } from './router/config.ts';
import { createRouter, type Router } from './router/server.ts';
import { randomBytes } from 'node:crypto';
import { startPipeline, type Pipeline, type PipelineOptions } from './events/pipeline.ts';
import { createUsersSubgraphDirectory, type RecipientDirectory } from './events/recipients.ts';
import { ordersModule, type OrdersOptions } from './subgraphs/orders/server.ts';
import { createSimulatedProvider, type PaymentProvider } from './subgraphs/payments/provider.ts';
import { notificationsModule } from './subgraphs/notifications/server.ts';
import { paymentsModule } from './subgraphs/payments/server.ts';
import { productsModule, type ProductsOptions } from './subgraphs/products/server.ts';
import { DEFAULT_USERS_OPTIONS, usersModule, type UsersOptions } from './subgraphs/users/server.ts';

export type SubgraphName = SubgraphModule['name'];

export interface StackOptions {
  storage: Storage;
  logger: Logger;
  production?: boolean;
  seed?: boolean;
  host?: string;
  /** Port per subgraph; 0 picks a free one (tests). */
  ports: Record<SubgraphName, number>;
  router: Omit<RouterConfig, 'subgraphUrls'>;
  users?: UsersOptions;
  /** Signs service-to-service calls; a random one per stack when omitted (all services share the process). */
  internalServiceSecret?: string;
  products?: Partial<Omit<ProductsOptions, 'internalServiceSecret'>>;
  payments?: { provider?: PaymentProvider; providerTimeoutMs?: number };
  orders?: Partial<Omit<OrdersOptions, 'internalServiceSecret' | 'productsInternalUrl' | 'paymentsInternalUrl'>>;
  /**
   * The event pipeline (outbox relays, notification worker, dispatchers) in this process, on the
   * given event log and job queue. Omitted: no pipeline (most tests); `npm start` always passes it.
   * Recipients default to asking this stack's users subgraph.
   */
  events?: Omit<PipelineOptions, 'storage' | 'logger' | 'recipients'> & { recipients?: RecipientDirectory };
}

export interface Stack {
  readonly routerUrl: string;
  readonly router: Router;
  readonly subgraphs: Record<SubgraphName, { server: SubgraphServer; running: RunningServer; url: string; db: Database }>;
  readonly pipeline: Pipeline | undefined;
  stop(): Promise<void>;
}

/**
 * Every service in one process, still talking HTTP to each other: what `npm start` runs and what
 * end-to-end tests boot. Subgraphs start first, so the router's first plan finds them listening.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { storage, logger, production = false, seed = true, host = '127.0.0.1' } = options;
  const internalServiceSecret = options.internalServiceSecret ?? randomBytes(32).toString('base64url');
  const subgraphs = {} as Stack['subgraphs'];
  const base = (name: SubgraphName) => subgraphs[name].url.replace(/\/graphql$/, '');
  // Orders comes last: its saga calls products and payments, whose URLs exist once they listen.
  const modules: Array<() => SubgraphModule> = [
    () => usersModule(options.users ?? DEFAULT_USERS_OPTIONS),
    () => productsModule({ internalServiceSecret, reservationTtlSeconds: 900, reservationSweepIntervalMs: 30_000, ...options.products }),
    () => paymentsModule({ internalServiceSecret, provider: options.payments?.provider ?? createSimulatedProvider({ timeoutMs: options.payments?.providerTimeoutMs ?? 1000 }) }),
    () =>
      ordersModule({
        internalServiceSecret,
        productsInternalUrl: base('products'),
        paymentsInternalUrl: base('payments'),
        serviceTimeoutMs: 2000,
        placeOrderWaitMs: 10_000,
        sagaResumeIntervalMs: 5000,
        sagaLeaseMs: 30_000,
        ...options.orders,
      }),
    () => notificationsModule(),
  ];
  const started: Array<() => Promise<void>> = [];
  let startedPipeline: (() => Promise<void>) | undefined;
  try {
    for (const makeModule of modules) {
      const module = makeModule();
      const serviceLogger = logger.child({ service: module.name });
      const db = storage.forService(module.name);
      await prepareDatabase(module, db, { seed, logger: serviceLogger });
      const server = module.create({ db, logger: serviceLogger, production });
      await server.start();
      const running = await listen(server.handler, { port: options.ports[module.name], host });
      started.push(async () => {
        await running.close();
        await server.stop();
      });
      subgraphs[module.name] = { server, running, url: `${running.url}/graphql`, db };
    }
    let pipeline: Pipeline | undefined;
    if (options.events) {
      const { recipients, ...events } = options.events;
      pipeline = await startPipeline({ ...events, storage, logger, recipients: recipients ?? createUsersSubgraphDirectory({ usersGraphqlUrl: subgraphs.users.url }) });
      const started = pipeline;
      // Registered before the router's stop, so it runs after it: the pipeline drains last.
      startedPipeline = () => started.stop();
    }
    const subgraphUrls = Object.fromEntries(Object.entries(subgraphs).map(([name, entry]) => [name, entry.url]));
    const router = createRouter({ config: { ...options.router, subgraphUrls }, logger: logger.child({ service: 'router' }) });
    await router.start();
    const running = await listen(router.handler, { port: options.router.port, host });
    started.push(async () => {
      await running.close();
      await router.stop();
    });
    return {
      routerUrl: `${running.url}/graphql`,
      router,
      subgraphs,
      pipeline,
      async stop() {
        // Router first: it stops taking requests before the subgraphs it calls go away.
        for (const stop of started.reverse()) await stop();
        await startedPipeline?.();
      },
    };
  } catch (error) {
    for (const stop of started.reverse()) await stop().catch(() => undefined);
    await startedPipeline?.().catch(() => undefined);
    throw error;
  }
}
