import {
  COMMON_SETTINGS,
  COMMON_SETTINGS_READ,
  brokerName,
  ConfigError,
  KAFKA_SETTINGS,
  readKafkaConfig,
  readCommonConfig,
  SUBGRAPH_PORT_SETTINGS,
  type CommonConfig,
  type Env,
} from "../platform/config.ts";
import {
  custom,
  integer,
  port,
  readSetting,
  setting,
  text,
  url,
  type Setting,
  type SettingType,
} from "../platform/settings.ts";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./job-queue.ts";

/** Settings of the event pipeline deployables (relay, worker, dispatcher) and of `npm start`. */
export interface PipelineConfig extends CommonConfig {
  /** KAFKA_BROKERS, comma-separated; undefined selects the in-process event log. */
  readonly kafkaBrokers: readonly string[] | undefined;
  /** AMQP_URL; undefined selects the in-process job queue. */
  readonly amqpUrl: string | undefined;
  /** SMTP_URL; undefined logs emails instead of sending them. */
  readonly smtpUrl: string | undefined;
  readonly emailFrom: string;
  readonly smsWebhookUrl: string | undefined;
  readonly pushWebhookUrl: string | undefined;
  /** The users subgraph, asked for recipients' addresses. */
  readonly usersGraphqlUrl: string;
  readonly relayPort: number;
  readonly workerPort: number;
  readonly dispatcherPort: number;
  readonly analyticsPort: number;
  readonly host: string;
  readonly relayPollIntervalMs: number;
  readonly retry: RetryPolicy;
  readonly confirmTimeoutMs: number;
  /** Prepended to every `switchyard.<domain>` topic, so environments can share one Kafka (PIPELINE_SETTINGS.topicPrefix). */
  readonly topicPrefix: string;
  /** The notification worker's consumer group (analytics uses `<group>.analytics`, or `analytics` by default). */
  readonly groupId: string;
  /** Prefix of the RabbitMQ job queues (`<prefix>.email`, `.sms`, `.push`). */
  readonly queuePrefix: string;
}

const delays: SettingType<readonly number[]> = custom(
  {
    anyOf: [
      { type: "array", items: { type: "integer", minimum: 0 } },
      { type: "string" },
    ],
  },
  (raw) => {
    const parts = raw.split(",").map((part) => part.trim());
    if (parts.length === 0 || parts.some((part) => !/^\d+$/.test(part)))
      throw new Error(
        `must be comma-separated milliseconds, got ${JSON.stringify(raw)}`,
      );
    return parts.map(Number);
  },
);

const rolePort = (role: string, fallback: number) =>
  setting<number>({
    env: `${role.toUpperCase()}_PORT`,
    key: `pipeline.${role}_port`,
    type: port,
    default: fallback,
    description: `${role} \`/health\`, \`/ready\`, \`/metrics\``,
  });

export const PIPELINE_SETTINGS = Object.freeze({
  kafkaBrokers: KAFKA_SETTINGS.brokers,
  topicPrefix: KAFKA_SETTINGS.topicPrefix,
  groupId: setting<string>({
    env: "KAFKA_GROUP_ID",
    key: "pipeline.kafka.group_id",
    type: brokerName,
    default: "notifications",
    description:
      "the worker’s consumer group; analytics uses `<group>.analytics` (`analytics` by default)",
  }),
  amqpUrl: setting<string | undefined>({
    env: "AMQP_URL",
    key: "pipeline.amqp.url",
    type: url,
    default: undefined,
    defaultText: "unset = in-process job queue",
    description: "RabbitMQ",
    secret: true,
  }),
  queuePrefix: setting<string>({
    env: "AMQP_QUEUE_PREFIX",
    key: "pipeline.amqp.queue_prefix",
    type: brokerName,
    default: "notifications",
    description:
      "job queues `<prefix>.email`, `.sms`, `.push` (with their retry tiers and `.dlq`)",
  }),
  confirmTimeoutMs: setting<number>({
    env: "AMQP_CONFIRM_TIMEOUT_MS",
    key: "pipeline.amqp.confirm_timeout_ms",
    type: integer({ min: 100 }),
    default: 5000,
    description: "publisher-confirm timeout",
  }),
  retryDelaysMs: setting<readonly number[]>({
    env: "JOB_RETRY_DELAYS_MS",
    key: "pipeline.jobs.retry_delays_ms",
    type: delays,
    default: DEFAULT_RETRY_POLICY.delaysMs,
    description: "retry tiers",
  }),
  maxAttempts: setting<number>({
    env: "JOB_MAX_ATTEMPTS",
    key: "pipeline.jobs.max_attempts",
    type: integer({ min: 1, max: 100 }),
    default: DEFAULT_RETRY_POLICY.maxAttempts,
    description:
      "attempts before the DLQ (a non-retriable failure goes there after one)",
  }),
  relayPollIntervalMs: setting<number>({
    env: "RELAY_POLL_INTERVAL_MS",
    key: "pipeline.relay_poll_interval_ms",
    type: integer({ min: 10, max: 60_000 }),
    default: 200,
    description:
      "outbox poll interval, the fallback when no NOTIFY woke the relay",
  }),
  smtpUrl: setting<string | undefined>({
    env: "SMTP_URL",
    key: "pipeline.channels.smtp_url",
    type: url,
    default: undefined,
    defaultText: "unset = emails go to the log",
    description: "SMTP server (Mailpit in compose)",
    secret: true,
  }),
  emailFrom: setting<string>({
    env: "EMAIL_FROM",
    key: "pipeline.channels.email_from",
    type: text,
    default: "Switchyard <no-reply@switchyard.test>",
    description: "sender address",
  }),
  smsWebhookUrl: setting<string | undefined>({
    env: "SMS_WEBHOOK_URL",
    key: "pipeline.channels.sms_webhook_url",
    type: url,
    default: undefined,
    defaultText: "unset = the log",
    description: "SMS webhook",
  }),
  pushWebhookUrl: setting<string | undefined>({
    env: "PUSH_WEBHOOK_URL",
    key: "pipeline.channels.push_webhook_url",
    type: url,
    default: undefined,
    defaultText: "unset = the log",
    description: "push webhook",
  }),
  usersGraphqlUrl: setting<string | undefined>({
    env: "USERS_GRAPHQL_URL",
    key: "pipeline.users_graphql_url",
    type: url,
    default: undefined,
    defaultText: "`http://127.0.0.1:$USERS_PORT/graphql`",
    description: "users subgraph, asked for recipients’ addresses",
  }),
  usersPort: SUBGRAPH_PORT_SETTINGS.users,
  relayPort: rolePort("relay", 4010),
  workerPort: rolePort("worker", 4011),
  dispatcherPort: rolePort("dispatcher", 4012),
  analyticsPort: rolePort("analytics", 4013),
});

export const PIPELINE_SETTINGS_READ: readonly Setting<unknown>[] = [
  ...COMMON_SETTINGS_READ,
  ...Object.values(PIPELINE_SETTINGS),
];

export function loadPipelineConfig(env: Env): PipelineConfig {
  const read = <T>(declared: Setting<T>) => readSetting(env, declared);
  const retryDelays = read(PIPELINE_SETTINGS.retryDelaysMs);
  if (retryDelays.length === 0)
    throw new ConfigError(
      "JOB_RETRY_DELAYS_MS",
      "must list at least one delay",
    );
  return Object.freeze({
    ...readCommonConfig(env),
    kafkaBrokers: readKafkaConfig(env)?.brokers,
    amqpUrl: read(PIPELINE_SETTINGS.amqpUrl),
    smtpUrl: read(PIPELINE_SETTINGS.smtpUrl),
    emailFrom: read(PIPELINE_SETTINGS.emailFrom),
    smsWebhookUrl: read(PIPELINE_SETTINGS.smsWebhookUrl),
    pushWebhookUrl: read(PIPELINE_SETTINGS.pushWebhookUrl),
    usersGraphqlUrl:
      read(PIPELINE_SETTINGS.usersGraphqlUrl) ??
      `http://127.0.0.1:${read(PIPELINE_SETTINGS.usersPort)}/graphql`,
    relayPort: read(PIPELINE_SETTINGS.relayPort),
    workerPort: read(PIPELINE_SETTINGS.workerPort),
    dispatcherPort: read(PIPELINE_SETTINGS.dispatcherPort),
    analyticsPort: read(PIPELINE_SETTINGS.analyticsPort),
    host: read(COMMON_SETTINGS.host),
    relayPollIntervalMs: read(PIPELINE_SETTINGS.relayPollIntervalMs),
    retry: Object.freeze({
      delaysMs: [...retryDelays],
      maxAttempts: read(PIPELINE_SETTINGS.maxAttempts),
    }),
    confirmTimeoutMs: read(PIPELINE_SETTINGS.confirmTimeoutMs),
    topicPrefix: read(PIPELINE_SETTINGS.topicPrefix),
    groupId: read(PIPELINE_SETTINGS.groupId),
    queuePrefix: read(PIPELINE_SETTINGS.queuePrefix),
  });
}
