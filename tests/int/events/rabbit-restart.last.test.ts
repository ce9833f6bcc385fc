import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDispatcher } from "../../../events/dispatcher.ts";
import type { RetryPolicy } from "../../../events/job-queue.ts";
import { createKafkaEventLog } from "../../../events/kafka-event-log.ts";
import { createNotificationWorker } from "../../../events/notification-worker.ts";
import { prepareNotificationsDatabase } from "../../../events/pipeline.ts";
import { createRabbitJobQueue } from "../../../events/rabbit-job-queue.ts";
import type { Database } from "../../../platform/database.ts";
import { buildEnvelope } from "../../../events/envelope.ts";
import {
  KAFKA_BROKERS,
  probeKafka,
  unique,
  waitFor,
} from "../../support/brokers.ts";
import {
  privateRabbitUnavailable,
  startPrivateRabbit,
  type PrivateRabbit,
} from "../../support/private-rabbit.ts";
import { skipReason } from "../../support/ci.ts";
import { silentLogger } from "../../support/stack.ts";
import { postgresBackend } from "../../support/storage.ts";
import {
  countingSenders,
  directoryOf,
  workerScope,
} from "../../support/notifications.ts";
import { orderConfirmed } from "../../support/order-events.ts";

const kafkaReason = await probeKafka();

const postgres = await postgresBackend();
const privateRabbitReason = skipReason(
  "a private RabbitMQ node for the restart test",
  await privateRabbitUnavailable(),
);
const unavailable = postgres.unavailable ?? kafkaReason ?? privateRabbitReason;
const retry: RetryPolicy = { delaysMs: [100], maxAttempts: 5 };
/** This test's own RabbitMQ node (ports assigned to it, so no other test's node collides). */
const RABBIT_PORTS = { port: 5701, distPort: 25701 };
/** The worker's Kafka session timeout (the adapter's default, set explicitly: the outage must outlast it). */
const SESSION_TIMEOUT_MS = 10_000;
/**
 * How long RabbitMQ stays down: past the session timeout and short of kafkajs's retry budget, the
 * window in which the old worker (a handler throwing into kafkajs, no heartbeats) was evicted, had
 * its commit refused with UNKNOWN_MEMBER_ID and crashed for good, consuming nothing ever again.
 */
const OUTAGE_MS = 12_000;

describe.skipIf(unavailable)(
  "the pipeline across a RabbitMQ restart (stop_app / start_app mid-stream)",
  () => {
    let rabbit: PrivateRabbit;
    let notifications: Database;
    let drop: () => Promise<void>;
    const cleanups: Array<() => Promise<unknown>> = [];

    beforeAll(async () => {
      rabbit = await startPrivateRabbit(RABBIT_PORTS);
      const opened = await postgres.open();
      drop = opened.drop;
      notifications = opened.storage.forService("notifications");
      await prepareNotificationsDatabase(notifications);
    }, 90_000);
    afterAll(async () => {
      for (const cleanup of cleanups.reverse())
        await cleanup().catch(() => undefined);
      await drop?.();
      await rabbit?.close();
    });

    // Was skipped as an open defect (some of the 30 notifications never delivered after start_app).
    // Cause: while RabbitMQ was down the worker's handler threw into kafkajs, which retried it without
    // heartbeating; an outage past the session timeout got the member evicted, the commit after
    // recovery failed with UNKNOWN_MEMBER_ID and the consumer crashed without restarting. The worker
    // now pauses the partition and keeps heartbeating (events/kafka-subscription.ts).
    it(
      "delivers every one of N notifications exactly once across a ~12 s outage, the worker paused meanwhile",
      { timeout: 180_000 },
      async () => {
        const prefix = unique("rabbit-restart");
        const topic = `${prefix}.events`;
        const eventLog = createKafkaEventLog({
          brokers: KAFKA_BROKERS,
          clientId: prefix,
          logger: silentLogger,
          sessionTimeoutMs: SESSION_TIMEOUT_MS,
        });
        cleanups.push(() => eventLog.close());
        await eventLog.ensureTopic(topic, { partitions: 2 });
        const jobQueue = await createRabbitJobQueue({
          url: rabbit.url,
          logger: silentLogger,
          retry,
          confirmTimeoutMs: 3000,
        });
        cleanups.push(() => jobQueue.close());
        const worker = createNotificationWorker({
          eventLog,
          jobQueue,
          db: notifications,
          ...workerScope(prefix, [topic]),
        });
        await worker.start();
        cleanups.push(() => worker.stop());
        const { sends, senders } = countingSenders();
        const users = Array.from(
          { length: 4 },
          (_, index) => `restart-user-${index}-${prefix}`,
        );
        const dispatcher = createDispatcher({
          jobQueue,
          db: notifications,
          logger: silentLogger,
          senders,
          recipients: directoryOf(users),
          retry,
          queuePrefix: prefix,
        });
        await dispatcher.start();
        cleanups.push(() => dispatcher.stop());

        const envelopes = Array.from({ length: 30 }, (_, n) => {
          const user = users[n % users.length]!;
          return buildEnvelope(
            orderConfirmed({
              userId: user,
              orderId: `${prefix}-${n}`,
              total: n,
              correlationId: `${user}-${n}`,
            }),
          );
        });
        const publish = (batch: typeof envelopes) =>
          eventLog.publish(
            topic,
            batch.map((envelope) => ({
              key: envelope.key,
              value: JSON.stringify(envelope),
            })),
          );

        await publish(envelopes.slice(0, 10));
        await waitFor(() => (sends.size >= 5 ? true : undefined), {
          timeoutMs: 30_000,
          what: "the first deliveries",
        });
        await rabbit.stopApp();
        const downSince = Date.now();
        // Events keep arriving while the broker is down: the worker cannot confirm their jobs, so it
        // must not commit their offsets either; it pauses the partitions instead of crashing.
        await publish(envelopes.slice(10, 20));
        const paused = await waitFor(
          () =>
            worker.state().status === "paused" ? worker.state() : undefined,
          { timeoutMs: 60_000, what: "the worker pausing its partitions" },
        );
        expect(paused.reason).toBeTruthy();
        // Hold the outage past the session timeout, checking all along that nothing gets committed.
        await waitFor(
          async () => (Date.now() - downSince >= OUTAGE_MS ? true : undefined),
          {
            timeoutMs: OUTAGE_MS + 30_000,
            intervalMs: 500,
            what: "the outage window",
          },
        );
        expect(OUTAGE_MS).toBeGreaterThan(SESSION_TIMEOUT_MS);
        expect(await eventLog.lag(prefix, [topic])).toBeGreaterThanOrEqual(10);
        expect(worker.state()).toMatchObject({ status: "paused", restarts: 0 });
        await rabbit.startApp();
        await publish(envelopes.slice(20));

        const expected = envelopes
          .map((envelope) => `${envelope.eventId}:email`)
          .sort();
        await waitFor(
          () => (sends.size >= expected.length ? true : undefined),
          {
            timeoutMs: 120_000,
            what: `all ${expected.length} notifications after the restart`,
          },
        );
        // Quiescent: everything committed and no job left in the queue, so no late duplicate is on its way.
        await waitFor(
          async () =>
            (await eventLog.lag(prefix, [topic])) === 0 &&
            (await jobQueue.depth(`${prefix}.email`)) === 0
              ? true
              : undefined,
          { timeoutMs: 60_000, what: "the pipeline to drain" },
        );
        expect([...sends.keys()].sort()).toEqual(expected);
        expect([...sends.entries()].filter(([, count]) => count !== 1)).toEqual(
          [],
        );
        const [delivered] = await notifications.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM notifications.deliveries WHERE status = 'DELIVERED' AND notification_id = ANY($1)`,
          [expected],
        );
        expect(delivered!.n).toBe(expected.length);
        // The consumer that lived through the outage is the one still consuming (no crash, no restart).
        expect(worker.state()).toEqual({
          status: "running",
          pausedPartitions: [],
          restarts: 0,
        });
      },
    );
  },
);
