/**
 * Cost against list size: one operation over N orders (each with two items, their products and
 * payments) for N from 1 to 1,000, counting the subgraph requests the router sent and the SQL
 * statements each subgraph ran. Counts, not timings: the in-process stack is fine here.
 */
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { openStorage } from "../platform/database.ts";
import { demoUsers, DEMO_PASSWORD } from "../platform/demo-data.ts";
import { loadRouterConfig } from "../router/config.ts";
import { startStack, type Stack, type SubgraphName } from "../stack.ts";
import { BULK_ORDERS_QUERY, seedBulkOrders } from "./bulk-orders.ts";
import { post } from "./load.ts";
import type { ListSizeRow } from "./results.ts";
import { signedInHeaders } from "./sign-in.ts";

const COUNTED: SubgraphName[] = ["users", "products", "orders", "payments"];

async function fetchesBySubgraph(
  stack: Stack,
): Promise<Record<string, number>> {
  const metric = stack.router.metrics.registry.getSingleMetric(
    "router_subgraph_fetches_total",
  );
  const values = metric ? (await metric.get()).values : [];
  return Object.fromEntries(
    values.map((value) => [String(value.labels.subgraph), value.value]),
  );
}

/** Subgraph requests and SQL statements per subgraph caused by `run` on `stack`. */
export async function costOf<T>(
  stack: Stack,
  run: () => Promise<T>,
): Promise<{
  result: T;
  subgraphRequests: Record<string, number>;
  sqlQueries: Record<string, number>;
}> {
  const sqlBefore = Object.fromEntries(
    COUNTED.map((name) => [name, stack.subgraphs[name].db.queryCount]),
  );
  const fetchesBefore = await fetchesBySubgraph(stack);
  const result = await run();
  const fetchesAfter = await fetchesBySubgraph(stack);
  return {
    result,
    subgraphRequests: Object.fromEntries(
      COUNTED.map((name) => [
        name,
        (fetchesAfter[name] ?? 0) - (fetchesBefore[name] ?? 0),
      ]),
    ),
    sqlQueries: Object.fromEntries(
      COUNTED.map((name) => [
        name,
        stack.subgraphs[name].db.queryCount - sqlBefore[name]!,
      ]),
    ),
  };
}

export async function measureListSizes(
  sizes: readonly number[],
): Promise<{ query: string; rows: ListSizeRow[] }> {
  const storage = await openStorage({ dataDir: "memory://" });
  const secret = randomBytes(32).toString("base64url");
  const stack = await startStack({
    storage,
    logger: pino({ level: "silent" }),
    production: true,
    router: loadRouterConfig({
      LOG_LEVEL: "silent",
      ROUTER_PORT: "0",
      ROUTER_ADMIN_PORT: "0",
      NODE_ENV: "production",
      INTERNAL_TOKEN_SECRET: secret,
      ROUTER_RATE_LIMIT: "1000000000/1m",
      // 1,000 orders with their items cost about 23,000 by the IBM cost spec, over the default
      // limit: this bench measures the fetches and SQL a large list costs, so demand control only
      // measures here.
      ROUTER_DEMAND_CONTROL_MODE: "measure",
    }),
    internalTokenSecret: secret,
    // No background pollers: a saga-resume or reservation sweep would count as the operation's SQL.
    orders: { sagaResumeIntervalMs: 3_600_000 },
    products: { reservationSweepIntervalMs: 3_600_000 },
  });
  try {
    const { subgraphs } = stack;
    const buyer = await seedBulkOrders(
      {
        users: subgraphs.users.db,
        orders: subgraphs.orders.db,
        payments: subgraphs.payments.db,
      },
      { tag: "list-size", count: Math.max(...sizes) },
    );
    const admin = demoUsers.find((user) => user.role === "ADMIN")!;
    const headers = await signedInHeaders(stack.routerUrl, {
      email: admin.email,
      password: DEMO_PASSWORD,
    });
    // Warm-up: the first signed-in request fetches the users JWKS, a users request of its own.
    await post(
      stack.routerUrl,
      { query: BULK_ORDERS_QUERY, variables: { id: buyer.id, first: 1 } },
      headers,
    );
    const rows: ListSizeRow[] = [];
    for (const size of sizes) {
      const { result, subgraphRequests, sqlQueries } = await costOf(stack, () =>
        post(
          stack.routerUrl,
          {
            query: BULK_ORDERS_QUERY,
            variables: { id: buyer.id, first: size },
          },
          headers,
        ),
      );
      const edges = (
        (
          result.json.data as {
            user?: { orders?: { edges?: unknown[] } };
          } | null
        )?.user?.orders?.edges ?? []
      ).length;
      if (result.json.errors || edges !== size)
        throw new Error(
          `list of ${size} orders answered ${edges} edges: ${JSON.stringify(result.json.errors ?? null).slice(0, 300)}`,
        );
      rows.push({ size, subgraphRequests, sqlQueries });
    }
    return { query: BULK_ORDERS_QUERY, rows };
  } finally {
    await stack.stop();
    await storage.close();
  }
}
