import type { Logger } from "../platform/logger.ts";

/** A message to append to a topic. `key` picks the partition: equal keys keep their order. */
export interface OutgoingMessage {
  key: string;
  value: string;
  headers?: Record<string, string>;
}

/** A message as a consumer sees it. */
export interface LogMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

export interface Subscription {
  /** Stops consuming; resolves once the handler in progress (if any) has finished. */
  stop(): Promise<void>;
}

/** One partition of one topic. */
export interface PartitionRef {
  topic: string;
  partition: number;
}

/**
 * Messages of one partition, in partition order. `heartbeat` tells the group this member is alive
 * (a no-op in-process); a handler that works long on a batch calls it between steps.
 */
export interface MessageBatch {
  topic: string;
  partition: number;
  messages: LogMessage[];
  heartbeat(): Promise<void>;
}

/**
 * Where a consumer stands. `running`: consuming every assigned partition. `paused`: running, but
 * the `pausedPartitions` are held back because their handler failed (`reason`) and are retried
 * with backoff. `starting`/`restarting`: joining the group (again, after a crash: `restarts`
 * counts those). `stopped`: `stop()` was called.
 */
export type ConsumerStatus =
  "starting" | "running" | "paused" | "restarting" | "stopped";

export interface SubscriptionState {
  status: ConsumerStatus;
  pausedPartitions: PartitionRef[];
  /** Why the consumer is not `running` (the last handler or crash error). */
  reason?: string;
  restarts: number;
}

/** An event-log subscription also reports its state (roles show it on `/ready` and in metrics). */
export interface LogSubscription extends Subscription {
  state(): SubscriptionState;
}

/** Backoff between attempts at a paused partition (and between consumer restarts). */
export interface BackoffOptions {
  /** @default 200 */
  initialMs?: number;
  /** @default 5000 — short enough that a broker back from a blip is used within seconds. */
  maxMs?: number;
}

/** Exponential backoff for the `failures`-th consecutive failure (1-based), capped at `maxMs`. */
export function backoffDelay(
  failures: number,
  { initialMs = 200, maxMs = 5000 }: BackoffOptions = {},
): number {
  return Math.min(initialMs * 2 ** Math.max(0, failures - 1), maxMs);
}

interface SubscribeBase {
  /** Consumer group: each group sees every message once (at least once on failures). */
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts. @default true */
  fromBeginning?: boolean;
  /** Backoff before a paused partition is tried again. @default { initialMs: 200, maxMs: 5000 } */
  backoff?: BackoffOptions;
}

/**
 * `handleBatch` gets the messages of one partition, in order, one batch at a time per partition.
 * A batch is all-or-nothing: its offsets are committed (once) only after the handler resolved.
 * When it throws, the partition is paused and the same batch is delivered again after a backoff,
 * so nothing later on that partition overtakes it; the consumer keeps its group membership and
 * its other partitions meanwhile. Redelivery also follows a rebalance that voided the commit:
 * handlers must be idempotent (the inbox makes them so).
 *
 * `handle` is the same path one message at a time (see `eachMessage`).
 */
export type SubscribeOptions = SubscribeBase &
  (
    | { handleBatch: (batch: MessageBatch) => Promise<void>; handle?: never }
    | { handle: (message: LogMessage) => Promise<void>; handleBatch?: never }
  );

/** A batch handler that hands the messages to `handle` one after the other, heartbeating between. */
export function eachMessage(
  handle: (message: LogMessage) => Promise<void>,
): (batch: MessageBatch) => Promise<void> {
  return async ({ messages, heartbeat }) => {
    for (const message of messages) {
      await handle(message);
      await heartbeat();
    }
  };
}

/** The batch handler a subscription runs, whichever form the caller gave. */
export function batchHandlerOf(
  options: SubscribeOptions,
): (batch: MessageBatch) => Promise<void> {
  return options.handleBatch ?? eachMessage(options.handle);
}

/**
 * Bookkeeping behind `LogSubscription.state()`, shared by both adapters: the consumer's phase, the
 * partitions paused with their reasons, and the restart count.
 */
export function createConsumerStateTracker() {
  let phase: "starting" | "running" | "restarting" | "stopped" = "starting";
  let phaseReason: string | undefined;
  let restarts = 0;
  const paused = new Map<string, PartitionRef & { reason: string }>();
  const slot = ({ topic, partition }: PartitionRef) => `${topic}:${partition}`;
  return {
    running() {
      phase = "running";
      phaseReason = undefined;
    },
    restarting(reason: string) {
      phase = "restarting";
      phaseReason = reason;
      restarts += 1;
      // A rebuilt consumer starts with no partition paused (kafkajs forgets them with the client).
      paused.clear();
    },
    stopped() {
      phase = "stopped";
      phaseReason = undefined;
      paused.clear();
    },
    pause(ref: PartitionRef, reason: string) {
      paused.set(slot(ref), {
        topic: ref.topic,
        partition: ref.partition,
        reason,
      });
    },
    resume(ref: PartitionRef) {
      paused.delete(slot(ref));
    },
    isStopped: () => phase === "stopped",
    snapshot(): SubscriptionState {
      const pausedPartitions = [...paused.values()].map(
        ({ topic, partition }) => ({ topic, partition }),
      );
      if (phase !== "running")
        return {
          status: phase,
          pausedPartitions,
          ...(phaseReason ? { reason: phaseReason } : {}),
          restarts,
        };
      if (paused.size === 0)
        return { status: "running", pausedPartitions, restarts };
      return {
        status: "paused",
        pausedPartitions,
        reason: [...paused.values()][0]!.reason,
        restarts,
      };
    },
  };
}

export type ConsumerStateTracker = ReturnType<
  typeof createConsumerStateTracker
>;

/** A handler error as a short reason for state and logs. */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The ordered, partitioned event log (Kafka in production, in-process by default). Publishing
 * resolves only once the log has durably accepted the messages (acks=all on Kafka).
 */
export interface EventLog {
  readonly kind: "kafka" | "memory";
  /** Creates the topic when missing (no-op when it exists). */
  ensureTopic(topic: string, options?: { partitions?: number }): Promise<void>;
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<LogSubscription>;
  /** Consumer lag: messages on `topics` that `groupId` has not committed yet (all of them for a new group). */
  lag(groupId: string, topics: readonly string[]): Promise<number>;
  close(): Promise<void>;
}

/** 32-bit FNV-1a: a stable key → partition mapping for the in-process log. */
function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

interface StoredMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

export interface MemoryEventLogOptions {
  logger: Logger;
  /** Partitions of a topic created without a count. @default 3 */
  defaultPartitions?: number;
  /** Before a paused partition is tried again (a subscription's own `backoff` wins). @default { initialMs: 200, maxMs: 5000 } */
  backoff?: BackoffOptions;
  /** Messages of one partition handed over in one batch at most. @default 100 */
  maxBatchSize?: number;
}

/**
 * The embedded default: topics with partitions kept in memory, consumer groups with committed
 * offsets per partition. One active member per group (a second subscription to the same group
 * is rejected: there is no rebalancing here). Lost on restart, like everything in-process.
 *
 * Delivery follows the Kafka adapter: up to `maxBatchSize` messages of one partition per batch,
 * partitions side by side, the offset advanced once per handled batch, and a failed batch pauses
 * its partition (backoff, then the same batch again) without holding back the other partitions.
 */
export function createMemoryEventLog({
  logger,
  defaultPartitions = 3,
  backoff = {},
  maxBatchSize = 100,
}: MemoryEventLogOptions): EventLog {
  const topics = new Map<string, StoredMessage[][]>();
  const committed = new Map<string, Map<string, number>>();
  const activeGroups = new Set<string>();
  const wakers = new Set<() => void>();
  const subscriptions = new Set<Subscription>();

  const topicOf = (topic: string, partitions = defaultPartitions) => {
    let existing = topics.get(topic);
    if (!existing) {
      existing = Array.from({ length: partitions }, () => []);
      topics.set(topic, existing);
    }
    return existing;
  };
  const wakeAll = () => {
    for (const wake of [...wakers]) wake();
  };
  /** Resolves on the next publish (or stop), or after `ms` when given. */
  const sleep = (ms?: number) =>
    new Promise<void>((wake) => {
      const timer =
        ms === undefined ? undefined : setTimeout(() => waker(), ms);
      const waker = () => {
        if (timer) clearTimeout(timer);
        wakers.delete(waker);
        wake();
      };
      wakers.add(waker);
    });

  return {
    kind: "memory",
    async ensureTopic(topic, { partitions } = {}) {
      topicOf(topic, partitions);
    },
    async publish(topic, messages) {
      const partitions = topicOf(topic);
      for (const message of messages)
        partitions[hashKey(message.key) % partitions.length]!.push({
          key: message.key,
          value: message.value,
          headers: { ...message.headers },
        });
      wakeAll();
    },
    async subscribe(options) {
      const { groupId, topics: names, fromBeginning = true } = options;
      const handleBatch = batchHandlerOf(options);
      const pauseBackoff = options.backoff ?? backoff;
      if (activeGroups.has(groupId))
        throw new Error(
          `group ${groupId} already has an active member in the in-process event log`,
        );
      activeGroups.add(groupId);
      const offsets = committed.get(groupId) ?? new Map<string, number>();
      committed.set(groupId, offsets);
      const tracker = createConsumerStateTracker();
      const loops: Array<Promise<void>> = [];
      for (const topic of names) {
        const partitions = topicOf(topic);
        partitions.forEach((entries, partition) => {
          const slot = `${topic}:${partition}`;
          if (!offsets.has(slot))
            offsets.set(slot, fromBeginning ? 0 : entries.length);
          loops.push(
            (async () => {
              let failures = 0;
              while (!tracker.isStopped()) {
                const offset = offsets.get(slot)!;
                if (offset >= entries.length) {
                  await sleep();
                  continue;
                }
                const messages = entries
                  .slice(offset, offset + maxBatchSize)
                  .map((entry, index) => ({
                    topic,
                    partition,
                    offset: String(offset + index),
                    key: entry.key,
                    value: entry.value,
                    headers: { ...entry.headers },
                  }));
                try {
                  await handleBatch({
                    topic,
                    partition,
                    messages,
                    heartbeat: async () => undefined,
                  });
                  offsets.set(slot, offset + messages.length);
                  if (failures > 0)
                    logger.info(
                      { groupId, topic, partition, offset },
                      "partition resumed",
                    );
                  failures = 0;
                  tracker.resume({ topic, partition });
                } catch (error) {
                  failures += 1;
                  const delayMs = backoffDelay(failures, pauseBackoff);
                  tracker.pause({ topic, partition }, reasonOf(error));
                  logger.warn(
                    {
                      err: error,
                      groupId,
                      topic,
                      partition,
                      offset,
                      failures,
                      delayMs,
                    },
                    "event handler failed; partition paused, batch redelivered after backoff",
                  );
                  // A publish wakes every sleeper; sleeping again for the rest keeps the backoff, and stop ends it.
                  const until = Date.now() + delayMs;
                  while (!tracker.isStopped() && Date.now() < until)
                    await sleep(until - Date.now());
                }
              }
            })(),
          );
        });
      }
      tracker.running();
      const subscription: LogSubscription = {
        state: () => tracker.snapshot(),
        async stop() {
          if (tracker.isStopped()) return;
          tracker.stopped();
          subscriptions.delete(subscription);
          wakeAll();
          await Promise.all(loops);
          activeGroups.delete(groupId);
        },
      };
      subscriptions.add(subscription);
      return subscription;
    },
    async lag(groupId, names) {
      const offsets = committed.get(groupId);
      let total = 0;
      for (const topic of names) {
        topics
          .get(topic)
          ?.forEach(
            (entries, partition) =>
              (total +=
                entries.length - (offsets?.get(`${topic}:${partition}`) ?? 0)),
          );
      }
      return total;
    },
    async close() {
      await Promise.all(
        [...subscriptions].map((subscription) => subscription.stop()),
      );
    },
  };
}
