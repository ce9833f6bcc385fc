import { afterAll, beforeAll, describe, it } from "vitest";
import { AMQP_URL, deleteQueues } from "../../support/brokers.ts";
import {
  expectSurvived,
  runOutage,
  startRig,
  type Rig,
} from "../../support/pipeline-rig.ts";
import { privateKafka } from "../../support/private-kafka.ts";
import { probePipelineServices } from "../../support/pipeline-services.ts";

/**
 * The Kafka broker goes away under a running pipeline (a private broker of this file, stopped and
 * started again through scripts/kafka/kafka.ts) while events keep being written to the outbox.
 * ~12 s outlasts the worker's session timeout; ~45 s outlasts kafkajs's retries, so the consumer
 * crashes and must come back. After each: every event delivered exactly once and in per-user
 * order, the outbox drained, the worker back in its group and consuming.
 */
const kafka = privateKafka({ port: 19521 });
// The shared Kafka answering also shows that the machinery to run a private broker (the jars, Java) is here.
const { postgres, unavailable } = await probePipelineServices();
if (unavailable)
  console.error(`[tests] skipping the Kafka outage tests: ${unavailable}`);

describe.skipIf(unavailable)(
  "the pipeline while the Kafka broker is down",
  () => {
    let databaseUrl: string;
    let drop: () => Promise<void>;
    let rig: Rig | undefined;

    beforeAll(async () => {
      await kafka.start();
      const opened = await postgres.open();
      databaseUrl = opened.databaseUrl!;
      drop = opened.drop;
    }, 180_000);
    afterAll(async () => {
      await rig?.stop();
      await drop?.();
      await kafka.stop();
    }, 90_000);

    const outage = (holdMs: number) => async () => {
      rig = await startRig({
        databaseUrl,
        kafkaBrokers: kafka.brokers,
        amqpUrl: AMQP_URL,
      });
      try {
        expectSurvived(
          await runOutage(rig, {
            holdMs,
            inject: () => kafka.stop(),
            lift: () => kafka.start(),
            recoveryTimeoutMs: 180_000,
          }),
        );
      } finally {
        // A failed case must not leave the broker stopped for the next one.
        await kafka.start().catch(() => undefined);
        await rig.stop();
        await deleteQueues([...rig.queueNames]);
        rig = undefined;
      }
    };

    it(
      "~12 s (past the session timeout): every event delivered exactly once, in per-user order, and the worker still consumes",
      { timeout: 420_000 },
      outage(12_000),
    );
    it(
      "~45 s (past kafkajs’s retries): the same",
      { timeout: 480_000 },
      outage(45_000),
    );
  },
);
