/**
 * One pipeline role of `npm run bench:pipeline` in a process of its own (forked by
 * scripts/pipeline-bench.ts with BENCH_ROLE=relay|worker|dispatcher), against the real brokers.
 * It talks to the parent over IPC: `ready` once consuming, then answers `stats` requests with its
 * progress and the CPU time the process used; the dispatcher also streams the wall-clock time of
 * each delivery, by event id, so the parent can compute insert → delivered latency.
 */
import { pino } from "pino";
import { createKafkaEventLog } from "../events/kafka-event-log.ts";
import { createNotificationWorker } from "../events/notification-worker.ts";
import { createOutboxRelay } from "../events/outbox-relay.ts";
import { createRabbitJobQueue } from "../events/rabbit-job-queue.ts";
import { openStorage } from "../platform/database.ts";
import {
  benchUsers,
  createBenchDispatcher,
} from "./pipeline-bench-dispatcher.ts";

const env = process.env;
const role = env.BENCH_ROLE as "relay" | "worker" | "dispatcher";
const tag = env.BENCH_TAG!;
const users = Number(env.BENCH_USERS ?? 50);
const logger = pino({ level: "silent" });
const retry = { delaysMs: [1000], maxAttempts: 3 };
const send = (message: unknown) => process.send?.(message);

const storage = await openStorage({
  databaseUrl: env.BENCH_DB_URL,
  dataDir: "",
});
const eventLog = createKafkaEventLog({
  brokers: env.KAFKA_BROKERS!.split(","),
  clientId: `bench-${role}`,
  logger,
});
const jobQueue =
  role === "relay"
    ? undefined
    : await createRabbitJobQueue({ url: env.AMQP_URL!, logger, retry });

let progress = () => 0;
let stop = async () => undefined as void;
let go = () => undefined as void;
const delivered: Array<[string, number]> = [];

if (role === "relay") {
  const relay = createOutboxRelay({
    db: storage.forService("orders"),
    schema: "orders",
    eventLog,
    logger,
    topicPrefix: `${tag}.`,
    batchSize: Number(env.BENCH_RELAY_BATCH ?? 500),
  });
  progress = () => relay.published;
  go = () => relay.start();
  stop = () => relay.stop();
} else if (role === "worker") {
  const worker = createNotificationWorker({
    eventLog,
    jobQueue: jobQueue!,
    db: storage.forService("notifications"),
    logger,
    groupId: tag,
    topics: [`${tag}.switchyard.orders`],
    queuePrefix: tag,
  });
  await worker.start();
  progress = () => worker.stats.handled;
  stop = () => worker.stop();
} else {
  const dispatcher = createBenchDispatcher({
    jobQueue: jobQueue!,
    db: storage.forService("notifications"),
    logger,
    users: benchUsers(users),
    onDelivered: (eventId, at) => void delivered.push([eventId, at]),
    retry,
    queuePrefix: tag,
    ...(env.BENCH_PREFETCH ? { prefetch: Number(env.BENCH_PREFETCH) } : {}),
  });
  await dispatcher.start();
  progress = () => dispatcher.stats.delivered;
  stop = () => dispatcher.stop();
}

process.on("message", (message: { type: string }) => {
  if (message.type === "go") go();
  if (message.type === "stats") {
    const cpu = process.cpuUsage();
    send({
      type: "stats",
      role,
      progress: progress(),
      cpuMicros: cpu.user + cpu.system,
      delivered: delivered.splice(0),
    });
  }
  if (message.type === "stop") {
    void (async () => {
      await stop();
      await eventLog.close();
      await jobQueue?.close();
      await storage.close();
      send({ type: "stopped", role });
      process.exit(0);
    })();
  }
});
send({ type: "ready", role });
