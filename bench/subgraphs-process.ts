/**
 * The subgraphs (PGlite in memory, demo data plus a customer with BENCH_BULK_ORDERS orders) in a
 * process of their own, so the load generator in the parent and the gateway under test do not share
 * an event loop with them. Secrets come from the environment the parent sets. Reports
 * `{ urls, bulkBuyer }` over IPC once listening; answers `requests` with the GraphQL requests served
 * so far (all subgraphs); exits on `stop`.
 */
import { pino } from "pino";
import { openStorage } from "../platform/database.ts";
import { startSubgraphs } from "../stack.ts";
import { seedBulkOrders } from "./bulk-orders.ts";

const logger = pino({ level: "silent" });
const storage = await openStorage({ dataDir: "memory://" });
const { subgraphs, stop } = await startSubgraphs({
  storage,
  logger,
  production: true,
  internalTokenSecret: process.env.INTERNAL_TOKEN_SECRET!,
  internalServiceSecret: process.env.INTERNAL_SERVICE_SECRET!,
});
const bulkBuyer = await seedBulkOrders(
  {
    users: subgraphs.users.db,
    orders: subgraphs.orders.db,
    payments: subgraphs.payments.db,
  },
  { tag: "bench", count: Number(process.env.BENCH_BULK_ORDERS ?? 100) },
);
const urls = Object.fromEntries(
  Object.entries(subgraphs).map(([name, entry]) => [name, entry.url]),
);

async function graphqlRequestsServed(): Promise<number> {
  let total = 0;
  for (const { server } of Object.values(subgraphs)) {
    const { values } = await server.metrics.httpDuration.get();
    for (const value of values)
      if (
        value.metricName === "http_request_duration_seconds_count" &&
        value.labels.route === "/graphql"
      )
        total += value.value;
  }
  return total;
}

process.on("message", async (message) => {
  if (message === "requests")
    process.send?.({ requests: await graphqlRequestsServed() });
  if (message !== "stop") return;
  await stop();
  await storage.close();
  process.exit(0);
});
process.send?.({ urls, bulkBuyer });
