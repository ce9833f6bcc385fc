import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryEventLog } from "../../events/event-log.ts";
import type { Storage } from "../../platform/database.ts";
import { demoUsers, DEMO_PASSWORD } from "../../platform/demo-data.ts";
import { TEST_USERS_OPTIONS } from "../support/users.ts";
import type { Stack, StackOptions } from "../../stack.ts";
import { probeKafka, unique, waitFor } from "../support/brokers.ts";
import {
  FOLLOW,
  livePipeline,
  NOTIFIED,
  subscribeSse,
  subscribeWs,
  wsClient,
  type Followed,
  type HeldSubscription,
  type Notified,
} from "../support/live.ts";
import {
  expectFollowedToConfirmation,
  kafkaLivePipeline,
  untilUpdates,
  updatesOf,
} from "../support/live-orders.ts";
import { ada, grace, placeOrderAt } from "../support/place-order.ts";
import { newProduct } from "../support/saga.ts";
import { bearerFor, bootStack, gql, silentLogger } from "../support/stack.ts";
import { pgliteBackend } from "../support/storage.ts";

const kafkaReason = await probeKafka();

const admin = demoUsers.find((user) => user.role === "ADMIN")!;

function liveSuite(
  transport: string,
  pipeline: () => NonNullable<StackOptions["events"]>,
) {
  let storage: Storage;
  let drop: () => Promise<void>;
  let stack: Stack;
  let adaAuth: Record<string, string>;
  let graceAuth: Record<string, string>;
  let adminAuth: Record<string, string>;
  let productId: string;

  beforeAll(async () => {
    ({ storage, drop } = await pgliteBackend.open());
    stack = await bootStack(storage, {
      // Logins and events share two loaded cores with the other test files: generous subgraph timeouts.
      routerEnv: {
        ROUTER_RATE_LIMIT: "100000/1m",
        ROUTER_SUBGRAPH_TIMEOUT_MS: "30000",
        ROUTER_REQUEST_DEADLINE_MS: "30000",
      },
      payments: { providerTimeoutMs: 50 },
      events: pipeline(),
    });
    const login = (email: string) =>
      bearerFor(stack.routerUrl, email, DEMO_PASSWORD);
    adaAuth = await login(ada.email);
    graceAuth = await login(grace.email);
    adminAuth = await login(admin.email);
    productId = await newProduct(stack, 1000);
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
    await drop?.();
  });

  const placeOrder = async (
    auth: Record<string, string>,
    paymentToken?: string,
  ) => {
    const { data, errors } = await placeOrderAt(
      stack.routerUrl,
      auth,
      productId,
      paymentToken,
    );
    return data?.placeOrder ?? { id: "", status: JSON.stringify(errors) };
  };
  const held = () => stack.router.live.fanOut.size;
  /** Waits until the router holds exactly `count` subscriptions (earlier tests' ones end asynchronously). */
  const holding = (count: number) =>
    waitFor(() => (held() === count ? true : undefined), {
      what: `${count} subscriptions held`,
    });
  const statusesOf = (subscription: HeldSubscription, id: string) =>
    updatesOf(subscription, id).map((order) => order.status);
  /**
   * Ada on WebSocket and on SSE, Grace on WebSocket, and the admin on SSE, all subscribed to
   * `query` and held by the router (earlier tests' subscriptions gone first).
   */
  const subscribeEveryone = async (query: string) => {
    const client = wsClient(stack.routerUrl, adaAuth);
    const graceClient = wsClient(stack.routerUrl, graceAuth);
    await holding(0);
    const held = {
      mine: subscribeWs(client, query),
      sse: subscribeSse(stack.routerUrl, adaAuth, query),
      theirs: subscribeWs(graceClient, query),
      admins: subscribeSse(stack.routerUrl, adminAuth, query),
    };
    await holding(4);
    return {
      ...held,
      graceClient,
      async close() {
        for (const subscription of Object.values(held)) subscription.stop();
        await Promise.all([client.dispose(), graceClient.dispose()]);
      },
    };
  };

  it(`placeOrder → the customer's ${transport} subscription gets PENDING then CONFIRMED with fields from four subgraphs; another customer's gets nothing`, async () => {
    const everyone = await subscribeEveryone(FOLLOW);
    // The admin follows every order: Ada's too.
    const { mine, sse, theirs, admins: everything, graceClient } = everyone;

    const order = await placeOrder(adaAuth);
    expect(order.status).toBe("CONFIRMED");
    for (const subscription of [mine, sse, everything]) {
      await untilUpdates(subscription, order.id, ["PENDING", "CONFIRMED"]);
      expectFollowedToConfirmation(subscription, order.id, ada.name);
    }
    expect(theirs.results()).toEqual([]);

    // Grace may not follow Ada's order: refused when subscribing.
    const forbidden = subscribeWs(graceClient, FOLLOW, { id: order.id });
    await waitFor(() => (forbidden.done ? true : undefined), {
      what: "refusal",
    });
    expect(forbidden.codes()).toContain("FORBIDDEN");
    await everyone.close();
  }, 60_000);

  it(`placeOrder → the customer's myNotifications (WebSocket and SSE) gets the order confirmation with fields resolved through the router; another customer and an admin get nothing of it (${transport})`, async () => {
    // An admin's myNotifications is their own: admins follow every order, not every inbox.
    const everyone = await subscribeEveryone(NOTIFIED);
    const { mine, sse, theirs, admins } = everyone;
    const handedOut = stack.router.live.fanOut.delivered;

    const order = await placeOrder(adaAuth);
    expect(order.status).toBe("CONFIRMED");
    const notified = (subscription: HeldSubscription) =>
      (subscription.results() as Notified[]).map(
        (result) => result.myNotifications,
      );
    const idsOf = (subscription: HeldSubscription) =>
      notified(subscription)
        .map((notification) => notification.id)
        .sort();
    // Every delivery of the confirmation reached both of Ada's subscriptions, the read side lists
    // the same ones, and the fan-out handed each event to those two only (never to Grace's or the
    // admin's subscription, which would raise the count for good).
    const delivered = await waitFor(
      async () => {
        const ws = idsOf(mine);
        if (ws.length === 0 || idsOf(sse).join() !== ws.join())
          return undefined;
        const { data } = await gql<{
          me: { notifications: { edges: Array<{ node: { id: string } }> } };
        }>(
          stack.routerUrl,
          `{ me { notifications(first: 50) { edges { node { id } } } } }`,
          {},
          adaAuth,
        );
        const listed = new Set(
          data?.me.notifications.edges.map((edge) => edge.node.id),
        );
        return ws.every((id) => listed.has(id)) &&
          stack.router.live.fanOut.delivered - handedOut === 2 * ws.length
          ? ws
          : undefined;
      },
      {
        what: `the confirmation of ${order.id} on myNotifications`,
        timeoutMs: 30_000,
      },
    );
    for (const subscription of [mine, sse])
      for (const notification of notified(subscription)) {
        expect(notification.eventType).toBe("orders.order.confirmed");
        expect(notification.user?.name).toBe(ada.name);
        expect(["EMAIL", "SMS", "PUSH"]).toContain(notification.channel);
        expect(notification.subject).not.toBe("");
        expect(Date.parse(notification.deliveredAt)).not.toBeNaN();
      }
    expect(delivered.length).toBeGreaterThan(0);
    expect(theirs.results()).toEqual([]);
    expect(admins.results()).toEqual([]);
    await everyone.close();
  }, 60_000);

  it(`a declined card gives PENDING then FAILED, and cancelling gives CANCELLED (${transport})`, async () => {
    const client = wsClient(stack.routerUrl, adaAuth);
    await holding(0);
    const all = subscribeWs(client, FOLLOW);
    await holding(1);
    // A declined card fails the mutation (PAYMENT_DECLINED): the order's id comes from the stream.
    const declined = await placeOrder(adaAuth, "tok_declined");
    expect(declined.status).toContain("PAYMENT_DECLINED");
    const failedId = await waitFor(
      () =>
        (all.results() as Followed[])
          .map((result) => result.orderUpdated)
          .find((order) => order.status === "FAILED")?.id,
      { what: "a FAILED order", timeoutMs: 30_000 },
    );
    expect(statusesOf(all, failedId)).toEqual(["PENDING", "FAILED"]);

    const kept = await placeOrder(adaAuth);
    const one = subscribeSse(stack.routerUrl, adaAuth, FOLLOW, {
      id: kept.id,
    });
    await holding(2);
    const { errors } = await gql(
      stack.routerUrl,
      `mutation($id: ID!) { cancelOrder(id: $id) { status } }`,
      { id: kept.id },
      adaAuth,
    );
    expect(errors).toBeUndefined();
    await untilUpdates(one, kept.id, ["CANCELLED"]);
    expect(statusesOf(one, kept.id)).toEqual(["CANCELLED"]);
    await untilUpdates(all, kept.id, ["PENDING", "CONFIRMED", "CANCELLED"]);
    all.stop();
    one.stop();
    await client.dispose();
  }, 60_000);

  it(`anonymous callers and bad tokens cannot subscribe (${transport})`, async () => {
    const anonymous = wsClient(stack.routerUrl);
    const refused = subscribeWs(anonymous, FOLLOW);
    await waitFor(() => (refused.done ? true : undefined));
    expect(refused.codes()).toContain("UNAUTHENTICATED");
    const noInbox = subscribeWs(anonymous, NOTIFIED);
    const noInboxSse = subscribeSse(stack.routerUrl, {}, NOTIFIED);
    await waitFor(() => (noInbox.done && noInboxSse.done ? true : undefined));
    expect(noInbox.codes()).toContain("UNAUTHENTICATED");
    expect(noInboxSse.codes()).toContain("UNAUTHENTICATED");
    await anonymous.dispose();

    const response = await fetch(`${stack.routerUrl}/stream`, {
      method: "POST",
      headers: {
        accept: "text/event-stream",
        "content-type": "application/json",
        authorization: "Bearer not.a.token",
      },
      body: JSON.stringify({ query: FOLLOW }),
    });
    expect(response.status).toBe(401);
  }, 30_000);

  it(`with the users subgraph down during an event, the payload is partial with SUBGRAPH_UNAVAILABLE (${transport})`, async () => {
    const client = wsClient(stack.routerUrl, adaAuth);
    await holding(0);
    const all = subscribeWs(client, FOLLOW);
    await holding(1);
    await stack.subgraphs.users.running.close(0);
    const order = await placeOrder(adaAuth);
    await untilUpdates(all, order.id, ["PENDING", "CONFIRMED"]);
    const confirmed = updatesOf(all, order.id)[1]!;
    expect(confirmed.user).toBeNull();
    expect(confirmed.payment?.status).toBe("CAPTURED");
    expect(all.codes()).toContain("SUBGRAPH_UNAVAILABLE");
    all.stop();
    await client.dispose();
  }, 60_000);

  it(`stopping the router ends every stream with SUBSCRIPTION_CLOSED (${transport})`, async () => {
    const client = wsClient(stack.routerUrl, adaAuth);
    await holding(0);
    const ws = subscribeWs(client, FOLLOW);
    const sse = subscribeSse(stack.routerUrl, adaAuth, FOLLOW);
    await holding(2);
    await stack.router.drain();
    await waitFor(() => (ws.done && sse.done ? true : undefined), {
      what: "both streams to end",
    });
    for (const subscription of [ws, sse]) {
      expect(subscription.codes()).toContain("SUBSCRIPTION_CLOSED");
      expect(subscription.messages.at(-1)?.kind).toBe("complete");
    }
    await waitFor(() => client.closedWith(), { what: "socket closed" });
    // 1001 when the router's close wins; 1000 when the lazy client, its last subscription
    // completed, closed the socket itself first. Either way the socket ends cleanly.
    expect([1000, 1001]).toContain(client.closedWith());
    expect(held()).toBe(0);
  }, 30_000);
}

describe("live order updates on the in-process event log", () => {
  liveSuite("embedded", () =>
    livePipeline(createMemoryEventLog({ logger: silentLogger })),
  );
});

describe.skipIf(kafkaReason)("live order updates on real Kafka", () => {
  const prefix = unique("live");
  liveSuite("Kafka", () => kafkaLivePipeline(prefix));
});

describe("a subscription whose access token expires", () => {
  let storage: Storage;
  let drop: () => Promise<void>;
  let stack: Stack;
  // Long enough to log in and subscribe on two loaded cores, short enough to wait for.
  const ttlSeconds = 10;

  beforeAll(async () => {
    ({ storage, drop } = await pgliteBackend.open());
    stack = await bootStack(storage, {
      users: { ...TEST_USERS_OPTIONS, jwtTtlSeconds: ttlSeconds },
      events: livePipeline(createMemoryEventLog({ logger: silentLogger })),
    });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
    await drop?.();
  });

  it("is ended at expiry with UNAUTHENTICATED (reason expired) on WebSocket and SSE", async () => {
    const auth = await bearerFor(stack.routerUrl, ada.email, DEMO_PASSWORD);
    const client = wsClient(stack.routerUrl, auth);
    const ws = subscribeWs(client, FOLLOW);
    const sse = subscribeSse(stack.routerUrl, auth, FOLLOW);
    await waitFor(
      () => (stack.router.live.fanOut.size === 2 ? true : undefined),
      { what: "both subscriptions held" },
    );
    await waitFor(() => (ws.done && sse.done ? true : undefined), {
      what: "both streams ended at the token's expiry",
      timeoutMs: (ttlSeconds + 10) * 1000,
    });
    for (const subscription of [ws, sse]) {
      expect(subscription.codes()).toEqual(["UNAUTHENTICATED"]);
      const last = subscription.messages.findLast(
        (message) => message.kind === "next",
      );
      expect(
        last?.kind === "next" && last.errors?.[0]?.extensions,
      ).toMatchObject({ reason: "expired" });
    }
    expect(stack.router.live.fanOut.size).toBe(0);
    await client.dispose();
  }, 60_000);
});
