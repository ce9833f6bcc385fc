import amqp from "amqplib";
import { Kafka, logLevel } from "kafkajs";

/**
 * What the brokers themselves say, read over connections of the caller's own: a fault test or the
 * chaos checker must not trust the state of the adapters it is checking.
 */

/** Messages and consumers of each queue, asked on a fresh channel each (asking about a missing queue closes the channel); a missing queue counts as empty. */
export async function inspectQueues(
  amqpUrl: string,
  names: readonly string[],
): Promise<Array<{ queue: string; messages: number; consumers: number }>> {
  const connection = await amqp.connect(amqpUrl, { timeout: 3000 });
  try {
    const out = [];
    for (const queue of names) {
      const channel = await connection.createChannel();
      channel.on("error", () => undefined);
      try {
        const { messageCount, consumerCount } = await channel.checkQueue(queue);
        out.push({ queue, messages: messageCount, consumers: consumerCount });
        await channel.close();
      } catch {
        out.push({ queue, messages: 0, consumers: 0 });
      }
    }
    return out;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** The consumer group's state and member count, as the broker sees it. */
export async function describeGroup(
  brokers: string[],
  groupId: string,
): Promise<{ state: string; members: number }> {
  const admin = new Kafka({
    clientId: `${groupId}-inspect`,
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 1 },
  }).admin();
  await admin.connect();
  try {
    const [group] = (await admin.describeGroups([groupId])).groups;
    return {
      state: group?.state ?? "Unknown",
      members: group?.members.length ?? 0,
    };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * The message ids waiting in a queue, read without taking them: every message is fetched unacked
 * and the channel then closes, which puts them all back. For the end of a run, when nothing else
 * consumes the queue (a DLQ).
 */
export async function peekQueue(
  amqpUrl: string,
  queue: string,
): Promise<string[]> {
  const connection = await amqp.connect(amqpUrl, { timeout: 3000 });
  try {
    const channel = await connection.createChannel();
    channel.on("error", () => undefined);
    const ids: string[] = [];
    try {
      for (;;) {
        const message = await channel.get(queue, { noAck: false });
        if (message === false) break;
        ids.push(String(message.properties.messageId ?? ""));
      }
    } catch {
      // A missing queue holds nothing.
    }
    await channel.close().catch(() => undefined);
    return ids;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
