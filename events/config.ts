import { ConfigError, readCommonConfig, readInt, readOptional, readPort, readString, readUrl, type CommonConfig, type Env } from '../platform/config.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './job-queue.ts';

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
  /** Prepended to every `switchyard.<domain>` topic, so environments can share one Kafka. @default "" */
  readonly topicPrefix: string;
  /** The notification worker's consumer group (analytics uses `<group>.analytics`, or `analytics` by default). @default "notifications" */
  readonly groupId: string;
  /** Prefix of the RabbitMQ job queues (`<prefix>.email`, `.sms`, `.push`). @default "notifications" */
  readonly queuePrefix: string;
}

function readDelays(env: Env): number[] {
  const raw = readOptional(env, 'JOB_RETRY_DELAYS_MS');
  if (raw === undefined) return [...DEFAULT_RETRY_POLICY.delaysMs];
  const delays = raw.split(',').map((part) => part.trim());
  if (delays.length === 0 || delays.some((part) => !/^\d+$/.test(part))) throw new ConfigError('JOB_RETRY_DELAYS_MS', `must be comma-separated milliseconds, got ${JSON.stringify(raw)}`);
  return delays.map(Number);
}

/** Kafka topic, group and RabbitMQ queue names: letters, digits, `.`, `_`, `-` (both brokers accept those). */
function readName(env: Env, name: string, fallback: string): string {
  const value = readString(env, name, fallback);
  if (!/^[\w.-]*$/.test(value) || value.length > 200) throw new ConfigError(name, `must use only letters, digits, '.', '_' and '-', got ${JSON.stringify(value)}`);
  return value;
}

export function loadPipelineConfig(env: Env): PipelineConfig {
  const brokers = readOptional(env, 'KAFKA_BROKERS');
  const kafkaBrokers = brokers?.split(',').map((broker) => broker.trim()).filter(Boolean);
  if (kafkaBrokers && kafkaBrokers.some((broker) => !/^[\w.-]+:\d+$/.test(broker))) throw new ConfigError('KAFKA_BROKERS', `must be host:port[,host:port...], got ${JSON.stringify(brokers)}`);
  return Object.freeze({
    ...readCommonConfig(env),
    kafkaBrokers: kafkaBrokers && kafkaBrokers.length > 0 ? Object.freeze(kafkaBrokers) : undefined,
    amqpUrl: readUrl(env, 'AMQP_URL'),
    smtpUrl: readUrl(env, 'SMTP_URL'),
    emailFrom: readString(env, 'EMAIL_FROM', 'Switchyard <no-reply@switchyard.test>'),
    smsWebhookUrl: readUrl(env, 'SMS_WEBHOOK_URL'),
    pushWebhookUrl: readUrl(env, 'PUSH_WEBHOOK_URL'),
    usersGraphqlUrl: readUrl(env, 'USERS_GRAPHQL_URL', `http://127.0.0.1:${readPort(env, 'USERS_PORT', 4001)}/graphql`)!,
    relayPort: readPort(env, 'RELAY_PORT', 4010),
    workerPort: readPort(env, 'WORKER_PORT', 4011),
    dispatcherPort: readPort(env, 'DISPATCHER_PORT', 4012),
    analyticsPort: readPort(env, 'ANALYTICS_PORT', 4013),
    host: readString(env, 'HOST', '127.0.0.1'),
    relayPollIntervalMs: readInt(env, 'RELAY_POLL_INTERVAL_MS', 200, { min: 10, max: 60_000 }),
    retry: Object.freeze({ delaysMs: readDelays(env), maxAttempts: readInt(env, 'JOB_MAX_ATTEMPTS', DEFAULT_RETRY_POLICY.maxAttempts, { min: 1, max: 100 }) }),
    confirmTimeoutMs: readInt(env, 'AMQP_CONFIRM_TIMEOUT_MS', 5000, { min: 100 }),
    topicPrefix: readName(env, 'KAFKA_TOPIC_PREFIX', ''),
    groupId: readName(env, 'KAFKA_GROUP_ID', 'notifications'),
    queuePrefix: readName(env, 'AMQP_QUEUE_PREFIX', 'notifications'),
  });
}
