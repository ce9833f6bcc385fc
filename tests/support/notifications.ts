import type { Logger } from "pino";
import { createLogSender, type ChannelSender } from "../../events/channels.ts";
import type { NotificationWorkerOptions } from "../../events/notification-worker.ts";
import { createStaticDirectory } from "../../events/recipients.ts";
import { silentLogger } from "./logger.ts";

/**
 * Parts the notification pipeline tests build the same way. Importing this module touches no
 * broker and no database.
 */

/** A recipient directory in which every user has the address `<user>@example.test`. */
export function directoryOf(users: readonly string[]) {
  return createStaticDirectory(
    Object.fromEntries(
      users.map((user) => [user, { email: `${user}@example.test` }]),
    ),
  );
}

/** A sender for every channel that only counts, per notification id, how often it was asked to send. */
export function countingSenders() {
  const sends = new Map<string, number>();
  const sender: ChannelSender = {
    transport: "test",
    send: async (job) =>
      void sends.set(
        job.notificationId,
        (sends.get(job.notificationId) ?? 0) + 1,
      ),
  };
  return { sends, senders: { email: sender, sms: sender, push: sender } };
}

/** A test worker's own group and queues, named after the test's unique prefix, logging nothing. */
export function workerScope(
  prefix: string,
  topics: string[],
): Pick<
  NotificationWorkerOptions,
  "logger" | "groupId" | "topics" | "queuePrefix"
> {
  return { logger: silentLogger, groupId: prefix, topics, queuePrefix: prefix };
}

/** Senders that only log each delivery to `logger`, on every channel (as the pipeline does without SMTP). */
export function logSenders(logger: Logger) {
  return {
    email: createLogSender({ logger, channel: "email" }),
    sms: createLogSender({ logger, channel: "sms" }),
    push: createLogSender({ logger, channel: "push" }),
  };
}
