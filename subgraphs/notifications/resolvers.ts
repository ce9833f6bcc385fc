import {
  assertOwnerOrAdmin,
  type AuthContext,
} from "../../platform/authorization.ts";
import { userListConnection } from "../../platform/user-lists.ts";
import { findOwned } from "../../platform/owned-rows.ts";
import { DateTimeScalar } from "../../platform/scalars.ts";
import type { NotificationLoaders } from "./loaders.ts";
import { isNotificationCursor, type NotificationRow } from "./repository.ts";
import type {
  NotificationChannel,
  Resolvers,
} from "./generated/resolvers-types.ts";

export interface NotificationsContext extends AuthContext {
  loaders: NotificationLoaders;
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toNotification(row: NotificationRow) {
  return {
    id: row.notification_id,
    // The deliveries table holds only the pipeline's channels (events/notification-job.ts).
    channel: row.channel.toUpperCase() as NotificationChannel,
    subject: row.subject,
    eventType: row.event_type,
    correlationId: row.correlation_id,
    deliveredAt:
      row.delivered_at instanceof Date
        ? row.delivered_at
        : new Date(row.delivered_at),
    // A reference: the users subgraph resolves the rest of the recipient.
    user: { id: row.user_id },
  };
}

const notificationsOfUser = userListConnection({
  isCursor: isNotificationCursor,
  toNode: toNotification,
  cursorOf: (notification) => [
    notification.deliveredAt.toISOString(),
    notification.id,
  ],
});

export const resolvers: Resolvers<NotificationsContext> = {
  DateTime: DateTimeScalar,
  Query: {
    async notification(_root, { id }, { loaders, principal }) {
      // What was sent to a user is theirs: the router's myNotifications reads every event through
      // here with the subscriber's rights, so this check is what keeps one customer's out of another's.
      // Notification ids are the pipeline's own keys, not UUIDs: the loader takes them as given.
      const row = await findOwned(
        principal,
        loaders.notificationById,
        "Notification",
        id,
        id,
      );
      return toNotification(row);
    },
  },
  User: {
    // Any well-formed id is a user as far as notifications knows: one with none has an empty list.
    __resolveReference: (reference) =>
      ID.test(reference.id) ? { id: reference.id.toLowerCase() } : null,
    async notifications(user, args, { loaders, principal }) {
      // What was sent to a user is theirs: customers see only their own, admins everyone's.
      assertOwnerOrAdmin(principal, user.id, "another user's notifications");
      return notificationsOfUser(
        loaders.notificationsPageByUser,
        user.id,
        args,
      );
    },
  },
};
