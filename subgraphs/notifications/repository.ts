import type { Database } from "../../platform/database.ts";
import { batchByKey } from "../../platform/sql-rows.ts";
import {
  userListPages,
  type UserListCursor,
} from "../../platform/user-lists.ts";

export interface NotificationRow {
  notification_id: string;
  user_id: string;
  channel: "email" | "sms" | "push";
  subject: string;
  event_type: string;
  correlation_id: string;
  delivered_at: Date;
}

const COLUMNS =
  "notification_id, user_id, channel, subject, event_type, correlation_id, delivered_at";

/** `[deliveredAt ISO, notificationId]`: the position after which the next page starts. */
export type NotificationCursor = UserListCursor;

export function isNotificationCursor(
  value: unknown,
): value is NotificationCursor {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    typeof value[0] === "string" &&
    !Number.isNaN(Date.parse(value[0])) &&
    typeof value[1] === "string"
  );
}

/** All SQL of the read side: delivered notifications only, newest first. */
export function createNotificationRepository(db: Database) {
  return {
    /** Delivered notifications by id, in the order of `ids` (null where none is delivered). */
    byIds: batchByKey<NotificationRow>(
      db,
      `SELECT ${COLUMNS} FROM notifications.deliveries
        WHERE notification_id = ANY($1::text[]) AND status = 'DELIVERED'`,
      (row) => row.notification_id,
    ),
    /** One page per user id, in the order of `userIds`, each with the user's total count. */
    pagesByUsers: userListPages<NotificationRow>(db, {
      table: "notifications.deliveries",
      columns: COLUMNS,
      timeColumn: "delivered_at",
      idColumn: "notification_id",
      keyType: "text",
      filter: "status = 'DELIVERED'",
    }),
  };
}

export type NotificationRepository = ReturnType<
  typeof createNotificationRepository
>;
