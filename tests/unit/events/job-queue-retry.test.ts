import { describe, expect, it } from "vitest";
import { UndeliverableError } from "../../../events/channels.ts";
import {
  createMemoryJobQueue,
  deadLetterQueueOf,
  jobQueueProblem,
  type ReceivedJob,
} from "../../../events/job-queue.ts";
import { waitFor } from "../../support/wait.ts";
import { silentLogger } from "../../support/logger.ts";

const retry = { delaysMs: [10, 20], maxAttempts: 3 };

describe("the in-process job queue", () => {
  it("moves a job failing with a non-retriable error to the DLQ after exactly one attempt, with the reason", async () => {
    const jobs = createMemoryJobQueue({ logger: silentLogger, retry });
    try {
      let attempts = 0;
      await jobs.consume("q.undeliverable", async () => {
        attempts += 1;
        throw new UndeliverableError("no recipient known for user u-9");
      });
      const dead: ReceivedJob[] = [];
      await jobs.consume(
        deadLetterQueueOf("q.undeliverable"),
        async (job) => void dead.push(job),
      );
      await jobs.publish("q.undeliverable", { id: "n-9", payload: { any: 1 } });
      await waitFor(() => dead[0], { what: "the dead letter" });
      expect(attempts).toBe(1);
      expect(dead[0]).toMatchObject({
        id: "n-9",
        attempt: 1,
        headers: {
          "x-last-error": "no recipient known for user u-9",
          "x-dead-letter-reason":
            "non-retriable: no recipient known for user u-9",
        },
      });
    } finally {
      await jobs.close();
    }
  });

  it("keeps call order for publishes issued without awaiting in between, the first one declaring the queue", async () => {
    const jobs = createMemoryJobQueue({ logger: silentLogger, retry });
    try {
      const ids = Array.from({ length: 50 }, (_, i) => `n-${i}`);
      await Promise.all(
        ids.map((id) => jobs.publish("q.order", { id, payload: {} })),
      );
      const received: string[] = [];
      await jobs.consume("q.order", async (job) => void received.push(job.id), {
        prefetch: 1,
      });
      await waitFor(() => (received.length === ids.length ? true : undefined), {
        what: "every job",
      });
      expect(received).toEqual(ids);
    } finally {
      await jobs.close();
    }
  });

  it("puts a job that fails while its subscription stops back on the queue without counting an attempt", async () => {
    const jobs = createMemoryJobQueue({ logger: silentLogger, retry });
    try {
      let release!: () => void;
      const held = new Promise<void>((done) => (release = done));
      let started = false;
      const subscription = await jobs.consume("q.stop", async () => {
        started = true;
        await held;
        throw new Error("interrupted by shutdown");
      });
      await jobs.publish("q.stop", { id: "n-stop", payload: {} });
      await waitFor(() => (started ? true : undefined), {
        what: "the handler",
      });
      const stopped = subscription.stop();
      release();
      await stopped;
      const again: ReceivedJob[] = [];
      await jobs.consume("q.stop", async (job) => void again.push(job));
      await waitFor(() => again[0], { what: "the job again" });
      expect(again[0]).toMatchObject({ id: "n-stop", attempt: 1 });
      expect(await jobs.depth(deadLetterQueueOf("q.stop"))).toBe(0);
    } finally {
      await jobs.close();
    }
  });

  it("reports itself healthy with its consumers attached", async () => {
    const jobs = createMemoryJobQueue({ logger: silentLogger, retry });
    try {
      await jobs.consume("q.health", async () => undefined);
      expect(jobs.health().consumers).toEqual([
        { queue: "q.health", attached: true },
      ]);
      expect(jobQueueProblem(jobs.health())).toBeUndefined();
    } finally {
      await jobs.close();
    }
  });
});

describe("jobQueueProblem", () => {
  const healthy = {
    connected: true,
    publishChannelOpen: true,
    channelsOpen: 2,
    consumers: [{ queue: "a", attached: true }],
    reconnects: 0,
  };
  it("names what is not usable", () => {
    expect(jobQueueProblem(healthy)).toBeUndefined();
    expect(jobQueueProblem({ ...healthy, connected: false })).toBe(
      "job queue disconnected",
    );
    expect(jobQueueProblem({ ...healthy, publishChannelOpen: false })).toBe(
      "job queue publish channel closed",
    );
    expect(
      jobQueueProblem(
        { ...healthy, publishChannelOpen: false },
        { publishes: false },
      ),
    ).toBeUndefined();
    expect(
      jobQueueProblem({
        ...healthy,
        consumers: [{ queue: "a", attached: false }],
      }),
    ).toBe("job queue consumers not attached: a");
  });
});
