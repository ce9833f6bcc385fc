import type { Database } from '../platform/database.ts';
import type { Logger } from '../platform/logger.ts';
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
}

export interface Dispatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  handle(job: ReceivedJob): Promise<void>;
}

/**
 * Delivers notification jobs, one consumer per channel queue. Delivery is idempotent by
 * notification id: a job whose record already says DELIVERED is acknowledged without sending
 * (the worker may publish a job twice after a crash; the queue may redeliver after a lost ack).
 * Every attempt leaves a record: DELIVERED, FAILED (will retry) or DEAD (went to the DLQ).
 */
export function createDispatcher({ jobQueue, db, logger, senders, recipients, retry, queuePrefix = 'notifications', prefetch = 10 }: DispatcherOptions): Dispatcher {
  const log = logger.child({ component: 'dispatcher' });
  const subscriptions: Subscription[] = [];

  const record = (job: NotificationJob, fields: { status: 'DELIVERED' | 'FAILED' | 'DEAD'; attempts: number; transport: string | null; error: string | null }) =>
    db.query(
      `INSERT INTO notifications.deliveries (notification_id, user_id, channel, subject, event_id, event_type, correlation_id, status, attempts, transport, last_error, delivered_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $8 = 'DELIVERED' THEN now() END)
       ON CONFLICT (notification_id) DO UPDATE SET status = EXCLUDED.status, attempts = EXCLUDED.attempts, transport = EXCLUDED.transport,
         last_error = EXCLUDED.last_error, delivered_at = EXCLUDED.delivered_at, updated_at = now()
       WHERE notifications.deliveries.status <> 'DELIVERED'`,
      [job.notificationId, job.userId, job.channel, job.subject, job.eventId, job.eventType, job.correlationId, fields.status, fields.attempts, fields.transport, fields.error],
    );

  const handle = async (received: ReceivedJob) => {
    // An invalid job throws here and, like any failure, reaches the DLQ after the last attempt.
    const job = parseNotificationJob(received.payload);
    const [done] = await db.query(`SELECT 1 FROM notifications.deliveries WHERE notification_id = $1 AND status = 'DELIVERED'`, [job.notificationId]);
    if (done) {
      log.debug({ notificationId: job.notificationId }, 'already delivered; skipping');
      return;
    }
    const sender = senders[job.channel];
    try {
      const recipient = await recipients.lookup(job.userId);
      if (!recipient) throw new UndeliverableError(`no recipient known for user ${job.userId}`);
      await sender.send(job, recipient);
    } catch (error) {
      const last = received.attempt >= retry.maxAttempts;
      await record(job, { status: last ? 'DEAD' : 'FAILED', attempts: received.attempt, transport: sender.transport, error: (error as Error).message });
      log.warn({ err: error, notificationId: job.notificationId, channel: job.channel, attempt: received.attempt, correlationId: job.correlationId }, 'notification delivery failed');
      throw error;
    }
    await record(job, { status: 'DELIVERED', attempts: received.attempt, transport: sender.transport, error: null });
    log.info({ notificationId: job.notificationId, channel: job.channel, userId: job.userId, correlationId: job.correlationId, transport: sender.transport }, 'notification delivered');
  };

  return {
    handle,
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
