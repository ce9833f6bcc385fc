import amqp from "amqplib";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { UndeliverableError } from "../../../events/channels.ts";
import {
  deadLetterQueueOf,
  jobQueueProblem,
  type MonitoredJobQueue,
  type ReceivedJob,
} from "../../../events/job-queue.ts";
import {
  AMQP_URL,
  deleteQueues,
  probeRabbit,
  unique,
  waitFor,
} from "../../support/brokers.ts";
import {
  amqpUrlVia,
  declaredQueues,
  openTestJobQueue,
} from "../../support/rabbit-job-queues.ts";
import { startTcpProxy } from "../../support/tcp-proxy.ts";

const rabbitReason = await probeRabbit();

const created: string[] = [];
const newQueue = (prefix = "rjq") => {
  const name = unique(prefix);
  created.push(...declaredQueues(name));
  return name;
};

/** Runs `body` with a job queue of its own, always closed after. */
async function withQueue(
  body: (jobs: MonitoredJobQueue) => Promise<void>,
  url = AMQP_URL,
  options: { confirmTimeoutMs?: number } = {},
) {
  const jobs = await openTestJobQueue({
    url,
    confirmTimeoutMs: options.confirmTimeoutMs,
    channelReopenDelayMs: 50,
  });
  try {
    await body(jobs);
  } finally {
    await jobs.close();
  }
}

/** Runs `body` with a job queue connected through `proxy` (closed after, whatever happens). */
async function withQueueBehind(
  proxy: { port: number; close(): Promise<void> },
  options: { confirmTimeoutMs: number },
  body: (jobs: MonitoredJobQueue) => Promise<void>,
) {
  try {
    await withQueue(body, amqpUrlVia(proxy.port), options);
  } finally {
    await proxy.close();
  }
}

/** A proxy that can stop passing the broker's bytes to the client (held, not lost): confirms stop arriving. */
async function startFreezableProxy(target: URL) {
  const pairs: Array<{ client: Socket; upstream: Socket }> = [];
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5672), target.hostname);
    for (const socket of [client, upstream])
      socket.on("error", () => undefined);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    pairs.push({ client, upstream });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () =>
      pairs.forEach(({ client, upstream }) => upstream.unpipe(client)),
    async close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      if (server.listening)
        await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.skipIf(rabbitReason)("the RabbitMQ job queue", () => {
  afterAll(async () => {
    if (created.length > 0) await deleteQueues(created);
  });

  it("moves a job failing with a non-retriable error to the DLQ after exactly one attempt, with the reason in its headers", async () => {
    await withQueue(async (jobs) => {
      const queue = newQueue();
      let attempts = 0;
      await jobs.consume(queue, async () => {
        attempts += 1;
        throw new UndeliverableError("no recipient known for user u-7");
      });
      const dead: ReceivedJob[] = [];
      await jobs.consume(
        deadLetterQueueOf(queue),
        async (job) => void dead.push(job),
      );
      await jobs.publish(queue, { id: "n-7", payload: { any: 1 } });
      await waitFor(() => dead[0], { what: "the dead letter" });
      expect(attempts).toBe(1);
      expect(dead[0]).toMatchObject({
        id: "n-7",
        headers: {
          "x-attempt": "1",
          "x-last-error": "no recipient known for user u-7",
          "x-dead-letter-reason":
            "non-retriable: no recipient known for user u-7",
        },
      });
    });
  });

  it("stores publishes issued without awaiting in between in call order, including the ones that wait for the first declaration", async () => {
    await withQueue(async (jobs) => {
      const queue = newQueue();
      const ids = Array.from({ length: 300 }, (_, i) => `n-${i}`);
      // Not declared yet: the first publish declares it while the others queue behind it.
      await Promise.all(
        ids.map((id) => jobs.publish(queue, { id, payload: { id } })),
      );
      const received: string[] = [];
      await jobs.consume(queue, async (job) => void received.push(job.id), {
        prefetch: 1,
      });
      await waitFor(() => (received.length === ids.length ? true : undefined), {
        what: "every job",
      });
      expect(received).toEqual(ids);
    });
  });

  it("reopens its publish channel after the broker closed it while the connection stayed up", async () => {
    await withQueue(async (jobs) => {
      const queue = newQueue();
      await jobs.declare(queue);
      // A queue that exists with other arguments: declaring it as a quorum queue is refused with
      // PRECONDITION_FAILED, which closes the channel (not the connection).
      const clash = newQueue("rjq-clash");
      const admin = await amqp.connect(AMQP_URL);
      try {
        await (
          await admin.createChannel()
        ).assertQueue(clash, { durable: false });
      } finally {
        await admin.close();
      }
      await expect(jobs.declare(clash)).rejects.toMatchObject({
        retriable: true,
      });
      expect(jobs.health().connected).toBe(true);
      await waitFor(
        async () =>
          jobs.publish(queue, { id: "after", payload: {} }).then(
            () => true,
            () => undefined,
          ),
        { what: "a publish on a reopened channel" },
      );
      expect(jobQueueProblem(jobs.health())).toBeUndefined();
      expect(jobs.health().reconnects).toBeGreaterThan(0);
      const received: string[] = [];
      await jobs.consume(queue, async (job) => void received.push(job.id));
      await waitFor(() => (received.includes("after") ? true : undefined), {
        what: "the job",
      });
    });
  });

  it("re-attaches a consumer the broker cancelled (its queue deleted) and keeps consuming", async () => {
    await withQueue(async (jobs) => {
      const queue = newQueue();
      const received: string[] = [];
      await jobs.consume(queue, async (job) => void received.push(job.id));
      await jobs.publish(queue, { id: "before", payload: {} });
      await waitFor(() => (received.includes("before") ? true : undefined), {
        what: "the first job",
      });
      await deleteQueues([queue]);
      // The consumer re-declares its queue when it comes back; until then publishes may be lost
      // with the deleted queue, so keep publishing until one arrives.
      let n = 0;
      await waitFor(
        async () => {
          n += 1;
          await jobs
            .publish(queue, { id: `after-${n}`, payload: {} })
            .catch(() => undefined);
          return received.some((id) => id.startsWith("after-"))
            ? true
            : undefined;
        },
        { intervalMs: 200, what: "a job consumed after the cancel" },
      );
      expect(jobs.health().consumers).toEqual([{ queue, attached: true }]);
    });
  });

  it("settles every pipelined publish when the connection drops under them: confirmed or rejected retriably, never left hanging", async () => {
    const target = new URL(AMQP_URL);
    const proxy = await startTcpProxy({
      host: target.hostname,
      port: Number(target.port || 5672),
    });
    await withQueueBehind(proxy, { confirmTimeoutMs: 10_000 }, async (jobs) => {
      const queue = newQueue();
      await jobs.declare(queue);
      const pending = Array.from({ length: 500 }, (_, i) =>
        jobs.publish(queue, { id: `n-${i}`, payload: { i } }),
      );
      proxy.cut();
      const outcomes = await Promise.allSettled(pending);
      const rejected = outcomes.filter(
        (outcome) => outcome.status === "rejected",
      );
      expect(rejected.length).toBeGreaterThan(0);
      for (const outcome of rejected)
        expect(outcome.reason).toMatchObject({ retriable: true });
      await waitFor(
        () =>
          jobs.health().reconnects > 0 &&
          jobQueueProblem(jobs.health()) === undefined
            ? true
            : undefined,
        { timeoutMs: 30_000, what: "the reconnect" },
      );
      await jobs.publish(queue, { id: "after", payload: {} });
    });
  });

  it("rejects a publish the broker does not confirm within confirmTimeoutMs, retriably", async () => {
    const proxy = await startFreezableProxy(new URL(AMQP_URL));
    await withQueueBehind(proxy, { confirmTimeoutMs: 300 }, async (jobs) => {
      const queue = newQueue();
      await jobs.declare(queue);
      proxy.freeze();
      await expect(
        jobs.publish(queue, { id: "unconfirmed", payload: {} }),
      ).rejects.toMatchObject({
        retriable: true,
        message: expect.stringContaining("no publisher confirm"),
      });
      // A frozen broker never answers the close handshake either: drop the sockets first.
      await proxy.close();
    });
  });

  it("rejects a publish the broker returns unroutable (its queue deleted behind its back), and declares the queue again for the next one", async () => {
    await withQueue(async (jobs) => {
      const queue = newQueue();
      await jobs.declare(queue);
      await deleteQueues([queue]);
      await expect(
        jobs.publish(queue, { id: "lost", payload: {} }),
      ).rejects.toMatchObject({
        retriable: true,
        message: expect.stringContaining("unroutable"),
      });
      await jobs.publish(queue, { id: "kept", payload: {} });
      const received: string[] = [];
      await jobs.consume(queue, async (job) => void received.push(job.id));
      await waitFor(() => (received.includes("kept") ? true : undefined), {
        what: "the job after re-declaring",
      });
      expect(received).toEqual(["kept"]);
    });
  });
});
