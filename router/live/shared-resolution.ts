import type { RouterContext } from "../context.ts";

/**
 * One resolution of a live event per group of subscribers that would get the same result.
 *
 * Every subscriber resolves each event with a query of its own (router/live/live-service.ts). Two
 * subscribers whose per-event query has the same text and the same variables, and whose contexts
 * agree on every part a resolution reads, would run exactly the same operation with exactly the
 * same identity forwarded to the subgraphs: the group resolves the event once, when its first
 * member reads it, and every member gets that result (or that failure).
 *
 * What a shared result is kept for: the fan-out hands one change object to the queue of every
 * subscriber it concerns, so the results are kept beside that object (a WeakMap) and go with it
 * once the last queue holding it has read or dropped it. Nothing outlives the events still queued,
 * which the per-subscriber queue bound (SUBSCRIBER_TOO_SLOW) already limits. Members still read
 * from their own queues, at their own pace, so ordering per subscriber, the slow-subscriber drop,
 * token expiry and drain stay the fan-out's, unchanged.
 */

/** The per-event operation a subscriber runs, minus the event's own order id (same for everyone). */
export interface SharedOperation {
  readonly query: string;
  readonly operationName: string | undefined;
  readonly variables: Readonly<Record<string, unknown>>;
}

/**
 * How each part of the context a live event runs with enters the group key. Typed over every key
 * of RouterContext: a part added there does not compile until it is placed here, so a new input to
 * resolution cannot be shared over by accident. A part that returns a value splits groups by it.
 */
const CONTEXT_KEY: {
  readonly [Part in keyof Required<RouterContext>]: (
    context: RouterContext,
  ) => unknown;
} = {
  // Who the subgraphs are told is asking (the router token carries id, role and scopes in this order)
  // and what ownership checks, @authenticated and @requiresScopes read.
  principal: ({ principal }) =>
    principal && [principal.id, principal.role, principal.scopes],
  // Rate-limit identities: events skip the limits (rateLimitAdmitted), kept anyway so that nothing
  // that differs between two callers is shared over.
  clientId: ({ clientId }) => clientId,
  clientAddress: ({ clientAddress }) => clientAddress,
  rateLimitAdmitted: ({ rateLimitAdmitted }) => rateLimitAdmitted ?? false,
  // Signed from `principal` alone (keyed above) by the router's one signer: equal principals, equal tokens.
  internalToken: () => null,
  // Each event gets a fresh deadline of the same length: the group runs under its first reader's.
  deadlineAt: () => null,
};

const CONTEXT_PARTS = Object.keys(CONTEXT_KEY).sort() as Array<
  keyof RouterContext
>;

/**
 * The group a subscriber belongs to: equal keys resolve an event to the same result. The order id
 * of the event is left out, as it is the same for every subscriber reading that event.
 */
export function sharedResolutionKey(
  operation: SharedOperation,
  context: RouterContext,
): string {
  return JSON.stringify([
    operation.query,
    operation.operationName ?? null,
    operation.variables,
    CONTEXT_PARTS.map((part) => CONTEXT_KEY[part](context)),
  ]);
}

export interface SharedResolution<T> {
  /**
   * The result of `resolve` for `event` in the group `key`: started by the group's first reader of
   * the event, joined by the others (its failure too). `event` must be the object the fan-out
   * queued, the same for every subscriber.
   */
  run(event: object, key: string, resolve: () => Promise<T>): Promise<T>;
  /** Resolutions started, and reads that joined one instead of starting their own. */
  readonly stats: SharedResolutionStats;
}

export interface SharedResolutionStats {
  readonly resolutions: number;
  readonly joined: number;
}

export function createSharedResolution<T>(): SharedResolution<T> {
  const byEvent = new WeakMap<object, Map<string, Promise<T>>>();
  const stats = { resolutions: 0, joined: 0 };
  return {
    run(event, key, resolve) {
      let groups = byEvent.get(event);
      if (!groups) byEvent.set(event, (groups = new Map()));
      const running = groups.get(key);
      if (running) {
        stats.joined += 1;
        return running;
      }
      stats.resolutions += 1;
      // A synchronous throw becomes the shared failure too, as for an async resolver.
      const started = Promise.resolve().then(resolve);
      groups.set(key, started);
      return started;
    },
    stats,
  };
}
