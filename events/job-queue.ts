import type { Logger } from '../platform/logger.ts';
import type { Subscription } from './event-log.ts';

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

/**
 * Failed jobs wait `delaysMs[attempt - 1]` (the last entry repeats) in a delay queue and come back;
 * after `maxAttempts` failed deliveries they move to `<queue>.dlq`.
 */
export interface RetryPolicy {
  delaysMs: number[];
  maxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ delaysMs: [1000, 10_000, 60_000], maxAttempts: 4 });

export const deadLetterQueueOf = (queue: string) => `${queue}.dlq`;

/**
 * Durable work queues (RabbitMQ in production, in-process by default). `publish` resolves only
 * once the broker confirmed the job is stored; consumers ack after the handler resolved.
 */
export interface JobQueue {
  readonly kind: 'rabbitmq' | 'memory';
  /** Declares the queue, its retry delay queues and its dead-letter queue (idempotent). */
  declare(queue: string): Promise<void>;
  publish(queue: string, job: NewJob): Promise<void>;
  /**
   * At most `prefetch` jobs in flight for this consumer. A handler that throws sends the job to
   * the next retry tier, or to the DLQ after the last attempt. Failures on a DLQ requeue the job.
   */
  consume(queue: string, handle: (job: ReceivedJob) => Promise<void>, options?: { prefetch?: number }): Promise<Subscription>;
  /** Jobs waiting in a queue (ready, not in flight): the DLQ depth gauge reads it. */
  depth(queue: string): Promise<number>;
  close(): Promise<void>;
}

export function retryDelayFor(policy: RetryPolicy, attempt: number): number {
  return policy.delaysMs[Math.min(attempt - 1, policy.delaysMs.length - 1)] ?? 0;
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

/** The embedded default: same retry and DLQ behaviour, timers instead of TTL queues. */
export function createMemoryJobQueue({ logger, retry = DEFAULT_RETRY_POLICY }: { logger: Logger; retry?: RetryPolicy }): JobQueue {
  const queues = new Map<string, { ready: Envelope[]; consumers: Array<() => void> }>();
  const mainQueues = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const subscriptions = new Set<Subscription>();
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
  const declare = async (name: string) => {
    mainQueues.add(name);
    queueOf(name);
    queueOf(deadLetterQueueOf(name));
  };
  return {
    kind: 'memory',
    declare,
    async publish(name, job) {
      if (!mainQueues.has(name) && !name.endsWith('.dlq')) await declare(name);
      enqueue(name, { id: job.id, body: JSON.stringify(job.payload), headers: { ...job.headers }, attempt: 1 });
    },
    async consume(name, handle, { prefetch = 10 } = {}) {
      const queue = queueOf(name);
      let running = true;
      let inFlight = 0;
      const idle = new Set<() => void>();
      const pump = () => {
        while (running && inFlight < prefetch && queue.ready.length > 0) {
          const envelope = queue.ready.shift()!;
          inFlight += 1;
          void handle({ id: envelope.id, queue: name, attempt: envelope.attempt, payload: parseBody(envelope.body), headers: { ...envelope.headers } })
            .catch((error: unknown) => {
              if (!mainQueues.has(name)) {
                queue.ready.push(envelope);
                return;
              }
              if (envelope.attempt >= retry.maxAttempts) {
                logger.warn({ err: error, queue: name, jobId: envelope.id, attempt: envelope.attempt }, 'job dead-lettered');
                enqueue(deadLetterQueueOf(name), { ...envelope, headers: { ...envelope.headers, 'x-last-error': String((error as Error)?.message ?? error) } });
                return;
              }
              const delay = retryDelayFor(retry, envelope.attempt);
              logger.info({ queue: name, jobId: envelope.id, attempt: envelope.attempt, delay }, 'job failed; retrying later');
              const timer = setTimeout(() => {
                timers.delete(timer);
                enqueue(name, { ...envelope, attempt: envelope.attempt + 1 });
              }, delay);
              timer.unref();
              timers.add(timer);
            })
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
      subscriptions.add(subscription);
      return subscription;
    },
    async depth(name) {
      return queues.get(name)?.ready.length ?? 0;
    },
    async close() {
      await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
