/**
 * The router deployed alone — router/main.ts as its own process, what the compose file and
 * `npm run start:distributed` run — and its live updates: with KAFKA_BROKERS it follows the order
 * events on Kafka under a consumer group of its own; without, subscribing answers
 * SUBSCRIPTIONS_UNAVAILABLE at once instead of holding a stream that never speaks. The subgraphs
 * and the outbox relay run in this process (bootStack), so only the router is the deployable here.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Storage } from "../../platform/database.ts";
import { DEMO_PASSWORD } from "../../platform/demo-data.ts";
import { SUBGRAPH_NAMES } from "../../platform/services.ts";
import type { Stack, StackOptions } from "../../stack.ts";
import {
  KAFKA_BROKERS,
  probeKafka,
  unique,
  waitFor,
} from "../support/brokers.ts";
import {
  FOLLOW,
  NOTIFIED,
  subscribeSse,
  subscribeWs,
  wsClient,
  type Notified,
} from "../support/live.ts";
import { startProcess, type Service } from "../support/process.ts";
import {
  expectFollowedToConfirmation,
  kafkaLivePipeline,
  untilUpdates,
} from "../support/live-orders.ts";
import { ada, grace, placeOrderAt } from "../support/place-order.ts";
import { newProduct } from "../support/saga.ts";
import { bearerFor, bootStack } from "../support/stack.ts";
import { pgliteBackend } from "../support/storage.ts";

const kafkaReason = await probeKafka();

/** The subgraphs (and, with `events`, the relay) in this process; `url()` is the standalone router's. */
function standaloneRouter(
  routerEnv: () => Record<string, string>,
  events?: () => StackOptions["events"],
) {
  const secret = randomBytes(32).toString("base64url");
  const state = {} as {
    storage: Storage;
    drop: () => Promise<void>;
    stack: Stack;
    router: Service;
    url: string;
  };
  beforeAll(async () => {
    ({ storage: state.storage, drop: state.drop } = await pgliteBackend.open());
    const pipeline = events?.();
    state.stack = await bootStack(state.storage, {
      internalTokenSecret: secret,
      routerEnv: { ROUTER_RATE_LIMIT: "100000/1m" },
      payments: { providerTimeoutMs: 50 },
      ...(pipeline ? { events: pipeline } : {}),
    });
    const subgraphUrls = Object.fromEntries(
      SUBGRAPH_NAMES.map((name) => [
        `${name.toUpperCase()}_URL`,
        state.stack.subgraphs[name].url,
      ]),
    );
    state.router = await startProcess("router/main.ts", {
      env: {
        ...subgraphUrls,
        ROUTER_PORT: "0",
        HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
        INTERNAL_TOKEN_SECRET: secret,
        // Logins and events share two loaded cores with other test files: generous time limits.
        ROUTER_RATE_LIMIT: "100000/1m",
        ROUTER_SUBGRAPH_TIMEOUT_MS: "30000",
        ROUTER_REQUEST_DEADLINE_MS: "30000",
        KAFKA_BROKERS: "",
        KAFKA_TOPIC_PREFIX: "",
        ...routerEnv(),
      },
      readyLine: /Router ready at \S+/,
      timeoutMs: 120_000,
    });
    state.url = /Router ready at (\S+)/.exec(state.router.output())![1]!;
  }, 240_000);
  afterAll(async () => {
    await state.router?.stop();
    await state.stack?.stop();
    await state.drop?.();
  });
  return state;
}

/** `router_subscriptions` on the standalone router's /metrics (served on the public port outside production). */
async function held(routerUrl: string): Promise<number | undefined> {
  const text = await (await fetch(new URL("/metrics", routerUrl))).text();
  const found = /^router_subscriptions(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1];
  return found === undefined ? undefined : Number(found);
}

describe("the router deployed alone without KAFKA_BROKERS", () => {
  const state = standaloneRouter(() => ({}));

  it("answers a subscription with SUBSCRIPTIONS_UNAVAILABLE and ends the stream, and says why at start-up", async () => {
    const auth = await bearerFor(state.url, ada.email, DEMO_PASSWORD);
    const sse = subscribeSse(state.url, auth, FOLLOW);
    const client = wsClient(state.url, auth);
    const ws = subscribeWs(client, FOLLOW);
    await waitFor(() => (sse.done && ws.done ? true : undefined), {
      what: "both subscriptions refused",
    });
    expect(sse.codes()).toEqual(["SUBSCRIPTIONS_UNAVAILABLE"]);
    expect(ws.codes()).toEqual(["SUBSCRIPTIONS_UNAVAILABLE"]);
    expect(await held(state.url)).toBe(0);
    expect(state.router.output()).toMatch(
      /no event stream: subscriptions answer SUBSCRIPTIONS_UNAVAILABLE/,
    );
    await client.dispose();
  }, 60_000);
});

describe.skipIf(kafkaReason)("the router deployed alone on real Kafka", () => {
  const prefix = unique("router-live");
  const state = standaloneRouter(
    () => ({
      KAFKA_BROKERS: KAFKA_BROKERS.join(","),
      KAFKA_TOPIC_PREFIX: `${prefix}.`,
    }),
    () => kafkaLivePipeline(prefix),
  );

  it("follows an order from PENDING to CONFIRMED with fields from four subgraphs, and its confirmation on myNotifications; the in-process router, in a group of its own, sees the same events; another customer sees nothing; SIGTERM ends the stream with SUBSCRIPTION_CLOSED", async () => {
    const adaAuth = await bearerFor(state.url, ada.email, DEMO_PASSWORD);
    const graceAuth = await bearerFor(state.url, grace.email, DEMO_PASSWORD);
    const productId = await newProduct(state.stack, 100);
    const client = wsClient(state.url, adaAuth);
    const mine = subscribeWs(client, FOLLOW);
    const theirs = subscribeSse(state.url, graceAuth, FOLLOW);
    const otherInstance = subscribeSse(state.stack.routerUrl, adaAuth, FOLLOW);
    // The same consumer follows the pipeline's deliveries (switchyard.notifications) too.
    const inbox = subscribeSse(state.url, adaAuth, NOTIFIED);
    await waitFor(
      async () =>
        (await held(state.url)) === 3 &&
        state.stack.router.live.fanOut.size === 1
          ? true
          : undefined,
      { what: "subscriptions held by both routers" },
    );

    const { data, errors } = await placeOrderAt(state.url, adaAuth, productId);
    expect(errors).toBeUndefined();
    const orderId = data!.placeOrder.id;
    for (const subscription of [mine, otherInstance]) {
      await untilUpdates(subscription, orderId, ["PENDING", "CONFIRMED"]);
      expectFollowedToConfirmation(subscription, orderId, ada.name);
    }
    expect(theirs.results()).toEqual([]);
    const notified = await waitFor(
      () => (inbox.results() as Notified[])[0]?.myNotifications,
      { what: "the confirmation on myNotifications", timeoutMs: 30_000 },
    );
    expect(notified.eventType).toBe("orders.order.confirmed");
    expect(notified.user?.name).toBe(ada.name);

    // Stopped like a container: the drain's last word reaches the subscriber, the process exits 0.
    expect(await state.router.stop("SIGTERM")).toBe(0);
    await waitFor(() => (mine.done ? true : undefined), {
      what: "the stream to end",
    });
    expect(mine.codes()).toContain("SUBSCRIPTION_CLOSED");
    otherInstance.stop();
    theirs.stop();
    inbox.stop();
    await client.dispose();
  }, 120_000);
});
