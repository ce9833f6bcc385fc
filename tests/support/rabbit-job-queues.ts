import {
  deadLetterQueueOf,
  type MonitoredJobQueue,
} from "../../events/job-queue.ts";
import { createRabbitJobQueue } from "../../events/rabbit-job-queue.ts";
import type { RetryPolicy } from "../../events/retry-policy.ts";
import { AMQP_URL, waitFor } from "./brokers.ts";
import { silentLogger } from "./stack.ts";

/** The retry policy the RabbitMQ job-queue tests run with: two short tiers, three attempts. */
export const TEST_RETRY: RetryPolicy = { delaysMs: [100, 300], maxAttempts: 3 };

/** Every queue a job queue declares for `name` (the work queue, its DLQ, one per retry tier): what a test deletes after. */
export function declaredQueues(
  name: string,
  retry: RetryPolicy = TEST_RETRY,
): string[] {
  return [
    name,
    deadLetterQueueOf(name),
    ...retry.delaysMs.map((delay) => `${name}.retry.${delay}ms`),
  ];
}

/** AMQP_URL with a local proxy's port in place of the broker's. */
export function amqpUrlVia(port: number): string {
  const viaProxy = new URL(AMQP_URL);
  viaProxy.port = String(port);
  return viaProxy.toString();
}

/** A RabbitMQ job queue with no log; the adapter's defaults where no option is given. */
export function openTestJobQueue({
  url = AMQP_URL,
  retry = TEST_RETRY,
  confirmTimeoutMs = 5000,
  channelReopenDelayMs,
}: {
  url?: string;
  /** @default TEST_RETRY */
  retry?: RetryPolicy;
  confirmTimeoutMs?: number;
  channelReopenDelayMs?: number;
} = {}): Promise<MonitoredJobQueue> {
  return createRabbitJobQueue({
    url,
    logger: silentLogger,
    retry,
    confirmTimeoutMs,
    channelReopenDelayMs,
  });
}

/** Publishes `id` again and again until one publish is confirmed (the job queue has reconnected). */
export async function publishOnceReconnected(
  jobs: MonitoredJobQueue,
  queue: string,
  id: string,
  { timeoutMs, what }: { timeoutMs: number; what: string },
): Promise<void> {
  await waitFor(
    async () =>
      await jobs.publish(queue, { id, payload: {} }).then(
        () => true,
        () => undefined,
      ),
    { timeoutMs, intervalMs: 250, what },
  );
}
