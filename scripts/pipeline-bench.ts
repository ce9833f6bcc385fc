/**
 * `npm run bench:pipeline`: events through the whole pipeline — outbox → relay → event log → worker
 * → job queue → dispatcher (a no-op sender) — twice: on the production path (PostgreSQL, Kafka,
 * RabbitMQ) and on the embedded default (PGlite, in-process event log and job queue). For each:
 *   1. throughput: N events already in the outbox, drained; events/s per stage;
 *   2. latency at a fixed rate: RATE events/s inserted one by one for SECONDS; outbox insert →
 *      delivery p50/p95/p99.
 * Needs PostgreSQL (BENCH_DATABASE_URL, default the local server; a throw-away database is created),
 * Kafka (KAFKA_BROKERS, default 127.0.0.1:19092) and RabbitMQ (AMQP_URL) for the first; the embedded
 * run needs nothing. Bounded: each phase gives up after 5 min. Loopback only.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import pg from 'pg';
import { pino } from 'pino';
import { createDispatcher } from '../events/dispatcher.ts';
import { createMemoryEventLog, type EventLog } from '../events/event-log.ts';
import { createMemoryJobQueue, deadLetterQueueOf, type JobQueue } from '../events/job-queue.ts';
import { createKafkaEventLog } from '../events/kafka-event-log.ts';
import { createNotificationWorker } from '../events/notification-worker.ts';
import { CHANNELS, queueFor } from '../events/notification-job.ts';
import { createOutboxRelay } from '../events/outbox-relay.ts';
import { prepareNotificationsDatabase } from '../events/pipeline.ts';
import { createRabbitJobQueue } from '../events/rabbit-job-queue.ts';
import { createStaticDirectory } from '../events/recipients.ts';
import { openStorage, type Storage } from '../platform/database.ts';
import { migrate } from '../platform/migrate.ts';
import { buildEnvelope } from '../platform/outbox.ts';

const N = Number(process.env.BENCH_EVENTS ?? 3000);
const RATE = Number(process.env.BENCH_RATE ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const USERS = 50;
const admin = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const logger = pino({ level: 'silent' });
const retry = { delaysMs: [1000], maxAttempts: 3 };
const users = Array.from({ length: USERS }, (_, i) => `bench-user-${i}`);

const percentile = (sorted: number[], p: number) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
const envelope = (i: number) => buildEnvelope({ type: 'orders.order.confirmed', key: users[i % USERS]!, data: { orderId: `o-${i}`, userId: users[i % USERS]!, total: 1000, currency: 'USD' } });

async function waitUntil(done: () => boolean, limitMs = 300_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

async function run(name: string, { storage, eventLog, jobQueue, tag }: { storage: Storage; eventLog: EventLog; jobQueue: JobQueue; tag: string }) {
  const orders = storage.forService('orders');
  const notifications = storage.forService('notifications');
  await migrate(orders, { schema: 'orders', dir: fileURLToPath(new URL('../subgraphs/orders/migrations', import.meta.url)) });
  await prepareNotificationsDatabase(notifications);
  const insertedAt = new Map<string, number>();
  const latencies: number[] = [];
  const sender = {
    transport: 'noop',
    send: async (job: { eventId: string }) => {
      const at = insertedAt.get(job.eventId);
      if (at !== undefined) latencies.push(performance.now() - at);
    },
  };
  await eventLog.ensureTopic(`${tag}.switchyard.orders`, { partitions: 3 });
  const relay = createOutboxRelay({ db: orders, schema: 'orders', eventLog, logger, topicPrefix: `${tag}.`, batchSize: 500, pollIntervalMs: 20 });
  const worker = createNotificationWorker({ eventLog, jobQueue, db: notifications, logger, groupId: tag, topics: [`${tag}.switchyard.orders`], queuePrefix: tag });
  const dispatcher = createDispatcher({
    jobQueue,
    db: notifications,
    logger,
    senders: Object.fromEntries(CHANNELS.map((channel) => [channel, sender])) as never,
    recipients: createStaticDirectory(Object.fromEntries(users.map((user) => [user, { email: `${user}@example.test` }]))),
    retry,
    queuePrefix: tag,
    prefetch: 50,
  });
  const insert = async (batch: ReturnType<typeof envelope>[]) =>
    orders.query(
      `INSERT INTO orders.outbox (event_id, topic, event_key, type, envelope) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[])`,
      [batch.map((e) => e.eventId), batch.map(() => 'switchyard.orders'), batch.map((e) => e.key), batch.map((e) => e.type), batch.map((e) => JSON.stringify(e))],
    );

  // 1. Throughput: drain N events that are already in the outbox.
  const rows = Array.from({ length: N }, (_, i) => envelope(i));
  for (let i = 0; i < rows.length; i += 500) await insert(rows.slice(i, i + 500));
  await worker.start();
  await dispatcher.start();
  const started = performance.now();
  const marks: Record<string, number> = {};
  relay.start();
  await waitUntil(() => {
    if (!marks.relay && relay.published >= N) marks.relay = performance.now() - started;
    if (!marks.worker && worker.stats.handled >= N) marks.worker = performance.now() - started;
    return dispatcher.stats.delivered >= N;
  });
  marks.relay ??= performance.now() - started;
  marks.worker ??= performance.now() - started;
  marks.dispatcher = performance.now() - started;
  const rate = (ms: number) => Math.round((N / ms) * 1000);
  console.log(`\n${name}: ${N} events (${USERS} users, 3 partitions), delivered ${dispatcher.stats.delivered}`);
  console.log(`  relay → event log   ${rate(marks.relay!)} events/s`);
  console.log(`  → worker → job queue ${rate(marks.worker!)} events/s end to end`);
  console.log(`  → dispatcher         ${rate(marks.dispatcher)} events/s end to end`);

  // 2. Latency at a fixed rate: one outbox insert every 1/RATE s, as a service would write them.
  const total = RATE * SECONDS;
  const before = dispatcher.stats.delivered;
  const t0 = performance.now();
  for (let i = 0; i < total; i += 1) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const event = envelope(N + i);
    insertedAt.set(event.eventId, performance.now());
    await insert([event]);
  }
  await waitUntil(() => dispatcher.stats.delivered - before >= total, 120_000);
  latencies.sort((a, b) => a - b);
  console.log(
    `  at ${RATE} events/s for ${SECONDS}s: outbox insert → delivered p50 ${percentile(latencies, 50).toFixed(1)} ms  p95 ${percentile(latencies, 95).toFixed(1)} ms  p99 ${percentile(latencies, 99).toFixed(1)} ms  (${latencies.length}/${total} delivered)`,
  );

  await relay.stop();
  await worker.stop();
  await dispatcher.stop();
  await eventLog.close();
  await jobQueue.close();
}

// Production path: PostgreSQL + Kafka + RabbitMQ.
{
  const tag = `bench.${randomBytes(4).toString('hex')}`;
  const dbName = `switchyard_bench_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${dbName}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${dbName}`;
  const storage = await openStorage({ databaseUrl: url.toString(), dataDir: '' });
  try {
    await run('PostgreSQL + Kafka + RabbitMQ', {
      storage,
      eventLog: createKafkaEventLog({ brokers, clientId: 'bench', logger }),
      jobQueue: await createRabbitJobQueue({ url: amqpUrl, logger, retry }),
      tag,
    });
  } finally {
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
  }
}

// Embedded default: PGlite + in-process event log and job queue (what `npm start` runs).
{
  const storage = await openStorage({ dataDir: 'memory://' });
  await run('embedded (PGlite + in-process adapters)', {
    storage,
    eventLog: createMemoryEventLog({ logger }),
    jobQueue: createMemoryJobQueue({ logger, retry }),
    tag: 'bench',
  });
  await storage.close();
}
process.exit(0);
