/**
 * Live updates bench (router/live/): memory per idle subscription, and order events fanned out to
 * N subscribers with event → client latency. One process: the stack (embedded event log, PGlite)
 * and the WebSocket clients (N / 10 connections, 10 subscriptions each, the default per-connection
 * limit). Every delivery is a query through the gateway with the subscriber's context, so the
 * throughput is bounded by per-subscriber resolution, not by the fan-out itself. `--field
 * myNotifications` subscribes to the customer's notifications instead and publishes
 * `notifications.notification.delivered` events for a notification the pipeline delivered.
 *
 *   npm run bench:live [-- --subscribers 1000 --events 10 --field orderUpdated|myNotifications]
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
import { startStack } from "../stack.ts";
import { pgliteBackend } from "../tests/support/storage.ts";
import { post } from "./load.ts";

export interface LiveBenchResult {
  subscribers: number;
  events: number;
  /** Heap and RSS growth per idle subscription, router and client sides together (one process). */
  heapBytesPerSubscription: number;
  rssBytesPerSubscription: number;
  /** Deliveries (event × subscriber) and events per second over the burst. */
  deliveriesPerSecond: number;
  eventsPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  selection: string;
}

/** What each subscriber selects, per live field. */
const SELECTIONS = {
  orderUpdated: "subscription { orderUpdated { id status user { name } } }",
  myNotifications:
    "subscription { myNotifications { id subject user { name } } }",
} as const;
export type LiveBenchField = keyof typeof SELECTIONS;
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
  condition: () => boolean,
  what: string,
  timeoutMs: number,
  /** Run before each check (a poll that updates what `condition` reads). */
  poll?: () => Promise<void>,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await poll?.();
    if (condition()) return;
    if (Date.now() > deadline)
      throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, poll ? 200 : 20));
  }
}

export async function runLiveBench({
  subscribers = 1000,
  events = 10,
  field = "orderUpdated",
}: {
  subscribers?: number;
  events?: number;
  field?: LiveBenchField;
} = {}): Promise<LiveBenchResult> {
  const selection = SELECTIONS[field];
  const { storage, drop } = await pgliteBackend.open();
  const logger = pino({ level: "silent" });
  const eventLog = createMemoryEventLog({ logger });
  const quiet = { transport: "bench", send: async () => undefined };
  const router = loadRouterConfig({
    LOG_LEVEL: "silent",
    ROUTER_PORT: "0",
    ROUTER_RATE_LIMIT: "1000000000/1m",
    // A loaded machine: logins (scrypt) and bursts of per-event queries must not hit the default 3 s.
    ROUTER_SUBGRAPH_TIMEOUT_MS: "10000",
    ROUTER_REQUEST_DEADLINE_MS: "30000",
    ROUTER_SUBSCRIPTIONS_PER_CLIENT: String(subscribers),
    ROUTER_SUBSCRIPTION_MAX_QUEUED_EVENTS: String(Math.max(100, events * 2)),
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
    const customer = demoUsers[1]!;
    const login = await post(stack.routerUrl, {
      query:
        "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token user { id } } }",
      variables: { e: customer.email, p: DEMO_PASSWORD },
    });
    const {
      token,
      user: { id },
    } = (login.json.data as { logIn: { token: string; user: { id: string } } })
      .logIn;
    const authorization = `Bearer ${token}`;
    const products = await post(stack.routerUrl, {
      query: "{ products(first: 20) { edges { node { id inStock } } } }",
    });
    const productId = (
      products.json.data as {
        products: { edges: Array<{ node: { id: string; inStock: boolean } }> };
      }
    ).products.edges.find(({ node }) => node.inStock)!.node.id;
    const placed = await post(
      stack.routerUrl,
      {
        query:
          "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }",
        variables: {
          input: {
            items: [{ productId, quantity: 1 }],
            idempotencyKey: randomUUID(),
            paymentToken: "tok_visa",
          },
        },
      },
      { authorization },
    );
    const orderId = (placed.json.data as { placeOrder: { id: string } })
      .placeOrder.id;
    // myNotifications: a notification the pipeline delivered for that order, read back per event.
    let notificationId: string | undefined;
    if (field === "myNotifications")
      await until(
        () => notificationId !== undefined,
        "the order's notification",
        60_000,
        async () => {
          const listed = await post(
            stack.routerUrl,
            {
              query:
                "{ me { notifications(first: 1) { edges { node { id } } } } }",
            },
            { authorization },
          );
          notificationId = (
            listed.json.data as {
              me: { notifications: { edges: Array<{ node: { id: string } }> } };
            } | null
          )?.me.notifications.edges[0]?.node.id;
        },
      );

    await settle();
    const before = process.memoryUsage();
    const received: number[][] = [];
    for (let c = 0; c < Math.ceil(subscribers / 10); c += 1) {
      const client = createClient({
        url: stack.routerUrl.replace(/^http/, "ws"),
        webSocketImpl: WebSocket,
        connectionParams: { authorization },
        retryAttempts: 0,
      });
      clients.push(client);
      for (let s = 0; s < 10 && c * 10 + s < subscribers; s += 1) {
        const times: number[] = [];
        received.push(times);
        client.subscribe(
          { query: selection },
          {
            next: () => void times.push(Date.now()),
            error: () => undefined,
            complete: () => undefined,
          },
        );
      }
    }
    await until(
      () => stack.router.live.fanOut.size === subscribers,
      `${subscribers} subscriptions`,
      120_000,
    );
    await settle();
    const after = process.memoryUsage();

    const publishedAt: number[] = [];
    const startedAt = Date.now();
    for (let e = 0; e < events; e += 1) {
      publishedAt.push(Date.now());
      const [topic, type, data] =
        field === "orderUpdated"
          ? [
              "switchyard.orders",
              "orders.order.confirmed",
              {
                orderId,
                userId: id,
                total: 1000,
                currency: "USD",
                status: "CONFIRMED",
              },
            ]
          : [
              "switchyard.notifications",
              "notifications.notification.delivered",
              { notificationId, userId: id },
            ];
      await eventLog.publish(topic, [
        {
          key: id,
          value: JSON.stringify({
            eventId: randomUUID(),
            type,
            version: 1,
            occurredAt: new Date().toISOString(),
            key: id,
            correlationId: orderId,
            traceparent: null,
            data,
          }),
        },
      ]);
    }
    await until(
      () => received.every((times) => times.length >= events),
      "every delivery",
      600_000,
    );
    const elapsedS =
      (Math.max(...received.map((times) => times[events - 1]!)) - startedAt) /
      1000;
    const latencies = received
      .flatMap((times) =>
        times.slice(0, events).map((at, e) => at - publishedAt[e]!),
      )
      .sort((a, b) => a - b);
    return {
      subscribers,
      events,
      heapBytesPerSubscription: Math.round(
        (after.heapUsed - before.heapUsed) / subscribers,
      ),
      rssBytesPerSubscription: Math.round(
        (after.rss - before.rss) / subscribers,
      ),
      deliveriesPerSecond: Math.round((subscribers * events) / elapsedS),
      eventsPerSecond: Number((events / elapsedS).toFixed(2)),
      latencyMs: {
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        max: latencies.at(-1) ?? 0,
      },
      selection,
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
      field: { type: "string", default: "orderUpdated" },
    },
  });
  if (!(values.field in SELECTIONS))
    throw new Error(
      `bench:live: --field must be one of ${Object.keys(SELECTIONS).join(", ")}`,
    );
  const result = await runLiveBench({
    subscribers: Number(values.subscribers),
    events: Number(values.events),
    field: values.field as LiveBenchField,
  });
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
