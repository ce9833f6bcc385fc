import { fork } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDispatcher } from "../../../events/dispatcher.ts";
import type { RetryPolicy } from "../../../events/job-queue.ts";
import { createKafkaEventLog } from "../../../events/kafka-event-log.ts";
import { createNotificationWorker } from "../../../events/notification-worker.ts";
import { CHANNELS, queueFor } from "../../../events/notification-job.ts";
import { prepareNotificationsDatabase } from "../../../events/pipeline.ts";
import type { Database } from "../../../platform/database.ts";
import { buildEnvelope } from "../../../events/envelope.ts";
import {
  deleteQueues,
  KAFKA_BROKERS,
  unique,
  waitFor,
} from "../../support/brokers.ts";
import { silentLogger } from "../../support/stack.ts";
import { probePipelineServices } from "../../support/pipeline-services.ts";
import {
  countingSenders,
  directoryOf,
  workerScope,
} from "../../support/notifications.ts";
import { orderConfirmed } from "../../support/order-events.ts";
import {
  declaredQueues,
  openTestJobQueue,
} from "../../support/rabbit-job-queues.ts";

const { postgres, unavailable } = await probePipelineServices();
const retry: RetryPolicy = { delaysMs: [100], maxAttempts: 3 };

describe.skipIf(unavailable)(
  "a notification worker killed between the RabbitMQ confirm and the Kafka commit",
  () => {
    let databaseUrl: string;
    let notifications: Database;
    let drop: () => Promise<void>;
    const prefixes: string[] = [];
    const cleanups: Array<() => Promise<unknown>> = [];

    beforeAll(async () => {
      const opened = await postgres.open();
      ({ drop } = opened);
      databaseUrl = opened.databaseUrl!;
      notifications = opened.storage.forService("notifications");
      await prepareNotificationsDatabase(notifications);
    });
    afterAll(async () => {
      for (const cleanup of cleanups.reverse())
        await cleanup().catch(() => undefined);
      await drop?.();
      await deleteQueues(
        prefixes.flatMap((prefix) =>
          CHANNELS.flatMap((channel) =>
            declaredQueues(queueFor(prefix, channel), retry),
          ),
        ),
      );
    });

    it.each(["after-confirm", "after-inbox"] as const)(
      "(%s) restarts and delivers every notification exactly once",
      { timeout: 90_000 },
      async (mode) => {
        const prefix = unique(`crash-${mode}`);
        prefixes.push(prefix);
        const topic = `${prefix}.events`;
        const publisher = createKafkaEventLog({
          brokers: KAFKA_BROKERS,
          clientId: `${prefix}-publisher`,
          logger: silentLogger,
        });
        cleanups.push(() => publisher.close());
        await publisher.ensureTopic(topic, { partitions: 2 });
        const users = Array.from(
          { length: 5 },
          (_, index) => `crash-user-${index}-${prefix}`,
        );
        const envelopes = users.flatMap((user) =>
          [1, 2].map((n) =>
            buildEnvelope(
              orderConfirmed({
                userId: user,
                orderId: `${user}-${n}`,
                total: n,
                correlationId: `${user}-${n}`,
              }),
            ),
          ),
        );
        const target = envelopes[3]!;
        await publisher.publish(
          topic,
          envelopes.map((envelope) => ({
            key: envelope.key,
            value: JSON.stringify(envelope),
          })),
        );

        // 1. The first worker dies at the chosen point while handling `target`.
        const child = fork(
          new URL("../../support/crashing-worker.ts", import.meta.url).pathname,
          [],
          {
            execArgv: ["--import", "tsx"],
            env: {
              ...process.env,
              CRASH_MODE: mode,
              CRASH_EVENT_ID: target.eventId,
              CRASH_DATABASE_URL: databaseUrl,
              CRASH_GROUP: prefix,
              CRASH_TOPIC: topic,
              CRASH_PREFIX: prefix,
            },
            stdio: ["ignore", "inherit", "inherit", "ipc"],
          },
        );
        const exit = await new Promise<NodeJS.Signals | null>((resolve) =>
          child.once("exit", (_code, signal) => resolve(signal)),
        );
        expect(exit).toBe("SIGKILL");
        const [recorded] = await notifications.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM notifications.inbox WHERE event_id = $1",
          [target.eventId],
        );
        expect(recorded!.n).toBe(mode === "after-inbox" ? 1 : 0);

        // 2. A fresh worker joins the same group: the uncommitted events come back to it.
        const jobQueue = await openTestJobQueue({ retry });
        cleanups.push(() => jobQueue.close());
        // What the restarted worker publishes, by event id: whether it published the target again
        // is the inbox's decision, which the test checks (other events of a batch that the first
        // worker confirmed but had not recorded when it died, on another partition, may come again
        // too: that is at-least-once, and the dispatcher's claims make it exactly-once).
        const republished = new Set<string>();
        const observedQueue: typeof jobQueue = {
          ...jobQueue,
          publish: (queue, job) => {
            const { eventId } = job.payload as { eventId?: string };
            if (eventId) republished.add(eventId);
            return jobQueue.publish(queue, job);
          },
        };
        const eventLog = createKafkaEventLog({
          brokers: KAFKA_BROKERS,
          clientId: `${prefix}-restarted`,
          logger: silentLogger,
        });
        cleanups.push(() => eventLog.close());
        const worker = createNotificationWorker({
          eventLog,
          jobQueue: observedQueue,
          db: notifications,
          ...workerScope(prefix, [topic]),
        });
        await worker.start();
        cleanups.push(() => worker.stop());

        // 3. Dispatchers send; every send is counted per notification id.
        const { sends, senders } = countingSenders();
        const recipients = directoryOf(users);
        const dispatcher = createDispatcher({
          jobQueue,
          db: notifications,
          logger: silentLogger,
          senders,
          recipients,
          retry,
          queuePrefix: prefix,
        });
        await dispatcher.start();
        cleanups.push(() => dispatcher.stop());

        await waitFor(
          () => (sends.size >= envelopes.length ? true : undefined),
          {
            timeoutMs: 60_000,
            what: `all ${envelopes.length} notifications sent`,
          },
        );
        const expected = envelopes
          .map((envelope) => `${envelope.eventId}:email`)
          .sort();
        expect([...sends.keys()].sort()).toEqual(expected);
        // Give any duplicate job that was republished after the crash time to reach the dispatcher.
        await waitFor(
          async () => {
            const [row] = await notifications.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM notifications.deliveries WHERE status = 'DELIVERED' AND notification_id = ANY($1)`,
              [expected],
            );
            return row!.n === expected.length ? true : undefined;
          },
          { what: "every delivery recorded" },
        );
        // The worker records a batch in the inbox after every publish of it was confirmed, so a
        // job can be sent before its batch is recorded: wait for the record, do not sample it.
        await waitFor(
          async () => {
            const [inbox] = await notifications.query<{ n: number }>(
              "SELECT count(*)::int AS n FROM notifications.inbox WHERE event_id = ANY($1)",
              [envelopes.map((envelope) => envelope.eventId)],
            );
            return inbox!.n === envelopes.length ? true : undefined;
          },
          { what: "every event recorded in the inbox" },
        );
        if (mode === "after-confirm") {
          // The restarted worker found no inbox record and published the target's job again: the
          // dispatcher must have met that duplicate and skipped it.
          await waitFor(
            () =>
              republished.has(target.eventId) && dispatcher.stats.skipped >= 1
                ? true
                : undefined,
            { what: "the target republished and its duplicate skipped" },
          );
        } else {
          // The inbox recorded the target before the crash: it is not published again.
          expect(republished.has(target.eventId)).toBe(false);
        }
        expect([...sends.values()].every((count) => count === 1)).toBe(true);
      },
    );
  },
);
