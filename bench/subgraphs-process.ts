/**
 * The four subgraphs (PGlite in memory, demo data) in a process of their own, so the load
 * generator in the parent and the router under test do not share an event loop with them.
 * Secrets come from the environment the parent sets. Reports `{ urls }` over IPC once listening;
 * exits on `stop`.
 */
import { pino } from 'pino';
import { openStorage } from '../platform/database.ts';
import { startSubgraphs } from '../stack.ts';

const logger = pino({ level: 'silent' });
const storage = await openStorage({ dataDir: 'memory://' });
const { subgraphs, stop } = await startSubgraphs({
  storage,
  logger,
  production: true,
  ports: { users: 0, products: 0, orders: 0, payments: 0, notifications: 0 },
  internalTokenSecret: process.env.INTERNAL_TOKEN_SECRET!,
  internalServiceSecret: process.env.INTERNAL_SERVICE_SECRET!,
});
const urls = Object.fromEntries(Object.entries(subgraphs).map(([name, entry]) => [name, entry.url]));
process.on('message', async (message) => {
  if (message !== 'stop') return;
  await stop();
  await storage.close();
  process.exit(0);
});
process.send?.({ urls });
