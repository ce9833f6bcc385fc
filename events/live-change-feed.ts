import { randomUUID } from "node:crypto";
import type { Logger } from "../platform/logger.ts";
import { readEvent } from "./contracts.ts";
import { topicOf, type EventEnvelope } from "./envelope.ts";
import type { EventLog } from "./event-log.ts";

/** Order status each `orders.order.*` event reports. */
const STATUS_BY_TYPE = {
  "orders.order.placed": "PENDING",
  "orders.order.confirmed": "CONFIRMED",
  "orders.order.failed": "FAILED",
  "orders.order.cancelled": "CANCELLED",
} as const;

type OrderEventType = keyof typeof STATUS_BY_TYPE;

/** One order's state change, as the router's orderUpdated reads it (router/live/fan-out.ts). */
export interface OrderChangeMessage {
  readonly kind: "order";
  readonly eventId: string;
  readonly orderId: string;
  readonly userId: string;
  readonly status: (typeof STATUS_BY_TYPE)[OrderEventType];
  readonly receivedAt: number;
}

/** A notification delivered to a user, as the router's myNotifications reads it. */
export interface NotificationDeliveredMessage {
  readonly kind: "notification";
  readonly eventId: string;
  readonly notificationId: string;
  readonly userId: string;
  readonly receivedAt: number;
}

export type LiveChangeMessage =
  OrderChangeMessage | NotificationDeliveredMessage;

const isOrderEvent = (type: string): type is OrderEventType =>
  type in STATUS_BY_TYPE;

/** The topics the feed follows: the order events, and the pipeline's own deliveries. */
export const LIVE_TOPICS = [topicOf("orders"), topicOf("notifications")];

/** What the router hears of one event; undefined for events no live field follows. */
function changeOf(
  event: EventEnvelope,
  receivedAt: number,
): LiveChangeMessage | undefined {
  // Every event a live field follows is about one user (contracts in events/contracts.ts).
  const about = {
    eventId: event.eventId,
    userId: (event.data as { userId: string }).userId,
    receivedAt,
  };
  if (isOrderEvent(event.type)) {
    const { orderId } = event.data as { orderId: string };
    return {
      kind: "order",
      ...about,
      orderId,
      status: STATUS_BY_TYPE[event.type],
    };
  }
  if (event.type === "notifications.notification.delivered") {
    const { notificationId } = event.data as { notificationId: string };
    return { kind: "notification", ...about, notificationId };
  }
  return undefined;
}

/**
 * The router's feed of live changes: one consumer of `<prefix>switchyard.orders` and
 * `<prefix>switchyard.notifications` under a group of its own (`groupId`, unique per router
 * instance, so every instance sees every event; Kafka or the in-process log alike;
 * `router-live-<random uuid>` unless given), starting at the end of the log, since a subscriber
 * hears what happens after it subscribed. Both topics are keyed by the customer's user id, so one
 * user's changes arrive in order. Each event is read against its contract (events/contracts.ts);
 * one that fails is logged and skipped, never retried: the feed must not stall live updates on one
 * bad record.
 */
export function createLiveChangeFeed({
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
  const topics = LIVE_TOPICS.map((topic) => `${topicPrefix}${topic}`);
  return {
    async start(onChange: (change: LiveChangeMessage) => void) {
      for (const topic of topics) await eventLog.ensureTopic(topic);
      return eventLog.subscribe({
        groupId,
        topics,
        fromBeginning: false,
        async handle(message) {
          const receivedAt = Date.now();
          let event;
          try {
            event = readEvent(message.value);
          } catch (error) {
            logger.warn(
              { err: error, topic: message.topic, offset: message.offset },
              "live feed skipped an invalid event",
            );
            return;
          }
          const change = changeOf(event, receivedAt);
          if (change) onChange(change);
        },
      });
    },
  };
}
