import type { ChannelSender } from "../../events/channels.ts";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { createDispatcher, type Dispatcher } from "../../events/dispatcher.ts";
import type { SubscriptionState } from "../../events/event-log.ts";
import {
  deadLetterQueueOf,
  jobQueueProblem,
  type JobQueue,
  type RetryPolicy,
} from "../../events/job-queue.ts";
import { createKafkaEventLog } from "../../events/kafka-event-log.ts";
import {
  createNotificationWorker,
  type NotificationWorker,
} from "../../events/notification-worker.ts";
import { CHANNELS, queueFor } from "../../events/notification-job.ts";
import {
  createOutboxRelay,
  type OutboxRelay,
} from "../../events/outbox-relay.ts";
import { prepareNotificationsDatabase } from "../../events/pipeline.ts";
import { createRabbitJobQueue } from "../../events/rabbit-job-queue.ts";
import {
  openStorage,
  type Database,
  type Storage,
} from "../../platform/database.ts";
import { migrate } from "../../platform/migrate.ts";
import { appendToOutbox } from "../../events/outbox-writer.ts";
import { expect } from "vitest";
import { describeGroup, inspectQueues } from "./broker-inspect.ts";
import { unique, waitFor } from "./brokers.ts";
import { directoryOf } from "./notifications.ts";

/**
 * The real event pipeline in one test process, for fault tests: orders outbox on PostgreSQL →
 * outbox relay → Kafka → notification worker → RabbitMQ → dispatcher, with a recording email
 * sender in place of SMTP. Each piece can be given its own broker or database address, so a test
 * can put a private broker or a cuttable proxy in front of exactly one of them.
 *
 * Events are `orders.order.confirmed` for a handful of users; each carries its per-user sequence
 * number in its correlation id (`<user>#<n>`), so the order a user's emails were sent in can be
 * checked against the order the events were written in.
 */

/** A compact retry policy: far shorter than the outages the tests hold, so a consumer that burns retries while a broker is down dead-letters (and fails the test) instead of waiting it out. */
export const RIG_RETRY: RetryPolicy = Object.freeze({
  delaysMs: [250, 1000, 2000],
  maxAttempts: 4,
});

export interface RigOptions {
  /** The PostgreSQL database every piece shares (a test's own, from `tests/support/storage.ts`). */
  databaseUrl: string;
  kafkaBrokers: string[];
  amqpUrl: string;
  /** Where the relay reaches PostgreSQL (a proxy to cut). @default databaseUrl */
  relayDatabaseUrl?: string;
  /** Where the dispatcher reaches PostgreSQL (a proxy to cut). @default databaseUrl */
  dispatcherDatabaseUrl?: string;
  /** @default 4 */
  users?: number;
  /** @default RIG_RETRY */
  retry?: RetryPolicy;
}

export interface Send {
  notificationId: string;
  userId: string;
  seq: number;
}

export interface RigReport {
  produced: number;
  delivered: number;
  missing: string[];
  duplicated: Array<[string, number]>;
  unexpected: string[];
  /** Users whose emails were sent out of their events' order, with the sequence as sent. */
  outOfOrder: Array<{ user: string; sent: number[] }>;
  deadLettered: number;
  deliveryRows: number;
}

export interface Rig {
  readonly prefix: string;
  readonly worker: NotificationWorker;
  readonly dispatcher: Dispatcher;
  readonly relay: OutboxRelay;
  readonly jobQueue: JobQueue;
  /** Every queue the rig declared (main, retry tiers, DLQs): a test on a shared broker deletes them. */
  readonly queueNames: readonly string[];
  /** Every email the dispatcher sent, in send order. */
  readonly sends: readonly Send[];
  /** Notification ids of every event written so far. */
  readonly expected: ReadonlySet<string>;
  /** Writes `count` events (round robin over the users) to the outbox, each in its own transaction. */
  produce(count: number): Promise<void>;
  /** Keeps writing one event every `intervalMs` until `stopProducing`; write failures are counted, not thrown. */
  startProducing(intervalMs?: number): void;
  stopProducing(): Promise<void>;
  /** Waits until every written event was sent at least once. */
  waitDelivered(timeoutMs: number, what: string): Promise<void>;
  /** Waits until nothing is left anywhere: outbox published, worker lag 0, queues and retry tiers empty. */
  waitQuiet(timeoutMs: number): Promise<void>;
  report(): Promise<RigReport>;
  /** Whether the consumers are still attached: the worker's group as Kafka sees it, the dispatcher's consumers as RabbitMQ sees them. */
  consumers(): Promise<{
    group: { state: string; members: number };
    queueConsumers: Record<string, number>;
    worker: SubscriptionState;
    jobQueueProblem: string | undefined;
  }>;
  /** The last log lines of every piece (warn and above), for a failure message. */
  logTail(lines?: number): string;
  /** What the pipeline holds right now: for a failure message when a wait times out. */
  describe(): Promise<string>;
  stop(): Promise<void>;
}

const ORDERS_MIGRATIONS = fileURLToPath(
  new URL("../../subgraphs/orders/migrations", import.meta.url),
);

/** A pino logger whose lines (warn and above) are kept in memory. */
function memoryLogger(lines: string[]) {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString().trimEnd());
      if (lines.length > 2000) lines.splice(0, lines.length - 2000);
      done();
    },
  });
  return pino({ level: "warn" }, sink);
}

export async function startRig(options: RigOptions): Promise<Rig> {
  const {
    databaseUrl,
    kafkaBrokers,
    amqpUrl,
    users: userCount = 4,
    retry = RIG_RETRY,
  } = options;
  const prefix = unique("outage");
  const lines: string[] = [];
  const logger = memoryLogger(lines);
  const opened: Storage[] = [];
  const open = async (url: string) => {
    const storage = await openStorage({ databaseUrl: url, dataDir: "" });
    opened.push(storage);
    return storage;
  };
  const direct = await open(databaseUrl);
  const orders = direct.forService("orders");
  const notifications = direct.forService("notifications");
  await migrate(orders, { schema: "orders", dir: ORDERS_MIGRATIONS });
  await prepareNotificationsDatabase(notifications);
  const relayDb: Database = options.relayDatabaseUrl
    ? (await open(options.relayDatabaseUrl)).forService("orders")
    : orders;
  const dispatcherDb: Database = options.dispatcherDatabaseUrl
    ? (await open(options.dispatcherDatabaseUrl)).forService("notifications")
    : notifications;

  const users = Array.from(
    { length: userCount },
    (_, index) => `${prefix}.user-${index}`,
  );
  const eventLog = createKafkaEventLog({
    brokers: kafkaBrokers,
    clientId: prefix,
    logger,
  });
  const jobQueue = await createRabbitJobQueue({
    url: amqpUrl,
    logger,
    retry,
    confirmTimeoutMs: 3000,
  });
  const topic = `${prefix}.switchyard.orders`;
  const worker = createNotificationWorker({
    eventLog,
    jobQueue,
    db: notifications,
    logger,
    groupId: prefix,
    topics: [topic],
    queuePrefix: prefix,
  });
  const relay = createOutboxRelay({
    db: relayDb,
    schema: "orders",
    eventLog,
    logger,
    topicPrefix: `${prefix}.`,
    pollIntervalMs: 100,
  });
  const sends: Send[] = [];
  const sender: ChannelSender = {
    transport: "recording",
    async send(job) {
      const seq = Number(job.correlationId.split("#")[1]);
      sends.push({
        notificationId: job.notificationId,
        userId: job.userId,
        seq,
      });
    },
  };
  const dispatcher = createDispatcher({
    jobQueue,
    db: dispatcherDb,
    logger,
    senders: { email: sender, sms: sender, push: sender },
    recipients: directoryOf(users),
    retry,
    queuePrefix: prefix,
  });

  const expected = new Set<string>();
  const nextSeq = new Map<string, number>();
  let written = 0;
  let writeFailures = 0;
  const produceOne = async () => {
    const user = users[written % users.length]!;
    const seq = nextSeq.get(user) ?? 0;
    // The sequence number is taken before the write and kept only when it commits, so a user's
    // numbers are gap-free in commit order.
    const envelope = await orders.transaction((tx) =>
      appendToOutbox(tx, "orders", {
        type: "orders.order.confirmed",
        key: user,
        correlationId: `${user}#${seq}`,
        data: {
          orderId: `${user}-order-${seq}`,
          userId: user,
          total: seq,
          currency: "USD",
        },
      }),
    );
    nextSeq.set(user, seq + 1);
    written += 1;
    expected.add(`${envelope.eventId}:email`);
  };
  let producing: Promise<void> | undefined;
  let keepProducing = false;

  const queues = CHANNELS.map((channel) => queueFor(prefix, channel));
  const retryQueues = queues.flatMap((queue) =>
    [...new Set(retry.delaysMs)].map((delay) => `${queue}.retry.${delay}ms`),
  );
  // Read through a connection of our own: the adapter's `depth` only knows queues it declared since
  // its last reconnect, and a test must see the broker's truth.
  const depths = async (names: string[]) =>
    (await inspectQueues(amqpUrl, names)).reduce(
      (sum, queue) => sum + queue.messages,
      0,
    );

  await dispatcher.start();
  await worker.start();
  relay.start();

  const rig: Rig = {
    prefix,
    worker,
    dispatcher,
    relay,
    jobQueue,
    queueNames: [...queues, ...retryQueues, ...queues.map(deadLetterQueueOf)],
    sends,
    expected,
    async produce(count) {
      for (let n = 0; n < count; n += 1) await produceOne();
    },
    startProducing(intervalMs = 100) {
      keepProducing = true;
      producing = (async () => {
        while (keepProducing) {
          await produceOne().catch(() => (writeFailures += 1));
          await new Promise((done) => setTimeout(done, intervalMs));
        }
      })();
    },
    async stopProducing() {
      keepProducing = false;
      await producing;
    },
    async waitDelivered(timeoutMs, what) {
      try {
        await waitFor(
          () =>
            [...expected].every((id) =>
              sends.some((send) => send.notificationId === id),
            )
              ? true
              : undefined,
          { timeoutMs, intervalMs: 200, what },
        );
      } catch (error) {
        throw new Error(
          `${(error as Error).message}\n${await rig.describe()}\n--- last log lines ---\n${rig.logTail()}`,
          { cause: error },
        );
      }
    },
    async waitQuiet(timeoutMs) {
      try {
        await waitFor(
          async () => {
            const lag = await relay.lag().catch(() => undefined);
            if (lag?.unpublished !== 0) return undefined;
            if ((await worker.lag().catch(() => -1)) !== 0) return undefined;
            if (
              (await depths([...queues, ...retryQueues]).catch(() => -1)) !== 0
            )
              return undefined;
            return true;
          },
          {
            timeoutMs,
            intervalMs: 250,
            what: "an empty pipeline (outbox published, worker lag 0, queues and retry tiers empty)",
          },
        );
      } catch (error) {
        throw new Error(
          `${(error as Error).message}\n${await rig.describe()}\n--- last log lines ---\n${rig.logTail()}`,
          { cause: error },
        );
      }
    },
    async report() {
      const counts = new Map<string, number>();
      for (const send of sends)
        counts.set(
          send.notificationId,
          (counts.get(send.notificationId) ?? 0) + 1,
        );
      const outOfOrder: RigReport["outOfOrder"] = [];
      for (const user of users) {
        const sent = sends
          .filter((send) => send.userId === user)
          .map((send) => send.seq);
        if (sent.some((seq, index) => index > 0 && seq < sent[index - 1]!))
          outOfOrder.push({ user, sent });
      }
      const [rows] = await notifications.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM notifications.deliveries WHERE status = 'DELIVERED' AND notification_id = ANY($1)`,
        [[...expected]],
      );
      return {
        produced: expected.size,
        delivered: counts.size,
        missing: [...expected].filter((id) => !counts.has(id)),
        duplicated: [...counts.entries()].filter(([, count]) => count > 1),
        unexpected: [...counts.keys()].filter((id) => !expected.has(id)),
        outOfOrder,
        deadLettered: await depths(queues.map(deadLetterQueueOf)),
        deliveryRows: rows?.n ?? 0,
      };
    },
    async consumers() {
      return {
        group: await describeGroup(kafkaBrokers, prefix),
        queueConsumers: Object.fromEntries(
          (await inspectQueues(amqpUrl, queues)).map((queue) => [
            queue.queue,
            queue.consumers,
          ]),
        ),
        // What the roles themselves report (on /ready): the worker's consumer, the dispatcher's queue consumers.
        worker: worker.state(),
        jobQueueProblem: jobQueueProblem(jobQueue.health(), {
          publishes: true,
        }),
      };
    },
    logTail(count = 15) {
      // Each distinct message once with its count (a reconnect loop repeats one line hundreds of
      // times), then the last lines as they came.
      const counts = new Map<string, number>();
      for (const line of lines) {
        const message = /"msg":"([^"]*)"/.exec(line)?.[1] ?? line.slice(0, 120);
        counts.set(message, (counts.get(message) ?? 0) + 1);
      }
      return [
        ...[...counts.entries()].map(([message, n]) => `${n}× ${message}`),
        "--- last lines ---",
        ...lines.slice(-count),
      ].join("\n");
    },
    async describe() {
      const safe = async <T>(read: () => Promise<T>) =>
        read().then(
          String,
          (error: unknown) => `unknown (${(error as Error).message})`,
        );
      return [
        `produced ${expected.size} (write failures ${writeFailures}), sent ${new Set(sends.map((send) => send.notificationId)).size} distinct / ${sends.length} total`,
        `worker stats ${JSON.stringify(worker.stats)}, dispatcher stats ${JSON.stringify(dispatcher.stats)}, relay published ${relay.published}`,
        `worker state ${JSON.stringify(worker.state())}, job queue ${JSON.stringify(jobQueue.health())}`,
        `outbox unpublished ${await safe(async () => (await relay.lag()).unpublished)}, worker lag ${await safe(() => worker.lag())}`,
        `queues ${await safe(() => depths(queues))}, retry tiers ${await safe(() => depths(retryQueues))}, DLQs ${await safe(() => depths(queues.map(deadLetterQueueOf)))}`,
      ].join("\n");
    },
    async stop() {
      keepProducing = false;
      await producing;
      await relay.stop().catch(() => undefined);
      await worker.stop().catch(() => undefined);
      await dispatcher.stop().catch(() => undefined);
      await eventLog.close().catch(() => undefined);
      await jobQueue.close().catch(() => undefined);
      for (const storage of opened)
        await storage.close().catch(() => undefined);
    },
  };
  return rig;
}

export interface OutageResult {
  report: RigReport;
  /** Consumers after recovery. */
  consumers: Awaited<ReturnType<Rig["consumers"]>>;
  /** Events written while the fault was held. */
  writtenDuringFault: number;
  /** How long the fault was actually held (ms). */
  heldMs: number;
}

/**
 * One fault case: events flow, the fault is injected and held for `holdMs` while events keep being
 * written, then lifted; afterwards every event must come through, a fresh batch written after the
 * recovery must come through too (the consumers still consume), and the pipeline must drain. The
 * hold is the fault's duration, the one deliberate wait; everything after it waits on conditions
 * with deadlines.
 */
export async function runOutage(
  rig: Rig,
  {
    inject,
    lift,
    holdMs,
    recoveryTimeoutMs = 120_000,
  }: {
    inject(): Promise<void>;
    lift(): Promise<void>;
    holdMs: number;
    recoveryTimeoutMs?: number;
  },
): Promise<OutageResult> {
  rig.startProducing(200);
  await waitFor(() => (rig.sends.length >= 5 ? true : undefined), {
    timeoutMs: 60_000,
    intervalMs: 100,
    what: "the first deliveries before the fault",
  });
  await inject();
  const before = rig.expected.size;
  const began = Date.now();
  await new Promise((done) => setTimeout(done, holdMs));
  const writtenDuringFault = rig.expected.size - before;
  await lift();
  const heldMs = Date.now() - began;
  // Producing goes on across the recovery until something sent after it shows the path is open.
  const sentAtLift = rig.sends.length;
  await waitFor(() => (rig.sends.length > sentAtLift ? true : undefined), {
    timeoutMs: recoveryTimeoutMs,
    intervalMs: 200,
    what: "a delivery after the fault was lifted",
  }).catch(async (error: unknown) => {
    throw new Error(
      `${(error as Error).message}\n${await rig.describe()}\n--- last log lines ---\n${rig.logTail()}`,
      { cause: error },
    );
  });
  await rig.stopProducing();
  await rig.waitDelivered(
    recoveryTimeoutMs,
    `all ${rig.expected.size} events after the fault`,
  );
  // Still consuming: a batch written after everything caught up goes through as well.
  await rig.produce(8);
  await rig.waitDelivered(60_000, "a batch written after the recovery");
  await rig.waitQuiet(60_000);
  return {
    report: await rig.report(),
    consumers: await rig.consumers(),
    writtenDuringFault,
    heldMs,
  };
}

/** What "survived the fault" means, asserted the same way for every case. */
export function expectSurvived({
  report,
  consumers,
  writtenDuringFault,
}: OutageResult): void {
  const summary = JSON.stringify({
    ...report,
    missing: report.missing.length,
    duplicated: report.duplicated.slice(0, 5),
    outOfOrder: report.outOfOrder.slice(0, 2),
    consumers,
    writtenDuringFault,
  });
  expect(
    writtenDuringFault,
    "events were written while the fault was held",
  ).toBeGreaterThan(0);
  expect(report.missing, `events never delivered: ${summary}`).toEqual([]);
  expect(
    report.duplicated,
    `events delivered more than once: ${summary}`,
  ).toEqual([]);
  expect(report.unexpected, summary).toEqual([]);
  expect(
    report.outOfOrder,
    `users whose emails left out of order: ${summary}`,
  ).toEqual([]);
  expect(report.deadLettered, `jobs dead-lettered: ${summary}`).toBe(0);
  expect(report.deliveryRows, `DELIVERED rows: ${summary}`).toBe(
    report.produced,
  );
  expect(
    consumers.group.state,
    `the worker's consumer group after the fault: ${summary}`,
  ).toBe("Stable");
  expect(consumers.group.members, summary).toBeGreaterThanOrEqual(1);
  expect(
    consumers.worker.status,
    `the worker's own state after the fault: ${summary}`,
  ).toBe("running");
  expect(
    consumers.jobQueueProblem,
    `the job queue's own health after the fault: ${summary}`,
  ).toBeUndefined();
  for (const [queue, count] of Object.entries(consumers.queueConsumers))
    expect(count, `consumers on ${queue}: ${summary}`).toBeGreaterThanOrEqual(
      1,
    );
}
