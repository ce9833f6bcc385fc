import { fileURLToPath } from "node:url";
import type { Database, Storage } from "../platform/database.ts";
import { forService, type Logger } from "../platform/logger.ts";
import { migrate } from "../platform/migrate.ts";
import { PUBLISHING_SUBGRAPHS } from "../platform/services.ts";
import {
  createLogSender,
  createSmtpEmailSender,
  createWebhookSender,
  type ChannelSender,
} from "./channels.ts";
import type { PipelineConfig } from "./config.ts";
import {
  createAnalyticsConsumer,
  prepareAnalyticsDatabase,
  type AnalyticsConsumer,
} from "./analytics-consumer.ts";
import { createDispatcher, type Dispatcher } from "./dispatcher.ts";
import { DOMAIN_EVENT_TOPICS, EVENT_TOPICS } from "./envelope.ts";
import {
  createMemoryEventLog,
  type EventLog,
  type SubscriptionState,
} from "./event-log.ts";
import {
  createMemoryJobQueue,
  DEFAULT_RETRY_POLICY,
  type JobQueue,
  type RetryPolicy,
} from "./job-queue.ts";
import { createKafkaEventLog } from "./kafka-event-log.ts";
import {
  createNotificationWorker,
  type NotificationWorker,
} from "./notification-worker.ts";
import {
  createOutboxRelay,
  type OutboxRelay,
  type OutboxSchema,
} from "./outbox-relay.ts";
import { createRabbitJobQueue } from "./rabbit-job-queue.ts";
import type { RecipientDirectory } from "./recipients.ts";
import type { Channel } from "./notification-job.ts";

export const NOTIFICATIONS_MIGRATIONS = fileURLToPath(
  new URL("./migrations", import.meta.url),
);
export const OUTBOX_SCHEMAS: readonly OutboxSchema[] = PUBLISHING_SUBGRAPHS;

/** Creates the notifications schema (inbox, deliveries) once; safe from several processes. */
export async function prepareNotificationsDatabase(
  db: Database,
): Promise<void> {
  await migrate(db, { schema: "notifications", dir: NOTIFICATIONS_MIGRATIONS });
}

/** Kafka when KAFKA_BROKERS is set, the in-process log otherwise. */
export function eventLogFromConfig(
  config: Pick<PipelineConfig, "kafkaBrokers">,
  { logger, clientId }: { logger: Logger; clientId: string },
): EventLog {
  return config.kafkaBrokers
    ? createKafkaEventLog({
        brokers: [...config.kafkaBrokers],
        clientId,
        logger,
      })
    : createMemoryEventLog({ logger });
}

/** RabbitMQ when AMQP_URL is set, the in-process queue otherwise. */
export async function jobQueueFromConfig(
  config: Pick<PipelineConfig, "amqpUrl" | "retry" | "confirmTimeoutMs">,
  { logger }: { logger: Logger },
): Promise<JobQueue> {
  return config.amqpUrl
    ? createRabbitJobQueue({
        url: config.amqpUrl,
        logger,
        retry: config.retry,
        confirmTimeoutMs: config.confirmTimeoutMs,
      })
    : createMemoryJobQueue({ logger, retry: config.retry });
}

/** SMTP when SMTP_URL is set, webhooks for sms/push when configured, the log otherwise. */
export function sendersFromConfig(
  config: Pick<
    PipelineConfig,
    "smtpUrl" | "emailFrom" | "smsWebhookUrl" | "pushWebhookUrl"
  >,
  { logger }: { logger: Logger },
): Record<Channel, ChannelSender> {
  return {
    email: config.smtpUrl
      ? createSmtpEmailSender({
          smtpUrl: config.smtpUrl,
          from: config.emailFrom,
        })
      : createLogSender({ logger, channel: "email" }),
    sms: config.smsWebhookUrl
      ? createWebhookSender({ url: config.smsWebhookUrl, channel: "sms" })
      : createLogSender({ logger, channel: "sms" }),
    push: config.pushWebhookUrl
      ? createWebhookSender({ url: config.pushWebhookUrl, channel: "push" })
      : createLogSender({ logger, channel: "push" }),
  };
}

export interface PipelineOptions {
  storage: Storage;
  logger: Logger;
  eventLog: EventLog;
  jobQueue: JobQueue;
  senders: Record<Channel, ChannelSender>;
  recipients: RecipientDirectory;
  retry?: RetryPolicy;
  /** Which parts run in this process. @default all four */
  roles?: {
    relay?: boolean;
    worker?: boolean;
    dispatcher?: boolean;
    analytics?: boolean;
  };
  /** Prepended to `switchyard.<domain>` topics (unique per test). @default '' */
  topicPrefix?: string;
  /** @default 'notifications' */
  queuePrefix?: string;
  /** @default 'notifications' */
  groupId?: string;
  relayPollIntervalMs?: number;
}

export interface Pipeline {
  readonly relays: OutboxRelay[];
  readonly worker: NotificationWorker | undefined;
  readonly dispatcher: Dispatcher | undefined;
  readonly analytics: AnalyticsConsumer | undefined;
  /** The event-log consumers running here (worker, analytics) with their state. */
  consumers(): ConsumerReport[];
  /** Stops the parts, then closes the event log and job queue. */
  stop(): Promise<void>;
}

export interface ConsumerReport {
  role: "worker" | "analytics";
  group: string;
  state: SubscriptionState;
}

/**
 * `/ready` of a role that consumes the event log: ready only while every consumer is `running`.
 * Paused (a downstream is down, its partitions wait), restarting (after a crash) or stopped all
 * answer 503 with each consumer's state as the reason. Processes with no consumer are ready.
 */
export function consumerReadiness(pipeline: Pick<Pipeline, "consumers">): {
  ready: boolean;
  details: {
    consumers: Array<{
      role: string;
      group: string;
      status: string;
      reason?: string;
      pausedPartitions: number;
      restarts: number;
    }>;
  };
} {
  const consumers = pipeline.consumers().map(({ role, group, state }) => ({
    role,
    group,
    status: state.status,
    ...(state.reason ? { reason: state.reason } : {}),
    pausedPartitions: state.pausedPartitions.length,
    restarts: state.restarts,
  }));
  return {
    ready: consumers.every((consumer) => consumer.status === "running"),
    details: { consumers },
  };
}

/**
 * The event pipeline in one process: outbox relays for each publishing service, the notification
 * worker, the dispatchers and the analytics consumer group. `npm start` runs all three; each deployable runs one role.
 */
export async function startPipeline(
  options: PipelineOptions,
): Promise<Pipeline> {
  const {
    storage,
    logger,
    eventLog,
    jobQueue,
    senders,
    recipients,
    retry = DEFAULT_RETRY_POLICY,
    roles = { relay: true, worker: true, dispatcher: true, analytics: true },
    topicPrefix = "",
    queuePrefix = "notifications",
    groupId = "notifications",
  } = options;
  const notificationsDb = storage.forService("notifications");
  // The relay drains notifications.outbox, which these migrations create.
  if (roles.worker || roles.dispatcher || roles.relay)
    await prepareNotificationsDatabase(notificationsDb);
  const relays = roles.relay
    ? OUTBOX_SCHEMAS.map((schema) =>
        createOutboxRelay({
          db: storage.forService(schema),
          schema,
          eventLog,
          logger: forService(logger, "relay"),
          topicPrefix,
          ...(options.relayPollIntervalMs
            ? { pollIntervalMs: options.relayPollIntervalMs }
            : {}),
        }),
      )
    : [];
  const dispatcher = roles.dispatcher
    ? createDispatcher({
        jobQueue,
        db: notificationsDb,
        logger: forService(logger, "dispatcher"),
        senders,
        recipients,
        retry,
        queuePrefix,
      })
    : undefined;
  const worker = roles.worker
    ? createNotificationWorker({
        eventLog,
        jobQueue,
        db: notificationsDb,
        logger: forService(logger, "worker"),
        groupId,
        queuePrefix,
        topics: DOMAIN_EVENT_TOPICS.map((topic) => `${topicPrefix}${topic}`),
      })
    : undefined;
  let analytics: AnalyticsConsumer | undefined;
  if (roles.analytics) {
    const analyticsDb = storage.forService("analytics");
    await prepareAnalyticsDatabase(analyticsDb);
    // Its group id follows the worker's (`notifications` -> `analytics`, or per test prefix).
    analytics = createAnalyticsConsumer({
      eventLog,
      db: analyticsDb,
      logger: forService(logger, "analytics"),
      groupId:
        groupId === "notifications" ? "analytics" : `${groupId}.analytics`,
      topics: DOMAIN_EVENT_TOPICS.map((topic) => `${topicPrefix}${topic}`),
    });
  }
  // Topics are declared by the services, never by hand: the consumers before they subscribe, the
  // relay before its first publish (a broker with auto-creation off refuses a publish to a missing
  // topic). A relay that cannot reach Kafka yet still starts and only warns: its rows wait in the
  // outbox until the topics exist (the worker and analytics declare the same ones when they start).
  if (relays.length > 0) {
    for (const topic of EVENT_TOPICS) {
      await eventLog
        .ensureTopic(`${topicPrefix}${topic}`)
        .catch((error: unknown) =>
          forService(logger, "pipeline").warn(
            { err: error, topic: `${topicPrefix}${topic}` },
            "cannot declare topic yet",
          ),
        );
    }
  }
  await dispatcher?.start();
  await worker?.start();
  await analytics?.start();
  for (const relay of relays) relay.start();
  return {
    relays,
    worker,
    dispatcher,
    analytics,
    consumers: () => [
      ...(worker
        ? [
            {
              role: "worker" as const,
              group: worker.groupId,
              state: worker.state(),
            },
          ]
        : []),
      ...(analytics
        ? [
            {
              role: "analytics" as const,
              group: analytics.groupId,
              state: analytics.state(),
            },
          ]
        : []),
    ],
    async stop() {
      for (const relay of relays) await relay.stop();
      await worker?.stop();
      await analytics?.stop();
      await dispatcher?.stop();
      await eventLog.close();
      await jobQueue.close();
    },
  };
}
