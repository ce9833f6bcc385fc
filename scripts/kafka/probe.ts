import { Kafka, logLevel } from "kafkajs";

/**
 * Whether a Kafka cluster answers a metadata request (connect, list topics): the error if it does
 * not, undefined if it does. A port that accepts connections is not enough: a broker still starting,
 * or another program on the port, fails here. Shared by scripts/kafka/kafka.ts and the tests' probe.
 */
export async function kafkaMetadataError(
  brokers: string[],
  { clientId, retries }: { clientId: string; retries: number },
): Promise<Error | undefined> {
  const admin = new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries },
    connectionTimeout: 2000,
    requestTimeout: 5000,
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
