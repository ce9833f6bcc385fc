import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';

/**
 * Real brokers for `*.int.test.ts`: Kafka from `npm run kafka:start` (or KAFKA_BROKERS), RabbitMQ
 * at AMQP_URL (or the local guest account). Outside CI an unreachable broker skips its tests with
 * the reason printed; with CI=true it fails the run.
 */
export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',').map((broker) => broker.trim());
export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

async function kafkaUnavailable(): Promise<string | undefined> {
  const admin = new Kafka({ clientId: 'switchyard-tests-probe', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING, retry: { retries: 1 }, connectionTimeout: 2000, requestTimeout: 5000 }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return undefined;
  } catch (error) {
    return `Kafka at ${KAFKA_BROKERS.join(',')} is not reachable (${(error as Error).message}); start it with: npm run kafka:start`;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function rabbitUnavailable(): Promise<string | undefined> {
  try {
    const connection = await amqp.connect(AMQP_URL, { timeout: 3000 });
    await connection.close();
    return undefined;
  } catch (error) {
    return `RabbitMQ at ${AMQP_URL.replace(/\/\/[^@]*@/, '//')} is not reachable (${(error as Error).message}); start it with: rabbitmq-server -detached`;
  }
}

export const kafkaReason = await kafkaUnavailable();
export const rabbitReason = await rabbitUnavailable();
for (const reason of [kafkaReason, rabbitReason]) {
  if (!reason) continue;
  if (process.env.CI === 'true') throw new Error(`CI requires the real brokers: ${reason}`);
  console.error(`[tests] skipping real-broker runs: ${reason}`);
}

/** A name no other test (or earlier run) uses: topics, groups and queues are never shared. */
export const unique = (prefix: string) => `${prefix}.${Date.now().toString(36)}.${randomBytes(4).toString('hex')}`;

/** Polls `probe` until it returns a value other than undefined; always gives up after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, { timeoutMs = 20_000, intervalMs = 50, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, intervalMs));
  }
}

/** Deletes RabbitMQ queues a test declared (quorum queues are Raft groups: not free to leave behind). */
export async function deleteQueues(names: string[]): Promise<void> {
  const connection = await amqp.connect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    for (const name of names) await channel.deleteQueue(name).catch(() => undefined);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

