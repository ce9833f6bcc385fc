import type { Logger } from "../platform/logger.ts";
import {
  backoffDelay,
  createConsumerStateTracker,
  reasonOf,
  type BackoffOptions,
  type LogMessage,
  type LogSubscription,
  type MessageBatch,
  type PartitionRef,
} from "./event-log.ts";
import { InfrastructureError } from "../platform/errors.ts";

/** The parts of a kafkajs `EachBatchPayload` the subscription uses. */
export interface KafkaBatchPayload {
  batch: {
    topic: string;
    partition: number;
    messages: Array<{
      offset: string;
      key: Buffer | null;
      value: Buffer | null;
      headers?: Record<
        string,
        Buffer | string | Array<Buffer | string> | undefined
      >;
    }>;
  };
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  commitOffsetsIfNecessary(offsets?: {
    topics: Array<{
      topic: string;
      partitions: Array<{ partition: number; offset: string }>;
    }>;
  }): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

/**
 * The parts of a kafkajs `Consumer` the subscription uses: a real one in production, a fake one in
 * unit tests (the supervisor's crash and pause paths are hard to provoke on a real broker).
 */
export interface KafkaConsumerLike {
  readonly events: { readonly GROUP_JOIN: string; readonly CRASH: string };
  connect(): Promise<void>;
  subscribe(subscription: {
    topics: string[];
    fromBeginning: boolean;
  }): Promise<void>;
  run(config: {
    autoCommit: boolean;
    eachBatchAutoResolve: boolean;
    partitionsConsumedConcurrently: number;
    eachBatch: (payload: KafkaBatchPayload) => Promise<void>;
  }): Promise<void>;
  // Method syntax on purpose: kafkajs's overloaded `on` is assignable to it.
  on(event: string, listener: (event: { payload: unknown }) => void): unknown;
  pause(topics: Array<{ topic: string; partitions: number[] }>): void;
  resume(topics: Array<{ topic: string; partitions: number[] }>): void;
  seek(target: { topic: string; partition: number; offset: string }): void;
  disconnect(): Promise<void>;
}

export interface KafkaSubscriptionOptions {
  groupId: string;
  topics: string[];
  fromBeginning: boolean;
  handleBatch: (batch: MessageBatch) => Promise<void>;
  logger: Logger;
  /** Builds a fresh consumer: once at start, and again after each crash (a crashed kafkajs consumer is not reused). */
  createConsumer: () => KafkaConsumerLike;
  /** How long one start (connect, subscribe, join) may take before it counts as failed. */
  joinTimeoutMs: number;
  /** Before a paused partition is tried again. @default { initialMs: 200, maxMs: 5000 } */
  backoff?: BackoffOptions;
  /** Before a crashed consumer is rebuilt (again, when rebuilding fails). @default { initialMs: 1000, maxMs: 30000 } */
  restartBackoff?: BackoffOptions;
  /** Partitions handled side by side (order holds within each one). @default 8 */
  partitionsConsumedConcurrently?: number;
}

/**
 * Commit and heartbeat errors that mean "the group moved on without this member's batch": the
 * coordinator evicted the member (UNKNOWN_MEMBER_ID, after a handler outlived the session
 * timeout), a new generation started (ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS), or the
 * coordinator moved. kafkajs's runner rejoins the group on exactly these (runner.js
 * `scheduleFetchManager`) when they reach it unwrapped; wrapped in a KafkaJSNonRetriableError (what
 * `consumer.commitOffsets` makes of them) they crash the consumer instead.
 */
const REBALANCE_ERROR_TYPES = new Set([
  "UNKNOWN_MEMBER_ID",
  "ILLEGAL_GENERATION",
  "REBALANCE_IN_PROGRESS",
  "NOT_COORDINATOR_FOR_GROUP",
]);

/** Between attempts of a first start that failed on a retriable error (a broker still loading). */
const START_BACKOFF = { initialMs: 250, maxMs: 2000 } as const;

/** kafkajs errors and ours carry `retriable`; a first start retries only those that say so. */
function isRetriable(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "retriable" in error &&
    (error as { retriable: unknown }).retriable === true
  );
}

/** The kafkajs protocol error behind `error` (itself or a cause) when it is a rebalance, else undefined. */
export function rebalanceCause(error: unknown): Error | undefined {
  let current: unknown = error;
  for (
    let depth = 0;
    depth < 8 && typeof current === "object" && current !== null;
    depth += 1
  ) {
    if (REBALANCE_ERROR_TYPES.has(String((current as { type?: unknown }).type)))
      return current as Error;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function toLogMessage(
  topic: string,
  partition: number,
  message: KafkaBatchPayload["batch"]["messages"][number],
): LogMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {}))
    if (value !== undefined)
      headers[name] = Array.isArray(value) ? String(value[0]) : String(value);
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? "",
    value: message.value?.toString() ?? "",
    headers,
  };
}

/**
 * A self-healing kafkajs subscription.
 *
 * - Batches: one `handleBatch` per fetched partition batch; after it resolved, one commit of the
 *   offset after its last message, then `resolveOffset`. autoCommit is off: nothing is committed
 *   that was not handled.
 * - A batch whose handler throws (a downstream is down: RabbitMQ, PostgreSQL, SMTP) pauses its
 *   partition and seeks back to the batch's first offset; the consumer keeps fetching its other
 *   partitions and so keeps heartbeating and its group membership. The partition resumes after an
 *   exponential, capped backoff and gets the same batch again. A handler that threw into kafkajs
 *   instead would be retried by the runner without heartbeats until the group evicted the member.
 * - A commit (or in-batch heartbeat) refused because of a rebalance is handed to kafkajs unwrapped,
 *   which rejoins; the batch is fetched again from the last committed offset.
 * - A CRASH (kafkajs gave up: retries exhausted, a non-retriable error) rebuilds the consumer from
 *   `createConsumer` and subscribes again, with backoff, for as long as the subscription is not
 *   stopped: the process never stays alive consuming nothing.
 */
export async function startKafkaSubscription(
  options: KafkaSubscriptionOptions,
): Promise<LogSubscription> {
  const {
    groupId,
    topics,
    fromBeginning,
    handleBatch,
    createConsumer,
    joinTimeoutMs,
    backoff = {},
    restartBackoff = { initialMs: 1000, maxMs: 30_000 },
    partitionsConsumedConcurrently = 8,
  } = options;
  const log = options.logger.child({ component: "kafka-consumer", groupId });
  const tracker = createConsumerStateTracker();
  const failures = new Map<string, number>();
  const resumeTimers = new Map<string, NodeJS.Timeout>();
  let consumer: KafkaConsumerLike | undefined;
  let rebuilding: Promise<void> | undefined;
  let wakeRebuild: (() => void) | undefined;
  const slot = ({ topic, partition }: PartitionRef) => `${topic}:${partition}`;

  const clearResumeTimers = () => {
    for (const timer of resumeTimers.values()) clearTimeout(timer);
    resumeTimers.clear();
    failures.clear();
  };

  /** Pauses the partition, rewinds it to the failed batch and schedules its resume. */
  const holdBack = (
    current: KafkaConsumerLike,
    ref: PartitionRef,
    firstOffset: string,
    error: unknown,
  ) => {
    const key = slot(ref);
    const failed = (failures.get(key) ?? 0) + 1;
    failures.set(key, failed);
    const delayMs = backoffDelay(failed, backoff);
    const retriable =
      error instanceof InfrastructureError ? error.retriable : undefined;
    current.pause([{ topic: ref.topic, partitions: [ref.partition] }]);
    current.seek({
      topic: ref.topic,
      partition: ref.partition,
      offset: firstOffset,
    });
    tracker.pause(ref, reasonOf(error));
    log[retriable === false ? "error" : "warn"](
      {
        err: error,
        ...ref,
        offset: firstOffset,
        failures: failed,
        delayMs,
        retriable,
      },
      "batch failed; partition paused, redelivered after backoff",
    );
    clearTimeout(resumeTimers.get(key));
    resumeTimers.set(
      key,
      setTimeout(() => {
        resumeTimers.delete(key);
        // A consumer rebuilt meanwhile starts with nothing paused; resuming the old one is pointless.
        if (consumer === current && !tracker.isStopped())
          current.resume([{ topic: ref.topic, partitions: [ref.partition] }]);
      }, delayMs),
    );
  };

  const eachBatchOf =
    (current: KafkaConsumerLike) =>
    async ({
      batch,
      resolveOffset,
      heartbeat,
      commitOffsetsIfNecessary,
      isRunning,
      isStale,
    }: KafkaBatchPayload) => {
      // Stale: a seek (our own rewind) superseded this batch; it is fetched again from there.
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      const { topic, partition } = batch;
      const messages = batch.messages.map((message) =>
        toLogMessage(topic, partition, message),
      );
      const first = messages[0]!.offset;
      const last = messages[messages.length - 1]!.offset;
      try {
        await handleBatch({ topic, partition, messages, heartbeat });
        // Committing the next offset: the handled batch is never delivered to this group again.
        // `commitOffsetsIfNecessary(offsets)` commits those offsets right away, without the retry
        // wrapper of `consumer.commitOffsets` (which would retry a dead generation, then wrap the error).
        await commitOffsetsIfNecessary({
          topics: [
            {
              topic,
              partitions: [
                { partition, offset: (BigInt(last) + 1n).toString() },
              ],
            },
          ],
        });
      } catch (error) {
        const rebalance = rebalanceCause(error);
        if (rebalance) {
          log.warn(
            {
              topic,
              partition,
              firstOffset: first,
              lastOffset: last,
              type: (rebalance as { type?: string }).type,
            },
            "group rebalanced under the batch; rejoining, the batch will be redelivered",
          );
          throw rebalance;
        }
        holdBack(current, { topic, partition }, first, error);
        return;
      }
      resolveOffset(last);
      const key = slot({ topic, partition });
      if (failures.delete(key))
        log.info({ topic, partition, offset: first }, "partition resumed");
      tracker.resume({ topic, partition });
    };

  /** Builds, connects and subscribes one consumer; resolves once it joined the group. */
  const startConsumer = async () => {
    const current = createConsumer();
    consumer = current;
    let settle:
      { resolve: () => void; reject: (error: unknown) => void } | undefined;
    const joined = new Promise<void>(
      (resolve, reject) => (settle = { resolve, reject }),
    );
    const timer = setTimeout(
      () =>
        settle?.reject(
          new InfrastructureError(
            `kafka consumer ${groupId} did not join within ${joinTimeoutMs} ms`,
            { retriable: true },
          ),
        ),
      joinTimeoutMs,
    );
    current.on(current.events.GROUP_JOIN, ({ payload }) => {
      clearTimeout(timer);
      settle?.resolve();
      settle = undefined;
      if (consumer !== current || tracker.isStopped()) return;
      // Partitions that moved to another member no longer count as paused here.
      const assignment =
        (payload as { memberAssignment?: Record<string, number[]> })
          .memberAssignment ?? {};
      for (const ref of tracker.snapshot().pausedPartitions)
        if (!assignment[ref.topic]?.includes(ref.partition))
          tracker.resume(ref);
      tracker.running();
    });
    current.on(current.events.CRASH, ({ payload }) => {
      const { error, restart } = payload as {
        error: unknown;
        restart: boolean;
      };
      clearTimeout(timer);
      if (settle) {
        // Crashed while starting: the start fails, and whoever started it retries.
        settle.reject(error);
        settle = undefined;
        return;
      }
      if (consumer !== current || tracker.isStopped()) return;
      tracker.restarting(reasonOf(error));
      clearResumeTimers();
      log.error(
        { err: error, restart, restarts: tracker.snapshot().restarts },
        "kafka consumer crashed; restarting it",
      );
      // kafkajs restarts the same consumer itself when its `restartOnFailure` said so; otherwise we rebuild.
      if (!restart)
        rebuilding ??= rebuild(current).finally(() => (rebuilding = undefined));
    });
    try {
      await current.connect();
      await current.subscribe({ topics, fromBeginning });
      await current.run({
        autoCommit: false,
        // The batch decides what is resolved: only what its handler finished (and committed).
        eachBatchAutoResolve: false,
        // Partitions are independent (order is per partition), so they are handled side by side,
        // like the in-process log does; within one partition batches stay strictly sequential.
        partitionsConsumedConcurrently,
        eachBatch: eachBatchOf(current),
      });
      await joined;
    } catch (error) {
      clearTimeout(timer);
      await current.disconnect().catch(() => undefined);
      throw error;
    }
  };

  /** After a crash: disconnects the dead consumer and starts new ones with backoff until one joins (or stop). */
  const rebuild = async (dead: KafkaConsumerLike) => {
    await dead.disconnect().catch(() => undefined);
    for (let attempt = 1; !tracker.isStopped(); attempt += 1) {
      const delayMs = backoffDelay(attempt, restartBackoff);
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, delayMs);
        wakeRebuild = () => {
          clearTimeout(timer);
          wake();
        };
      });
      wakeRebuild = undefined;
      if (tracker.isStopped()) return;
      try {
        await startConsumer();
        log.info(
          { attempt, restarts: tracker.snapshot().restarts },
          "kafka consumer restarted",
        );
        return;
      } catch (error) {
        log.error(
          {
            err: error,
            attempt,
            nextInMs: backoffDelay(attempt + 1, restartBackoff),
          },
          "kafka consumer restart failed; trying again",
        );
      }
    }
  };

  // A broker that has just started (or restarted) answers a join with retriable errors for a while
  // (COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE): with kafkajs's own restart switched
  // off, the first start retries those here, within one join timeout, instead of failing the role.
  const startedBy = Date.now() + joinTimeoutMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await startConsumer();
      break;
    } catch (error) {
      const delayMs = backoffDelay(attempt, START_BACKOFF);
      if (!isRetriable(error) || Date.now() + delayMs > startedBy) throw error;
      log.warn(
        { err: error, attempt, delayMs },
        "kafka consumer did not start; trying again",
      );
      await new Promise((wake) => setTimeout(wake, delayMs));
    }
  }
  tracker.running();
  log.info({ topics }, "kafka consumer joined");
  return {
    state: () => tracker.snapshot(),
    async stop() {
      if (tracker.isStopped()) return;
      tracker.stopped();
      clearResumeTimers();
      wakeRebuild?.();
      await rebuilding;
      await consumer?.disconnect();
    },
  };
}
