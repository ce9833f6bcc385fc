import type { FormattedExecutionResult as ExecutionResult } from "graphql";
import { codedError } from "../../platform/errors.ts";

/** Where an order is in its life, as an event reports it. */
export type LiveOrderStatus = "PENDING" | "CONFIRMED" | "FAILED" | "CANCELLED";

/**
 * One state change of an order, read from the event stream (events/live-change-feed.ts builds it
 * from `orders.order.*` events). The router reads nothing else of the event: every other field a
 * subscriber selects is resolved through the gateway, with the subscriber's rights.
 */
export interface OrderChange {
  readonly kind: "order";
  readonly eventId: string;
  readonly orderId: string;
  readonly userId: string;
  readonly status: LiveOrderStatus;
  /** When the event reached this router (ms since the epoch): the start of event → client latency. */
  readonly receivedAt: number;
}

/**
 * A notification delivered to a user (`notifications.notification.delivered`): ids only, the
 * rest is read through the gateway for each subscriber, like an order change.
 */
export interface NotificationDelivered {
  readonly kind: "notification";
  readonly eventId: string;
  readonly notificationId: string;
  readonly userId: string;
  readonly receivedAt: number;
}

/** What the event stream feeds the fan-out; `kind` says which subscriptions it concerns. */
export type LiveChange = OrderChange | NotificationDelivered;
export type LiveKind = LiveChange["kind"];

/** The id of the entity a change is about: what a subscriber's filter and the per-event query take. */
export function entityIdOf(change: LiveChange): string {
  switch (change.kind) {
    case "order":
      return change.orderId;
    case "notification":
      return change.notificationId;
    default: {
      const unknown: never = change;
      throw new Error(`unknown live change ${JSON.stringify(unknown)}`);
    }
  }
}

/** Who subscribed and to what. */
export interface SubscriberSpec {
  /** Rate-limit identity (`user:<id>` or `ip:<address>`): the per-client limit counts by it. */
  readonly clientId: string;
  /** One WebSocket connection or SSE stream: the per-connection limit counts by it. */
  readonly connectionId: string;
  readonly userId: string;
  /** Which changes it follows: `order` (orderUpdated) or `notification` (myNotifications). */
  readonly kind: LiveKind;
  /**
   * Hears every user's changes of its kind, not only its own: admins on orderUpdated. Never set
   * for myNotifications, whose subscribers hear their own notifications only, admins included.
   */
  readonly admin: boolean;
  /** One entity (an order), or undefined for every change of its kind the subscriber may see. */
  readonly entityId: string | undefined;
  /**
   * When the subscriber's access token expires (ms since the epoch): the subscription ends then
   * with UNAUTHENTICATED (`reason: "expired"`). Undefined: it never expires.
   */
  readonly expiresAt?: number;
}

/** Why a subscription, or an operation on a connection, is refused once the caller's token expired. */
export const tokenExpired = () =>
  codedError(
    "UNAUTHENTICATED",
    "the access token of this connection expired; connect again with a fresh one",
    { reason: "expired" },
  );

/** setTimeout's longest delay (2^31 - 1 ms, ~24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface FanOutLimits {
  /** Subscriptions one client may hold at once, over every connection. */
  readonly maxPerClient: number;
  /** Subscriptions one WebSocket connection may hold at once. */
  readonly maxPerConnection: number;
  /**
   * Events waiting for one subscriber (not yet read by its transport) before it is dropped with
   * SUBSCRIBER_TOO_SLOW. Bounds the memory a stuck client can make the router hold.
   */
  readonly maxQueuedEvents: number;
}

/**
 * Turns one change into what the subscriber receives: a result, or null when the subscriber may
 * not see it (the event is then skipped for them). Runs once per event per subscriber, in event
 * order, never two at once for the same subscriber.
 */
export type ChangeResolver = (
  change: LiveChange,
) => Promise<ExecutionResult | null>;

/** A subscriber's stream of results, read by its transport (graphql-ws, graphql-sse). */
export interface LiveStream extends AsyncGenerator<
  ExecutionResult,
  void,
  unknown
> {
  /** Resolves once the stream ended (closed by the client, dropped, or drained). */
  readonly ended: Promise<void>;
}

export interface FanOut {
  /** Registers a subscriber; throws a coded SUBSCRIPTION_LIMIT_EXCEEDED error over a limit. */
  add(spec: SubscriberSpec, resolve: ChangeResolver): LiveStream;
  /** Hands a change to every subscriber it concerns; never waits for them. */
  publish(change: LiveChange): void;
  /**
   * Ends every stream with `final` as its last message (a shutdown notice) and resolves once each
   * transport has read it, or after `graceMs`. New subscriptions are refused from then on.
   */
  drain(final: ExecutionResult, graceMs: number): Promise<void>;
  /** Subscriptions held now. */
  readonly size: number;
  /** Events handed to subscribers so far (one per matching subscriber). */
  readonly delivered: number;
}

interface Subscriber {
  readonly spec: SubscriberSpec;
  enqueue(change: LiveChange): void;
  finish(final: ExecutionResult): void;
  readonly ended: Promise<void>;
}

/** What a subscriber hears when resolving one event threw (the resolver masks its own errors). */
const unresolved: ExecutionResult = {
  data: null,
  errors: [
    codedError(
      "INTERNAL_SERVER_ERROR",
      "could not resolve this event",
    ).toJSON(),
  ],
};

/**
 * The router's fan-out: one consumer of the event stream feeds it (`publish`), and each
 * subscriber gets its own bounded queue, read in order. A change reaches the subscribers of its
 * kind and customer and that kind's admins (indexed, so an event costs the subscribers it
 * concerns, not all), then the per-entity filter. Ordering per user (so per order) holds because
 * the consumer publishes a partition's events in order (the key is the customer's user id) and
 * each queue resolves one change at a time. One fan-out serves every kind, so the limits count a
 * client's orderUpdated and myNotifications subscriptions together.
 */
export function createFanOut(limits: FanOutLimits): FanOut {
  /** `<kind> <user id>` → that user's subscribers of that kind. */
  const byUser = new Map<string, Set<Subscriber>>();
  /** `<kind>` → the subscribers hearing every user's changes of that kind. */
  const admins = new Map<string, Set<Subscriber>>();
  const userKey = (kind: LiveKind, userId: string) => `${kind} ${userId}`;
  const perClient = new Map<string, number>();
  const perConnection = new Map<string, number>();
  // Every subscriber until its transport read its end, finished or not (drain waits on them).
  const all = new Set<Subscriber>();
  let size = 0;
  let delivered = 0;
  let draining = false;

  const count = (map: Map<string, number>, key: string, by: number) => {
    const next = (map.get(key) ?? 0) + by;
    if (next <= 0) map.delete(key);
    else map.set(key, next);
  };

  function remove(subscriber: Subscriber) {
    const { spec } = subscriber;
    const key = userKey(spec.kind, spec.userId);
    const set = spec.admin ? admins.get(spec.kind) : byUser.get(key);
    if (!set?.delete(subscriber)) return;
    if (set.size === 0) {
      if (spec.admin) admins.delete(spec.kind);
      else byUser.delete(key);
    }
    count(perClient, spec.clientId, -1);
    count(perConnection, spec.connectionId, -1);
    size -= 1;
  }

  function add(spec: SubscriberSpec, resolve: ChangeResolver): LiveStream {
    if (draining)
      throw codedError(
        "SUBSCRIPTION_CLOSED",
        "the router is shutting down; subscribe again",
      );
    const held = perClient.get(spec.clientId) ?? 0;
    if (held >= limits.maxPerClient)
      throw codedError(
        "SUBSCRIPTION_LIMIT_EXCEEDED",
        `at most ${limits.maxPerClient} subscriptions per client`,
        { limit: "perClient", max: limits.maxPerClient },
      );
    if ((perConnection.get(spec.connectionId) ?? 0) >= limits.maxPerConnection)
      throw codedError(
        "SUBSCRIPTION_LIMIT_EXCEEDED",
        `at most ${limits.maxPerConnection} subscriptions per connection`,
        { limit: "perConnection", max: limits.maxPerConnection },
      );

    const queue: LiveChange[] = [];
    let terminal: ExecutionResult | undefined;
    let done = false;
    let wake: (() => void) | undefined;
    let endedResolve!: () => void;
    const ended = new Promise<void>((resolve) => (endedResolve = resolve));
    const signal = () => {
      const waiting = wake;
      wake = undefined;
      waiting?.();
    };
    /**
     * `ended` resolves once the transport has taken the end: it asked for the next result after the
     * last one (so it is sending `complete` now), or returned. A drain that closed sockets earlier
     * would cut the final message's `complete`.
     */
    let expiry: NodeJS.Timeout | undefined;
    const end = (taken = true) => {
      if (!done) {
        done = true;
        queue.length = 0;
        clearTimeout(expiry);
        remove(subscriber);
        signal();
      }
      if (taken) endedResolve();
    };
    const subscriber: Subscriber = {
      spec,
      ended,
      enqueue(change) {
        if (done || terminal) return;
        if (queue.length >= limits.maxQueuedEvents) {
          // Dropped, not buffered: the backlog is gone, the last message says why.
          this.finish({
            data: null,
            errors: [
              codedError(
                "SUBSCRIBER_TOO_SLOW",
                `more than ${limits.maxQueuedEvents} events waited for this subscriber; subscription ended`,
                { maxQueuedEvents: limits.maxQueuedEvents },
              ).toJSON(),
            ],
          });
          return;
        }
        queue.push(change);
        delivered += 1;
        signal();
      },
      finish(final) {
        if (done || terminal) return;
        terminal = final;
        queue.length = 0;
        clearTimeout(expiry);
        // Out of the index at once: a dropped or drained subscriber takes no more events.
        remove(subscriber);
        signal();
      },
    };

    async function pull(): Promise<IteratorResult<ExecutionResult, void>> {
      for (;;) {
        if (done) {
          endedResolve();
          return { done: true, value: undefined };
        }
        if (terminal) {
          const value = terminal;
          end(false);
          return { done: false, value };
        }
        const change = queue.shift();
        if (!change) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        const result = await resolve(change).catch(() => unresolved);
        // Ended while resolving (client gone, or a drain that already queued its last word).
        if (done) return { done: true, value: undefined };
        if (result) return { done: false, value: result };
      }
    }
    // Calls to next() are served one after the other, like an async generator's: two events of a
    // subscriber never resolve at once, so a slow first one cannot be overtaken.
    let tail: Promise<unknown> = Promise.resolve();
    const stream: LiveStream = {
      ended,
      next() {
        const result = tail.then(pull);
        tail = result.catch(() => undefined);
        return result;
      },
      async return(): Promise<IteratorResult<ExecutionResult, void>> {
        end();
        return { done: true, value: undefined };
      },
      async throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
        end();
        throw error;
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };

    const index = spec.admin ? admins : byUser;
    const key = spec.admin ? spec.kind : userKey(spec.kind, spec.userId);
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(subscriber);
    count(perClient, spec.clientId, 1);
    count(perConnection, spec.connectionId, 1);
    size += 1;
    all.add(subscriber);
    // Verified once, when the connection opened: past its `exp` the token vouches for no one, so
    // the subscription ends rather than outliving it. Re-armed for a far expiry (timer limit).
    const { expiresAt } = spec;
    const armExpiry = () => {
      if (expiresAt === undefined) return;
      const left = expiresAt - Date.now();
      if (left <= 0) {
        subscriber.finish({ data: null, errors: [tokenExpired().toJSON()] });
        return;
      }
      expiry = setTimeout(armExpiry, Math.min(left, MAX_TIMER_MS));
      expiry.unref();
    };
    armExpiry();
    void ended.then(() => all.delete(subscriber));
    return stream;
  }

  return {
    add,
    publish(change) {
      const concerned = [
        ...(byUser.get(userKey(change.kind, change.userId)) ?? []),
        ...(admins.get(change.kind) ?? []),
      ];
      const entityId = entityIdOf(change);
      for (const subscriber of concerned) {
        const wanted = subscriber.spec.entityId;
        if (wanted === undefined || wanted === entityId)
          subscriber.enqueue(change);
      }
    },
    async drain(final, graceMs) {
      draining = true;
      const waiting = [...all];
      for (const subscriber of waiting) subscriber.finish(final);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(waiting.map((subscriber) => subscriber.ended)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    },
    get size() {
      return size;
    },
    get delivered() {
      return delivered;
    },
  };
}
