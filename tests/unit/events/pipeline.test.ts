import { afterEach, describe, expect, it } from "vitest";
import { createLogSender } from "../../../events/channels.ts";
import { createMemoryEventLog } from "../../../events/event-log.ts";
import {
  createMemoryJobQueue,
  type JobQueue,
} from "../../../events/job-queue.ts";
import {
  consumerReadiness,
  startPipeline,
  type Pipeline,
} from "../../../events/pipeline.ts";
import { createStaticDirectory } from "../../../events/recipients.ts";
import { InfrastructureError } from "../../../platform/errors.ts";
import { buildEnvelope } from "../../../events/envelope.ts";
import { waitFor } from "../../support/wait.ts";
import { silentLogger } from "../../support/logger.ts";
import { WORKER_PAUSED_ON_RABBITMQ } from "../../support/pipeline-readiness.ts";
import { pgliteBackend } from "../../support/storage.ts";

describe("the pipeline’s consumers on /ready", () => {
  let pipeline: Pipeline | undefined;
  let drop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await pipeline?.stop();
    await drop?.();
  });

  it("reports the worker paused (503 with the reason) while job publishes fail, and ready again once they succeed", async () => {
    const opened = await pgliteBackend.open();
    drop = opened.drop;
    const memoryQueue = createMemoryJobQueue({ logger: silentLogger });
    let rabbitDown = false;
    // The job queue as the worker sees it while RabbitMQ is down: every publish rejects, retriable.
    const jobQueue: JobQueue = {
      ...memoryQueue,
      publish: async (queue, job) => {
        if (rabbitDown)
          throw new InfrastructureError("rabbitmq is disconnected", {
            retriable: true,
          });
        return memoryQueue.publish(queue, job);
      },
    };
    const eventLog = createMemoryEventLog({
      logger: silentLogger,
      backoff: { initialMs: 20, maxMs: 50 },
    });
    const sender = createLogSender({ logger: silentLogger, channel: "email" });
    pipeline = await startPipeline({
      storage: opened.storage,
      logger: silentLogger,
      eventLog,
      jobQueue,
      senders: { email: sender, sms: sender, push: sender },
      recipients: createStaticDirectory({}),
      roles: { worker: true, analytics: true },
    });
    expect(consumerReadiness(pipeline)).toMatchObject({
      ready: true,
      details: {
        consumers: [
          { role: "worker", group: "notifications", status: "running" },
          { role: "analytics", group: "analytics", status: "running" },
        ],
      },
    });

    rabbitDown = true;
    const envelope = buildEnvelope({
      type: "orders.order.confirmed",
      key: "u1",
      correlationId: "c-1",
      data: { orderId: "o-1", userId: "u1", total: 100, currency: "USD" },
    });
    await eventLog.publish("switchyard.orders", [
      { key: envelope.key, value: JSON.stringify(envelope) },
    ]);
    const current = pipeline;
    const notReady = await waitFor(
      () => {
        const readiness = consumerReadiness(current);
        return readiness.ready ? undefined : readiness;
      },
      { timeoutMs: 10_000, what: "the worker to pause" },
    );
    // Analytics reads the same events on its own: it counted this one and runs on.
    expect(notReady.details.consumers).toEqual(WORKER_PAUSED_ON_RABBITMQ);

    rabbitDown = false;
    await waitFor(() => (consumerReadiness(current).ready ? true : undefined), {
      timeoutMs: 10_000,
      what: "the worker to resume",
    });
    expect(pipeline.worker!.stats).toMatchObject({ handled: 1, jobs: 1 });
  });
});
