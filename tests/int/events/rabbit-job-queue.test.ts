import { describe, expect, it } from 'vitest';
import { deadLetterQueueOf, type RetryPolicy } from '../../../events/job-queue.ts';
import { createRabbitJobQueue } from '../../../events/rabbit-job-queue.ts';
import { AMQP_URL, deleteQueues, probeRabbit, unique, waitFor } from '../../support/brokers.ts';
import { jobQueueContract } from '../../support/contracts/job-queue.ts';
import { silentLogger } from '../../support/stack.ts';
import { startTcpProxy } from '../../support/tcp-proxy.ts';

const rabbitReason = await probeRabbit();

const retry: RetryPolicy = { delaysMs: [100, 300], maxAttempts: 3 };

jobQueueContract({
  name: 'rabbitmq',
  unavailable: rabbitReason,
  retry,
  create: () => createRabbitJobQueue({ url: AMQP_URL, logger: silentLogger, retry, confirmTimeoutMs: 5000 }),
  cleanup: deleteQueues,
});

describe.skipIf(rabbitReason)('the RabbitMQ job queue across a dropped connection', () => {
  it('rejects publishes retriably while disconnected, then reconnects and keeps consuming on a new channel', async () => {
    const target = new URL(AMQP_URL);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5672) });
    const viaProxy = new URL(AMQP_URL);
    viaProxy.port = String(proxy.port);
    const jobs = await createRabbitJobQueue({ url: viaProxy.toString(), logger: silentLogger, retry, confirmTimeoutMs: 2000 });
    const queueName = unique('jobs');
    const received: string[] = [];
    try {
      await jobs.declare(queueName);
      const subscription = await jobs.consume(queueName, async (job) => void received.push(job.id));
      await jobs.publish(queueName, { id: 'before', payload: {} });
      await waitFor(() => (received.includes('before') ? true : undefined), { what: 'the first job' });

      proxy.cut();
      await expect(jobs.publish(queueName, { id: 'during', payload: {} })).rejects.toMatchObject({ retriable: true });
      // A caller retries a retriable failure; once the connection is back the publish goes through.
      await waitFor(async () => (await jobs.publish(queueName, { id: 'after', payload: {} }).then(() => true, () => undefined)), { timeoutMs: 30_000, intervalMs: 250, what: 'a publish after reconnecting' });
      await waitFor(() => (received.includes('after') ? true : undefined), { timeoutMs: 30_000, what: 'the job after reconnecting' });
      expect(received).not.toContain('during');
      await subscription.stop();
    } finally {
      await jobs.close();
      await proxy.close();
      await deleteQueues([queueName, deadLetterQueueOf(queueName), ...retry.delaysMs.map((delay) => `${queueName}.retry.${delay}ms`)]);
    }
  });
});
