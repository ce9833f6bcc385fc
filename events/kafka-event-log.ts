import {
  Kafka,
  Partitioners,
  logLevel,
  type LogEntry,
  type Producer,
} from "kafkajs";
import { InfrastructureError } from "../platform/errors.ts";
import type { Logger } from "../platform/logger.ts";
import {
  batchHandlerOf,
  type BackoffOptions,
  type EventLog,
  type LogSubscription,
} from "./event-log.ts";
import {
  startKafkaSubscription,
  type KafkaConsumerLike,
} from "./kafka-subscription.ts";

export interface KafkaEventLogOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** How long `subscribe` waits for the consumer to join its group. @default 30000 */
  joinTimeoutMs?: number;
  /** @default 10000 — short so a dead member's partitions move quickly, long enough for GC pauses. */
  sessionTimeoutMs?: number;
  /** Before a paused partition (its handler failed) is tried again. @default { initialMs: 200, maxMs: 5000 } */
  pauseBackoff?: BackoffOptions;
  /** Before a crashed consumer is rebuilt. @default { initialMs: 1000, maxMs: 30000 } */
  restartBackoff?: BackoffOptions;
  /**
   * The kafkajs client (tests pass one whose consumers they control).
   * @default a `Kafka` on `brokers` logging through `logger`
   */
  kafka?: Pick<Kafka, "producer" | "admin"> & {
    consumer(config: Parameters<Kafka["consumer"]>[0]): KafkaConsumerLike;
  };
}

/** Declarations of one topic before giving up (about 4.5 s of backoff in all). */
const ENSURE_TOPIC_ATTEMPTS = 6;

const LEVELS: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

function wrap(error: unknown, what: string): InfrastructureError {
  // kafkajs errors carry their own `retriable`; anything else from the client is assumed transient.
  const retriable =
    typeof error === "object" && error !== null && "retriable" in error
      ? Boolean((error as { retriable: unknown }).retriable)
      : true;
  return new InfrastructureError(
    `kafka ${what} failed: ${(error as Error).message}`,
    { retriable, cause: error },
  );
}

/**
 * The EventLog on Kafka through kafkajs. The producer is idempotent (one in-flight request, so
 * retries cannot reorder a partition) and every send waits for acks from all in-sync replicas.
 * Consumers handle a batch per partition and commit once after it (`kafka-subscription.ts`:
 * pauses, rebalances and crashes are handled there).
 */
export function createKafkaEventLog({
  brokers,
  clientId,
  logger,
  joinTimeoutMs = 30_000,
  sessionTimeoutMs = 10_000,
  pauseBackoff,
  restartBackoff,
  kafka: injected,
}: KafkaEventLogOptions): EventLog {
  const log = logger.child({ component: "kafka" });
  const kafka =
    injected ??
    new Kafka({
      clientId,
      brokers,
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }: LogEntry) => {
          const { message, ...fields } = entry;
          log[LEVELS[level] ?? "info"]({ kafkajs: fields }, message);
        },
    });
  let producer: Producer | undefined;
  let producerReady: Promise<Producer> | undefined;
  const subscriptions = new Set<LogSubscription>();

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
      throw wrap(error, "producer connect");
    });
    return producerReady;
  };

  return {
    kind: "kafka",
    async ensureTopic(topic, { partitions = 3 } = {}) {
      const admin = kafka.admin();
      try {
        await admin.connect();
        // Several services declare the same topics as they start (relay, worker, analytics). When
        // two race, the loser's wait for leaders can see the topic half-created and fail with
        // UNKNOWN_TOPIC_OR_PARTITION; declaring again finds it existing, and then it is ready.
        for (let attempt = 1; ; attempt += 1) {
          try {
            await admin.createTopics({
              topics: [
                { topic, numPartitions: partitions, replicationFactor: -1 },
              ],
              waitForLeaders: true,
            });
            const [metadata] = (
              await admin.fetchTopicMetadata({ topics: [topic] })
            ).topics;
            if (
              metadata &&
              metadata.partitions.every((partition) => partition.leader >= 0)
            )
              return;
            throw new InfrastructureError(
              `topic ${topic} has partitions without a leader`,
              { retriable: true },
            );
          } catch (error) {
            if (attempt >= ENSURE_TOPIC_ATTEMPTS || !wrap(error, "").retriable)
              throw error;
            await new Promise((done) => setTimeout(done, 200 * attempt));
          }
        }
      } catch (error) {
        throw error instanceof InfrastructureError
          ? error
          : wrap(error, `create topic ${topic}`);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    async publish(topic, messages) {
      const ready = await getProducer();
      try {
        await ready.send({
          topic,
          acks: -1,
          messages: messages.map((message) => ({
            key: message.key,
            value: message.value,
            headers: message.headers ?? {},
          })),
        });
      } catch (error) {
        throw wrap(error, `publish to ${topic}`);
      }
    },
    async subscribe(options) {
      const { groupId, topics, fromBeginning = true } = options;
      const createConsumer = () =>
        kafka.consumer({
          groupId,
          sessionTimeout: sessionTimeoutMs,
          heartbeatInterval: Math.floor(sessionTimeoutMs / 5),
          maxWaitTimeInMs: 250,
          // restartOnFailure false: kafkajs would restart a crashed consumer only for some errors
          // (never for UNKNOWN_MEMBER_ID); the subscription rebuilds it after every crash instead.
          retry: {
            retries: 8,
            initialRetryTime: 200,
            maxRetryTime: 5000,
            restartOnFailure: async () => false,
          },
        });
      try {
        const subscription = await startKafkaSubscription({
          groupId,
          topics,
          fromBeginning,
          handleBatch: batchHandlerOf(options),
          logger: log,
          createConsumer,
          joinTimeoutMs,
          backoff: options.backoff ?? pauseBackoff,
          ...(restartBackoff ? { restartBackoff } : {}),
        });
        const tracked: LogSubscription = {
          state: subscription.state,
          async stop() {
            subscriptions.delete(tracked);
            await subscription.stop();
          },
        };
        subscriptions.add(tracked);
        return tracked;
      } catch (error) {
        throw error instanceof InfrastructureError
          ? error
          : wrap(error, `subscribe ${groupId}`);
      }
    },
    async lag(groupId, topics) {
      // One admin connection per call: lag is read at scrape time, not per message.
      const admin = kafka.admin();
      try {
        await admin.connect();
        const committed = new Map<string, number>();
        for (const { topic, partitions } of await admin.fetchOffsets({
          groupId,
          topics: [...topics],
        })) {
          for (const { partition, offset } of partitions)
            committed.set(`${topic}:${partition}`, Number(offset));
        }
        let total = 0;
        for (const topic of topics) {
          for (const { partition, high, low } of await admin.fetchTopicOffsets(
            topic,
          )) {
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
      await Promise.all(
        [...subscriptions].map((subscription) =>
          subscription.stop().catch(() => undefined),
        ),
      );
      if (producer) await producer.disconnect().catch(() => undefined);
      producer = undefined;
      producerReady = undefined;
    },
  };
}
