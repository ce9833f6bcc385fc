import amqp from "amqplib";
import { kafkaMetadataError } from "../../scripts/kafka/probe.ts";
import { skipReason } from "./ci.ts";

export { unique, waitFor } from "./wait.ts";

/**
 * Real brokers for the int and e2e tests: Kafka from `npm run kafka:start` (or KAFKA_BROKERS),
 * RabbitMQ at AMQP_URL (or the local guest account). Importing this module touches no broker: a test
 * file that needs one asks in a top-level `await probeKafka()` / `await probeRabbit()`, which
 * returns the skip reason (printed) outside CI and fails the run in CI (see ./ci.ts).
 */
export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? "127.0.0.1:19092")
  .split(",")
  .map((broker) => broker.trim());
export const AMQP_URL =
  process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";

async function kafkaUnavailable(): Promise<string | undefined> {
  const error = await kafkaMetadataError(KAFKA_BROKERS, {
    clientId: "switchyard-tests-probe",
    retries: 1,
  });
  return (
    error &&
    `Kafka at ${KAFKA_BROKERS.join(",")} is not reachable (${error.message}); start it with: npm run kafka:start`
  );
}

async function rabbitUnavailable(): Promise<string | undefined> {
  try {
    const connection = await amqp.connect(AMQP_URL, { timeout: 3000 });
    await connection.close();
    return undefined;
  } catch (error) {
    return `RabbitMQ at ${AMQP_URL.replace(/\/\/[^@]*@/, "//")} is not reachable (${(error as Error).message}); start it with: rabbitmq-server -detached`;
  }
}

/** Why Kafka cannot be used here (printed), or undefined; in CI an unreachable Kafka throws. */
export async function probeKafka(): Promise<string | undefined> {
  return skipReason("the real Kafka", await kafkaUnavailable());
}

/** Why RabbitMQ cannot be used here (printed), or undefined; in CI an unreachable RabbitMQ throws. */
export async function probeRabbit(): Promise<string | undefined> {
  return skipReason("the real RabbitMQ", await rabbitUnavailable());
}

/** Deletes RabbitMQ queues a test declared (quorum queues are Raft groups: not free to leave behind). */
export async function deleteQueues(names: string[]): Promise<void> {
  const connection = await amqp.connect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    for (const name of names)
      await channel.deleteQueue(name).catch(() => undefined);
  } finally {
    await connection.close().catch(() => undefined);
  }
}
