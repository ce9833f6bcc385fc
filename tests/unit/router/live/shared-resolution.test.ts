import { ApolloServer } from "@apollo/server";
import {
  buildSchema,
  type FormattedExecutionResult,
  type GraphQLObjectType,
} from "graphql";
import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { codedError } from "../../../../platform/errors.ts";
import { createInternalTokenSigner } from "../../../../platform/internal-token.ts";
import type { Principal } from "../../../../platform/principal.ts";
import type { RouterContext } from "../../../../router/context.ts";
import {
  createFanOut,
  type LiveStream,
  type OrderChange,
  type SubscriberSpec,
} from "../../../../router/live/fan-out.ts";
import {
  createLiveService,
  type LiveCaller,
  type LiveService,
} from "../../../../router/live/live-service.ts";
import {
  createSharedResolution,
  sharedResolutionKey,
} from "../../../../router/live/shared-resolution.ts";

let events = 0;
const change = (orderId: string, userId = "u1"): OrderChange => ({
  kind: "order",
  eventId: `e${(events += 1)}`,
  orderId,
  userId,
  status: "CONFIRMED",
  receivedAt: Date.now(),
});
const spec = (changes: Partial<SubscriberSpec> = {}): SubscriberSpec => ({
  clientId: "user:u1",
  connectionId: `c${(events += 1)}`,
  userId: "u1",
  kind: "order",
  admin: false,
  entityId: undefined,
  ...changes,
});

/** A promise settled from outside: a resolution that takes as long as the test says. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/**
 * A fan-out whose subscribers of one group resolve through one shared resolution, recording each
 * resolution (the event it was for); `gate` decides when a resolution of an event completes.
 */
function sharedFanOut(maxQueuedEvents = 8) {
  const fanOut = createFanOut({
    maxPerClient: 100,
    maxPerConnection: 100,
    maxQueuedEvents,
  });
  const shared = createSharedResolution<FormattedExecutionResult>();
  const resolved: string[] = [];
  const gates = new Map<string, ReturnType<typeof deferred<void>>>();
  const gate = (eventId: string) => {
    let found = gates.get(eventId);
    if (!found) gates.set(eventId, (found = deferred<void>()));
    return found;
  };
  const member = (
    key: string,
    resolve: (c: OrderChange) => Promise<FormattedExecutionResult> = async (
      c,
    ) => {
      await gate(c.eventId).promise;
      return { data: { orderUpdated: { id: c.orderId, event: c.eventId } } };
    },
  ) =>
    fanOut.add(spec(), (c) =>
      shared.run(c, key, () => {
        resolved.push(c.eventId);
        return resolve(c as OrderChange);
      }),
    );
  /** Two members, of groups `first` and `second`, and one change of o1 published to both. */
  const twoMembersOneChange = (first: string, second = first) => {
    const a = member(first);
    const b = member(second);
    const c = change("o1");
    fanOut.publish(c);
    return { a, b, c };
  };
  return { fanOut, shared, resolved, gate, member, twoMembersOneChange };
}

const dataOf = (result: IteratorResult<FormattedExecutionResult>) =>
  result.value?.data;

describe("shared resolution over the fan-out", () => {
  it("resolves an event once for two subscribers of the same group, and both get that result", async () => {
    const { resolved, gate, twoMembersOneChange } = sharedFanOut();
    const { a, b, c } = twoMembersOneChange("g");
    const first = a.next();
    const second = b.next();
    gate(c.eventId).resolve();
    const [fromA, fromB] = await Promise.all([first, second]);
    expect(resolved).toEqual([c.eventId]);
    expect(dataOf(fromA)).toEqual({
      orderUpdated: { id: "o1", event: c.eventId },
    });
    expect(fromB.value).toBe(fromA.value);
  });

  it("shares with a member that reads the event later, while its queue still holds it", async () => {
    const { shared, resolved, gate, twoMembersOneChange } = sharedFanOut();
    const { a, b, c } = twoMembersOneChange("g");
    gate(c.eventId).resolve();
    const fromA = await a.next();
    const fromB = await b.next();
    expect(resolved).toEqual([c.eventId]);
    expect(fromB.value).toBe(fromA.value);
    expect(shared.stats).toEqual({ resolutions: 1, joined: 1 });
  });

  it("resolves separately for different groups", async () => {
    const { resolved, gate, twoMembersOneChange } = sharedFanOut();
    const { a, b, c } = twoMembersOneChange("g1", "g2");
    gate(c.eventId).resolve();
    await Promise.all([a.next(), b.next()]);
    expect(resolved).toEqual([c.eventId, c.eventId]);
  });

  it("keeps each member's order when a later event's resolution finishes first", async () => {
    const { fanOut, resolved, gate, member } = sharedFanOut();
    const a = member("g");
    const b = member("g");
    const first = change("o1");
    const second = change("o1");
    fanOut.publish(first);
    fanOut.publish(second);
    const aReads = [a.next(), a.next()];
    const bReads = [b.next(), b.next()];
    // Nothing of the second event starts while a member's first is unresolved.
    gate(second.eventId).resolve();
    gate(first.eventId).resolve();
    const eventsOf = async (reads: Array<Promise<IteratorResult<unknown>>>) =>
      (await Promise.all(reads)).map(
        (read) =>
          (read.value as { data: { orderUpdated: { event: string } } }).data
            .orderUpdated.event,
      );
    expect(await eventsOf(aReads)).toEqual([first.eventId, second.eventId]);
    expect(await eventsOf(bReads)).toEqual([first.eventId, second.eventId]);
    expect(resolved).toEqual([first.eventId, second.eventId]);
  });

  it("drops a member that does not read with SUBSCRIBER_TOO_SLOW while the others keep getting every event", async () => {
    const { fanOut, resolved, gate, member } = sharedFanOut(2);
    const reader = member("g");
    const stuck = member("g");
    const published: OrderChange[] = [];
    for (let i = 0; i < 4; i += 1) {
      const c = change(`o${i}`);
      published.push(c);
      fanOut.publish(c);
      gate(c.eventId).resolve();
      expect(dataOf(await reader.next())).toEqual({
        orderUpdated: { id: `o${i}`, event: c.eventId },
      });
    }
    expect(resolved).toEqual(published.map((c) => c.eventId));
    const last = await stuck.next();
    expect(last.value?.errors?.[0]?.extensions?.code).toBe(
      "SUBSCRIBER_TOO_SLOW",
    );
    expect((await stuck.next()).done).toBe(true);
    expect(fanOut.size).toBe(1);
  });

  it("gives every member the failure of a resolution that threw, resolving once", async () => {
    const { fanOut, resolved, member } = sharedFanOut();
    const failing = async (): Promise<FormattedExecutionResult> => {
      throw new Error("subgraph client exploded");
    };
    const a = member("g", failing);
    const b = member("g", failing);
    const c = change("o1");
    fanOut.publish(c);
    const [fromA, fromB] = await Promise.all([a.next(), b.next()]);
    expect(resolved).toEqual([c.eventId]);
    for (const result of [fromA, fromB])
      expect(result.value).toEqual({
        data: null,
        errors: [
          expect.objectContaining({
            extensions: { code: "INTERNAL_SERVER_ERROR" },
          }),
        ],
      });
  });
});

const principal = (changes: Partial<Principal> = {}): Principal => ({
  id: "u1",
  role: "CUSTOMER",
  scopes: ["customer"],
  ...changes,
});
const context = (changes: Partial<RouterContext> = {}): RouterContext => ({
  principal: principal(),
  clientId: "user:u1",
  clientAddress: "127.0.0.1",
  internalToken: async () => "token",
  deadlineAt: Date.now(),
  rateLimitAdmitted: true,
  ...changes,
});
const operation = {
  query:
    "query LiveEvent($switchyardLiveId: ID!) { order(id: $switchyardLiveId) { id } }",
  operationName: "LiveEvent",
  variables: {},
};

describe("the shared resolution key", () => {
  const base = sharedResolutionKey(operation, context());

  it("is equal for the same operation and identity, whatever the deadline and token closure", () => {
    expect(
      sharedResolutionKey(
        { ...operation },
        context({
          deadlineAt: Date.now() + 60_000,
          internalToken: async () => "another closure",
        }),
      ),
    ).toBe(base);
  });

  it.each([
    ["query text", { query: `${operation.query} ` }, {}],
    ["operation name", { operationName: "Other" }, {}],
    ["variables", { variables: { currency: "EUR" } }, {}],
    ["user", {}, { principal: principal({ id: "u2" }) }],
    ["role", {}, { principal: principal({ role: "ADMIN" }) }],
    ["scopes", {}, { principal: principal({ scopes: ["customer", "x"] }) }],
    [
      "scope order (the router token carries them in order)",
      {},
      { principal: principal({ scopes: ["b", "a"] }) },
    ],
    ["anonymous caller", {}, { principal: null }],
    ["client id", {}, { clientId: "user:other" }],
    ["client address", {}, { clientAddress: "10.0.0.9" }],
    ["rate-limit admission", {}, { rateLimitAdmitted: false }],
  ] as const)("differs with the %s", (_what, op, ctx) => {
    expect(sharedResolutionKey({ ...operation, ...op }, context(ctx))).not.toBe(
      base,
    );
  });
});

/**
 * The live service over a real Apollo Server whose `order` resolver stands for the subgraphs: it
 * records each call (the caller, the order id, the variables) and applies the same ownership rule
 * (a customer sees their own orders; an admin every order).
 */
function liveOverServer(maxConcurrentResolutions = 32) {
  const schema = buildSchema(`
    type Query { order(id: ID!): Order }
    type Subscription { orderUpdated(id: ID): Order! }
    type Order { id: ID! status: String! owner: String! total(currency: String): String! }
  `);
  const owners = new Map([
    ["o1", "u1"],
    ["o2", "u2"],
  ]);
  const calls: string[] = [];
  const failing = new Set<string>();
  // While `held` is set, each resolution waits for it: how many run at once is then observable.
  const load = {
    held: undefined as Promise<void> | undefined,
    now: 0,
    most: 0,
  };
  schema.getQueryType()!.getFields().order!.resolve = async (
    _root,
    { id }: { id: string },
    { principal: caller }: RouterContext,
  ) => {
    calls.push(`${caller?.id}:${caller?.role}:${id}`);
    load.now += 1;
    load.most = Math.max(load.most, load.now);
    try {
      await load.held;
    } finally {
      load.now -= 1;
    }
    if (failing.has(id))
      throw codedError("SUBGRAPH_UNAVAILABLE", "orders is down", {
        service: "orders",
      });
    const owner = owners.get(id);
    if (!owner || (caller?.role !== "ADMIN" && caller?.id !== owner))
      throw codedError("NOT_FOUND", "no such order");
    return { id, status: "PENDING", owner };
  };
  (schema.getType("Order") as GraphQLObjectType).getFields().total!.resolve = (
    _order,
    { currency }: { currency?: string },
  ) => `10.00 ${currency ?? "USD"}`;
  const server = new ApolloServer<RouterContext>({ schema });
  let publish: (c: OrderChange) => void = () => undefined;
  const live = createLiveService({
    server,
    schema: () => schema,
    signer: createInternalTokenSigner({ secret: "s".repeat(32) }),
    requestDeadlineMs: 10_000,
    source: {
      async start(onChange) {
        publish = onChange;
        return { stop: async () => undefined };
      },
    },
    limits: { maxPerClient: 100, maxPerConnection: 100, maxQueuedEvents: 8 },
    maxConcurrentResolutions,
    logger: pino({ level: "silent" }),
  });
  const caller = (who: Partial<Principal> = {}): LiveCaller => {
    const p = principal(who);
    return {
      principal: p,
      clientId: `user:${p.id}`,
      clientAddress: "127.0.0.1",
      connectionId: `c${(events += 1)}`,
    };
  };
  async function subscribe(
    query: string,
    who: Partial<Principal> = {},
    variables: Record<string, unknown> = {},
  ): Promise<LiveStream> {
    const stream = await live.operation({ query, variables }, caller(who));
    if (!(Symbol.asyncIterator in stream))
      throw new Error(`not subscribed: ${JSON.stringify(stream)}`);
    return stream;
  }
  return {
    live: live as LiveService,
    server,
    calls,
    failing,
    load,
    subscribe,
    publish: (c: OrderChange) => publish(c),
  };
}

describe("the live service shares resolutions", () => {
  const FOLLOW = "subscription { orderUpdated { id status owner } }";

  async function started(maxConcurrentResolutions?: number) {
    const fixture = liveOverServer(maxConcurrentResolutions);
    await fixture.server.start();
    await fixture.live.start();
    return fixture;
  }

  it("between subscriptions of one caller with the same selection, with or without an order id", async () => {
    const { subscribe, publish, calls, live, server } = await started();
    const all = await subscribe(FOLLOW);
    const byId = await subscribe(
      "subscription($id: ID) { orderUpdated(id: $id) { id status owner } }",
      {},
      { id: "o1" },
    );
    const other = await subscribe(
      "subscription Mine { orderUpdated { id status owner } }",
    );
    calls.length = 0;
    publish(change("o1"));
    const results = await Promise.all([all.next(), byId.next(), other.next()]);
    // The order id is not part of the per-event query: the first two share it; the third is named
    // differently (its per-event query is MineEvent), so it resolves on its own.
    expect(calls).toEqual(["u1:CUSTOMER:o1", "u1:CUSTOMER:o1"]);
    for (const result of results)
      expect(dataOf(result)).toEqual({
        orderUpdated: { id: "o1", status: "CONFIRMED", owner: "u1" },
      });
    expect(live.sharing).toEqual({ resolutions: 2, joined: 1 });
    await server.stop();
  });

  it("never between different users, roles, variables or selections", async () => {
    const { subscribe, publish, calls, server } = await started();
    const streams = [
      await subscribe(FOLLOW),
      await subscribe(FOLLOW, { role: "ADMIN", id: "u1" }),
      await subscribe(FOLLOW, { role: "ADMIN", id: "admin" }),
      await subscribe("subscription { orderUpdated { id owner } }"),
      await subscribe(
        "subscription($c: String) { orderUpdated { id total(currency: $c) } }",
        {},
        { c: "EUR" },
      ),
      await subscribe(
        "subscription($c: String) { orderUpdated { id total(currency: $c) } }",
        {},
        { c: "CHF" },
      ),
    ];
    calls.length = 0;
    publish(change("o1"));
    const results = await Promise.all(streams.map((stream) => stream.next()));
    expect(calls.sort()).toEqual(
      [
        "u1:CUSTOMER:o1",
        "u1:ADMIN:o1",
        "admin:ADMIN:o1",
        "u1:CUSTOMER:o1",
        "u1:CUSTOMER:o1",
        "u1:CUSTOMER:o1",
      ].sort(),
    );
    expect(results.slice(3).map(dataOf)).toEqual([
      { orderUpdated: { id: "o1", owner: "u1" } },
      { orderUpdated: { id: "o1", total: "10.00 EUR" } },
      { orderUpdated: { id: "o1", total: "10.00 CHF" } },
    ]);
    await server.stop();
  });

  it("keeps another customer's order from a subscriber even when a group of its own resolves it", async () => {
    const { subscribe, publish, calls, server } = await started();
    const mine = await subscribe(FOLLOW);
    const admin = await subscribe(FOLLOW, { role: "ADMIN", id: "admin" });
    calls.length = 0;
    publish(change("o2", "u2"));
    publish(change("o1"));
    expect(dataOf(await admin.next())).toEqual({
      orderUpdated: { id: "o2", status: "CONFIRMED", owner: "u2" },
    });
    // u1 is not concerned by o2 at all; its first result is its own order's.
    expect(dataOf(await mine.next())).toEqual({
      orderUpdated: { id: "o1", status: "CONFIRMED", owner: "u1" },
    });
    expect(calls.filter((call) => call.startsWith("u1:"))).toEqual([
      "u1:CUSTOMER:o1",
    ]);
    await server.stop();
  });

  it("gives every member a partial result with the subgraph's error, from one resolution", async () => {
    const { subscribe, publish, calls, failing, server } = await started();
    const a = await subscribe(FOLLOW);
    const b = await subscribe(FOLLOW);
    failing.add("o1");
    calls.length = 0;
    publish(change("o1"));
    const results = await Promise.all([a.next(), b.next()]);
    expect(calls).toEqual(["u1:CUSTOMER:o1"]);
    for (const result of results)
      expect(result.value?.errors?.[0]?.extensions?.code).toBe(
        "SUBGRAPH_UNAVAILABLE",
      );
    await server.stop();
  });
});

describe("the live service's resolutions at once", () => {
  it("runs no more than maxConcurrentResolutions; the others wait their turn and every subscriber gets its event", async () => {
    const fixture = liveOverServer(2);
    await fixture.server.start();
    await fixture.live.start();
    // Five groups (five selections): five resolutions of one event, no sharing between them.
    const selections = ["id", "id status", "id owner", "status", "owner"];
    const streams = await Promise.all(
      selections.map((fields) =>
        fixture.subscribe(`subscription { orderUpdated { ${fields} } }`),
      ),
    );
    let open!: () => void;
    fixture.load.held = new Promise((done) => (open = done));
    fixture.load.most = 0;
    fixture.calls.length = 0;
    fixture.publish(change("o1"));
    // A subscriber's event is resolved when its transport reads it: all five read at once.
    const reading = Promise.all(streams.map((stream) => stream.next()));
    await vi.waitFor(() => expect(fixture.calls).toHaveLength(2));
    open();
    const results = await reading;
    expect(results.map(dataOf)).toEqual([
      { orderUpdated: { id: "o1" } },
      { orderUpdated: { id: "o1", status: "CONFIRMED" } },
      { orderUpdated: { id: "o1", owner: "u1" } },
      { orderUpdated: { status: "CONFIRMED" } },
      { orderUpdated: { owner: "u1" } },
    ]);
    expect(fixture.calls).toHaveLength(5);
    expect(fixture.load.most).toBe(2);
    await fixture.server.stop();
  });
});
