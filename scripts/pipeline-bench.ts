/**
 * `npm run bench:pipeline`: events through the whole pipeline — outbox → relay → event log → worker
 * → job queue → dispatcher (a no-op sender) — on the production path (PostgreSQL, Kafka, RabbitMQ)
 * with each role in its own process as deployed (scripts/pipeline-bench-role.ts), then on the
 * embedded default (PGlite, in-process event log and job queue, one process). For each:
 *   1. throughput: BENCH_EVENTS events already in the outbox, drained; outbox → delivered events/s
 *      (and when the relay and the worker were done), CPU per event per role;
 *   2. latency at a fixed rate: BENCH_RATE events/s (default 1000) committed for BENCH_SECONDS;
 *      outbox commit → delivered p50/p95/p99, and CPU per event per role at that rate.
 * Needs PostgreSQL (BENCH_DATABASE_URL, default the local server; a throw-away database is
 * created), Kafka (KAFKA_BROKERS, default 127.0.0.1:19092) and RabbitMQ (AMQP_URL). BENCH_USERS
 * (default 50) spreads the events over that many recipients. BENCH_ONLY=
 * production|embedded runs one of the two. BENCH_CPU_PROF=<dir> writes V8 CPU profiles of each role
 * process under <dir>/<role>/ (`--cpu-prof`; the largest file is the main thread, the others tsx's loader). Bounded: each phase gives up after 5 min. Loopback only.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import amqp from "amqplib";
import { pino } from "pino";
import { createMemoryEventLog } from "../events/event-log.ts";
import {
  createMemoryJobQueue,
  deadLetterQueueOf,
} from "../events/job-queue.ts";
import { createKafkaEventLog } from "../events/kafka-event-log.ts";
import { createNotificationWorker } from "../events/notification-worker.ts";
import { CHANNELS, queueFor } from "../events/notification-job.ts";
import { createOutboxRelay } from "../events/outbox-relay.ts";
import { prepareNotificationsDatabase } from "../events/pipeline.ts";
import { openStorage, type Database } from "../platform/database.ts";
import { migrate } from "../platform/migrate.ts";
import { buildEnvelope } from "../events/envelope.ts";
import { createThrowawayDatabase } from "../tests/support/throwaway-postgres.ts";
import {
  benchUsers,
  createBenchDispatcher,
} from "./pipeline-bench-dispatcher.ts";

const N = Number(process.env.BENCH_EVENTS ?? 10_000);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ONLY = process.env.BENCH_ONLY;
const PROFILE_DIR = process.env.BENCH_CPU_PROF;
const USERS = Number(process.env.BENCH_USERS ?? 50);
const PHASE_LIMIT_MS = 300_000;
const admin =
  process.env.BENCH_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/postgres";
const brokers = process.env.KAFKA_BROKERS ?? "127.0.0.1:19092";
const amqpUrl = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const logger = pino({ level: "silent" });
const retry = { delaysMs: [1000], maxAttempts: 3 };
const users = benchUsers(USERS);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[
        Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
      ]!;
const envelope = (i: number) =>
  buildEnvelope({
    type: "orders.order.confirmed",
    key: users[i % USERS]!,
    data: {
      orderId: `o-${i}`,
      userId: users[i % USERS]!,
      total: 1000,
      currency: "USD",
    },
  });

/** Writes events as services do (one INSERT per statement batch, committed), returning the commit time. */
async function insert(
  orders: Database,
  batch: ReturnType<typeof envelope>[],
): Promise<number> {
  await orders.query(
    `INSERT INTO orders.outbox (event_id, topic, event_key, type, envelope) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[])`,
    [
      batch.map((e) => e.eventId),
      batch.map(() => "switchyard.orders"),
      batch.map((e) => e.key),
      batch.map((e) => e.type),
      batch.map((e) => JSON.stringify(e)),
    ],
  );
  return now();
}

async function fill(orders: Database, from: number, count: number) {
  for (let i = 0; i < count; i += 500)
    await insert(
      orders,
      Array.from({ length: Math.min(500, count - i) }, (_, k) =>
        envelope(from + i + k),
      ),
    );
}

/**
 * Commits RATE events/s for SECONDS: every 5 ms the events due by then go in one statement, without
 * waiting for the previous statement (a service's concurrent requests), so a slow commit does not
 * lower the offered rate. Returns each event's commit time.
 */
async function offerLoad(
  orders: Database,
  from: number,
): Promise<Map<string, number>> {
  const committedAt = new Map<string, number>();
  const total = RATE * SECONDS;
  const t0 = performance.now();
  const inserts: Array<Promise<void>> = [];
  let next = 0;
  while (next < total) {
    const due = Math.min(
      total,
      Math.floor(((performance.now() - t0) * RATE) / 1000) + 1,
    );
    if (due > next) {
      const batch = Array.from({ length: due - next }, (_, k) =>
        envelope(from + next + k),
      );
      next = due;
      inserts.push(
        insert(orders, batch).then((at) =>
          batch.forEach((event) => committedAt.set(event.eventId, at)),
        ),
      );
    }
    await sleep(5);
  }
  await Promise.all(inserts);
  return committedAt;
}

function latencyLine(
  committedAt: Map<string, number>,
  deliveredAt: Map<string, number>,
) {
  const latencies: number[] = [];
  for (const [eventId, at] of committedAt) {
    const done = deliveredAt.get(eventId);
    if (done !== undefined) latencies.push(done - at);
  }
  latencies.sort((a, b) => a - b);
  return `outbox commit → delivered p50 ${percentile(latencies, 50).toFixed(1)} ms  p95 ${percentile(latencies, 95).toFixed(1)} ms  p99 ${percentile(latencies, 99).toFixed(1)} ms  (${latencies.length}/${committedAt.size} delivered)`;
}

const cpuLine = (cpuMicros: Record<string, number>, events: number) =>
  Object.entries(cpuMicros)
    .map(([role, micros]) => `${role} ${(micros / events).toFixed(0)} µs`)
    .join("  ");

async function waitUntil(
  done: () => boolean | Promise<boolean>,
  limitMs = PHASE_LIMIT_MS,
): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (!(await done())) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

interface RoleStats {
  role: string;
  progress: number;
  cpuMicros: number;
  delivered: Array<[string, number]>;
}

/** Production path: each role a process of its own, as deployed. */
async function production() {
  const tag = `bench.${randomBytes(4).toString("hex")}`;
  const database = await createThrowawayDatabase(admin, "switchyard_bench");
  const storage = await openStorage({
    databaseUrl: database.url,
    dataDir: "",
  });
  const children: ChildProcess[] = [];
  try {
    const orders = storage.forService("orders");
    await migrate(orders, {
      schema: "orders",
      dir: fileURLToPath(
        new URL("../subgraphs/orders/migrations", import.meta.url),
      ),
    });
    await prepareNotificationsDatabase(storage.forService("notifications"));
    const eventLog = createKafkaEventLog({
      brokers: brokers.split(","),
      clientId: "bench",
      logger,
    });
    await eventLog.ensureTopic(`${tag}.switchyard.orders`, { partitions: 3 });
    await eventLog.close();
    await fill(orders, 0, N);

    const latest = new Map<string, RoleStats>();
    const deliveredAt = new Map<string, number>();
    const roles = ["relay", "worker", "dispatcher"] as const;
    await Promise.all(
      roles.map(
        (role) =>
          new Promise<void>((resolve, reject) => {
            const child = fork(
              fileURLToPath(
                new URL("./pipeline-bench-role.ts", import.meta.url),
              ),
              [],
              {
                execArgv: [
                  "--import",
                  "tsx",
                  ...(PROFILE_DIR
                    ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}/${role}`]
                    : []),
                ],
                env: {
                  ...process.env,
                  BENCH_ROLE: role,
                  BENCH_TAG: tag,
                  BENCH_DB_URL: database.url,
                  KAFKA_BROKERS: brokers,
                  AMQP_URL: amqpUrl,
                  BENCH_USERS: String(USERS),
                },
              },
            );
            children.push(child);
            child.on(
              "message",
              (message: { type: string } & Partial<RoleStats>) => {
                if (message.type === "ready") resolve();
                if (message.type === "stats") {
                  latest.set(message.role!, message as RoleStats);
                  for (const [eventId, at] of message.delivered ?? [])
                    deliveredAt.set(eventId, at);
                }
              },
            );
            child.once("exit", (code) =>
              reject(new Error(`${role} exited with ${code}`)),
            );
          }),
      ),
    );
    const poll = async () => {
      const before = new Set(latest.values());
      for (const child of children) child.send({ type: "stats" });
      await waitUntil(
        () =>
          roles.every(
            (role) => latest.get(role) && !before.has(latest.get(role)!),
          ),
        10_000,
      );
      return Object.fromEntries(
        roles.map((role) => [role, latest.get(role)!]),
      ) as Record<(typeof roles)[number], RoleStats>;
    };
    const cpuSince = (
      start: Record<string, RoleStats>,
      end: Record<string, RoleStats>,
    ) =>
      Object.fromEntries(
        roles.map((role) => [
          role,
          end[role]!.cpuMicros - start[role]!.cpuMicros,
        ]),
      );

    // 1. Throughput.
    const idle = await poll();
    const started = performance.now();
    const marks: Record<string, number> = {};
    children[0]!.send({ type: "go" });
    const drained = await waitUntil(async () => {
      const stats = await poll();
      const at = performance.now() - started;
      if (!marks.relay && stats.relay.progress >= N) marks.relay = at;
      if (!marks.worker && stats.worker.progress >= N) marks.worker = at;
      return stats.dispatcher.progress >= N;
    });
    const elapsed = performance.now() - started;
    const end = await poll();
    const rate = (ms: number | undefined) =>
      ms ? `${Math.round((N / ms) * 1000)} events/s` : "not reached";
    console.log(
      `\nPostgreSQL + Kafka + RabbitMQ, one process per role: ${N} events (${USERS} users, 3 partitions), delivered ${end.dispatcher.progress}${drained ? "" : " (gave up)"}`,
    );
    console.log(
      `  outbox → delivered   ${rate(elapsed)} sustained over ${(elapsed / 1000).toFixed(1)} s`,
    );
    console.log(
      `  relay done after ${((marks.relay ?? elapsed) / 1000).toFixed(1)} s (${rate(marks.relay)}), worker after ${((marks.worker ?? elapsed) / 1000).toFixed(1)} s (${rate(marks.worker)})`,
    );
    console.log(`  CPU per event: ${cpuLine(cpuSince(idle, end), N)}`);

    // 2. Latency at a fixed rate.
    const before = await poll();
    const committedAt = await offerLoad(orders, N);
    await waitUntil(
      async () => (await poll()).dispatcher.progress >= N + RATE * SECONDS,
      120_000,
    );
    const after = await poll();
    console.log(
      `  at ${RATE} events/s for ${SECONDS} s: ${latencyLine(committedAt, deliveredAt)}`,
    );
    console.log(
      `  CPU per event at ${RATE} events/s: ${cpuLine(cpuSince(before, after), RATE * SECONDS)}`,
    );

    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            child.once("exit", () => resolve());
            child.send({ type: "stop" });
          }),
      ),
    );
  } finally {
    for (const child of children)
      if (child.exitCode === null) child.kill("SIGKILL");
    await storage.close();
    await database.drop();
    const connection = await amqp.connect(amqpUrl);
    const channel = await connection.createChannel();
    for (const channelName of CHANNELS) {
      const queue = queueFor(tag, channelName);
      for (const name of [
        queue,
        deadLetterQueueOf(queue),
        ...retry.delaysMs.map((delay) => `${queue}.retry.${delay}ms`),
      ])
        await channel.deleteQueue(name);
    }
    await connection.close();
  }
}

/** Embedded default: PGlite + in-process event log and job queue, every role in this one process. */
async function embedded() {
  const storage = await openStorage({ dataDir: "memory://" });
  const eventLog = createMemoryEventLog({ logger });
  const jobQueue = createMemoryJobQueue({ logger, retry });
  const orders = storage.forService("orders");
  const notifications = storage.forService("notifications");
  await migrate(orders, {
    schema: "orders",
    dir: fileURLToPath(
      new URL("../subgraphs/orders/migrations", import.meta.url),
    ),
  });
  await prepareNotificationsDatabase(notifications);
  const deliveredAt = new Map<string, number>();
  await eventLog.ensureTopic("bench.switchyard.orders", { partitions: 3 });
  const relay = createOutboxRelay({
    db: orders,
    schema: "orders",
    eventLog,
    logger,
    topicPrefix: "bench.",
    batchSize: 500,
  });
  const worker = createNotificationWorker({
    eventLog,
    jobQueue,
    db: notifications,
    logger,
    groupId: "bench",
    topics: ["bench.switchyard.orders"],
    queuePrefix: "bench",
  });
  const dispatcher = createBenchDispatcher({
    jobQueue,
    db: notifications,
    logger,
    users,
    onDelivered: (eventId, at) => void deliveredAt.set(eventId, at),
    retry,
    queuePrefix: "bench",
  });
  await fill(orders, 0, N);
  await worker.start();
  await dispatcher.start();
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  relay.start();
  await waitUntil(() => dispatcher.stats.delivered >= N);
  const elapsed = performance.now() - started;
  const cpu1 = process.cpuUsage(cpu0);
  console.log(
    `\nembedded (PGlite + in-process adapters, one process): ${N} events, delivered ${dispatcher.stats.delivered}`,
  );
  console.log(
    `  outbox → delivered   ${Math.round((N / elapsed) * 1000)} events/s sustained over ${(elapsed / 1000).toFixed(1)} s`,
  );
  console.log(
    `  CPU per event: all roles ${((cpu1.user + cpu1.system) / N).toFixed(0)} µs`,
  );
  const cpu2 = process.cpuUsage();
  const committedAt = await offerLoad(orders, N);
  await waitUntil(
    () => dispatcher.stats.delivered >= N + RATE * SECONDS,
    120_000,
  );
  const cpu3 = process.cpuUsage(cpu2);
  console.log(
    `  at ${RATE} events/s for ${SECONDS} s: ${latencyLine(committedAt, deliveredAt)}`,
  );
  console.log(
    `  CPU per event at ${RATE} events/s: all roles ${((cpu3.user + cpu3.system) / (RATE * SECONDS)).toFixed(0)} µs`,
  );
  await relay.stop();
  await worker.stop();
  await dispatcher.stop();
  await eventLog.close();
  await jobQueue.close();
  await storage.close();
}

if (ONLY !== "embedded") await production();
if (ONLY !== "production") await embedded();
process.exit(0);
