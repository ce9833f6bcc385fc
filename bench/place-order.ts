/**
 * placeOrder through the router, on embedded defaults (PGlite, everything in one process, as
 * `npm start`) and on PostgreSQL when it is reachable: requests/s and latency percentiles at a
 * constant concurrency. Every request is a new order (a fresh idempotency key) for one in-stock
 * product; every response is checked afterwards against the database (all confirmed, one capture
 * each). Rate limiting stays on with a budget the single bench client cannot exhaust.
 */
import { randomUUID } from "node:crypto";
import { pino } from "pino";
import { demoUsers, DEMO_PASSWORD } from "../platform/demo-data.ts";
import { stableId } from "../platform/ids.ts";
import { loadRouterConfig } from "../router/config.ts";
import { startStack } from "../stack.ts";
import { allBackends } from "../tests/support/storage.ts";
import { load, post } from "./load.ts";
import type { PlaceOrderRow } from "./results.ts";

const PLACE =
  "mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }";

export async function benchPlaceOrder({
  durationS,
  log,
}: {
  durationS: number;
  log: (line: string) => void;
}): Promise<PlaceOrderRow[]> {
  const connections = 8;
  const rows: PlaceOrderRow[] = [];
  log(
    `\nplaceOrder through the router: ${durationS}s per backend, ${connections} connections, one new order per request`,
  );
  for (const backend of await allBackends()) {
    if (backend.unavailable) {
      log(`${backend.name.padEnd(9)} skipped: ${backend.unavailable}`);
      continue;
    }
    const { storage, drop } = await backend.open();
    const router = {
      ...loadRouterConfig({
        LOG_LEVEL: "silent",
        ROUTER_PORT: "0",
        ROUTER_ADMIN_PORT: "0",
        ROUTER_RATE_LIMIT: "1000000000/1m",
        NODE_ENV: "production",
        INTERNAL_TOKEN_SECRET: randomUUID() + randomUUID(),
      }),
    };
    const stack = await startStack({
      storage,
      logger: pino({ level: "silent" }),
      production: true,
      router,
      internalTokenSecret: router.security.internalTokenSecret,
    });
    try {
      const productId = stableId(`bench-product:${randomUUID()}`);
      await stack.subgraphs.products.db.query(
        `INSERT INTO products.products (id, sku, name, description, price_minor, currency, inventory) VALUES ($1, $2, 'Bench widget', '', 1000, 'USD', 100000000)`,
        [productId, `BENCH-${productId.slice(0, 8)}`],
      );
      const customer = demoUsers[1]!;
      const login = await post(stack.routerUrl, {
        query:
          "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }",
        variables: { e: customer.email, p: DEMO_PASSWORD },
      });
      const token = (login.json.data as { logIn: { token: string } }).logIn
        .token;
      const startedAt = new Date(Date.now() - 1000);
      const measured = await load({
        url: stack.routerUrl,
        headers: { authorization: `Bearer ${token}` },
        bodyFor: () => ({
          query: PLACE,
          variables: {
            input: {
              idempotencyKey: randomUUID(),
              items: [{ productId, quantity: 1 }],
            },
          },
        }),
        durationS,
        connections,
      });
      // Requests cut off when the load stopped leave sagas running: let them finish (bounded).
      for (let wait = 0; wait < 100; wait += 1) {
        const [pending] = await stack.subgraphs.orders.db.query<{
          count: number;
        }>(
          `SELECT count(*)::int AS count FROM orders.orders WHERE user_id = $1 AND saga_step <> 'DONE'`,
          [customer.id],
        );
        if (pending!.count === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const [counts] = await stack.subgraphs.orders.db.query<{
        total: number;
        confirmed: number;
      }>(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'CONFIRMED')::int AS confirmed FROM orders.orders WHERE user_id = $1 AND created_at >= $2`,
        [customer.id, startedAt],
      );
      const [captured] = await stack.subgraphs.payments.db.query<{
        count: number;
      }>(
        `SELECT count(*)::int AS count FROM payments.payments WHERE user_id = $1 AND status = 'CAPTURED' AND created_at >= $2`,
        [customer.id, startedAt],
      );
      const row: PlaceOrderRow = {
        backend: backend.name,
        connections,
        rps: measured.rps,
        p50: measured.p50,
        p99: measured.p99,
        placed: counts!.total,
        confirmed: counts!.confirmed,
        captured: captured!.count,
        errors: measured.errors,
      };
      rows.push(row);
      log(
        `${backend.name.padEnd(9)} ${row.rps.toFixed(1).padStart(8)} orders/s  p50 ${row.p50.toFixed(1)} ms  p99 ${row.p99.toFixed(1)} ms  (${row.placed} placed, ${row.confirmed} confirmed, ${row.captured} captured, ${row.errors} non-2xx/errors)`,
      );
    } finally {
      await stack.stop();
      await drop();
    }
  }
  return rows;
}
