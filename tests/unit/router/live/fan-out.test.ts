import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createFanOut,
  type LiveChange,
  type LiveOrderStatus,
  type LiveStream,
  type NotificationDelivered,
  type OrderChange,
  type SubscriberSpec,
} from "../../../../router/live/fan-out.ts";

const limits = { maxPerClient: 3, maxPerConnection: 2, maxQueuedEvents: 4 };
let events = 0;
const change = (
  orderId: string,
  userId: string,
  status: LiveOrderStatus = "PENDING",
): OrderChange => ({
  kind: "order",
  eventId: `e${(events += 1)}`,
  orderId,
  userId,
  status,
  receivedAt: Date.now(),
});
const spec = (changes: Partial<SubscriberSpec> = {}): SubscriberSpec => ({
  clientId: "user:u1",
  connectionId: `c${Math.random()}`,
  userId: "u1",
  kind: "order",
  admin: false,
  entityId: undefined,
  ...changes,
});
const delivered = (
  notificationId: string,
  userId: string,
): NotificationDelivered => ({
  kind: "notification",
  eventId: `e${(events += 1)}`,
  notificationId,
  userId,
  receivedAt: Date.now(),
});
/** A resolver that echoes the change, so tests see what reached the subscriber and in what order. */
const echo = async (change: LiveChange) =>
  change.kind === "order"
    ? { data: { orderUpdated: { id: change.orderId, status: change.status } } }
    : { data: { myNotifications: { id: change.notificationId } } };
const ids = (
  results: Array<IteratorResult<{ data?: unknown; errors?: unknown }>>,
) => results.map((result) => result.value?.data);
/** The code of the error on a stream's next message: why the fan-out ended the subscription. */
const nextErrorCode = async (stream: LiveStream) =>
  (await stream.next()).value?.errors?.[0]?.extensions?.code;

describe("the live fan-out", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("ends a subscription with UNAUTHENTICATED (reason expired) when its token expires, not before, also past setTimeout's longest delay", async () => {
    vi.useFakeTimers();
    const fanOut = createFanOut(limits);
    const DAY = 24 * 60 * 60 * 1000;
    const soon = fanOut.add(spec({ expiresAt: Date.now() + 60_000 }), echo);
    const late = fanOut.add(spec({ expiresAt: Date.now() + 40 * DAY }), echo);
    fanOut.publish(change("o1", "u1"));
    expect((await soon.next()).value?.data).toEqual({
      orderUpdated: { id: "o1", status: "PENDING" },
    });
    vi.advanceTimersByTime(59_999);
    expect(fanOut.size).toBe(2);
    vi.advanceTimersByTime(1);
    expect(fanOut.size).toBe(1);
    const last = await soon.next();
    expect(last.value?.errors?.[0]?.extensions).toEqual({
      code: "UNAUTHENTICATED",
      reason: "expired",
    });
    expect((await soon.next()).done).toBe(true);

    vi.advanceTimersByTime(30 * DAY);
    expect(fanOut.size).toBe(1);
    vi.advanceTimersByTime(10 * DAY);
    expect(fanOut.size).toBe(0);
    expect(await nextErrorCode(late)).toBe("UNAUTHENTICATED");
  });

  it("gives a customer's subscriber the changes of their own orders only, in publish order", async () => {
    const fanOut = createFanOut(limits);
    const mine = fanOut.add(spec(), echo);
    const theirs = fanOut.add(
      spec({ clientId: "user:u2", userId: "u2" }),
      echo,
    );
    fanOut.publish(change("o1", "u1", "PENDING"));
    fanOut.publish(change("o2", "u2", "PENDING"));
    fanOut.publish(change("o1", "u1", "CONFIRMED"));
    expect(ids([await mine.next(), await mine.next()])).toEqual([
      { orderUpdated: { id: "o1", status: "PENDING" } },
      { orderUpdated: { id: "o1", status: "CONFIRMED" } },
    ]);
    expect((await theirs.next()).value?.data).toEqual({
      orderUpdated: { id: "o2", status: "PENDING" },
    });
    expect(fanOut.delivered).toBe(3);
  });

  it("gives an admin every order, and a subscriber with an id only that order", async () => {
    const fanOut = createFanOut(limits);
    const admin = fanOut.add(
      spec({ clientId: "user:a", userId: "a", admin: true }),
      echo,
    );
    const one = fanOut.add(spec({ entityId: "o3" }), echo);
    fanOut.publish(change("o1", "u1"));
    fanOut.publish(change("o9", "u9"));
    fanOut.publish(change("o3", "u1"));
    expect(
      ids([await admin.next(), await admin.next(), await admin.next()]),
    ).toEqual([
      { orderUpdated: { id: "o1", status: "PENDING" } },
      { orderUpdated: { id: "o9", status: "PENDING" } },
      { orderUpdated: { id: "o3", status: "PENDING" } },
    ]);
    expect((await one.next()).value?.data).toEqual({
      orderUpdated: { id: "o3", status: "PENDING" },
    });
  });

  it("skips a change the resolver says the subscriber may not see", async () => {
    const fanOut = createFanOut(limits);
    const stream = fanOut.add(spec(), async (c) =>
      c.kind === "order" && c.orderId === "hidden" ? null : echo(c),
    );
    fanOut.publish(change("hidden", "u1"));
    fanOut.publish(change("shown", "u1"));
    expect((await stream.next()).value?.data).toEqual({
      orderUpdated: { id: "shown", status: "PENDING" },
    });
  });

  it("resolves one change at a time per subscriber, so a slow resolution cannot reorder an order's events", async () => {
    const fanOut = createFanOut(limits);
    let inFlight = 0;
    let most = 0;
    const stream = fanOut.add(spec(), async (c) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      // The first (PENDING) resolution is the slow one.
      await new Promise((done) =>
        setTimeout(done, c.kind === "order" && c.status === "PENDING" ? 30 : 1),
      );
      inFlight -= 1;
      return echo(c);
    });
    fanOut.publish(change("o1", "u1", "PENDING"));
    fanOut.publish(change("o1", "u1", "CONFIRMED"));
    const first = stream.next();
    const second = stream.next();
    expect(ids([await first, await second])).toEqual([
      { orderUpdated: { id: "o1", status: "PENDING" } },
      { orderUpdated: { id: "o1", status: "CONFIRMED" } },
    ]);
    expect(most).toBe(1);
  });

  it("drops a subscriber whose backlog passes the bound with SUBSCRIBER_TOO_SLOW, then ends its stream", async () => {
    const fanOut = createFanOut(limits);
    const slow = fanOut.add(spec(), echo);
    for (let i = 0; i <= limits.maxQueuedEvents; i += 1)
      fanOut.publish(change(`o${i}`, "u1"));
    expect(fanOut.size).toBe(0);
    expect(await nextErrorCode(slow)).toBe("SUBSCRIBER_TOO_SLOW");
    expect((await slow.next()).done).toBe(true);
    // Nothing more is queued for it.
    fanOut.publish(change("later", "u1"));
    expect(fanOut.delivered).toBe(limits.maxQueuedEvents);
  });

  it("refuses subscriptions over the per-connection and per-client limits with SUBSCRIPTION_LIMIT_EXCEEDED, and frees them on return", async () => {
    const fanOut = createFanOut(limits);
    const first = fanOut.add(spec({ connectionId: "c1" }), echo);
    fanOut.add(spec({ connectionId: "c1" }), echo);
    expect(() => fanOut.add(spec({ connectionId: "c1" }), echo)).toThrow(
      expect.objectContaining({
        extensions: expect.objectContaining({
          code: "SUBSCRIPTION_LIMIT_EXCEEDED",
          limit: "perConnection",
        }),
      }),
    );
    fanOut.add(spec({ connectionId: "c2" }), echo);
    expect(() => fanOut.add(spec({ connectionId: "c3" }), echo)).toThrow(
      expect.objectContaining({
        extensions: expect.objectContaining({ limit: "perClient" }),
      }),
    );
    await first.return();
    expect(fanOut.size).toBe(2);
    expect(() => fanOut.add(spec({ connectionId: "c3" }), echo)).not.toThrow();
  });

  it("gives a myNotifications subscriber its own user's deliveries only, never order changes, and an admin's none of another user's", async () => {
    const fanOut = createFanOut(limits);
    const notifications = spec({ kind: "notification" });
    const mine = fanOut.add(notifications, echo);
    const orders = fanOut.add(spec(), echo);
    // An admin's myNotifications is theirs alone (the live service never sets `admin` for it),
    // while an admin's orderUpdated hears every order.
    const adminOwn = fanOut.add(
      spec({ kind: "notification", clientId: "user:a", userId: "a" }),
      echo,
    );
    const adminOrders = fanOut.add(
      spec({ clientId: "user:a", userId: "a", admin: true }),
      echo,
    );
    fanOut.publish(delivered("n-u2", "u2"));
    fanOut.publish(change("o1", "u1"));
    fanOut.publish(delivered("n-u1", "u1"));
    fanOut.publish(delivered("n-a", "a"));
    expect((await mine.next()).value?.data).toEqual({
      myNotifications: { id: "n-u1" },
    });
    expect((await orders.next()).value?.data).toEqual({
      orderUpdated: { id: "o1", status: "PENDING" },
    });
    expect((await adminOrders.next()).value?.data).toEqual({
      orderUpdated: { id: "o1", status: "PENDING" },
    });
    expect((await adminOwn.next()).value?.data).toEqual({
      myNotifications: { id: "n-a" },
    });
    // One each: the order reached orders and adminOrders, each delivery only its own user.
    expect(fanOut.delivered).toBe(4);
  });

  it("counts orderUpdated and myNotifications subscriptions together against the per-connection limit", () => {
    const fanOut = createFanOut(limits);
    fanOut.add(spec({ connectionId: "c1" }), echo);
    fanOut.add(spec({ connectionId: "c1", kind: "notification" }), echo);
    expect(() =>
      fanOut.add(spec({ connectionId: "c1", kind: "notification" }), echo),
    ).toThrow(
      expect.objectContaining({
        extensions: expect.objectContaining({ limit: "perConnection" }),
      }),
    );
  });

  it("drops a slow myNotifications subscriber with SUBSCRIBER_TOO_SLOW like an orderUpdated one", async () => {
    const fanOut = createFanOut(limits);
    const slow = fanOut.add(spec({ kind: "notification" }), echo);
    for (let i = 0; i <= limits.maxQueuedEvents; i += 1)
      fanOut.publish(delivered(`n${i}`, "u1"));
    expect(fanOut.size).toBe(0);
    expect(await nextErrorCode(slow)).toBe("SUBSCRIBER_TOO_SLOW");
  });

  it("drains: every stream gets the final message then ends, and new subscriptions are refused", async () => {
    const fanOut = createFanOut(limits);
    const a = fanOut.add(spec(), echo);
    const b = fanOut.add(spec(), echo);
    const final = {
      data: null,
      errors: [{ message: "bye", extensions: { code: "SUBSCRIPTION_CLOSED" } }],
    };
    const pending = a.next();
    const drained = fanOut.drain(final, 5000);
    expect((await pending).value).toEqual(final);
    expect((await b.next()).value).toEqual(final);
    expect((await a.next()).done).toBe(true);
    // The drain is over once each transport took its stream's end.
    expect((await b.next()).done).toBe(true);
    await drained;
    expect(fanOut.size).toBe(0);
    expect(() => fanOut.add(spec(), echo)).toThrow(
      expect.objectContaining({
        extensions: expect.objectContaining({ code: "SUBSCRIPTION_CLOSED" }),
      }),
    );
  });
});
