/**
 * placeOrder through the router, on embedded defaults (PGlite, everything in one process, as
 * `npm start`) and on PostgreSQL when it is reachable: orders/s and latency percentiles at each
 * given concurrency, then p50/p99 at a steady 100 orders/s (open loop, `paced` in ./load.ts). Every request is a new order (a fresh
 * idempotency key under a per-run prefix) for one in-stock product; after every run the databases
 * are checked: no order of the run left PENDING, every one CONFIRMED with exactly one CAPTURED
 * payment, no stock sold twice. Also per order: SQL statements and transactions per service (exact:
 * the same for every order), CPU of this process (router, subgraphs and, on PGlite, the database;
 * autocannon too) and of the run's PostgreSQL backends. Rate limiting stays on with a budget the
 * single bench client cannot exhaust.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  monitorEventLoopDelay,
  PerformanceObserver,
  type IntervalHistogram,
} from "node:perf_hooks";
import { pino } from "pino";
import type { Database } from "../platform/database.ts";
import { demoUsers, DEMO_PASSWORD } from "../platform/demo-data.ts";
import { stableId } from "../platform/ids.ts";
import { loadRouterConfig } from "../router/config.ts";
import { startStack } from "../stack.ts";
import type { createOrdersSubgraph } from "../subgraphs/orders/server.ts";
import { allBackends } from "../tests/support/storage.ts";
import { load, paced, post } from "./load.ts";
import type { PlaceOrderRow } from "./results.ts";

const PLACE =
  "mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }";
const SERVICES = ["orders", "products", "payments", "users"] as const;
const STOCK = 100_000_000;
/** The latency target's load: p99 is read at this fixed rate, not at saturation. */
export const FIXED_RATE = 100;
export const DEFAULT_CONNECTIONS = [8, 32, 64];

type StepTotals = Map<
  string,
  { count: number; sum: number; buckets: Map<number, number> }
>;

/** Running totals of `saga_step_duration_seconds` per step: count, seconds summed, cumulative buckets. */
async function stepTotals(
  orders: ReturnType<typeof createOrdersSubgraph>,
): Promise<StepTotals> {
  const totals: StepTotals = new Map();
  for (const value of (await orders.saga.stepDuration.get()).values) {
    const step = String(value.labels.step);
    const entry = totals.get(step) ?? { count: 0, sum: 0, buckets: new Map() };
    if (value.metricName?.endsWith("_count")) entry.count = value.value;
    else if (value.metricName?.endsWith("_sum")) entry.sum = value.value;
    else if (value.metricName?.endsWith("_bucket"))
      entry.buckets.set(
        // prom-client labels the last bucket "+Inf", which Number() reads as NaN.
        Number(
          String((value.labels as { le?: string | number }).le).replace(
            "+Inf",
            "Infinity",
          ),
        ),
        value.value,
      );
    totals.set(step, entry);
  }
  return totals;
}

/**
 * Per step over a run: mean ms and the histogram bucket its p99 falls in (an upper bound): the
 * per-step breakdown of an order's time, and which step its tail comes from.
 */
function stepBreakdown(before: StepTotals, after: StepTotals): string {
  return [...after]
    .map(([step, { count, sum, buckets }]) => {
      const earlier = before.get(step);
      const runs = count - (earlier?.count ?? 0);
      if (runs <= 0) return undefined;
      const mean = ((sum - (earlier?.sum ?? 0)) / runs) * 1000;
      const p99 = [...buckets]
        .sort(([a], [b]) => a - b)
        .find(
          ([le, cumulative]) =>
            cumulative - (earlier?.buckets.get(le) ?? 0) >= runs * 0.99,
        )?.[0];
      return `${step} ${mean.toFixed(1)} (p99 ≤ ${p99 === undefined ? "?" : p99 === Infinity ? "+Inf" : p99 * 1000})`;
    })
    .filter((entry) => entry !== undefined)
    .join(", ");
}

/**
 * What stalls this process during a run, where the p99 can come from besides the work itself:
 * event-loop delay (every timer late by it: the loop was busy or the process had no CPU) and
 * garbage-collection pauses, both of the one process holding router, subgraphs and load generator.
 */
function stalls() {
  const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 5 });
  const gc = { count: 0, totalMs: 0, maxMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count += 1;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  loop.enable();
  return () => {
    loop.disable();
    observer.disconnect();
    const ms = (ns: number) => (ns / 1e6).toFixed(1);
    return `event-loop delay p50 ${ms(loop.percentile(50))} / p99 ${ms(loop.percentile(99))} / max ${ms(loop.max)} ms; GC ${gc.count} pauses, ${gc.totalMs.toFixed(0)} ms in all, longest ${gc.maxMs.toFixed(1)} ms`;
  };
}

/** user + system CPU of every PostgreSQL backend serving `database`, in µs (Linux /proc; 0 elsewhere). */
async function backendCpuMicros(db: Database, database: string) {
  const rows = await db.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = $1",
    [database],
  );
  const ticks = 1_000_000 / 100; // USER_HZ is 100 on Linux
  let total = 0;
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8")
        .split(") ")[1]!
        .split(" ");
      total += (Number(fields[11]) + Number(fields[12])) * ticks;
    } catch {
      // the backend ended meanwhile, or /proc is not there
    }
  }
  return { pids: rows.map((row) => row.pid), total };
}

export async function benchPlaceOrder({
  durationS,
  log,
  connections = DEFAULT_CONNECTIONS,
  backends: only,
  fixedRate = true,
  rate = FIXED_RATE,
}: {
  durationS: number;
  log: (line: string) => void;
  connections?: readonly number[];
  backends?: readonly string[];
  fixedRate?: boolean;
  /**
   * Orders/s of the steady run. The target is read at 100; a loaded machine that cannot sustain
   * 100 compares tails at a rate it can (the same fraction of its capacity).
   */
  rate?: number;
}): Promise<PlaceOrderRow[]> {
  const rows: PlaceOrderRow[] = [];
  log(
    `\nplaceOrder through the router: ${durationS}s per run, ${connections.join("/")} connections${fixedRate ? ` then ${rate} orders/s` : ""}, one new order per request`,
  );
  for (const backend of await allBackends()) {
    if (only && !only.includes(backend.name)) continue;
    if (backend.unavailable) {
      log(`${backend.name.padEnd(9)} skipped: ${backend.unavailable}`);
      continue;
    }
    const { storage, drop, databaseUrl } = await backend.open();
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
    const dbs = {
      orders: stack.subgraphs.orders.db,
      products: stack.subgraphs.products.db,
      payments: stack.subgraphs.payments.db,
      users: stack.subgraphs.users.db,
    };
    const database = databaseUrl
      ? new URL(databaseUrl).pathname.slice(1)
      : undefined;
    try {
      const productId = stableId(`bench-product:${randomUUID()}`);
      await dbs.products.query(
        `INSERT INTO products.products (id, sku, name, description, price_minor, currency, inventory) VALUES ($1, $2, 'Bench widget', '', 1000, 'USD', $3)`,
        [productId, `BENCH-${productId.slice(0, 8)}`, STOCK],
      );
      const customer = demoUsers[1]!;
      const login = await post(stack.routerUrl, {
        query:
          "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }",
        variables: { e: customer.email, p: DEMO_PASSWORD },
      });
      const token = (login.json.data as { logIn: { token: string } }).logIn
        .token;
      const place = (prefix: string) => ({
        query: PLACE,
        variables: {
          input: {
            idempotencyKey: `${prefix}-${randomUUID()}`,
            paymentToken: "tok_visa",
            items: [{ productId, quantity: 1 }],
          },
        },
      });
      // Warm-up (JIT, pools, caches), checked like every run but not reported.
      await load({
        url: stack.routerUrl,
        headers: { authorization: `Bearer ${token}` },
        bodyFor: () => place("warm"),
        durationS: 2,
        connections: connections[0] ?? 8,
      });
      await settled(dbs.orders, customer.id);

      const runs: Array<{ connections: number; rate?: number }> = [
        ...connections.map((count) => ({ connections: count })),
        ...(fixedRate ? [{ connections: Math.max(...connections), rate }] : []),
      ];
      for (const run of runs) {
        const prefix = `bench${randomUUID().slice(0, 8)}`;
        const before = counters(dbs);
        const ordersServer = stack.subgraphs.orders.server as ReturnType<
          typeof createOrdersSubgraph
        >;
        const stepsBefore = await stepTotals(ordersServer);
        const stopStalls = stalls();
        const cpuBefore = process.cpuUsage();
        const pgBefore = database
          ? await backendCpuMicros(dbs.orders, database)
          : undefined;
        const options = {
          url: stack.routerUrl,
          headers: { authorization: `Bearer ${token}` },
          bodyFor: () => place(prefix),
          durationS,
          connections: run.connections,
        };
        const measured = run.rate
          ? await paced({ ...options, rate: run.rate })
          : await load(options);
        const stalled = stopStalls();
        // Requests cut off when the load stopped leave sagas running: let them finish (bounded).
        await settled(dbs.orders, customer.id);
        const steps = stepBreakdown(
          stepsBefore,
          await stepTotals(ordersServer),
        );
        const cpu = process.cpuUsage(cpuBefore);
        const pgAfter = database
          ? await backendCpuMicros(dbs.orders, database)
          : undefined;
        const after = counters(dbs);
        const check = await consistency(dbs, {
          userId: customer.id,
          prefix,
          productId,
        });
        const orders = Math.max(1, check.placed);
        const perOrder = (service: (typeof SERVICES)[number]) => ({
          statements:
            (after[service].statements - before[service].statements) / orders,
          transactions:
            (after[service].transactions - before[service].transactions) /
            orders,
        });
        const row: PlaceOrderRow = {
          backend: backend.name,
          connections: run.connections,
          ...(run.rate ? { rate: run.rate } : {}),
          rps: measured.rps,
          p50: measured.p50,
          p99: measured.p99,
          placed: check.placed,
          confirmed: check.confirmed,
          captured: check.captured,
          errors:
            measured.errors +
            Object.values(measured.graphqlErrors ?? {}).reduce(
              (sum, count) => sum + count,
              0,
            ),
          pending: check.pending,
          doubleCharged: check.doubleCharged,
          oversold: check.oversold,
          cpuMsPerOrder: (cpu.user + cpu.system) / 1000 / orders,
          ...(pgBefore && pgAfter
            ? {
                postgresCpuMsPerOrder:
                  (pgAfter.total -
                    // backends that appeared during the run count in full
                    pgBefore.total) /
                  1000 /
                  orders,
              }
            : {}),
          perOrder: Object.fromEntries(
            SERVICES.map((service) => [service, perOrder(service)]),
          ),
        };
        rows.push(row);
        const sql = SERVICES.map((service) => {
          const { statements, transactions } = perOrder(service);
          return `${service} ${statements.toFixed(2)}/${transactions.toFixed(2)}`;
        }).join(", ");
        log(
          `${backend.name.padEnd(9)} ${String(run.connections).padStart(3)} conn${run.rate ? ` @${run.rate}/s` : ""} ${row.rps.toFixed(1).padStart(8)} orders/s  p50 ${row.p50.toFixed(1)} ms  p99 ${row.p99.toFixed(1)} ms  cpu ${(row.cpuMsPerOrder ?? 0).toFixed(2)} ms/order${row.postgresCpuMsPerOrder === undefined ? "" : ` + postgres ${row.postgresCpuMsPerOrder.toFixed(2)}`}  (${row.placed} placed, ${row.confirmed} confirmed, ${row.captured} captured, ${row.pending} pending, ${row.doubleCharged} double-charged, ${row.oversold} oversold, ${row.errors} non-2xx/errors ${JSON.stringify(measured.graphqlErrors ?? {})})  SQL statements/transactions per order: ${sql}`,
        );
        log(`          ms per step, mean (p99 bucket): ${steps}; ${stalled}`);
      }
    } finally {
      await stack.stop();
      await drop();
    }
  }
  return rows;
}

function counters(dbs: Record<(typeof SERVICES)[number], Database>) {
  return Object.fromEntries(
    SERVICES.map((service) => [
      service,
      {
        statements: dbs[service].queryCount,
        transactions: dbs[service].transactionCount,
      },
    ]),
  ) as Record<
    (typeof SERVICES)[number],
    { statements: number; transactions: number }
  >;
}

async function settled(orders: Database, userId: string): Promise<void> {
  for (let wait = 0; wait < 200; wait += 1) {
    const [pending] = await orders.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM orders.orders WHERE user_id = $1 AND saga_step <> 'DONE'`,
      [userId],
    );
    if (pending!.count === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * What the databases say about one run's orders (those whose idempotency key has its prefix): how
 * many were placed, confirmed, left pending; captures (exactly one per confirmed order, none twice);
 * and stock: every unit taken belongs to a committed reservation of a confirmed order.
 */
async function consistency(
  dbs: Record<(typeof SERVICES)[number], Database>,
  {
    userId,
    prefix,
    productId,
  }: { userId: string; prefix: string; productId: string },
) {
  const orders = await dbs.orders.query<{ id: string; status: string }>(
    `SELECT id, status FROM orders.orders WHERE user_id = $1 AND idempotency_key LIKE $2`,
    [userId, `${prefix}-%`],
  );
  const ids = orders.map((order) => order.id);
  const confirmed = orders.filter((order) => order.status === "CONFIRMED");
  const [payments] = await dbs.payments.query<{
    captured: number;
    doubled: number;
  }>(
    `SELECT coalesce(sum(n), 0)::int AS captured, count(*) FILTER (WHERE n > 1)::int AS doubled
       FROM (SELECT order_id, count(*) AS n FROM payments.payments
              WHERE order_id = ANY($1::uuid[]) AND status = 'CAPTURED' GROUP BY order_id) per_order`,
    [ids],
  );
  const [stock] = await dbs.products.query<{
    committed: number;
    held: number;
  }>(
    `SELECT count(*) FILTER (WHERE status = 'COMMITTED')::int AS committed,
            count(*) FILTER (WHERE status <> 'RELEASED')::int AS held
       FROM products.reservations WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  // Whole-bench stock balance: units gone from the product = units in live reservations.
  const [balance] = await dbs.products.query<{
    inventory: number;
    reserved: number;
  }>(
    `SELECT (SELECT inventory FROM products.products WHERE id = $1)::int AS inventory,
            coalesce((SELECT sum((item->>'quantity')::int) FROM products.reservations r,
                      jsonb_array_elements(r.items) item
                      WHERE r.status <> 'RELEASED' AND item->>'productId' = $2), 0)::int AS reserved`,
    [productId, productId],
  );
  // Units missing from (or given back twice to) the product, plus this run's reservations that hold
  // stock without a confirmed order behind them: 0 and 0 when nothing was oversold or stranded.
  const unitsOff =
    Math.abs(STOCK - balance!.inventory - balance!.reserved) +
    Math.abs(stock!.held - confirmed.length) +
    Math.abs(stock!.committed - confirmed.length);
  return {
    placed: orders.length,
    confirmed: confirmed.length,
    pending: orders.filter((order) => order.status === "PENDING").length,
    captured: payments!.captured,
    doubleCharged: payments!.doubled,
    // Units taken without a confirmed order behind them (or given twice): 0 when nothing oversold.
    oversold: unitsOff,
  };
}
