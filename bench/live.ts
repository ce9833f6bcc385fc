/**
 * Live updates bench (router/live/): memory per idle subscription, and order events fanned out to
 * N subscribers with event → client latency. One process: the stack (embedded event log, PGlite)
 * and the WebSocket clients (one connection per 10 subscriptions, the default per-connection
 * limit). Two scenarios:
 *
 * - `one-customer` (the default): N subscribers of one customer, all with the same selection, and
 *   E events of one order: the best case for sharing one resolution between subscribers.
 * - `mixed`: N subscribers spread over C customers (3 selections each, one of them on the
 *   customer's order by id) plus A admin subscriptions on every order (2 selections), and E events
 *   for each customer's order: each event concerns one customer's subscribers and the admins.
 *
 * - `--field myNotifications` (one-customer only): the subscribers follow the customer's
 *   notifications instead, and the bench publishes `notifications.notification.delivered` events
 *   for a notification the pipeline delivered for the customer's order.
 *
 *   npm run bench:live [-- --subscribers 1000 --events 10] [--scenario mixed --customers 100 --admins 10]
 *                      [--field orderUpdated|myNotifications]
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { createClient } from "graphql-ws";
import { pino } from "pino";
import WebSocket from "ws";
import { createMemoryEventLog } from "../events/event-log.ts";
import { createMemoryJobQueue } from "../events/job-queue.ts";
import { demoUsers, DEMO_PASSWORD } from "../platform/demo-data.ts";
import { loadRouterConfig } from "../router/config.ts";
import { startStack, type Stack } from "../stack.ts";
import { pgliteBackend } from "../tests/support/storage.ts";
import { post } from "./load.ts";

export type LiveScenario = "one-customer" | "mixed";

export interface LiveBenchResult {
  scenario: LiveScenario;
  field: LiveBenchField;
  subscribers: number;
  /** Events published (one-customer: E; mixed: E per customer). */
  events: number;
  /** Deliveries expected and received (event × subscriber it concerns). */
  deliveries: number;
  /** Heap and RSS growth per idle subscription, router and client sides together (one process). */
  heapBytesPerSubscription: number;
  rssBytesPerSubscription: number;
  /** Deliveries (event × subscriber) and events per second over the burst. */
  deliveriesPerSecond: number;
  eventsPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** Errors of deliveries that carried no order (a subgraph failed under the burst), by code. */
  failedDeliveries: Record<string, number>;
  /** Per-event resolutions the router ran, and how many deliveries joined one instead. */
  resolutions: { run: number; joined: number };
  selection: string;
}

const SELECTION = "subscription { orderUpdated { id status user { name } } }";
/** The mixed scenario's selections: the second shares the first's per-event query (see entity-query.ts). */
const CUSTOMER_SELECTIONS = [
  SELECTION,
  "subscription($id: ID) { orderUpdated(id: $id) { id status user { name } } }",
  "subscription { orderUpdated { id status total currency items { quantity product { name } } } }",
];
const ADMIN_SELECTIONS = [
  SELECTION,
  "subscription { orderUpdated { id status user { name email } payment { status } } }",
];
/** What each subscriber of the one-customer scenario selects, per live field. */
const SELECTIONS = {
  orderUpdated: SELECTION,
  myNotifications:
    "subscription { myNotifications { id subject user { name } } }",
} as const;
export type LiveBenchField = keyof typeof SELECTIONS;
/** Progress on stderr (the result is the JSON on stdout): a long run shows where it is. */
const progress = (what: string) =>
  process.stderr.write(`${new Date().toISOString()} ${what}\n`);
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const settle = async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i += 1) {
    gc?.();
    await new Promise((done) => setTimeout(done, 50));
  }
};

async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

/** One subscription of the bench: whose, what, and which published events (indices) it expects. */
interface Planned {
  readonly authorization: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly expects: number[];
}

interface Customer {
  readonly authorization: string;
  readonly userId: string;
  readonly orderId: string;
}

async function gql<T>(
  stack: Stack,
  query: string,
  variables: Record<string, unknown>,
  authorization?: string,
): Promise<T> {
  const { json } = await post(
    stack.routerUrl,
    { query, variables },
    authorization ? { authorization } : {},
  );
  if (!json.data) throw new Error(`bench: ${JSON.stringify(json.errors)}`);
  return json.data as T;
}

async function logIn(stack: Stack, email: string) {
  const { logIn } = await gql<{
    logIn: { token: string; user: { id: string } };
  }>(
    stack,
    "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token user { id } } }",
    { e: email, p: DEMO_PASSWORD },
  );
  return { authorization: `Bearer ${logIn.token}`, userId: logIn.user.id };
}

async function placeOrder(
  stack: Stack,
  authorization: string,
  productId: string,
) {
  const { placeOrder } = await gql<{ placeOrder: { id: string } }>(
    stack,
    "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }",
    {
      input: {
        items: [{ productId, quantity: 1 }],
        idempotencyKey: randomUUID(),
        paymentToken: "tok_visa",
      },
    },
    authorization,
  );
  return placeOrder.id;
}

/** `count` customers, each with one order: the demo customer first, then fresh sign-ups. */
async function customers(
  stack: Stack,
  count: number,
  productIds: string[],
): Promise<Customer[]> {
  const made: Customer[] = [];
  const first = await logIn(stack, demoUsers[1]!.email);
  made.push({
    ...first,
    orderId: await placeOrder(stack, first.authorization, productIds[0]!),
  });
  // A few at a time: sign-up hashes a password (scrypt) on the users subgraph, in this process.
  for (let from = 1; from < count; from += 4) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(4, count - from) }, async (_, i) => {
        const { signUp } = await gql<{
          signUp: { token: string; user: { id: string } };
        }>(
          stack,
          "mutation($input: SignUpInput!) { signUp(input: $input) { token user { id } } }",
          {
            input: {
              email: `bench-${randomUUID()}@switchyard.dev`,
              name: `Bench ${from + i}`,
              password: DEMO_PASSWORD,
            },
          },
        );
        const authorization = `Bearer ${signUp.token}`;
        const productId = productIds[(from + i) % productIds.length]!;
        return {
          authorization,
          userId: signUp.user.id,
          orderId: await placeOrder(stack, authorization, productId),
        };
      }),
    );
    made.push(...batch);
  }
  return made;
}

/**
 * The bench's events say CANCELLED, which the saga of the orders placed above never does: a late
 * saga event (placed, confirmed) reaching a subscriber is not counted as one of the burst's.
 */
const BENCH_STATUS = "CANCELLED";
const orderEvent = (orderId: string, userId: string) => ({
  key: orderId,
  value: JSON.stringify({
    eventId: randomUUID(),
    type: "orders.order.cancelled",
    version: 1,
    occurredAt: new Date().toISOString(),
    key: orderId,
    correlationId: orderId,
    traceparent: null,
    data: {
      orderId,
      userId,
      total: 1000,
      currency: "USD",
      status: BENCH_STATUS,
    },
  }),
});

const deliveredEvent = (
  notificationId: string,
  userId: string,
  orderId: string,
) => ({
  key: userId,
  value: JSON.stringify({
    eventId: randomUUID(),
    type: "notifications.notification.delivered",
    version: 1,
    occurredAt: new Date().toISOString(),
    key: userId,
    correlationId: orderId,
    traceparent: null,
    data: { notificationId, userId },
  }),
});

export async function runLiveBench({
  subscribers = 1000,
  events = 10,
  scenario = "one-customer",
  customerCount = 100,
  admins = 10,
  field = "orderUpdated",
}: {
  subscribers?: number;
  events?: number;
  scenario?: LiveScenario;
  /** Mixed scenario: customers the subscribers are spread over. */
  customerCount?: number;
  /** Mixed scenario: admin subscriptions (on every order), included in `subscribers`. */
  admins?: number;
  /** One-customer scenario: the live field every subscriber follows. */
  field?: LiveBenchField;
} = {}): Promise<LiveBenchResult> {
  if (scenario === "mixed" && field !== "orderUpdated")
    throw new Error(
      "bench: --field myNotifications runs in the one-customer scenario only",
    );
  const { storage, drop } = await pgliteBackend.open();
  const logger = pino({ level: "silent" });
  const eventLog = createMemoryEventLog({ logger });
  const quiet = { transport: "bench", send: async () => undefined };
  const customerSubscribers =
    scenario === "mixed" ? subscribers - admins : subscribers;
  const published = scenario === "mixed" ? events * customerCount : events;
  const router = loadRouterConfig({
    LOG_LEVEL: "silent",
    ROUTER_PORT: "0",
    ROUTER_RATE_LIMIT: "1000000000/1m",
    // The mixed scenario signs up its customers from one address.
    ROUTER_RATE_LIMIT_FIELDS:
      "Mutation.logIn=1000000/1m,Mutation.signUp=1000000/1m",
    // A loaded machine: sign-ups, logins (scrypt) and bursts of per-event queries must not hit the
    // default 3 s.
    ROUTER_SUBGRAPH_TIMEOUT_MS: "30000",
    ROUTER_REQUEST_DEADLINE_MS: "30000",
    ROUTER_SUBSCRIPTIONS_PER_CLIENT: String(subscribers),
    // An admin subscriber takes every event of the burst: none is dropped for being slow.
    ROUTER_SUBSCRIPTION_MAX_QUEUED_EVENTS: String(Math.max(100, published * 2)),
  });
  const stack = await startStack({
    storage,
    logger,
    ports: { users: 0, products: 0, orders: 0, payments: 0, notifications: 0 },
    router,
    internalTokenSecret: randomUUID() + randomUUID(),
    events: {
      eventLog,
      jobQueue: createMemoryJobQueue({ logger }),
      senders: { email: quiet, sms: quiet, push: quiet },
      relayPollIntervalMs: 50,
    },
  });
  const clients: Array<ReturnType<typeof createClient>> = [];
  try {
    const { products } = await gql<{
      products: { edges: Array<{ node: { id: string; inStock: boolean } }> };
    }>(stack, "{ products(first: 20) { edges { node { id inStock } } } }", {});
    const productIds = products.edges
      .filter(({ node }) => node.inStock)
      .map(({ node }) => node.id);
    progress("stack up; placing orders");
    const owners = await customers(
      stack,
      scenario === "mixed" ? customerCount : 1,
      productIds,
    );
    // Events in publish order: round r, then each customer's order.
    const eventOwners = Array.from(
      { length: published },
      (_, e) => e % owners.length,
    );
    const planned: Planned[] = [];
    for (let s = 0; s < customerSubscribers; s += 1) {
      const owner = s % owners.length;
      const { authorization, orderId } = owners[owner]!;
      const query =
        scenario === "mixed"
          ? CUSTOMER_SELECTIONS[
              Math.floor(s / owners.length) % CUSTOMER_SELECTIONS.length
            ]!
          : SELECTIONS[field];
      planned.push({
        authorization,
        query,
        ...(query.includes("$id") ? { variables: { id: orderId } } : {}),
        expects: eventOwners.flatMap((o, e) => (o === owner ? [e] : [])),
      });
    }
    if (scenario === "mixed") {
      const admin = await logIn(stack, demoUsers[0]!.email);
      for (let a = 0; a < admins; a += 1)
        planned.push({
          authorization: admin.authorization,
          query: ADMIN_SELECTIONS[a % ADMIN_SELECTIONS.length]!,
          expects: eventOwners.map((_, e) => e),
        });
    }

    // The saga's own events (placed, confirmed…) must be over before subscribing: a failed
    // resolution of one of them would look like one of the burst's.
    for (const { authorization, orderId } of owners)
      await until(
        async () =>
          (
            await gql<{ order: { status: string } | null }>(
              stack,
              "query($id: ID!) { order(id: $id) { status } }",
              { id: orderId },
              authorization,
            )
          ).order?.status !== "PENDING",
        `order ${orderId} past PENDING`,
        120_000,
      );
    // myNotifications: a notification the pipeline delivered for the order, read back per event.
    let notificationId: string | undefined;
    if (field === "myNotifications") {
      const { authorization } = owners[0]!;
      await until(
        async () => {
          const { me } = await gql<{
            me: { notifications: { edges: Array<{ node: { id: string } }> } };
          }>(
            stack,
            "{ me { notifications(first: 1) { edges { node { id } } } } }",
            {},
            authorization,
          );
          notificationId = me.notifications.edges[0]?.node.id;
          return notificationId !== undefined;
        },
        "the order's notification",
        120_000,
      );
    }
    progress(`${owners.length} customers with an order; subscribing`);
    await settle();
    const before = process.memoryUsage();
    const received = planned.map(() => [] as number[]);
    const failures = new Map<string, number>();
    // One connection per caller per 10 subscriptions (the default per-connection limit).
    const byCaller = new Map<string, number[]>();
    planned.forEach(({ authorization }, i) =>
      byCaller.set(authorization, [...(byCaller.get(authorization) ?? []), i]),
    );
    for (const [authorization, indices] of byCaller)
      for (let from = 0; from < indices.length; from += 10) {
        const client = createClient({
          url: stack.routerUrl.replace(/^http/, "ws"),
          webSocketImpl: WebSocket,
          connectionParams: { authorization },
          retryAttempts: 0,
        });
        clients.push(client);
        for (const i of indices.slice(from, from + 10)) {
          const { query, variables } = planned[i]!;
          client.subscribe(
            { query, ...(variables ? { variables } : {}) },
            {
              next: (result) => {
                const payload = result.data as {
                  orderUpdated?: { status?: string };
                  myNotifications?: { id?: string };
                } | null;
                const order = payload?.orderUpdated ?? payload?.myNotifications;
                // An event that could not be resolved (a subgraph failed or timed out under the
                // burst) is still delivered, as an error: counted, and reported apart.
                const failed = !order && (result.errors?.length ?? 0) > 0;
                const ours =
                  field === "orderUpdated"
                    ? payload?.orderUpdated?.status === BENCH_STATUS
                    : payload?.myNotifications?.id === notificationId;
                if (ours || failed) received[i]!.push(Date.now());
                if (failed)
                  for (const error of result.errors ?? []) {
                    const code = String(error.extensions?.code ?? "none");
                    failures.set(code, (failures.get(code) ?? 0) + 1);
                  }
              },
              error: () => undefined,
              complete: () => undefined,
            },
          );
        }
      }
    await until(
      () => stack.router.live.fanOut.size === planned.length,
      `${planned.length} subscriptions`,
      300_000,
    );
    await settle();
    const after = process.memoryUsage();
    const sharingBefore = { ...stack.router.live.sharing };

    progress(`${planned.length} subscriptions held; publishing`);
    const publishedAt: number[] = [];
    const startedAt = Date.now();
    for (const owner of eventOwners) {
      const { orderId, userId } = owners[owner]!;
      publishedAt.push(Date.now());
      await eventLog.publish(
        field === "orderUpdated"
          ? "switchyard.orders"
          : "switchyard.notifications",
        [
          field === "orderUpdated"
            ? orderEvent(orderId, userId)
            : deliveredEvent(notificationId!, userId, orderId),
        ],
      );
    }
    progress(`${published} events published; waiting for deliveries`);
    await until(
      () =>
        received.every(
          (times, i) => times.length >= planned[i]!.expects.length,
        ),
      "every delivery",
      900_000,
    );
    const lastAt = Math.max(...received.flatMap((times) => times));
    const elapsedS = (lastAt - startedAt) / 1000;
    // A subscriber's n-th result is its n-th expected event (ordering per subscriber is kept).
    const latencies = received
      .flatMap((times, i) =>
        planned[i]!.expects.map((e, n) => times[n]! - publishedAt[e]!),
      )
      .sort((a, b) => a - b);
    const deliveries = latencies.length;
    const { sharing } = stack.router.live;
    return {
      scenario,
      field,
      subscribers: planned.length,
      events: published,
      deliveries,
      heapBytesPerSubscription: Math.round(
        (after.heapUsed - before.heapUsed) / planned.length,
      ),
      rssBytesPerSubscription: Math.round(
        (after.rss - before.rss) / planned.length,
      ),
      failedDeliveries: Object.fromEntries(failures),
      deliveriesPerSecond: Math.round(deliveries / elapsedS),
      eventsPerSecond: Number((published / elapsedS).toFixed(2)),
      latencyMs: {
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        max: latencies.at(-1) ?? 0,
      },
      resolutions: {
        run: sharing.resolutions - sharingBefore.resolutions,
        joined: sharing.joined - sharingBefore.joined,
      },
      selection:
        scenario === "mixed"
          ? [...CUSTOMER_SELECTIONS, ...ADMIN_SELECTIONS].join(" | ")
          : SELECTIONS[field],
    };
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    await stack.stop();
    await drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      subscribers: { type: "string", default: "1000" },
      events: { type: "string", default: "10" },
      scenario: { type: "string", default: "one-customer" },
      customers: { type: "string", default: "100" },
      admins: { type: "string", default: "10" },
      field: { type: "string", default: "orderUpdated" },
    },
  });
  const scenario = values.scenario;
  if (scenario !== "one-customer" && scenario !== "mixed")
    throw new Error(
      `bench: --scenario is one-customer or mixed, not ${scenario}`,
    );
  if (!(values.field in SELECTIONS))
    throw new Error(
      `bench: --field is one of ${Object.keys(SELECTIONS).join(", ")}, not ${values.field}`,
    );
  const result = await runLiveBench({
    field: values.field as LiveBenchField,
    subscribers: Number(values.subscribers),
    events: Number(values.events),
    scenario,
    customerCount: Number(values.customers),
    admins: Number(values.admins),
  });
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
