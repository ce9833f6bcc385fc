/**
 * The four subgraphs (PGlite in memory, demo data) in a process of their own, so the load
 * generator in the parent and the router under test do not share an event loop with them.
 * Reports `{ urls }` over IPC once listening; exits on `stop`.
 */
import { pino } from 'pino';
import { openStorage } from '../platform/database.ts';
import { listen, type RunningServer } from '../platform/http-server.ts';
import { prepareDatabase, type SubgraphServer } from '../platform/subgraph-server.ts';
import { ordersModule } from '../subgraphs/orders/server.ts';
import { paymentsModule } from '../subgraphs/payments/server.ts';
import { productsModule } from '../subgraphs/products/server.ts';
import { DEFAULT_USERS_OPTIONS, usersModule } from '../subgraphs/users/server.ts';

const logger = pino({ level: 'silent' });
const storage = await openStorage({ dataDir: 'memory://' });
const subgraphs: Array<{ server: SubgraphServer; running: RunningServer }> = [];
const urls: Record<string, string> = {};
for (const module of [usersModule(DEFAULT_USERS_OPTIONS), productsModule(), ordersModule(), paymentsModule()]) {
  const db = storage.forService(module.name);
  await prepareDatabase(module, db, { seed: true, logger });
  const server = module.create({ db, logger, production: true });
  await server.start();
  const running = await listen(server.handler, { port: 0 });
  subgraphs.push({ server, running });
  urls[module.name] = `${running.url}/graphql`;
}
process.on('message', async (message) => {
  if (message !== 'stop') return;
  for (const { server, running } of subgraphs) {
    await running.close(1000);
    await server.stop();
  }
  await storage.close();
  process.exit(0);
});
process.send?.({ urls });
