import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadLetterQueueOf } from "../../events/job-queue.ts";
import { CHANNELS, queueFor } from "../../events/notification-job.ts";
import {
  AMQP_URL,
  deleteQueues,
  probeRabbit,
  unique,
  waitFor,
} from "../support/brokers.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { freePort, startProcess, type Service } from "../support/process.ts";
import { postgresBackend } from "../support/storage.ts";

const postgres = await postgresBackend();
const unavailable = (await probeRabbit()) ?? postgres.unavailable;

/** `npm run start:dispatcher` as its own process, its broker and database each behind a proxy a test can cut. */
describe.skipIf(unavailable)("the dispatcher deployable", () => {
  const prefix = unique("dispatcher-role").replace(/\./g, "-");
  let rabbit: FaultProxy;
  let database: FaultProxy;
  let drop: () => Promise<void>;
  let service: Service | undefined;
  let base: string;

  beforeAll(async () => {
    const opened = await postgres.open();
    drop = opened.drop;
    await opened.storage.close();
    const dbUrl = new URL(opened.databaseUrl!);
    database = await startFaultProxy(`http://${dbUrl.host}/`);
    const proxiedDb = new URL(dbUrl);
    proxiedDb.port = new URL(database.url).port;
    const amqp = new URL(AMQP_URL);
    rabbit = await startFaultProxy(
      `http://${amqp.hostname}:${amqp.port || 5672}/`,
    );
    const proxiedAmqp = new URL(AMQP_URL);
    proxiedAmqp.port = new URL(rabbit.url).port;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    service = await startProcess("events/dispatcher-main.ts", {
      env: {
        DISPATCHER_PORT: String(port),
        DATABASE_URL: proxiedDb.toString(),
        AMQP_URL: proxiedAmqp.toString(),
        AMQP_QUEUE_PREFIX: prefix,
        KAFKA_BROKERS: "",
        LOG_LEVEL: "info",
      },
      readyLine: /pipeline role running/,
    });
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    await rabbit?.close();
    await database?.close();
    await drop?.();
    await deleteQueues(
      CHANNELS.flatMap((channel) => [
        queueFor(prefix, channel),
        deadLetterQueueOf(queueFor(prefix, channel)),
        `${queueFor(prefix, channel)}.retry.1000ms`,
        `${queueFor(prefix, channel)}.retry.10000ms`,
        `${queueFor(prefix, channel)}.retry.60000ms`,
      ]),
    );
  });

  const ready = async () => {
    const response = await fetch(`${base}/ready`);
    return {
      status: response.status,
      body: (await response.json()) as { details?: { problems?: string[] } },
    };
  };
  /** Polls /ready until it answers `status`; that answer. */
  const readyAnswers = (status: number, timeoutMs?: number) =>
    waitFor(
      async () => {
        const state = await ready();
        return state.status === status ? state : undefined;
      },
      { what: `/ready ${status}`, ...(timeoutMs ? { timeoutMs } : {}) },
    );

  it("reports the DLQ depth of the queues it consumes (AMQP_QUEUE_PREFIX) and its job queue connection", async () => {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const channel of CHANNELS)
      expect(metrics).toContain(
        `notification_dlq_depth{queue="${prefix}.${channel}.dlq",service="dispatcher"} 0`,
      );
    expect(metrics).not.toContain('queue="notifications.email.dlq"');
    expect(metrics).toContain('job_queue_connected{service="dispatcher"} 1');
    expect(metrics).toContain(
      `job_queue_consumer_attached{queue="${prefix}.email",service="dispatcher"} 1`,
    );
  });

  it("answers /ready 503 with the reason while RabbitMQ is unreachable, and 200 once its consumers are back", async () => {
    expect((await ready()).status).toBe(200);
    rabbit.setMode("reset");
    const down = await readyAnswers(503);
    expect(down.body.details?.problems).toContain("job queue disconnected");
    rabbit.setMode("pass");
    await readyAnswers(200, 60_000);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /job_queue_reconnects_total\{service="dispatcher"\} [1-9]/,
    );
  });

  it("answers /ready 503 with the reason while its database is unreachable", async () => {
    database.setMode("reset");
    const down = await readyAnswers(503);
    expect(down.body.details?.problems?.join()).toMatch(
      /database notifications unusable/,
    );
    database.setMode("pass");
    await readyAnswers(200, 60_000);
  });
});
