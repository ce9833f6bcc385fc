/**
 * A notification worker in a process of its own that kills itself (SIGKILL: no cleanup, no
 * commit) at a chosen point while handling one chosen event:
 * - `after-confirm`: RabbitMQ confirmed its jobs; neither the inbox record nor the Kafka offset exist;
 * - `after-inbox`:   the jobs are confirmed and the inbox records the event; the offset is not committed.
 * Configured by CRASH_* variables; used by tests/int/events/worker-crash.test.ts.
 */
import { pino } from "pino";
import type { JobQueue } from "../../events/job-queue.ts";
import { createKafkaEventLog } from "../../events/kafka-event-log.ts";
import { createNotificationWorker } from "../../events/notification-worker.ts";
import { createRabbitJobQueue } from "../../events/rabbit-job-queue.ts";
import type { Database } from "../../platform/database.ts";
import { openStorage } from "../../platform/database.ts";

const env = process.env;
const mode = env.CRASH_MODE as "after-confirm" | "after-inbox";
const targetEventId = env.CRASH_EVENT_ID!;
const logger = pino({ level: "silent" });
const die = () => process.kill(process.pid, "SIGKILL");

const storage = await openStorage({
  databaseUrl: env.CRASH_DATABASE_URL,
  dataDir: "",
});
const realDb = storage.forService("notifications");
/** The worker records a batch's events in one inbox insert (an array of ids) inside a transaction. */
const recordsTarget = (text: string, params: readonly unknown[] | undefined) =>
  text.includes("INSERT INTO notifications.inbox") &&
  Array.isArray(params?.[0]) &&
  params[0].includes(targetEventId);
const db: Database = {
  ...realDb,
  async transaction(fn) {
    let recorded = false;
    const result = await realDb.transaction((tx) =>
      fn({
        ...tx,
        query: (text, params) => {
          recorded ||= recordsTarget(text, params);
          return tx.query(text, params);
        },
      }),
    );
    // Dies once the inbox record is committed, before the worker can commit the Kafka offset.
    if (mode === "after-inbox" && recorded) die();
    return result;
  },
};
const realQueue = await createRabbitJobQueue({
  url: env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672",
  logger,
  confirmTimeoutMs: 5000,
});
const jobQueue: JobQueue = {
  ...realQueue,
  async publish(queue, job) {
    await realQueue.publish(queue, job);
    if (
      mode === "after-confirm" &&
      (job.payload as { eventId?: string }).eventId === targetEventId
    )
      die();
  },
};
const eventLog = createKafkaEventLog({
  brokers: (env.KAFKA_BROKERS ?? "127.0.0.1:19092").split(","),
  clientId: "crashing-worker",
  logger,
});
const worker = createNotificationWorker({
  eventLog,
  jobQueue,
  db,
  logger,
  groupId: env.CRASH_GROUP!,
  topics: [env.CRASH_TOPIC!],
  queuePrefix: env.CRASH_PREFIX!,
});
await worker.start();
process.send?.("started");
