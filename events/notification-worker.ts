import type { Database } from '../platform/database.ts';
import { CORRELATION_HEADER } from '../platform/correlation.ts';
import type { Logger } from '../platform/logger.ts';
import { consumeMessage, inSpan, SpanKind, traceHeaders } from '../platform/tracing.ts';
import { EVENT_TOPICS } from './envelope.ts';
import type { EventLog, LogMessage, Subscription } from './event-log.ts';
import type { JobQueue } from './job-queue.ts';
import { mapEventToJobs } from './job-mapper.ts';
import { CHANNELS, queueFor, type NotificationJob } from './notification-job.ts';
import { isUnreadable, readEvent } from './contracts.ts';

export interface NotificationWorkerOptions {
  eventLog: EventLog;
  jobQueue: JobQueue;
  /** The notifications schema (inbox, rejected events). */
  db: Database;
  logger: Logger;
  /** @default 'notifications' */
  groupId?: string;
  /** @default EVENT_TOPICS */
  topics?: readonly string[];
  /** Channel queues are `<queuePrefix>.<channel>`. @default 'notifications' */
  queuePrefix?: string;
  /** Called after each event's jobs are confirmed (tests observe ordering through it). */
  onJobsPublished?: (jobs: NotificationJob[], message: LogMessage) => void;
}

export interface NotificationWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Handles one message as the subscription would (exported for tests of the steps). */
  handle(message: LogMessage): Promise<void>;
  readonly stats: { handled: number; duplicates: number; rejected: number; jobs: number };
  /** Events on the worker's topics its group has not committed yet. */
  lag(): Promise<number>;
}

/**
 * Consumes domain events, validates each envelope, turns it into notification jobs and publishes
 * them with broker confirms. The Kafka offset is committed only after the handler returns, i.e.
 * after every job was confirmed and the event was recorded in the inbox. A crash in between
 * redelivers the event: the inbox skips it when it was recorded, and otherwise the jobs are
 * published again with the same notification ids, which dispatchers deliver once.
 */
export function createNotificationWorker({ eventLog, jobQueue, db, logger, groupId = 'notifications', topics = EVENT_TOPICS, queuePrefix = 'notifications', onJobsPublished }: NotificationWorkerOptions): NotificationWorker {
  const log = logger.child({ component: 'notification-worker', groupId });
  const stats = { handled: 0, duplicates: 0, rejected: 0, jobs: 0 };
  let subscription: Subscription | undefined;

  const handleEvent = async (message: LogMessage) => {
    let event;
    try {
      event = readEvent(message.value);
    } catch (error) {
      if (!isUnreadable(error)) throw error;
      // A malformed event (or one no contract describes) can never succeed: park it and move on
      // instead of blocking its partition.
      stats.rejected += 1;
      log.error({ topic: message.topic, partition: message.partition, offset: message.offset, reason: error.message }, 'event rejected');
      await db.query('INSERT INTO notifications.rejected_events (topic, kafka_partition, kafka_offset, reason, raw) VALUES ($1, $2, $3, $4, $5)', [
        message.topic,
        message.partition,
        message.offset,
        error.message,
        message.value.slice(0, 10_000),
      ]);
      return;
    }
    const [seen] = await db.query('SELECT 1 FROM notifications.inbox WHERE event_id = $1', [event.eventId]);
    if (seen) {
      stats.duplicates += 1;
      log.debug({ eventId: event.eventId, type: event.type }, 'duplicate event skipped');
      return;
    }
    const jobs = mapEventToJobs(event);
    // One at a time: a user's jobs enter their queues in the order of that user's events.
    for (const job of jobs) {
      const queue = queueFor(queuePrefix, job.channel);
      // The job's own span; its traceparent header makes the dispatcher's span a child of it.
      await inSpan(`publish ${queue}`, { kind: SpanKind.PRODUCER, attributes: { service: 'worker', 'messaging.system': jobQueue.kind, 'messaging.destination.name': queue, 'messaging.message.id': job.notificationId } }, () =>
        jobQueue.publish(queue, {
          id: job.notificationId,
          payload: job,
          headers: { [CORRELATION_HEADER]: job.correlationId, ...(job.traceparent ? { traceparent: job.traceparent } : {}), ...traceHeaders() },
        }),
      );
    }
    await db.query('INSERT INTO notifications.inbox (event_id, event_type, jobs) VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING', [event.eventId, event.type, jobs.length]);
    stats.handled += 1;
    stats.jobs += jobs.length;
    if (jobs.length > 0) log.info({ eventId: event.eventId, type: event.type, correlationId: event.correlationId, jobs: jobs.length }, 'notification jobs published');
    onJobsPublished?.(jobs, message);
  };

  /** Each event is handled under its correlation id and in a consumer span continuing its trace. */
  const handle = (message: LogMessage) =>
    consumeMessage(message.headers, `consume ${message.topic}`, { service: 'worker', 'messaging.system': eventLog.kind, 'messaging.destination.name': message.topic, 'messaging.kafka.offset': message.offset, 'messaging.consumer.group.name': groupId }, () =>
      handleEvent(message),
    );

  return {
    stats,
    handle,
    lag: () => eventLog.lag(groupId, topics),
    async start() {
      if (subscription) return;
      for (const channel of CHANNELS) await jobQueue.declare(queueFor(queuePrefix, channel));
      for (const topic of topics) await eventLog.ensureTopic(topic);
      subscription = await eventLog.subscribe({ groupId, topics: [...topics], fromBeginning: true, handle });
      log.info({ topics }, 'notification worker consuming');
    },
    async stop() {
      await subscription?.stop();
      subscription = undefined;
    },
  };
}
