import type { Database } from '../platform/database.ts';
import { InfrastructureError } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { consumeMessage } from '../platform/tracing.ts';
import type { ChannelSender } from './channels.ts';
import { UndeliverableError } from './channels.ts';
import type { Subscription } from './event-log.ts';
import type { JobQueue, ReceivedJob, RetryPolicy } from './job-queue.ts';
import { CHANNELS, parseNotificationJob, queueFor, type Channel, type NotificationJob } from './notification-job.ts';
import type { RecipientDirectory } from './recipients.ts';

export interface DispatcherOptions {
  jobQueue: JobQueue;
  db: Database;
  logger: Logger;
  senders: Record<Channel, ChannelSender>;
  recipients: RecipientDirectory;
  /** Must match the queue's policy, so the record of the last attempt says DEAD. */
  retry: RetryPolicy;
  /** @default 'notifications' */
  queuePrefix?: string;
  /** @default 10 */
  prefetch?: number;
  /** How long a sender holds a notification before another may retry it. @default 60 */
  claimSeconds?: number;
}

export interface Dispatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  handle(job: ReceivedJob): Promise<void>;
  readonly stats: { delivered: number; skipped: number; failed: number };
}

/**
 * Delivers notification jobs, one consumer per channel queue. Delivery is idempotent by
 * notification id (the worker may publish a job twice after a crash; the queue may redeliver after
 * a lost ack): a sender first claims the id in the deliveries table, so a job already DELIVERED is
 * acknowledged without sending, and two copies in flight at once never both send.
 * Every attempt leaves a record: SENDING, DELIVERED, FAILED (will retry) or DEAD (went to the DLQ).
 */
export function createDispatcher({ jobQueue, db, logger, senders, recipients, retry, queuePrefix = 'notifications', prefetch = 10, claimSeconds = 60 }: DispatcherOptions): Dispatcher {
  const log = logger.child({ component: 'dispatcher' });
  const subscriptions: Subscription[] = [];
  const stats = { delivered: 0, skipped: 0, failed: 0 };

  const record = (job: NotificationJob, fields: { status: 'DELIVERED' | 'FAILED' | 'DEAD'; attempts: number; transport: string | null; error: string | null }) =>
    db.query(
      `INSERT INTO notifications.deliveries (notification_id, user_id, channel, subject, event_id, event_type, correlation_id, status, attempts, transport, last_error, delivered_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $8 = 'DELIVERED' THEN now() END)
       ON CONFLICT (notification_id) DO UPDATE SET status = EXCLUDED.status, attempts = EXCLUDED.attempts, transport = EXCLUDED.transport,
         last_error = EXCLUDED.last_error, delivered_at = EXCLUDED.delivered_at, claimed_until = NULL, updated_at = now()
       WHERE notifications.deliveries.status <> 'DELIVERED'`,
      [job.notificationId, job.userId, job.channel, job.subject, job.eventId, job.eventType, job.correlationId, fields.status, fields.attempts, fields.transport, fields.error],
    );

  /**
   * Claims the notification for one sender: true when this dispatcher may send it. A DELIVERED
   * row, or a live SENDING claim of another delivery of the same id, refuses the claim.
   */
  const claim = async (job: NotificationJob, attempt: number) => {
    const rows = await db.query(
      `INSERT INTO notifications.deliveries (notification_id, user_id, channel, subject, event_id, event_type, correlation_id, status, attempts, claimed_until)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'SENDING', $8, now() + make_interval(secs => $9))
       ON CONFLICT (notification_id) DO UPDATE SET status = 'SENDING', attempts = EXCLUDED.attempts, claimed_until = EXCLUDED.claimed_until, updated_at = now()
       WHERE notifications.deliveries.status <> 'DELIVERED' AND (notifications.deliveries.status <> 'SENDING' OR notifications.deliveries.claimed_until < now())
       RETURNING 1`,
      [job.notificationId, job.userId, job.channel, job.subject, job.eventId, job.eventType, job.correlationId, attempt, claimSeconds],
    );
    return rows.length > 0;
  };

  const deliver = async (received: ReceivedJob) => {
    // An invalid job throws here and, like any failure, reaches the DLQ after the last attempt.
    const job = parseNotificationJob(received.payload);
    if (!(await claim(job, received.attempt))) {
      const [row] = await db.query<{ status: string }>('SELECT status FROM notifications.deliveries WHERE notification_id = $1', [job.notificationId]);
      if (row?.status === 'DELIVERED') {
        log.debug({ notificationId: job.notificationId }, 'already delivered; skipping');
        stats.skipped += 1;
        return;
      }
      // Another copy is being sent right now: retry later, by when it is DELIVERED (skip) or its claim lapsed.
      throw new InfrastructureError(`notification ${job.notificationId} is being sent by another delivery`, { retriable: true });
    }
    const sender = senders[job.channel];
    try {
      const recipient = await recipients.lookup(job.userId);
      if (!recipient) throw new UndeliverableError(`no recipient known for user ${job.userId}`);
      await sender.send(job, recipient);
    } catch (error) {
      stats.failed += 1;
      const last = received.attempt >= retry.maxAttempts;
      await record(job, { status: last ? 'DEAD' : 'FAILED', attempts: received.attempt, transport: sender.transport, error: (error as Error).message });
      log.warn({ err: error, notificationId: job.notificationId, channel: job.channel, attempt: received.attempt, correlationId: job.correlationId }, 'notification delivery failed');
      throw error;
    }
    await record(job, { status: 'DELIVERED', attempts: received.attempt, transport: sender.transport, error: null });
    stats.delivered += 1;
    log.info({ notificationId: job.notificationId, channel: job.channel, userId: job.userId, correlationId: job.correlationId, transport: sender.transport }, 'notification delivered');
  };

  /** Each job is delivered under its correlation id and in a consumer span continuing its trace. */
  const handle = (received: ReceivedJob) =>
    consumeMessage(received.headers, `deliver ${received.queue}`, { service: 'dispatcher', 'messaging.system': jobQueue.kind, 'messaging.destination.name': received.queue, 'messaging.message.id': received.id, 'delivery.attempt': received.attempt }, () =>
      deliver(received),
    );

  return {
    handle,
    stats,
    async start() {
      if (subscriptions.length > 0) return;
      for (const channel of CHANNELS) subscriptions.push(await jobQueue.consume(queueFor(queuePrefix, channel), handle, { prefetch }));
      log.info({ queuePrefix }, 'dispatchers consuming');
    },
    async stop() {
      for (const subscription of subscriptions.splice(0)) await subscription.stop();
      await Promise.all(Object.values(senders).map((sender) => sender.close?.()));
    },
  };
}
