import { fileURLToPath } from "node:url";
import type { Database } from "../platform/database.ts";
import type { Logger } from "../platform/logger.ts";
import { migrate } from "../platform/migrate.ts";
import { isUnreadable, readEvent } from "./contracts.ts";
import type { EventEnvelope } from "./envelope.ts";
import type { EventLog, LogMessage } from "./event-log.ts";
import { consumerGroup, type ConsumerGroupRole } from "./consumer-group.ts";
import { consumeMessage } from "../platform/tracing.ts";

export const ANALYTICS_MIGRATIONS = fileURLToPath(
  new URL("./analytics-migrations", import.meta.url),
);

export async function prepareAnalyticsDatabase(db: Database): Promise<void> {
  await migrate(db, { schema: "analytics", dir: ANALYTICS_MIGRATIONS });
}

/** What one event adds to its hour's row; undefined for events analytics does not count. Pure. */
export function contributionOf(event: EventEnvelope):
  | {
      hour: string;
      currency: string;
      orders: number;
      revenueMinor: number;
      refunds: number;
      refundedMinor: number;
    }
  | undefined {
  const hour = new Date(event.occurredAt);
  hour.setUTCMinutes(0, 0, 0);
  const currency =
    typeof event.data.currency === "string" ? event.data.currency : "XXX";
  const minor = (value: unknown) =>
    typeof value === "number" && Number.isInteger(value) ? value : 0;
  switch (event.type) {
    case "orders.order.confirmed":
      return {
        hour: hour.toISOString(),
        currency,
        orders: 1,
        revenueMinor: minor(event.data.total),
        refunds: 0,
        refundedMinor: 0,
      };
    case "payments.payment.refunded":
      return {
        hour: hour.toISOString(),
        currency,
        orders: 0,
        revenueMinor: 0,
        refunds: 1,
        refundedMinor: minor(event.data.amount),
      };
    default:
      return undefined;
  }
}

export interface AnalyticsConsumer extends ConsumerGroupRole {
  readonly stats: {
    counted: number;
    ignored: number;
    duplicates: number;
    rejected: number;
  };
}

/**
 * A second consumer group beside the notification worker: it reads the same topics independently
 * (its own offsets) and keeps orders and revenue per hour in its own `analytics` schema.
 * Each event is counted in its own transaction with its inbox row, so a batch redelivered after a
 * failure (the subscription pauses the partition and retries it) counts nothing twice.
 */
export function createAnalyticsConsumer({
  eventLog,
  db,
  logger,
  groupId = "analytics",
  topics,
}: {
  eventLog: EventLog;
  db: Database;
  logger: Logger;
  groupId?: string;
  topics: readonly string[];
}): AnalyticsConsumer {
  const log = logger.child({ component: "analytics", groupId });
  const stats = { counted: 0, ignored: 0, duplicates: 0, rejected: 0 };
  const count = async (message: LogMessage) => {
    let event: EventEnvelope;
    try {
      event = readEvent(message.value);
    } catch (error) {
      if (!isUnreadable(error)) throw error;
      stats.rejected += 1;
      log.warn(
        {
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
          reason: error.message,
        },
        "event rejected",
      );
      return;
    }
    const contribution = contributionOf(event);
    if (!contribution) {
      stats.ignored += 1;
      return;
    }
    const counted = await db.transaction(async (tx) => {
      const inserted = await tx.query(
        "INSERT INTO analytics.inbox (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING event_id",
        [event.eventId],
      );
      if (inserted.length === 0) return false;
      await tx.query(
        `INSERT INTO analytics.hourly (hour, currency, orders, revenue_minor, refunds, refunded_minor) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (hour, currency) DO UPDATE SET orders = analytics.hourly.orders + EXCLUDED.orders, revenue_minor = analytics.hourly.revenue_minor + EXCLUDED.revenue_minor,
           refunds = analytics.hourly.refunds + EXCLUDED.refunds, refunded_minor = analytics.hourly.refunded_minor + EXCLUDED.refunded_minor`,
        [
          contribution.hour,
          contribution.currency,
          contribution.orders,
          contribution.revenueMinor,
          contribution.refunds,
          contribution.refundedMinor,
        ],
      );
      return true;
    });
    if (counted) stats.counted += 1;
    else stats.duplicates += 1;
  };
  const handle = (message: LogMessage) =>
    consumeMessage(
      message.headers,
      `consume ${message.topic}`,
      {
        service: "analytics",
        "messaging.system": eventLog.kind,
        "messaging.destination.name": message.topic,
        "messaging.kafka.offset": message.offset,
        "messaging.consumer.group.name": groupId,
      },
      () => count(message),
    );
  return {
    ...consumerGroup(
      eventLog,
      { groupId, topics, handle },
      { started: () => log.info({ topics }, "analytics consuming") },
    ),
    stats,
  };
}
