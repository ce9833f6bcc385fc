import { afterAll, describe, expect, it } from "vitest";
import {
  deadLetterQueueOf,
  type JobQueue,
  type ReceivedJob,
  type RetryPolicy,
} from "../../../events/job-queue.ts";
import { unique, waitFor } from "../wait.ts";
import { stoppedAfterEach } from "./stopped-after-each.ts";

/**
 * The JobQueue contract, the same for every adapter: the in-process one runs it in
 * tests/unit/events/job-queue.test.ts, RabbitMQ in tests/int/events/rabbit-job-queue.test.ts.
 * `create` must use `retry`; `cleanup` removes the queues a broker keeps (quorum queues are not free).
 */
export function jobQueueContract({
  name,
  unavailable,
  retry,
  create,
  cleanup,
}: {
  name: string;
  unavailable: string | undefined;
  retry: RetryPolicy;
  create: () => Promise<JobQueue>;
  cleanup?: (queues: string[]) => Promise<void>;
}): void {
  describe(`the JobQueue contract on ${name}`, () => {
    let jobs: JobQueue | undefined;
    const declared: string[] = [];
    const queue = async () => {
      jobs ??= await create();
      const queueName = unique("jobs");
      await jobs.declare(queueName);
      declared.push(
        queueName,
        deadLetterQueueOf(queueName),
        ...retry.delaysMs.map((delay) => `${queueName}.retry.${delay}ms`),
      );
      return { jobs, queueName };
    };
    const consume = stoppedAfterEach(
      (...args: Parameters<JobQueue["consume"]>) => jobs!.consume(...args),
    );
    afterAll(async () => {
      await jobs?.close();
      if (!unavailable && declared.length > 0) await cleanup?.(declared);
    });

    it.skipIf(unavailable)(
      "hands a confirmed job to a consumer with its id, payload, headers and attempt 1",
      async () => {
        const { jobs, queueName } = await queue();
        await jobs.publish(queueName, {
          id: "n-1",
          payload: { to: "a@example.test", subject: "Hi" },
          headers: { correlationId: "c-1" },
        });
        const received: ReceivedJob[] = [];
        await consume(queueName, async (job) => void received.push(job));
        await waitFor(() => received[0], { what: "the job" });
        expect(received[0]).toMatchObject({
          id: "n-1",
          queue: queueName,
          attempt: 1,
          payload: { to: "a@example.test", subject: "Hi" },
          headers: { correlationId: "c-1" },
        });
      },
    );

    it.skipIf(unavailable)(
      "retries a failing job through the delay tiers with a growing attempt number until it succeeds",
      async () => {
        const { jobs, queueName } = await queue();
        const attempts: number[] = [];
        await consume(queueName, async (job) => {
          attempts.push(job.attempt);
          if (job.attempt < 3) throw new Error("smtp down");
        });
        await jobs.publish(queueName, { id: "n-retry", payload: { ok: true } });
        await waitFor(() => (attempts.length === 3 ? true : undefined), {
          what: "three attempts",
        });
        expect(attempts).toEqual([1, 2, 3]);
      },
    );

    it.skipIf(unavailable)(
      "moves a poison job to the DLQ after the last attempt while other jobs keep flowing",
      async () => {
        const { jobs, queueName } = await queue();
        const handled: string[] = [];
        let poisonAttempts = 0;
        await consume(queueName, async (job) => {
          if (
            typeof job.payload !== "object" ||
            job.payload === null ||
            !("to" in job.payload)
          ) {
            poisonAttempts += 1;
            throw new Error("invalid payload");
          }
          handled.push(job.id);
        });
        await jobs.publish(queueName, { id: "poison", payload: "not a job" });
        for (let i = 0; i < 5; i += 1)
          await jobs.publish(queueName, {
            id: `good-${i}`,
            payload: { to: `u${i}@example.test` },
          });
        const dead: ReceivedJob[] = [];
        await consume(
          deadLetterQueueOf(queueName),
          async (job) => void dead.push(job),
        );
        await waitFor(() => dead[0], { what: "the dead letter" });
        expect(handled.sort()).toEqual([
          "good-0",
          "good-1",
          "good-2",
          "good-3",
          "good-4",
        ]);
        expect(poisonAttempts).toBe(3);
        expect(dead).toHaveLength(1);
        expect(dead[0]).toMatchObject({
          id: "poison",
          payload: "not a job",
          headers: { "x-last-error": "invalid payload" },
        });
      },
    );

    it.skipIf(unavailable)(
      "never has more jobs in flight per consumer than its prefetch",
      async () => {
        const { jobs, queueName } = await queue();
        let inFlight = 0;
        let peak = 0;
        let done = 0;
        await consume(
          queueName,
          async () => {
            inFlight += 1;
            peak = Math.max(peak, inFlight);
            // Hold each job until the consumer has as many in flight as its prefetch allows (or every
            // remaining job is here): the peak then reaches the prefetch, and a broker handing out more
            // would push it past.
            await waitFor(
              () => (inFlight >= 2 || done + inFlight >= 10 ? true : undefined),
              {
                timeoutMs: 10_000,
                intervalMs: 5,
                what: "a second job in flight",
              },
            );
            inFlight -= 1;
            done += 1;
          },
          { prefetch: 2 },
        );
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            jobs.publish(queueName, { id: `p-${i}`, payload: { i } }),
          ),
        );
        await waitFor(() => (done === 10 ? true : undefined), {
          what: "ten jobs",
        });
        expect(peak).toBe(2);
      },
    );
  });
}
