import type { Logger } from "../platform/logger.ts";
import type { Subscription } from "./event-log.ts";
import {
  decideRetry,
  DEFAULT_RETRY_POLICY,
  reasonOf,
  type RetryPolicy,
} from "./retry-policy.ts";

export interface NewJob {
  /** Stable id (the notification id): dispatchers deliver each id at most once. */
  id: string;
  payload: unknown;
  headers?: Record<string, string>;
}

export interface ReceivedJob {
  id: string;
  queue: string;
  /** 1 on first delivery; grows with each retry tier the job went through. */
  attempt: number;
  /** The parsed JSON body, or the raw text when the body is not JSON (the handler rejects it). */
  payload: unknown;
  headers: Record<string, string>;
}

export { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry-policy.ts";

export const deadLetterQueueOf = (queue: string) => `${queue}.dlq`;

/** What a role reports on `/ready` and `/metrics` about its job queue. */
export interface JobQueueHealth {
  /** The broker connection is up (always true in-process). */
  connected: boolean;
  /** The channel `publish` uses is open (always true in-process). */
  publishChannelOpen: boolean;
  /** Open channels: the publish channel plus one per attached consumer (0 in-process). */
  channelsOpen: number;
  /** Every live `consume` subscription and whether it is attached to the broker right now. */
  consumers: Array<{ queue: string; attached: boolean }>;
  /** Connection and channel recoveries since start. */
  reconnects: number;
}

/** Why a job queue cannot serve its role right now, or undefined when it can. */
export function jobQueueProblem(
  health: JobQueueHealth,
  { publishes = true }: { publishes?: boolean } = {},
): string | undefined {
  if (!health.connected) return "job queue disconnected";
  if (publishes && !health.publishChannelOpen)
    return "job queue publish channel closed";
  const detached = health.consumers
    .filter((consumer) => !consumer.attached)
    .map((consumer) => consumer.queue);
  if (detached.length > 0)
    return `job queue consumers not attached: ${detached.join(", ")}`;
  return undefined;
}

/**
 * Durable work queues (RabbitMQ in production, in-process by default). `publish` resolves only
 * once the broker confirmed the job is stored, and rejects (with a retriable InfrastructureError
 * when the cause is the broker) otherwise — it never resolves for a job that was not stored.
 *
 * Ordering: `publish` calls made one after another **without awaiting in between** (then awaiting
 * them all) put their jobs on a queue in call order, as awaited calls do. The notification worker
 * relies on it to publish a batch's jobs pipelined while keeping each user's jobs in event order.
 * When any of those publishes rejects, later ones may still have been stored: the caller retries
 * the whole batch and dispatchers deliver each job id once.
 */
export interface JobQueue {
  readonly kind: "rabbitmq" | "memory";
  /** Declares the queue, its retry delay queues and its dead-letter queue (idempotent). */
  declare(queue: string): Promise<void>;
  publish(queue: string, job: NewJob): Promise<void>;
  /**
   * At most `prefetch` jobs in flight for this consumer. A handler that throws gets the verdict of
   * `decideRetry` (events/retry-policy.ts): the next retry tier, or the DLQ with the reason —
   * at once for a non-retriable error. A job that fails while its subscription is stopping goes
   * back to its queue unchanged (the failure is most likely the shutdown). Failures on a DLQ
   * requeue the job.
   */
  consume(
    queue: string,
    handle: (job: ReceivedJob) => Promise<void>,
    options?: { prefetch?: number },
  ): Promise<Subscription>;
  /** Jobs waiting in a queue (ready, not in flight): the DLQ depth gauge reads it. */
  depth(queue: string): Promise<number>;
  /**
   * Connection, channels and consumers as they are now (cheap: no broker round trip). Both
   * adapters implement it; a test double may leave it out and reads as healthy (`healthOf`).
   */
  health?(): JobQueueHealth;
  close(): Promise<void>;
}

/** A JobQueue that reports its health: what both adapters return. */
export type MonitoredJobQueue = JobQueue & { health(): JobQueueHealth };

/** The queue's health, or a healthy report for a double without `health`. */
export function healthOf(jobQueue: JobQueue): JobQueueHealth {
  return (
    jobQueue.health?.() ?? {
      connected: true,
      publishChannelOpen: true,
      channelsOpen: 0,
      consumers: [],
      reconnects: 0,
    }
  );
}

interface Envelope {
  id: string;
  body: string;
  headers: Record<string, string>;
  attempt: number;
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

/** The embedded default: same retry and DLQ behaviour (`decideRetry`), timers instead of TTL queues. */
export function createMemoryJobQueue({
  logger,
  retry = DEFAULT_RETRY_POLICY,
}: {
  logger: Logger;
  retry?: RetryPolicy;
}): MonitoredJobQueue {
  const queues = new Map<
    string,
    { ready: Envelope[]; consumers: Array<() => void> }
  >();
  const mainQueues = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const subscriptions = new Map<Subscription, string>();
  const queueOf = (name: string) => {
    let queue = queues.get(name);
    if (!queue) {
      queue = { ready: [], consumers: [] };
      queues.set(name, queue);
    }
    return queue;
  };
  const enqueue = (name: string, envelope: Envelope) => {
    const queue = queueOf(name);
    queue.ready.push(envelope);
    for (const wake of queue.consumers) wake();
  };
  // Synchronous on purpose: a publish that awaited a declaration would enqueue after a later,
  // un-awaited publish to the same queue and break the call-order guarantee.
  const declareNow = (name: string) => {
    mainQueues.add(name);
    queueOf(name);
    queueOf(deadLetterQueueOf(name));
  };
  return {
    kind: "memory",
    declare: async (name) => declareNow(name),
    async publish(name, job) {
      if (!mainQueues.has(name) && !name.endsWith(".dlq")) declareNow(name);
      enqueue(name, {
        id: job.id,
        body: JSON.stringify(job.payload),
        headers: { ...job.headers },
        attempt: 1,
      });
    },
    async consume(name, handle, { prefetch = 10 } = {}) {
      const queue = queueOf(name);
      let running = true;
      let inFlight = 0;
      const idle = new Set<() => void>();
      const fail = (envelope: Envelope, error: unknown) => {
        if (!mainQueues.has(name) || !running) {
          // A DLQ consumer's failure, or one during stop(): back to the queue, nothing counted.
          queue.ready.unshift(envelope);
          return;
        }
        const decision = decideRetry(retry, envelope.attempt, error);
        switch (decision.action) {
          case "dead-letter":
            logger.warn(
              {
                err: error,
                queue: name,
                jobId: envelope.id,
                attempt: envelope.attempt,
                reason: decision.reason,
              },
              "job dead-lettered",
            );
            enqueue(deadLetterQueueOf(name), {
              ...envelope,
              headers: {
                ...envelope.headers,
                "x-last-error": reasonOf(error),
                "x-dead-letter-reason": decision.reason,
              },
            });
            return;
          case "retry": {
            logger.info(
              {
                queue: name,
                jobId: envelope.id,
                attempt: envelope.attempt,
                delay: decision.afterMs,
              },
              "job failed; retrying later",
            );
            const timer = setTimeout(() => {
              timers.delete(timer);
              enqueue(name, { ...envelope, attempt: envelope.attempt + 1 });
            }, decision.afterMs);
            timer.unref();
            timers.add(timer);
            return;
          }
          default:
            decision satisfies never;
        }
      };
      const pump = () => {
        while (running && inFlight < prefetch && queue.ready.length > 0) {
          const envelope = queue.ready.shift()!;
          inFlight += 1;
          void handle({
            id: envelope.id,
            queue: name,
            attempt: envelope.attempt,
            payload: parseBody(envelope.body),
            headers: { ...envelope.headers },
          })
            .catch((error: unknown) => fail(envelope, error))
            .finally(() => {
              inFlight -= 1;
              if (inFlight === 0) for (const done of [...idle]) done();
              pump();
            });
        }
      };
      queue.consumers.push(pump);
      pump();
      const subscription: Subscription = {
        async stop() {
          if (!running) return;
          running = false;
          queue.consumers.splice(queue.consumers.indexOf(pump), 1);
          subscriptions.delete(subscription);
          if (inFlight > 0) await new Promise<void>((done) => idle.add(done));
        },
      };
      subscriptions.set(subscription, name);
      return subscription;
    },
    async depth(name) {
      return queues.get(name)?.ready.length ?? 0;
    },
    health() {
      return {
        connected: true,
        publishChannelOpen: true,
        channelsOpen: 0,
        consumers: [...subscriptions.values()].map((queue) => ({
          queue,
          attached: true,
        })),
        reconnects: 0,
      };
    },
    async close() {
      await Promise.all(
        [...subscriptions.keys()].map((subscription) => subscription.stop()),
      );
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
