import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobQueueProblem } from "../../../events/job-queue.ts";
import { createRabbitJobQueue } from "../../../events/rabbit-job-queue.ts";
import { waitFor } from "../../support/brokers.ts";
import {
  privateRabbitUnavailable,
  startPrivateRabbit,
  type PrivateRabbit,
} from "../../support/private-rabbit.ts";
import { silentLogger } from "../../support/stack.ts";

const reason = await privateRabbitUnavailable();
if (reason && process.env.CI === "true")
  throw new Error(
    `CI requires a private RabbitMQ node for the job queue restart test: ${reason}`,
  );
if (reason)
  console.error(`[tests] skipping the job queue restart test: ${reason}`);
/** This file's own RabbitMQ node (ports assigned to it, so no other test's node collides). */
const RABBIT_PORTS = { port: 5702, distPort: 25702 };

describe.skipIf(reason)(
  "the RabbitMQ job queue across a broker that restarts empty",
  () => {
    let rabbit: PrivateRabbit;
    beforeAll(async () => {
      rabbit = await startPrivateRabbit(RABBIT_PORTS);
    }, 120_000);
    afterAll(async () => {
      await rabbit?.close();
    });

    it(
      "reconnects, declares its queues again and re-attaches its consumer after the broker lost every queue",
      { timeout: 180_000 },
      async () => {
        const jobs = await createRabbitJobQueue({
          url: rabbit.url,
          logger: silentLogger,
          retry: { delaysMs: [100], maxAttempts: 2 },
          confirmTimeoutMs: 2000,
        });
        try {
          const received: string[] = [];
          await jobs.consume(
            "restart.q",
            async (job) => void received.push(job.id),
          );
          await jobs.publish("restart.q", { id: "before", payload: {} });
          await waitFor(
            () => (received.includes("before") ? true : undefined),
            { what: "the first job" },
          );

          await rabbit.stopApp();
          await waitFor(() => (jobs.health().connected ? undefined : true), {
            what: "the disconnect",
          });
          expect(jobQueueProblem(jobs.health())).toBe("job queue disconnected");
          await expect(
            jobs.publish("restart.q", { id: "during", payload: {} }),
          ).rejects.toMatchObject({ retriable: true });
          await rabbit.reset();
          await rabbit.startApp();

          // The queue no longer exists on the broker: only a re-declaration lets the job through.
          await waitFor(
            async () =>
              jobs.publish("restart.q", { id: "after", payload: {} }).then(
                () => true,
                () => undefined,
              ),
            {
              timeoutMs: 60_000,
              intervalMs: 250,
              what: "a publish after the restart",
            },
          );
          await waitFor(() => (received.includes("after") ? true : undefined), {
            timeoutMs: 60_000,
            what: "the job consumed after the restart",
          });
          expect(jobQueueProblem(jobs.health())).toBeUndefined();
          expect(jobs.health().consumers).toEqual([
            { queue: "restart.q", attached: true },
          ]);
          expect(jobs.health().reconnects).toBeGreaterThan(0);
        } finally {
          await jobs.close();
        }
      },
    );
  },
);
