import { describe, it } from "vitest";
import { AMQP_URL } from "../../support/brokers.ts";
import { outageSuite, stoppedBroker } from "../../support/outage-suite.ts";
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
    const { outage: outageCase } = outageSuite({
      postgres,
      brokers: () => ({ kafkaBrokers: kafka.brokers, amqpUrl: AMQP_URL }),
      fault: stoppedBroker({
        stop: () => kafka.stop(),
        start: () => kafka.start(),
      }),
      setUp: () => kafka.start(),
      tearDown: () => kafka.stop(),
      setUpTimeoutMs: 180_000,
      tearDownTimeoutMs: 90_000,
    });
    const outage = (holdMs: number) =>
      outageCase({ holdMs, recoveryTimeoutMs: 180_000 });

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
