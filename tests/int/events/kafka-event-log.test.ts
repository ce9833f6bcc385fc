import { Kafka, logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";
import { createKafkaEventLog } from "../../../events/kafka-event-log.ts";
import { KAFKA_BROKERS, probeKafka, unique } from "../../support/brokers.ts";
import { eventLogContract } from "../../support/contracts/event-log.ts";
import { silentLogger } from "../../support/stack.ts";

const kafkaReason = await probeKafka();

eventLogContract({
  name: "kafka",
  unavailable: kafkaReason,
  create: () =>
    createKafkaEventLog({
      brokers: KAFKA_BROKERS,
      clientId: "event-log-contract",
      logger: silentLogger,
    }),
});

describe.skipIf(kafkaReason)("topic declarations on Kafka", () => {
  it("lets several services declare the same new topics at once (relay, worker, analytics starting together), each ready when its call returns", async () => {
    const logs = Array.from({ length: 4 }, (_, n) =>
      createKafkaEventLog({
        brokers: KAFKA_BROKERS,
        clientId: `declare-${n}`,
        logger: silentLogger,
      }),
    );
    try {
      const topics = Array.from({ length: 3 }, () => unique("declared"));
      // Every log declares every topic at the same moment, as the services do when compose starts them.
      await Promise.all(
        logs.map((log) =>
          Promise.all(
            topics.map((topic) => log.ensureTopic(topic, { partitions: 3 })),
          ),
        ),
      );
      // Each declared topic exists with the partitions asked for, and takes a publish at once.
      const admin = new Kafka({
        clientId: "declare-check",
        brokers: KAFKA_BROKERS,
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      try {
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
        expect(
          metadata.map((topic) => [topic.name, topic.partitions.length]).sort(),
        ).toEqual(topics.map((topic) => [topic, 3]).sort());
      } finally {
        await admin.disconnect();
      }
      for (const topic of topics) {
        await expect(
          logs[0]!.publish(topic, [{ key: "k", value: "v" }]),
        ).resolves.toBeUndefined();
      }
    } finally {
      await Promise.all(logs.map((log) => log.close()));
    }
  });
});
