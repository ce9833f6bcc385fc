import { randomUUID } from "node:crypto";
import type { Logger } from "../platform/logger.ts";
import { parseEnvelope } from "./envelope.ts";
import type { EventLog } from "./event-log.ts";

/** Order status each `orders.order.*` event reports. */
const STATUS_BY_TYPE = {
  "orders.order.placed": "PENDING",
  "orders.order.confirmed": "CONFIRMED",
  "orders.order.failed": "FAILED",
  "orders.order.cancelled": "CANCELLED",
} as const;

type OrderEventType = keyof typeof STATUS_BY_TYPE;

/** One order's state change, as the router's live updates read it (router/live/fan-out.ts). */
export interface OrderChangeMessage {
  readonly eventId: string;
  readonly orderId: string;
  readonly userId: string;
  readonly status: (typeof STATUS_BY_TYPE)[OrderEventType];
  readonly receivedAt: number;
}

const isOrderEvent = (type: string): type is OrderEventType =>
  type in STATUS_BY_TYPE;

/**
 * The router's feed of order changes: one consumer of `<prefix>switchyard.orders` under a group
 * of its own (`groupId`, unique per router instance, so every instance sees every event; Kafka
 * or the in-process log alike; `router-live-<random uuid>` unless given), starting at the end of the log, since a subscriber hears what
 * happens after it subscribed. A message that is not a valid order event is logged and skipped,
 * never retried: the feed must not stall live updates on one bad record.
 */
export function createOrderChangeFeed({
  eventLog,
  groupId = `router-live-${randomUUID()}`,
  topicPrefix = "",
  logger,
}: {
  eventLog: EventLog;
  /**
   * Must differ per router instance: instances sharing a group would split the partitions, and
   * each would miss the events of the others' partitions. @default `router-live-<random uuid>`
   */
  groupId?: string;
  /** @default '' */
  topicPrefix?: string;
  logger: Logger;
}) {
  const topic = `${topicPrefix}switchyard.orders`;
  return {
    async start(onChange: (change: OrderChangeMessage) => void) {
      await eventLog.ensureTopic(topic);
      return eventLog.subscribe({
        groupId,
        topics: [topic],
        fromBeginning: false,
        async handle(message) {
          const receivedAt = Date.now();
          let envelope;
          try {
            envelope = parseEnvelope(message.value);
          } catch (error) {
            logger.warn(
              { err: error, topic, offset: message.offset },
              "live feed skipped an invalid event",
            );
            return;
          }
          if (!isOrderEvent(envelope.type)) return;
          const { orderId, userId } = envelope.data as {
            orderId?: unknown;
            userId?: unknown;
          };
          if (typeof orderId !== "string" || typeof userId !== "string") return;
          onChange({
            eventId: envelope.eventId,
            orderId,
            userId,
            status: STATUS_BY_TYPE[envelope.type],
            receivedAt,
          });
        },
      });
    },
  };
}
