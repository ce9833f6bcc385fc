import amqp from "amqplib";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import {
  AMQP_URL,
  deleteQueues,
  probeRabbit,
  unique,
  waitFor,
} from "../../support/brokers.ts";
import { jobQueueContract } from "../../support/contracts/job-queue.ts";
import {
  amqpUrlVia,
  declaredQueues,
  openTestJobQueue,
  publishOnceReconnected,
  TEST_RETRY,
} from "../../support/rabbit-job-queues.ts";
import { startTcpProxy } from "../../support/tcp-proxy.ts";

const rabbitReason = await probeRabbit();

jobQueueContract({
  name: "rabbitmq",
  unavailable: rabbitReason,
  retry: TEST_RETRY,
  create: () => openTestJobQueue(),
  cleanup: deleteQueues,
});

describe.skipIf(rabbitReason)(
  "the RabbitMQ job queue across a dropped connection",
  () => {
    it("rejects publishes retriably while disconnected, then reconnects and keeps consuming on a new channel", async () => {
      const target = new URL(AMQP_URL);
      const proxy = await startTcpProxy({
        host: target.hostname,
        port: Number(target.port || 5672),
      });
      const jobs = await openTestJobQueue({
        url: amqpUrlVia(proxy.port),
        confirmTimeoutMs: 2000,
      });
      const queueName = unique("jobs");
      const received: string[] = [];
      try {
        await jobs.declare(queueName);
        const subscription = await jobs.consume(
          queueName,
          async (job) => void received.push(job.id),
        );
        await jobs.publish(queueName, { id: "before", payload: {} });
        await waitFor(() => (received.includes("before") ? true : undefined), {
          what: "the first job",
        });

        proxy.cut();
        await expect(
          jobs.publish(queueName, { id: "during", payload: {} }),
        ).rejects.toMatchObject({ retriable: true });
        // A caller retries a retriable failure; once the connection is back the publish goes through.
        await publishOnceReconnected(jobs, queueName, "after", {
          timeoutMs: 30_000,
          what: "a publish after reconnecting",
        });
        await waitFor(() => (received.includes("after") ? true : undefined), {
          timeoutMs: 30_000,
          what: "the job after reconnecting",
        });
        expect(received).not.toContain("during");
        await subscription.stop();
      } finally {
        await jobs.close();
        await proxy.close();
        await deleteQueues(declaredQueues(queueName));
      }
    });
  },
);

describe.skipIf(rabbitReason)(
  "the RabbitMQ queues a job queue declares",
  () => {
    // The broker refuses (PRECONDITION_FAILED) a declaration whose arguments differ from the queue's,
    // so declaring again with the arguments we rely on proves the adapter declared exactly those.
    it("work queues have a single active consumer; retry tiers dead-letter back at least once", async () => {
      const jobs = await openTestJobQueue();
      const queueName = unique("declared");
      const connection = await amqp.connect(AMQP_URL);
      try {
        await jobs.declare(queueName);
        const expectSame = async (
          name: string,
          args: Record<string, unknown>,
        ) => {
          const channel = await connection.createChannel();
          await expect(
            channel.assertQueue(name, { durable: true, arguments: args }),
            name,
          ).resolves.toMatchObject({ queue: name });
          await channel.close();
        };
        await expectSame(queueName, {
          "x-queue-type": "quorum",
          "x-single-active-consumer": true,
        });
        for (const delay of TEST_RETRY.delaysMs) {
          await expectSame(`${queueName}.retry.${delay}ms`, {
            "x-queue-type": "quorum",
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
            "x-message-ttl": delay,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": queueName,
          });
        }
      } finally {
        await connection.close();
        await jobs.close();
        await deleteQueues(declaredQueues(queueName));
      }
    });
  },
);

/**
 * A proxy to RabbitMQ that can turn silent: connections made while silent are accepted and held,
 * never answered and never closed, even after it passes traffic again (switching back must not
 * rescue an attempt already waiting, or the test would prove nothing). `cut()` drops the live ones.
 */
async function startSilenceableProxy(target: URL) {
  let silent = false;
  let accepted = 0;
  const live = new Set<Socket>();
  const held: Socket[] = [];
  const server = createServer((client) => {
    accepted += 1;
    client.on("error", () => undefined);
    if (silent) {
      held.push(client);
      return;
    }
    const upstream = connect(Number(target.port || 5672), target.hostname);
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.pipe(upstream).pipe(client);
    live.add(client);
    client.on("close", () => live.delete(client));
  });
  await new Promise<void>((listening) =>
    server.listen(0, "127.0.0.1", listening),
  );
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    silence: () => (silent = true),
    answer: () => (silent = false),
    cut: () => live.forEach((socket) => socket.destroy()),
    async close() {
      for (const socket of [...live, ...held]) socket.destroy();
      await new Promise<void>((closed) => server.close(() => closed()));
    },
  };
}

describe.skipIf(rabbitReason)(
  "the RabbitMQ job queue across a broker that accepts connections and never answers",
  () => {
    // A broker half-way through a restart can accept the socket and stay silent. amqplib's recovery
    // schedules no new attempt while one is in progress, so an attempt without a handshake bound would
    // hold the job queue disconnected for good.
    it(
      "gives up on a silent handshake and reconnects once the broker answers again",
      { timeout: 60_000 },
      async () => {
        const proxy = await startSilenceableProxy(new URL(AMQP_URL));
        const jobs = await openTestJobQueue({
          url: amqpUrlVia(proxy.port),
          confirmTimeoutMs: 2000,
        });
        const queueName = unique("silent");
        try {
          await jobs.declare(queueName);
          await jobs.publish(queueName, { id: "before", payload: {} });
          const accepted = proxy.accepted();
          proxy.silence();
          proxy.cut();
          // A reconnect attempt has reached the silent broker and waits for a handshake that never comes.
          await waitFor(
            () => (proxy.accepted() > accepted ? true : undefined),
            {
              timeoutMs: 20_000,
              what: "a reconnect attempt to the silent broker",
            },
          );
          proxy.answer();
          await publishOnceReconnected(jobs, queueName, "after", {
            timeoutMs: 40_000,
            what: "a publish after the broker answers again",
          });
        } finally {
          await jobs.close();
          await proxy.close();
          await deleteQueues(declaredQueues(queueName));
        }
      },
    );
  },
);
