import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryJobQueue } from "../../../events/job-queue.ts";
import { createKafkaEventLog } from "../../../events/kafka-event-log.ts";
import { createNotificationWorker } from "../../../events/notification-worker.ts";
import type { NotificationJob } from "../../../events/notification-job.ts";
import { createOutboxRelay } from "../../../events/outbox-relay.ts";
import { prepareNotificationsDatabase } from "../../../events/pipeline.ts";
import type { Database, Storage } from "../../../platform/database.ts";
import { migrate } from "../../../platform/migrate.ts";
import { appendToOutbox } from "../../../events/outbox-writer.ts";
import { probeKafka, unique, waitFor } from "../../support/brokers.ts";
import { memoryLogger, silentLogger } from "../../support/stack.ts";
import { pgliteBackend } from "../../support/storage.ts";
import { orderConfirmed } from "../../support/order-events.ts";

const kafkaReason = await probeKafka();

const run = promisify(execFile);
// A private broker: stopping the shared one would break every other broker test running beside this one.
// TEST_PRIVATE_KAFKA_PORT (and the port after it) moves it, for two checkouts testing on one machine.
const PORT = Number(process.env.TEST_PRIVATE_KAFKA_PORT ?? 19392);
const brokerEnv = {
  ...process.env,
  KAFKA_PORT: String(PORT),
  KAFKA_CONTROLLER_PORT: String(PORT + 1),
  KAFKA_HOME: ".cache/kafka-restart-test",
  KAFKA_HEAP: "384m",
};
const kafkaScript = (command: "start" | "stop") =>
  run(
    process.execPath,
    ["--import", "tsx", "scripts/kafka/kafka.ts", command],
    { env: brokerEnv, timeout: 150_000 },
  );

describe.skipIf(kafkaReason)(
  "the pipeline across a Kafka broker restart",
  () => {
    let storage: Storage;
    let drop: () => Promise<void>;
    let orders: Database;

    beforeAll(async () => {
      await kafkaScript("start");
      ({ storage, drop } = await pgliteBackend.open());
      orders = storage.forService("orders");
      await migrate(orders, {
        schema: "orders",
        dir: fileURLToPath(
          new URL("../../../subgraphs/orders/migrations", import.meta.url),
        ),
      });
      await prepareNotificationsDatabase(storage.forService("notifications"));
    }, 180_000);
    afterAll(async () => {
      await drop?.();
      await kafkaScript("stop");
    }, 60_000);

    it("keeps events in the outbox while Kafka is down and delivers them, in order, once it is back", async () => {
      const prefix = unique("restart");
      const eventLog = createKafkaEventLog({
        brokers: [`127.0.0.1:${PORT}`],
        clientId: "restart-test",
        logger: silentLogger,
      });
      const jobQueue = createMemoryJobQueue({ logger: silentLogger });
      const jobs: NotificationJob[] = [];
      const { logger: relayLogger, lines: relayLines } = memoryLogger("info");
      const relay = createOutboxRelay({
        db: orders,
        schema: "orders",
        eventLog,
        logger: relayLogger,
        topicPrefix: `${prefix}.`,
        pollIntervalMs: 100,
      });
      const worker = createNotificationWorker({
        eventLog,
        jobQueue,
        db: storage.forService("notifications"),
        logger: silentLogger,
        groupId: prefix,
        topics: [`${prefix}.switchyard.orders`],
        queuePrefix: prefix,
        onJobsPublished: (published) => jobs.push(...published),
      });
      const confirm = (n: number) =>
        orders.transaction((tx) =>
          appendToOutbox(
            tx,
            "orders",
            orderConfirmed({
              userId: "restart-user",
              orderId: `order-${n}`,
              total: n,
              correlationId: `order-${n}`,
            }),
          ),
        );
      try {
        await worker.start();
        relay.start();
        await confirm(1);
        await waitFor(() => (jobs.length === 1 ? true : undefined), {
          timeoutMs: 30_000,
          what: "the first job",
        });

        const stopped = await kafkaScript("stop");
        expect(stopped.stdout, "the private broker stopped").toMatch(
          /stopped broker pid/,
        );
        const failuresBefore = relayLines.filter(
          (line) =>
            line.msg === "outbox relay pass failed; retrying at the next poll",
        ).length;
        await confirm(2);
        await confirm(3);
        // Nothing can be published while the broker is gone: once the relay has tried and failed, the rows still wait in the outbox.
        await waitFor(
          () =>
            relayLines.filter(
              (line) =>
                line.msg ===
                "outbox relay pass failed; retrying at the next poll",
            ).length > failuresBefore
              ? true
              : undefined,
          {
            timeoutMs: 60_000,
            intervalMs: 100,
            what: "the relay to fail a publish while Kafka is down",
          },
        );
        expect(
          (await relay.lag()).unpublished,
          `outbox rows waiting while Kafka is down; jobs so far ${JSON.stringify(jobs.map((job) => job.correlationId))}`,
        ).toBe(2);

        await kafkaScript("start");
        await waitFor(() => (jobs.length >= 3 ? true : undefined), {
          timeoutMs: 120_000,
          intervalMs: 200,
          what: "the jobs after the restart",
        });
        expect(
          jobs.map((job) => job.correlationId),
          "jobs in event order, each once",
        ).toEqual(["order-1", "order-2", "order-3"]);
        expect(
          (await relay.lag()).unpublished,
          "outbox rows left after the restart",
        ).toBe(0);
      } finally {
        await relay.stop();
        await worker.stop();
        await eventLog.close();
        await jobQueue.close();
      }
    }, 240_000);
  },
);
