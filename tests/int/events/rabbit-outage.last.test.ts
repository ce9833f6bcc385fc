import { describe, it } from "vitest";
import { KAFKA_BROKERS, probeKafka } from "../../support/brokers.ts";
import { outageSuite, stoppedBroker } from "../../support/outage-suite.ts";
import { skipReason } from "../../support/ci.ts";
import {
  privateRabbitUnavailable,
  startPrivateRabbit,
  type PrivateRabbit,
} from "../../support/private-rabbit.ts";
import { postgresBackend } from "../../support/storage.ts";

const kafkaReason = await probeKafka();

/**
 * RabbitMQ goes away under a running pipeline (a private node: `rabbitmqctl stop_app`, held, then
 * `start_app`) while events keep being written. ~3 s is a blip; ~12 s outlasts the worker's 10 s
 * Kafka session timeout but not kafkajs's retries (the window that used to leave the worker
 * crashed and silent); ~45 s outlasts both. After each: every event delivered exactly once and
 * in per-user order, nothing dead-lettered, the worker still in its group and consuming, the
 * dispatcher's consumers re-attached.
 */
const RABBIT_PORT = 5703;
const RABBIT_DIST_PORT = 25703;
const postgres = await postgresBackend();
const privateRabbitReason = skipReason(
  "a private RabbitMQ node",
  await privateRabbitUnavailable(),
);
const unavailable = postgres.unavailable ?? kafkaReason ?? privateRabbitReason;
if (unavailable)
  console.error(`[tests] skipping the RabbitMQ outage tests: ${unavailable}`);

describe.skipIf(unavailable)("the pipeline while RabbitMQ is down", () => {
  let rabbit: PrivateRabbit;
  const { outage: outageCase } = outageSuite({
    postgres,
    brokers: () => ({ kafkaBrokers: KAFKA_BROKERS, amqpUrl: rabbit.url }),
    fault: stoppedBroker({
      stop: () => rabbit.stopApp(),
      start: () => rabbit.startApp(),
    }),
    // The queues are on the private node, which goes away with the file.
    sharedQueues: false,
    setUp: async () => {
      rabbit = await startPrivateRabbit({
        port: RABBIT_PORT,
        distPort: RABBIT_DIST_PORT,
      });
    },
    tearDown: async () => rabbit?.close(),
    setUpTimeoutMs: 120_000,
    tearDownTimeoutMs: 60_000,
  });
  const outage = (holdMs: number) => outageCase({ holdMs });

  it(
    "~3 s: every event delivered exactly once, in per-user order, and the consumers still consume",
    { timeout: 240_000 },
    outage(3_000),
  );
  it(
    "~12 s (past the 10 s session timeout, inside the retries): the same",
    { timeout: 300_000 },
    outage(12_000),
  );
  it(
    "~45 s (past every retry): the same",
    { timeout: 360_000 },
    outage(45_000),
  );
});
