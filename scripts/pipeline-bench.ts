/**
 * `npm run bench:pipeline`: pushes N events through the real pipeline — PostgreSQL outbox → relay →
 * Kafka → worker → RabbitMQ → dispatcher (a no-op sender) — and prints events/s per stage.
 * Needs PostgreSQL (BENCH_DATABASE_URL, default the local server; a throw-away database is created),
 * Kafka (KAFKA_BROKERS, default 127.0.0.1:19092) and RabbitMQ (AMQP_URL). Bounded: gives up after 5 min.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import pg from 'pg';
import { pino } from 'pino';
import { createDispatcher } from '../events/dispatcher.ts';
import { deadLetterQueueOf } from '../events/job-queue.ts';
import { createKafkaEventLog } from '../events/kafka-event-log.ts';
import { createNotificationWorker } from '../events/notification-worker.ts';
import { CHANNELS, queueFor } from '../events/notification-job.ts';
import { createOutboxRelay } from '../events/outbox-relay.ts';
import { prepareNotificationsDatabase } from '../events/pipeline.ts';
import { createRabbitJobQueue } from '../events/rabbit-job-queue.ts';
import { createStaticDirectory } from '../events/recipients.ts';
import { openStorage } from '../platform/database.ts';
import { migrate } from '../platform/migrate.ts';
import { buildEnvelope } from '../platform/outbox.ts';

const N = Number(process.env.BENCH_EVENTS ?? 3000);
const USERS = 50;
const admin = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const logger = pino({ level: 'silent' });
const tag = `bench.${randomBytes(4).toString('hex')}`;
const dbName = `switchyard_bench_${randomBytes(4).toString('hex')}`;
const retry = { delaysMs: [1000], maxAttempts: 3 };

const client = new pg.Client({ connectionString: admin });
await client.connect();
await client.query(`CREATE DATABASE ${dbName}`);
await client.end();
const url = new URL(admin);
url.pathname = `/${dbName}`;
const storage = await openStorage({ databaseUrl: url.toString(), dataDir: '' });
const orders = storage.forService('orders');
const notifications = storage.forService('notifications');
await migrate(orders, { schema: 'orders', dir: fileURLToPath(new URL('../subgraphs/orders/migrations', import.meta.url)) });
await prepareNotificationsDatabase(notifications);

const users = Array.from({ length: USERS }, (_, i) => `bench-user-${i}`);
const rows = Array.from({ length: N }, (_, i) => buildEnvelope({ type: 'orders.order.confirmed', key: users[i % USERS]!, data: { orderId: `o-${i}`, userId: users[i % USERS]!, total: 1000, currency: 'USD' } }));
for (let i = 0; i < rows.length; i += 500) {
  const chunk = rows.slice(i, i + 500);
  await orders.query(
    `INSERT INTO orders.outbox (event_id, topic, event_key, type, envelope) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[])`,
    [chunk.map((e) => e.eventId), chunk.map(() => 'switchyard.orders'), chunk.map((e) => e.key), chunk.map((e) => e.type), chunk.map((e) => JSON.stringify(e))],
  );
}

const eventLog = createKafkaEventLog({ brokers, clientId: 'bench', logger });
const jobQueue = await createRabbitJobQueue({ url: amqpUrl, logger, retry });
await eventLog.ensureTopic(`${tag}.switchyard.orders`, { partitions: 3 });
const relay = createOutboxRelay({ db: orders, schema: 'orders', eventLog, logger, topicPrefix: `${tag}.`, batchSize: 500, pollIntervalMs: 20 });
const worker = createNotificationWorker({ eventLog, jobQueue, db: notifications, logger, groupId: tag, topics: [`${tag}.switchyard.orders`], queuePrefix: tag });
const dispatcher = createDispatcher({
  jobQueue,
  db: notifications,
  logger,
  senders: Object.fromEntries(CHANNELS.map((channel) => [channel, { transport: 'noop', send: async () => undefined }])) as never,
  recipients: createStaticDirectory(Object.fromEntries(users.map((user) => [user, { email: `${user}@example.test` }]))),
  retry,
  queuePrefix: tag,
  prefetch: 50,
});
await worker.start();
await dispatcher.start();

const started = performance.now();
const deadline = Date.now() + 300_000;
const marks: Record<string, number> = {};
relay.start();
while (Date.now() < deadline && dispatcher.stats.delivered < N) {
  if (!marks.relay && relay.published >= N) marks.relay = performance.now() - started;
  if (!marks.worker && worker.stats.handled >= N) marks.worker = performance.now() - started;
  await new Promise((done) => setTimeout(done, 20));
}
marks.relay ??= performance.now() - started;
marks.worker ??= performance.now() - started;
marks.dispatcher = performance.now() - started;
const rate = (ms: number) => Math.round((N / ms) * 1000);
console.log(`events: ${N} (${USERS} users, 3 partitions); delivered ${dispatcher.stats.delivered}`);
console.log(`relay → Kafka done after ${Math.round(marks.relay!)} ms (${rate(marks.relay!)} events/s)`);
console.log(`worker → RabbitMQ done after ${Math.round(marks.worker!)} ms (${rate(marks.worker!)} events/s end to end)`);
console.log(`dispatcher deliveries done after ${Math.round(marks.dispatcher)} ms (${rate(marks.dispatcher)} events/s end to end)`);

await relay.stop();
await worker.stop();
await dispatcher.stop();
await eventLog.close();
await jobQueue.close();
await storage.close();
const cleanup = new pg.Client({ connectionString: admin });
await cleanup.connect();
await cleanup.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
await cleanup.end();
const connection = await amqp.connect(amqpUrl);
const channel = await connection.createChannel();
for (const channelName of CHANNELS) {
  const queue = queueFor(tag, channelName);
  for (const name of [queue, deadLetterQueueOf(queue), ...retry.delaysMs.map((delay) => `${queue}.retry.${delay}ms`)]) await channel.deleteQueue(name);
}
await connection.close();
