import { Kafka, Partitioners, logLevel, type Consumer, type LogEntry, type Producer } from 'kafkajs';
import { InfrastructureError } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import type { EventLog, Subscription } from './event-log.ts';

export interface KafkaEventLogOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** How long `subscribe` waits for the consumer to join its group. @default 30000 */
  joinTimeoutMs?: number;
  /** @default 10000 — short so a dead member's partitions move quickly, long enough for GC pauses. */
  sessionTimeoutMs?: number;
}

/** Declarations of one topic before giving up (about 4.5 s of backoff in all). */
const ENSURE_TOPIC_ATTEMPTS = 6;

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = { [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug' };

function wrap(error: unknown, what: string): InfrastructureError {
  // kafkajs errors carry their own `retriable`; anything else from the client is assumed transient.
  const retriable = typeof error === 'object' && error !== null && 'retriable' in error ? Boolean((error as { retriable: unknown }).retriable) : true;
  return new InfrastructureError(`kafka ${what} failed: ${(error as Error).message}`, { retriable, cause: error });
}

/**
 * The EventLog on Kafka through kafkajs. The producer is idempotent (one in-flight request, so
 * retries cannot reorder a partition) and every send waits for acks from all in-sync replicas.
 * Consumers commit manually, one message at a time, after the handler resolved.
 */
export function createKafkaEventLog({ brokers, clientId, logger, joinTimeoutMs = 30_000, sessionTimeoutMs = 10_000 }: KafkaEventLogOptions): EventLog {
  const log = logger.child({ component: 'kafka' });
  const kafka = new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...fields } = entry;
        log[LEVELS[level] ?? 'info']({ kafkajs: fields }, message);
      },
  });
  let producer: Producer | undefined;
  let producerReady: Promise<Producer> | undefined;
  const consumers = new Set<Consumer>();

  const getProducer = () => {
    producerReady ??= (async () => {
      // DefaultPartitioner is Java-compatible murmur2: the same key lands on the same partition as from any other client.
      // Short retry budget: the relay retries a failed batch on its next tick anyway, and a send that
      // waits out kafkajs's default (up to 30 s between attempts) holds the outbox transaction open.
      const created = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 3000 },
      });
      await created.connect();
      producer = created;
      return created;
    })().catch((error: unknown) => {
      producerReady = undefined;
      throw wrap(error, 'producer connect');
    });
    return producerReady;
  };

  return {
    kind: 'kafka',
    async ensureTopic(topic, { partitions = 3 } = {}) {
      const admin = kafka.admin();
      try {
        await admin.connect();
        // Several services declare the same topics as they start (relay, worker, analytics). When
        // two race, the loser's wait for leaders can see the topic half-created and fail with
        // UNKNOWN_TOPIC_OR_PARTITION; declaring again finds it existing, and then it is ready.
        for (let attempt = 1; ; attempt += 1) {
          try {
            await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: -1 }], waitForLeaders: true });
            const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
            if (metadata && metadata.partitions.every((partition) => partition.leader >= 0)) return;
            throw new InfrastructureError(`topic ${topic} has partitions without a leader`, { retriable: true });
          } catch (error) {
            if (attempt >= ENSURE_TOPIC_ATTEMPTS || !wrap(error, '').retriable) throw error;
            await new Promise((done) => setTimeout(done, 200 * attempt));
          }
        }
      } catch (error) {
        throw error instanceof InfrastructureError ? error : wrap(error, `create topic ${topic}`);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    async publish(topic, messages) {
      const ready = await getProducer();
      try {
        await ready.send({ topic, acks: -1, messages: messages.map((message) => ({ key: message.key, value: message.value, headers: message.headers ?? {} })) });
      } catch (error) {
        throw wrap(error, `publish to ${topic}`);
      }
    },
    async subscribe({ groupId, topics, fromBeginning = true, handle }) {
      const consumer = kafka.consumer({ groupId, sessionTimeout: sessionTimeoutMs, heartbeatInterval: Math.floor(sessionTimeoutMs / 5), maxWaitTimeInMs: 250, retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 } });
      consumers.add(consumer);
      const joined = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new InfrastructureError(`kafka consumer ${groupId} did not join within ${joinTimeoutMs} ms`, { retriable: true })), joinTimeoutMs);
        consumer.on(consumer.events.GROUP_JOIN, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topics, fromBeginning });
        await consumer.run({
          autoCommit: false,
          // Partitions are independent (order is per partition), so they are handled side by side,
          // like the in-process log does; within one partition messages stay strictly sequential.
          partitionsConsumedConcurrently: 8,
          eachMessage: async ({ topic, partition, message }) => {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(message.headers ?? {})) if (value !== undefined) headers[name] = Array.isArray(value) ? String(value[0]) : String(value);
            try {
              await handle({ topic, partition, offset: message.offset, key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', headers });
            } catch (error) {
              log.warn({ err: error, groupId, topic, partition, offset: message.offset }, 'event handler failed; redelivering');
              throw error;
            }
            // Committing the next offset: the handled message is never delivered to this group again.
            await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
          },
        });
        await joined;
      } catch (error) {
        consumers.delete(consumer);
        await consumer.disconnect().catch(() => undefined);
        throw error instanceof InfrastructureError ? error : wrap(error, `subscribe ${groupId}`);
      }
      const subscription: Subscription = {
        async stop() {
          if (!consumers.delete(consumer)) return;
          await consumer.disconnect();
        },
      };
      return subscription;
    },
    async lag(groupId, topics) {
      // One admin connection per call: lag is read at scrape time, not per message.
      const admin = kafka.admin();
      try {
        await admin.connect();
        const committed = new Map<string, number>();
        for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
          for (const { partition, offset } of partitions) committed.set(`${topic}:${partition}`, Number(offset));
        }
        let total = 0;
        for (const topic of topics) {
          for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
            // -1: the group never committed on this partition, so everything still there is lag.
            const at = committed.get(`${topic}:${partition}`) ?? -1;
            total += Number(high) - (at < 0 ? Number(low) : at);
          }
        }
        return total;
      } catch (error) {
        throw wrap(error, `consumer lag of ${groupId}`);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    async close() {
      await Promise.all([...consumers].map((consumer) => consumer.disconnect().catch(() => undefined)));
      consumers.clear();
      if (producer) await producer.disconnect().catch(() => undefined);
      producer = undefined;
      producerReady = undefined;
    },
  };
}
