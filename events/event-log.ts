import type { Logger } from '../platform/logger.ts';

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

export interface SubscribeOptions {
  /** Consumer group: each group sees every message once (at least once on failures). */
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts. @default true */
  fromBeginning?: boolean;
  /**
   * Called for one message at a time per partition, in partition order. The offset is committed
   * only after it resolves; when it throws, the same message is delivered again (after a backoff),
   * so nothing later on that partition overtakes it.
   */
  handle: (message: LogMessage) => Promise<void>;
}

/**
 * The ordered, partitioned event log (Kafka in production, in-process by default). Publishing
 * resolves only once the log has durably accepted the messages (acks=all on Kafka).
 */
export interface EventLog {
  readonly kind: 'kafka' | 'memory';
  /** Creates the topic when missing (no-op when it exists). */
  ensureTopic(topic: string, options?: { partitions?: number }): Promise<void>;
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
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

/**
 * The embedded default: topics with partitions kept in memory, consumer groups with committed
 * offsets per partition. One active member per group (a second subscription to the same group
 * is rejected: there is no rebalancing here). Lost on restart, like everything in-process.
 */
export function createMemoryEventLog({ logger, defaultPartitions = 3, retryBackoffMs = 200 }: { logger: Logger; defaultPartitions?: number; retryBackoffMs?: number }): EventLog {
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

  return {
    kind: 'memory',
    async ensureTopic(topic, { partitions } = {}) {
      topicOf(topic, partitions);
    },
    async publish(topic, messages) {
      const partitions = topicOf(topic);
      for (const message of messages) partitions[hashKey(message.key) % partitions.length]!.push({ key: message.key, value: message.value, headers: { ...message.headers } });
      wakeAll();
    },
    async subscribe({ groupId, topics: names, fromBeginning = true, handle }) {
      if (activeGroups.has(groupId)) throw new Error(`group ${groupId} already has an active member in the in-process event log`);
      activeGroups.add(groupId);
      const offsets = committed.get(groupId) ?? new Map<string, number>();
      committed.set(groupId, offsets);
      let running = true;
      const loops: Array<Promise<void>> = [];
      for (const topic of names) {
        const partitions = topicOf(topic);
        partitions.forEach((entries, partition) => {
          const slot = `${topic}:${partition}`;
          if (!offsets.has(slot)) offsets.set(slot, fromBeginning ? 0 : entries.length);
          loops.push(
            (async () => {
              let failures = 0;
              while (running) {
                const offset = offsets.get(slot)!;
                const entry = entries[offset];
                if (!entry) {
                  await new Promise<void>((wake) => {
                    const waker = () => {
                      wakers.delete(waker);
                      wake();
                    };
                    wakers.add(waker);
                  });
                  continue;
                }
                try {
                  await handle({ topic, partition, offset: String(offset), key: entry.key, value: entry.value, headers: { ...entry.headers } });
                  offsets.set(slot, offset + 1);
                  failures = 0;
                } catch (error) {
                  failures += 1;
                  logger.warn({ err: error, groupId, topic, partition, offset, failures }, 'event handler failed; redelivering');
                  await new Promise((done) => setTimeout(done, Math.min(retryBackoffMs * 2 ** (failures - 1), 5000)));
                }
              }
            })(),
          );
        });
      }
      const subscription: Subscription = {
        async stop() {
          if (!running) return;
          running = false;
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
        topics.get(topic)?.forEach((entries, partition) => (total += entries.length - (offsets?.get(`${topic}:${partition}`) ?? 0)));
      }
      return total;
    },
    async close() {
      await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
    },
  };
}
