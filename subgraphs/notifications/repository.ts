import type { Database } from "../../platform/database.ts";
import { pagesByParent } from "../../platform/pagination.ts";

export interface NotificationRow {
  notification_id: string;
  user_id: string;
  channel: "email" | "sms" | "push";
  subject: string;
  event_type: string;
  correlation_id: string;
  delivered_at: Date;
}

/** `[deliveredAt ISO, notificationId]`: the position after which the next page starts. */
export type NotificationCursor = [string, string];

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
    async byIds(
      ids: readonly string[],
    ): Promise<Array<NotificationRow | null>> {
      const rows = await db.query<NotificationRow>(
        `SELECT notification_id, user_id, channel, subject, event_type, correlation_id, delivered_at
           FROM notifications.deliveries
          WHERE notification_id = ANY($1::text[]) AND status = 'DELIVERED'`,
        [ids],
      );
      const byId = new Map(rows.map((row) => [row.notification_id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    /** One page per user id, in the order of `userIds`, each with the user's total count. */
    async pagesByUsers(
      userIds: readonly string[],
      {
        limit,
        after,
      }: { limit: number; after: NotificationCursor | undefined },
    ): Promise<Array<{ rows: NotificationRow[]; totalCount: number }>> {
      const rows = await db.query<NotificationRow & { total_count: number }>(
        `SELECT notification_id, user_id, channel, subject, event_type, correlation_id, delivered_at, total_count FROM (
           SELECT counted.*, row_number() OVER (PARTITION BY counted.user_id ORDER BY counted.delivered_at DESC, counted.notification_id DESC) AS rn
             FROM (
               SELECT d.*, count(*) OVER (PARTITION BY d.user_id)::int AS total_count
                 FROM notifications.deliveries d
                WHERE d.user_id = ANY($1::text[]) AND d.status = 'DELIVERED'
             ) counted
            WHERE $2::timestamptz IS NULL OR (counted.delivered_at, counted.notification_id) < ($2::timestamptz, $3::text)
         ) page
         WHERE rn <= $4
         ORDER BY user_id, delivered_at DESC, notification_id DESC`,
        [userIds, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
      );
      return pagesByParent(userIds, rows, {
        hasAfter: after !== undefined,
        countMissing: (missing) =>
          db.query(
            `SELECT user_id, count(*)::int AS total_count FROM notifications.deliveries WHERE user_id = ANY($1::text[]) AND status = 'DELIVERED' GROUP BY user_id`,
            [missing],
          ),
      });
    },
  };
}

export type NotificationRepository = ReturnType<
  typeof createNotificationRepository
>;
