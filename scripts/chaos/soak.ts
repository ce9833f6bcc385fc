import { randomBytes, randomUUID } from "node:crypto";
import amqp from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import pino from "pino";
import {
  createDatabase,
  dropDatabase,
  startDistributed,
  type Distributed,
} from "../../deploy/distributed.ts";
import { DOMAIN_EVENT_TOPICS } from "../../events/envelope.ts";
import { PUBLISHING_SUBGRAPHS } from "../../platform/services.ts";
import { createKafkaEventLog } from "../../events/kafka-event-log.ts";
import { DEFAULT_RETRY_POLICY } from "../../events/job-queue.ts";
import { CHANNELS } from "../../events/notification-job.ts";
import {
  inspectQueues,
  peekQueue,
} from "../../tests/support/broker-inspect.ts";
import { privateKafka } from "../../tests/support/private-kafka.ts";
import {
  privateRabbitUnavailable,
  startPrivateRabbit,
} from "../../tests/support/private-rabbit.ts";
import { freePort } from "../../tests/support/process.ts";
import { startSmtpSink } from "../../tests/support/smtp-sink.ts";
import { gql } from "../../tests/support/stack.ts";
import {
  checkRun,
  formatTable,
  type Check,
  type ConfirmedOrder,
} from "./check.ts";
import { chaosSchedule, type Step } from "./schedule.ts";

/**
 * The chaos soak: the compose topology as processes (deploy/distributed.ts) with two relays, two
 * workers in one consumer group and two dispatchers, on PostgreSQL, a private Kafka broker and a
 * private RabbitMQ node. Customers (real signed-up users) place orders through the router while a
 * seeded schedule SIGKILLs relays, workers and dispatchers (and starts them again), restarts the
 * Kafka broker and RabbitMQ, and injects poison events and jobs. After quiescence the checker
 * compares what every confirmed order should have produced with what the SMTP sink, the delivery
 * records, the queues and the consumer group hold.
 */

export interface ChaosOptions {
  /** @default 2000 */
  orders?: number;
  /** Replays a schedule; a random one is drawn (and reported) when absent. */
  seed?: number;
  /** Signed-up customers placing orders side by side. @default 6 */
  customers?: number;
  /** Orders per second over all customers (paced, so the faults land among them). @default 10 */
  ratePerSecond?: number;
  /** Kills and broker restarts. @default max(5, orders / 150) */
  faults?: number;
  /** @default 2 */
  poisonEvents?: number;
  /** @default 2 */
  poisonJobs?: number;
  /** The private Kafka broker's port (the controller takes the next one). @default 19523 */
  kafkaPort?: number;
  /** The private RabbitMQ node's AMQP and distribution ports. @default 5704, 25704 */
  rabbitPort?: number;
  rabbitDistPort?: number;
  /** PostgreSQL server for the run's own database. @default postgres://postgres@127.0.0.1:5432/postgres */
  adminUrl?: string;
  /** How long the pipeline may take to drain after the last order and fault. @default 240000 */
  quiesceTimeoutMs?: number;
  /** Progress lines. @default stdout */
  log?: (line: string) => void;
}

export interface ChaosResult {
  seed: number;
  schedule: Step[];
  /** What each step did, with the time it ran (seconds from the first order). */
  timeline: string[];
  checks: Check[];
  table: string;
  ok: boolean;
  /** The services' last output lines (warn and above), for a failure. */
  serviceLogTail: string;
  durationSeconds: number;
}

/** Warnings and errors of the services, each distinct (instance, message) once with its count, in first-seen order. */
function summarizeLog(lines: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const match = /^\[([\w.]+)\] (.*)$/.exec(line);
    if (!match) continue;
    let entry: { level?: number; msg?: string; err?: { message?: string } };
    try {
      entry = JSON.parse(match[2]!) as typeof entry;
    } catch {
      continue;
    }
    if ((entry.level ?? 0) < 40) continue;
    const key = `[${match[1]}] ${entry.msg ?? ""}${entry.err?.message ? `: ${entry.err.message.slice(0, 160)}` : ""}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()].map(([key, n]) => `${n}× ${key}`).join("\n");
}

/** Outbox rows not yet published, over every publishing service's outbox. */
const UNPUBLISHED = PUBLISHING_SUBGRAPHS.map(
  (service) =>
    `(SELECT count(*) FROM ${service}.outbox WHERE published_at IS NULL)`,
).join(" + ");

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export async function runChaos(
  options: ChaosOptions = {},
): Promise<ChaosResult> {
  const orders = options.orders ?? 2000;
  const seed = options.seed ?? randomBytes(4).readUInt32LE(0);
  const customers = options.customers ?? 6;
  const rate = options.ratePerSecond ?? 10;
  const log =
    options.log ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const scheduleOptions = {
    seed,
    orders,
    faults: options.faults ?? Math.max(5, Math.round(orders / 150)),
    poisonEvents: options.poisonEvents ?? 2,
    poisonJobs: options.poisonJobs ?? 2,
  };
  const schedule = chaosSchedule(scheduleOptions);
  const adminUrl =
    options.adminUrl ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const prefix = `chaos-${seed}-${randomBytes(3).toString("hex")}`;
  const database = `switchyard_chaos_${randomBytes(5).toString("hex")}`;
  log(
    `[chaos] seed ${seed}: ${orders} orders by ${customers} customers at ${rate}/s; replay with: npm run chaos -- --seed ${seed} --orders ${orders} --faults ${scheduleOptions.faults} --poison-events ${scheduleOptions.poisonEvents} --poison-jobs ${scheduleOptions.poisonJobs}`,
  );
  for (const step of schedule)
    log(
      `[chaos]   after order ${step.atOrder}: ${step.kind}${step.kind.startsWith("kill") ? ` #${step.instance + 1}` : ""}${step.downMs ? `, down ${step.downMs} ms` : ""}`,
    );

  const rabbitReason = await privateRabbitUnavailable();
  if (rabbitReason)
    throw new Error(
      `the chaos soak needs a private RabbitMQ node: ${rabbitReason}`,
    );
  const serviceLines: string[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  const began = Date.now();
  try {
    const rabbit = await startPrivateRabbit({
      port: options.rabbitPort ?? 5704,
      distPort: options.rabbitDistPort ?? 25704,
    });
    cleanups.push(() => rabbit.close());
    const kafka = privateKafka({ port: options.kafkaPort ?? 19523 });
    await kafka.start();
    cleanups.push(() => kafka.stop());
    const sink = await startSmtpSink();
    cleanups.push(() => sink.close());
    const databaseUrl = await createDatabase(adminUrl, database);
    cleanups.push(() => dropDatabase(adminUrl, database));
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    cleanups.push(() => db.end());

    log(
      "[chaos] starting the distributed topology (2 relays, 2 workers, 2 dispatchers)",
    );
    // The demo admin (who creates the product) exists only when seeded, with a password of this run's own.
    const demoPassword = `demo-${randomBytes(12).toString("hex")}`;
    const routerAdminPort = await freePort();
    const distributed: Distributed = await startDistributed({
      infrastructure: {
        databaseUrl,
        kafkaBrokers: kafka.brokers.join(","),
        amqpUrl: rabbit.url,
        smtpUrl: sink.url,
      },
      port: () => freePort(),
      scale: { relay: 2, worker: 2, dispatcher: 2 },
      extraEnv: {
        KAFKA_TOPIC_PREFIX: `${prefix}.`,
        KAFKA_GROUP_ID: prefix,
        AMQP_QUEUE_PREFIX: prefix,
        RELAY_POLL_INTERVAL_MS: "100",
        ROUTER_RATE_LIMIT: "1000000/1m",
        ROUTER_ADMIN_PORT: String(routerAdminPort),
        LOG_LEVEL: "warn",
        SEED_DEMO_DATA: "true",
        DEMO_PASSWORD: demoPassword,
      },
      log: (line) => {
        serviceLines.push(line);
        if (serviceLines.length > 5000) serviceLines.splice(0, 1000);
      },
      readyTimeoutMs: 180_000,
    });
    cleanups.push(() => distributed.stop());
    const routerUrl = `${distributed.instance("router").url}/graphql`;

    const admin = await gql<{ logIn: { token: string } }>(
      routerUrl,
      'mutation($password: String!) { logIn(email: "admin@switchyard.dev", password: $password) { token } }',
      { password: demoPassword },
    );
    if (!admin.data)
      throw new Error(
        `cannot sign in as the demo admin: ${JSON.stringify(admin.errors)}`,
      );
    const adminToken = admin.data.logIn.token;
    const product = await gql<{ createProduct: { id: string } }>(
      routerUrl,
      "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }",
      {
        input: {
          sku: `CHAOS-${randomBytes(4).toString("hex")}`,
          name: "Chaos widget",
          price: "2.50",
          inventory: 1_000_000,
        },
      },
      { authorization: `Bearer ${adminToken}` },
    );
    if (!product.data)
      throw new Error(
        `cannot create the product: ${JSON.stringify(product.errors)}`,
      );
    const productId = product.data.createProduct.id;
    const buyers: Array<{ id: string; token: string }> = [];
    for (let n = 0; n < customers; n += 1) {
      const signUp = await gql<{
        signUp: { token: string; user: { id: string } };
      }>(
        routerUrl,
        "mutation($input: SignUpInput!) { signUp(input: $input) { token user { id } } }",
        {
          input: {
            email: `chaos-${n}-${randomUUID().slice(0, 8)}@example.test`,
            name: `Chaos customer ${n}`,
            password: "correct horse battery",
          },
        },
      );
      if (!signUp.data)
        throw new Error(
          `cannot sign up a customer: ${JSON.stringify(signUp.errors)}`,
        );
      buyers.push({
        id: signUp.data.signUp.user.id,
        token: signUp.data.signUp.token,
      });
    }

    // Orders: each customer one at a time (so its orders have a defined order), paced to `rate` in all.
    const confirmed: ConfirmedOrder[] = [];
    let notConfirmed = 0;
    let claimed = 0;
    let placed = 0;
    const startedAt = Date.now();
    const since = () => ((Date.now() - startedAt) / 1000).toFixed(1);
    const customerLoop = async (buyer: { id: string; token: string }) => {
      let seq = 0;
      while (claimed < orders) {
        const slot = claimed;
        claimed += 1;
        const due = startedAt + (slot * 1000) / rate;
        if (due > Date.now()) await sleep(due - Date.now());
        const requestId = randomUUID();
        const body = await gql<{ placeOrder: { id: string; status: string } }>(
          routerUrl,
          "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }",
          {
            input: {
              items: [{ productId, quantity: 1 }],
              idempotencyKey: randomUUID(),
              paymentToken: "tok_visa",
            },
          },
          { authorization: `Bearer ${buyer.token}`, "x-request-id": requestId },
        ).catch((error: unknown) => ({
          data: undefined,
          errors: [{ message: String(error) }],
        }));
        placed += 1;
        if (body.data?.placeOrder.status === "CONFIRMED")
          confirmed.push({
            correlationId: requestId,
            userId: buyer.id,
            seq: seq++,
          });
        else notConfirmed += 1;
      }
    };

    // Faults: each step once its order count is reached, one at a time; orders keep flowing meanwhile.
    const timeline: string[] = [];
    const poisonEvents: string[] = [];
    const poisonJobs: string[] = [];
    const topic = `${prefix}.switchyard.orders`;
    const injectPoisonEvent = async () => {
      // The run has its own database and queues, so a short id is unique where it is looked for.
      const id = `poison-event-${poisonEvents.length + 1}`;
      // Alternately not an envelope at all and an envelope of a type no contract knows.
      const value =
        poisonEvents.length % 2 === 0
          ? `{"poison":"${id}"`
          : JSON.stringify({
              eventId: randomUUID(),
              type: "orders.order.exploded",
              version: 1,
              occurredAt: new Date().toISOString(),
              key: id,
              correlationId: id,
              traceparent: null,
              data: { poison: id },
            });
      const producer = new Kafka({
        clientId: `${prefix}-poison`,
        brokers: kafka.brokers,
        logLevel: logLevel.NOTHING,
      }).producer();
      await producer.connect();
      try {
        await producer.send({
          topic,
          acks: -1,
          messages: [{ key: id, value }],
        });
      } finally {
        await producer.disconnect();
      }
      poisonEvents.push(id);
    };
    const injectPoisonJob = async () => {
      const id = `poison-job-${poisonJobs.length + 1}`;
      const connection = await amqp.connect(rabbit.url);
      try {
        const channel = await connection.createConfirmChannel();
        // A job no dispatcher can parse: the right queue, the wrong shape.
        channel.sendToQueue(
          `${prefix}.email`,
          Buffer.from(JSON.stringify({ poison: id })),
          {
            persistent: true,
            messageId: id,
            contentType: "application/json",
            headers: { "x-attempt": 1 },
          },
        );
        await channel.waitForConfirms();
      } finally {
        await connection.close();
      }
      poisonJobs.push(id);
    };
    const runStep = async (step: Step) => {
      const at = since();
      switch (step.kind) {
        case "kill-relay":
        case "kill-worker":
        case "kill-dispatcher": {
          const service = step.kind.slice("kill-".length);
          await distributed.instance(service, step.instance).stop("SIGKILL");
          await sleep(step.downMs);
          await distributed.restart(service, step.instance);
          break;
        }
        case "restart-kafka":
          await kafka.stop();
          await sleep(step.downMs);
          await kafka.start();
          break;
        case "restart-rabbitmq":
          await rabbit.stopApp();
          await sleep(step.downMs);
          await rabbit.startApp();
          break;
        case "poison-event":
          await injectPoisonEvent();
          break;
        case "poison-job":
          await injectPoisonJob();
          break;
        default: {
          const unknown: never = step.kind;
          throw new Error(`unknown step ${String(unknown)}`);
        }
      }
      const line = `${at}s–${since()}s after order ${placed}: ${step.kind}${step.kind.startsWith("kill") ? ` #${step.instance + 1}` : ""}${step.downMs ? ` (down ${step.downMs} ms)` : ""}`;
      timeline.push(line);
      log(`[chaos] ${line}`);
    };
    const faultLoop = async () => {
      for (const step of schedule) {
        while (placed < step.atOrder && placed < orders) await sleep(100);
        await runStep(step);
      }
    };
    log(`[chaos] placing ${orders} orders`);
    await Promise.all([...buyers.map(customerLoop), faultLoop()]);
    log(
      `[chaos] ${placed} orders placed (${confirmed.length} confirmed) and every step done at ${since()}s; waiting for quiescence`,
    );

    // Quiescence: everything confirmed has been emailed and nothing is left anywhere.
    const observe = async () => {
      const [outbox] = (
        await db.query<{ n: number }>(`SELECT ${UNPUBLISHED} AS n`)
      ).rows;
      const lagLog = createKafkaEventLog({
        brokers: kafka.brokers,
        clientId: `${prefix}-checker`,
        logger: pino({ level: "silent" }),
      });
      // The worker's group follows the business domains' topics only, not the deliveries it
      // publishes itself (switchyard.notifications, which the router's live updates follow).
      const consumerLag = await lagLog
        .lag(
          prefix,
          DOMAIN_EVENT_TOPICS.map((topic) => `${prefix}.${topic}`),
        )
        .finally(() => lagLog.close());
      const main = CHANNELS.map((channel) => `${prefix}.${channel}`);
      const tiers = main.flatMap((queue) =>
        [...new Set(DEFAULT_RETRY_POLICY.delaysMs)].map(
          (delay) => `${queue}.retry.${delay}ms`,
        ),
      );
      const queued = (
        await inspectQueues(rabbit.url, [...main, ...tiers])
      ).reduce((sum, queue) => sum + queue.messages, 0);
      const deadLettered = (
        await Promise.all(
          main.map((queue) => peekQueue(rabbit.url, `${queue}.dlq`)),
        )
      ).flat();
      const { rows: deliveries } = await db.query<{
        correlation_id: string;
        user_id: string;
      }>(
        `SELECT correlation_id, user_id FROM notifications.deliveries WHERE event_type = 'orders.order.confirmed' AND status = 'DELIVERED' ORDER BY delivered_at, notification_id`,
      );
      const unready: string[] = [];
      for (const instance of distributed.instances.filter((candidate) =>
        ["relay", "worker", "dispatcher", "analytics"].includes(
          candidate.service,
        ),
      )) {
        const answer = await fetch(`${instance.url}/ready`, {
          signal: AbortSignal.timeout(3000),
        }).then(
          async (response) =>
            response.ok
              ? undefined
              : `${response.status} ${(await response.text()).slice(0, 120)}`,
          (error: unknown) => String((error as Error).message),
        );
        if (answer) unready.push(`${instance.name}: ${answer}`);
      }
      const { rows: rejected } = await db.query<{ raw: string }>(
        "SELECT raw FROM notifications.rejected_events",
      );
      return {
        confirmed,
        notConfirmed,
        mails: sink.mails
          .map((mail) => mail.header("X-Correlation-Id") ?? "")
          .filter(Boolean),
        deliveries: deliveries.map((row) => ({
          correlationId: row.correlation_id,
          userId: row.user_id,
        })),
        outboxUnpublished: Number(outbox?.n ?? 0),
        consumerLag,
        queued,
        deadLettered,
        injectedPoisonJobs: poisonJobs,
        rejectedPoison: poisonEvents.filter((id) =>
          rejected.some((row) => row.raw.includes(id)),
        ),
        injectedPoisonEvents: poisonEvents,
        unready,
      };
    };
    const deadline = Date.now() + (options.quiesceTimeoutMs ?? 240_000);
    // A broker still loading right after a restart is not a verdict: ask again until the deadline.
    let observed: Awaited<ReturnType<typeof observe>> | undefined;
    let lastError: unknown;
    while (Date.now() < deadline) {
      observed = await observe().catch((error: unknown) => {
        lastError = error;
        return observed;
      });
      if (observed && !checkRun(observed).some((check) => check.draining))
        break;
      await sleep(2000);
    }
    if (!observed)
      throw new Error(
        `the checker could not read the run's state before the deadline: ${(lastError as Error)?.message}`,
        { cause: lastError },
      );
    const checks = checkRun(observed);
    const table = formatTable(checks);
    const ok = checks.every((check) => check.ok);
    log(
      `[chaos] seed ${seed} ${ok ? "passed" : "FAILED"} after ${since()}s:\n${table}`,
    );
    return {
      seed,
      schedule,
      timeline,
      checks,
      table,
      ok,
      serviceLogTail: summarizeLog(serviceLines),
      durationSeconds: Math.round((Date.now() - began) / 1000),
    };
  } finally {
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((error: unknown) =>
        log(`[chaos] cleanup failed: ${(error as Error).message}`),
      );
  }
}
