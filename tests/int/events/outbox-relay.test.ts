import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import {
  createMemoryEventLog,
  type EventLog,
} from "../../../events/event-log.ts";
import {
  createOutboxRelay,
  registerRelayMetrics,
} from "../../../events/outbox-relay.ts";
import type { Database } from "../../../platform/database.ts";
import { scratchPglite } from "../../support/pglite.ts";
import { appendToOutbox } from "../../../events/outbox-writer.ts";
import { waitFor } from "../../support/wait.ts";
import { silentLogger } from "../../support/stack.ts";
import {
  collectOrderEvents,
  expectRefusedRowsPublishedLater,
  refusingEventLog,
} from "../../support/outbox-relay-fixtures.ts";
import { allBackends, withOrdersDatabase } from "../../support/storage.ts";

const backends = await allBackends();

const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

describe.each(backends)("the outbox relay on $name", (backend) => {
  let db: Database;
  withOrdersDatabase(backend, (orders) => (db = orders));

  const writeEvents = async (users: string[], perUser: number, tag: string) => {
    for (let n = 0; n < perUser; n += 1) {
      for (const user of users) {
        await db.transaction((tx) =>
          appendToOutbox(tx, "orders", {
            type: "orders.order.placed",
            key: user,
            correlationId: `${tag}-${user}`,
            traceparent: TRACEPARENT,
            data: { n, tag },
          }),
        );
      }
    }
  };
  // Each test starts with nothing left to publish and an event log of its own.
  let log: EventLog;
  beforeEach(async () => {
    if (backend.unavailable) return;
    await db.query(
      "UPDATE orders.outbox SET published_at = now() WHERE published_at IS NULL",
    );
    log = createMemoryEventLog({ logger: silentLogger });
  });
  afterEach(async () => {
    await log?.close();
  });
  const relayOn = (
    eventLog: EventLog,
    options: { batchSize?: number; pollIntervalMs?: number } = {},
  ) =>
    createOutboxRelay({
      db,
      schema: "orders",
      eventLog,
      logger: silentLogger,
      ...options,
    });
  const collect = () => collectOrderEvents(log, "relay-test");

  it.skipIf(backend.unavailable)(
    "publishes committed rows keyed by user with correlation headers, marks them published and reports zero lag after",
    async () => {
      const seen = await collect();
      await writeEvents(["u1", "u2"], 2, "basic");
      const relay = relayOn(log);
      const registry = new Registry();
      registerRelayMetrics(registry, [relay], { service: "relay" });
      expect(await relay.lag()).toMatchObject({ unpublished: 4 });
      expect(await relay.relayOnce()).toBe(4);
      await waitFor(() => (seen.length === 4 ? true : undefined), {
        what: "four events",
      });
      const first = seen.find((message) => message.key === "u1")!;
      expect(first.headers).toMatchObject({
        correlationId: "basic-u1",
        traceparent: TRACEPARENT,
        eventType: "orders.order.placed",
      });
      expect(JSON.parse(first.value)).toMatchObject({
        key: "u1",
        correlationId: "basic-u1",
        data: { n: 0 },
      });
      expect(await relay.lag()).toEqual({
        unpublished: 0,
        oldestAgeSeconds: 0,
      });
      expect(await relay.relayOnce()).toBe(0);
      expect(
        await registry.getSingleMetricAsString("outbox_unpublished_events"),
      ).toContain(
        'outbox_unpublished_events{schema="orders",service="relay"} 0',
      );
    },
  );

  it.skipIf(backend.unavailable)(
    "leaves rows unpublished when the event log refuses them, and publishes them on the next run",
    async () => {
      const { eventLog: flaky, recover } = refusingEventLog(log);
      await writeEvents(["u3"], 3, "flaky");
      const relay = relayOn(flaky);
      await expectRefusedRowsPublishedLater(relay, { count: 3, recover });
    },
  );

  it.skipIf(backend.unavailable)(
    "with three relays running at once, publishes each row exactly once and keeps every user’s events in order",
    async () => {
      const seen = await collect();
      const users = ["a", "b", "c", "d", "e"];
      await writeEvents(users, 20, "many");
      const relays = [1, 2, 3].map(() =>
        relayOn(log, { batchSize: 7, pollIntervalMs: 5 }),
      );
      for (const relay of relays) relay.start();
      await waitFor(
        async () =>
          (await relays[0]!.lag()).unpublished === 0 && seen.length >= 100
            ? true
            : undefined,
        { what: "the outbox to drain" },
      );
      for (const relay of relays) await relay.stop();
      expect(seen).toHaveLength(100);
      expect(
        new Set(seen.map((message) => JSON.parse(message.value).eventId)).size,
      ).toBe(100);
      for (const user of users) {
        expect(
          seen
            .filter((message) => message.key === user)
            .map((message) => JSON.parse(message.value).data.n),
        ).toEqual(Array.from({ length: 20 }, (_, n) => n));
      }
    },
  );
});

describe("the relay role", () => {
  it("declares every event topic (with the configured prefix) before its first publish, and still starts when the broker refuses", async () => {
    const { startPipeline } = await import("../../../events/pipeline.ts");
    const { createMemoryJobQueue } =
      await import("../../../events/job-queue.ts");
    const { createLogSender } = await import("../../../events/channels.ts");
    const { createStaticDirectory } =
      await import("../../../events/recipients.ts");
    const { EVENT_TOPICS } = await import("../../../events/envelope.ts");
    const { PUBLISHING_SUBGRAPHS } =
      await import("../../../platform/services.ts");
    const storage = await scratchPglite();
    const declared: string[] = [];
    const inner = createMemoryEventLog({ logger: silentLogger });
    let refuse = false;
    const eventLog: EventLog = {
      ...inner,
      async ensureTopic(topic, options) {
        declared.push(topic);
        if (refuse) throw new Error("broker unavailable");
        await inner.ensureTopic(topic, options);
      },
    };
    const start = () =>
      startPipeline({
        storage,
        logger: silentLogger,
        eventLog,
        jobQueue: createMemoryJobQueue({ logger: silentLogger }),
        senders: {
          email: createLogSender({ logger: silentLogger, channel: "email" }),
          sms: createLogSender({ logger: silentLogger, channel: "sms" }),
          push: createLogSender({ logger: silentLogger, channel: "push" }),
        },
        recipients: createStaticDirectory({}),
        roles: { relay: true },
        topicPrefix: "env1.",
      });
    try {
      const pipeline = await start();
      expect(declared).toEqual(EVENT_TOPICS.map((topic) => `env1.${topic}`));
      for (const relay of pipeline.relays) await relay.stop();
      refuse = true;
      const again = await start();
      // One relay per publishing service's outbox (the notifications one included).
      expect(again.relays.map((relay) => relay.schema)).toEqual([
        ...PUBLISHING_SUBGRAPHS,
      ]);
      for (const relay of again.relays) await relay.stop();
    } finally {
      await storage.close();
    }
  });
});
