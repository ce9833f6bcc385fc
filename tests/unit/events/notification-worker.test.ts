import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createMemoryEventLog,
  type EventLog,
  type LogMessage,
  type MessageBatch,
} from "../../../events/event-log.ts";
import type { JobQueue, NewJob } from "../../../events/job-queue.ts";
import { createNotificationWorker } from "../../../events/notification-worker.ts";
import { prepareNotificationsDatabase } from "../../../events/pipeline.ts";
import type { Database } from "../../../platform/database.ts";
import { InfrastructureError } from "../../../platform/errors.ts";
import { buildEnvelope } from "../../../events/envelope.ts";
import { waitFor } from "../../support/wait.ts";
import { silentLogger } from "../../support/logger.ts";
import { pgliteBackend, withServiceDatabase } from "../../support/storage.ts";

/**
 * A JobQueue whose publishes the test settles by hand: it records each call (in call order) and
 * keeps it pending until `settle` confirms or rejects it.
 */
function createManualJobQueue() {
  const calls: Array<{
    queue: string;
    job: NewJob;
    confirm: () => void;
    reject: (error: Error) => void;
  }> = [];
  let autoConfirm = false;
  let failNext = 0;
  const queue: JobQueue & {
    calls: typeof calls;
    autoConfirm(on: boolean): void;
    failNext(count: number): void;
  } = {
    kind: "memory",
    calls,
    autoConfirm: (on) => void (autoConfirm = on),
    failNext: (count) => void (failNext = count),
    async declare() {},
    publish(name, job) {
      return new Promise<void>((confirm, reject) => {
        calls.push({ queue: name, job, confirm, reject });
        if (failNext > 0) {
          failNext -= 1;
          reject(
            new InfrastructureError(`no publisher confirm for ${name}`, {
              retriable: true,
            }),
          );
        } else if (autoConfirm) confirm();
      });
    },
    async consume() {
      return { stop: async () => undefined };
    },
    async depth() {
      return 0;
    },
    health: () => ({
      connected: true,
      publishChannelOpen: true,
      channelsOpen: 1,
      consumers: [],
      reconnects: 0,
    }),
    async close() {},
  };
  return queue;
}

const confirmed = (user: string, n: number) =>
  buildEnvelope({
    type: "orders.order.confirmed",
    key: user,
    correlationId: `${user}-${n}`,
    data: {
      orderId: `order-${user}-${n}`,
      userId: user,
      total: n,
      currency: "USD",
    },
  });
const messageOf = (envelope: object, offset: number): LogMessage => ({
  topic: "switchyard.orders",
  partition: 0,
  offset: String(offset),
  key: "k",
  value: JSON.stringify(envelope),
  headers: {},
});
const batchOf = (messages: LogMessage[]): MessageBatch => ({
  topic: "switchyard.orders",
  partition: 0,
  messages,
  heartbeat: async () => undefined,
});

describe("the notification worker, a batch at a time", () => {
  let db: Database;
  let inboxQueries: number;
  let jobQueue: ReturnType<typeof createManualJobQueue>;
  let eventLog: EventLog;

  let notifications: Database;

  // One PGlite for the file; each test starts from empty tables.
  withServiceDatabase(
    pgliteBackend,
    "notifications",
    prepareNotificationsDatabase,
    (prepared) => (notifications = prepared),
  );
  beforeEach(async () => {
    await notifications.query(
      "TRUNCATE notifications.inbox, notifications.rejected_events, notifications.deliveries RESTART IDENTITY",
    );
    inboxQueries = 0;
    // Counts the inbox lookups the worker makes (reads only; the insert is counted apart).
    db = {
      ...notifications,
      query: (text, params) => {
        if (/^SELECT .* FROM notifications\.inbox/.test(text))
          inboxQueries += 1;
        return notifications.query(text, params);
      },
    } as Database;
    jobQueue = createManualJobQueue();
    eventLog = createMemoryEventLog({
      logger: silentLogger,
      defaultPartitions: 1,
      backoff: { initialMs: 20, maxMs: 50 },
    });
  });
  afterEach(async () => {
    await eventLog.close();
  });

  const newWorker = (options: { topics?: string[] } = {}) =>
    createNotificationWorker({
      eventLog,
      jobQueue,
      db,
      logger: silentLogger,
      ...options,
    });
  /**
   * Hands the envelopes over to a new worker as one batch and waits until it has issued every
   * publish; `handled` settles once the batch does.
   */
  const handleAllIssued = async (envelopes: object[]) => {
    const worker = newWorker();
    const handled = worker.handleBatch(batchOf(envelopes.map(messageOf)));
    await waitFor(
      () => (jobQueue.calls.length === envelopes.length ? true : undefined),
      { timeoutMs: 10_000, what: "all publishes issued" },
    );
    // Wrapped: an async function returning the promise itself would wait for it to settle.
    return { worker, handled };
  };

  const inbox = async () =>
    (
      await db.query<{ event_id: string }>(
        "SELECT event_id FROM notifications.inbox ORDER BY event_id",
      )
    ).map((row) => row.event_id);

  it("dedupes the whole batch against the inbox in one query, including repeats inside the batch", async () => {
    jobQueue.autoConfirm(true);
    const worker = newWorker();
    const [a, b, c] = [
      confirmed("u1", 1),
      confirmed("u1", 2),
      confirmed("u2", 1),
    ];
    await worker.handleBatch(batchOf([messageOf(a, 0)]));
    expect(inboxQueries).toBe(1);
    jobQueue.calls.length = 0;
    await worker.handleBatch(
      batchOf([
        messageOf(a, 1),
        messageOf(b, 2),
        messageOf(b, 3),
        messageOf(c, 4),
      ]),
    );
    expect(inboxQueries).toBe(2);
    // a was recorded before, b comes twice in the batch: each is published once.
    expect(jobQueue.calls.map(({ job }) => job.id)).toEqual([
      `${b.eventId}:email`,
      `${c.eventId}:email`,
    ]);
    expect(worker.stats).toMatchObject({ handled: 3, duplicates: 2, jobs: 3 });
    expect(await inbox()).toEqual([a.eventId, b.eventId, c.eventId].sort());
  });

  it("issues every publish of the batch in event order before awaiting any confirm", async () => {
    const envelopes = [
      confirmed("u1", 1),
      confirmed("u2", 1),
      confirmed("u1", 2),
      confirmed("u1", 3),
    ];
    // A worker that awaited each confirm before the next publish would never issue the fourth.
    const { handled } = await handleAllIssued(envelopes);
    expect(jobQueue.calls.map(({ job }) => job.id)).toEqual(
      envelopes.map((envelope) => `${envelope.eventId}:email`),
    );
    expect(await inbox()).toEqual([]);
    // Confirms may come back in any order; the batch is recorded once all of them did.
    for (const call of [...jobQueue.calls].reverse()) call.confirm();
    await handled;
    expect(await inbox()).toEqual(
      envelopes.map((envelope) => envelope.eventId).sort(),
    );
  });

  it("when one publish of the batch is rejected, fails the batch and records nothing", async () => {
    const envelopes = [
      confirmed("u1", 1),
      confirmed("u1", 2),
      confirmed("u1", 3),
    ];
    const { worker, handled } = await handleAllIssued(envelopes);
    jobQueue.calls[0]!.confirm();
    jobQueue.calls[1]!.reject(
      new InfrastructureError("rabbitmq is disconnected", { retriable: true }),
    );
    jobQueue.calls[2]!.confirm();
    await expect(handled).rejects.toThrow("rabbitmq is disconnected");
    expect(await inbox()).toEqual([]);
    expect(worker.stats).toMatchObject({ handled: 0, jobs: 0 });
  });

  it("parks unreadable events with the batch and publishes the rest", async () => {
    jobQueue.autoConfirm(true);
    const worker = newWorker();
    const good = confirmed("u1", 1);
    await worker.handleBatch(
      batchOf([messageOf({ nonsense: true }, 0), messageOf(good, 1)]),
    );
    expect(jobQueue.calls.map(({ job }) => job.id)).toEqual([
      `${good.eventId}:email`,
    ]);
    const parked = await db.query<{ kafka_offset: string }>(
      "SELECT kafka_offset FROM notifications.rejected_events",
    );
    expect(parked.map((row) => row.kafka_offset)).toEqual(["0"]);
    expect(worker.stats).toMatchObject({ handled: 1, rejected: 1 });
  });

  it("subscribed: a batch with a failed publish stays uncommitted, its partition pauses, and nothing later overtakes it", async () => {
    jobQueue.autoConfirm(true);
    jobQueue.failNext(1);
    const worker = newWorker({ topics: ["switchyard.orders"] });
    const first = [confirmed("u1", 1), confirmed("u1", 2)];
    await eventLog.publish(
      "switchyard.orders",
      first.map((envelope) => ({
        key: envelope.key,
        value: JSON.stringify(envelope),
      })),
    );
    // While RabbitMQ stays down every attempt fails: hold it down until the paused state is seen.
    jobQueue.failNext(1_000_000);
    await worker.start();
    const paused = await waitFor(
      () => (worker.state().status === "paused" ? worker.state() : undefined),
      { timeoutMs: 10_000, what: "the partition paused" },
    );
    expect(paused).toMatchObject({
      pausedPartitions: [{ topic: "switchyard.orders", partition: 0 }],
      reason: expect.stringContaining("no publisher confirm"),
    });
    const later = confirmed("u1", 3);
    await eventLog.publish("switchyard.orders", [
      { key: later.key, value: JSON.stringify(later) },
    ]);
    await waitFor(() => (jobQueue.calls.length > 6 ? true : undefined), {
      timeoutMs: 10_000,
      what: "a few redeliveries",
    });
    expect(await worker.lag()).toBe(3);
    expect(await inbox()).toEqual([]);
    // The later event only ever comes redelivered with the failed ones, after them in call order.
    const ids = jobQueue.calls.map(({ job }) => job.id);
    ids.forEach((id, index) => {
      if (id === `${later.eventId}:email`)
        expect(ids.slice(index - 2, index)).toEqual(
          first.map((envelope) => `${envelope.eventId}:email`),
        );
    });
    jobQueue.failNext(0);
    await waitFor(async () => ((await worker.lag()) === 0 ? true : undefined), {
      timeoutMs: 10_000,
      what: "the backlog committed",
    });
    expect(worker.state()).toMatchObject({
      status: "running",
      pausedPartitions: [],
    });
    expect(await inbox()).toEqual(
      [...first, later].map((envelope) => envelope.eventId).sort(),
    );
    const confirmedIds = jobQueue.calls.slice(-3).map(({ job }) => job.id);
    expect(confirmedIds).toEqual(
      [...first, later].map((envelope) => `${envelope.eventId}:email`),
    );
    await worker.stop();
    expect(worker.state().status).toBe("stopped");
  });
});
