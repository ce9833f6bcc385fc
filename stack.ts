import type { Database, Storage } from './platform/database.ts';
import { listen, type RunningServer } from './platform/http-server.ts';
import type { Logger } from './platform/logger.ts';
import { prepareDatabase, type SubgraphModule, type SubgraphServer } from './platform/subgraph-server.ts';
import { withSubgraphSettings, type RouterConfig } from './router/config.ts';
import { createRouter, type Router } from './router/server.ts';
import { ordersModule } from './subgraphs/orders/server.ts';
import { paymentsModule } from './subgraphs/payments/server.ts';
import { productsModule } from './subgraphs/products/server.ts';
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
  /** Router settings; each subgraph's instances are replaced by the one this stack starts. */
  router: RouterConfig;
  users?: UsersOptions;
}

export interface Stack {
  readonly routerUrl: string;
  readonly router: Router;
  readonly subgraphs: Record<SubgraphName, { server: SubgraphServer; running: RunningServer; url: string; db: Database }>;
  stop(): Promise<void>;
}

/**
 * Every service in one process, still talking HTTP to each other: what `npm start` runs and what
 * end-to-end tests boot. Subgraphs start first, so the router's first plan finds them listening.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { storage, logger, production = false, seed = true, host = '127.0.0.1' } = options;
  const modules = [usersModule(options.users ?? DEFAULT_USERS_OPTIONS), productsModule(), ordersModule(), paymentsModule()];
  const subgraphs = {} as Stack['subgraphs'];
  const started: Array<() => Promise<void>> = [];
  try {
    for (const module of modules) {
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
    const discovery = Object.fromEntries(Object.entries(subgraphs).map(([name, entry]) => [name, { discovery: { kind: 'static' as const, urls: [entry.url] } }]));
    const router = createRouter({ config: withSubgraphSettings(options.router, discovery), logger: logger.child({ service: 'router' }) });
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
      async stop() {
        // Router first: it stops taking requests before the subgraphs it calls go away.
        for (const stop of started.reverse()) await stop();
      },
    };
  } catch (error) {
    for (const stop of started.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}
