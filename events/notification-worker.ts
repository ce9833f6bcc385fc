import type { Database } from "../platform/database.ts";
import { CORRELATION_HEADER } from "../platform/correlation.ts";
import type { Logger } from "../platform/logger.ts";
import {
  consumeMessage,
  inSpan,
  SpanKind,
  traceHeaders,
} from "../platform/tracing.ts";
import { DOMAIN_EVENT_TOPICS, type EventEnvelope } from "./envelope.ts";
import type { EventLog, LogMessage, MessageBatch } from "./event-log.ts";
import type { JobQueue } from "./job-queue.ts";
import { mapEventToJobs } from "./job-mapper.ts";
import {
  CHANNELS,
  queueFor,
  type NotificationJob,
} from "./notification-job.ts";
import { isUnreadable, readEvent } from "./contracts.ts";
import { consumerGroup, type ConsumerGroupRole } from "./consumer-group.ts";

export interface NotificationWorkerOptions {
  eventLog: EventLog;
  jobQueue: JobQueue;
  /** The notifications schema (inbox, rejected events). */
  db: Database;
  logger: Logger;
  /** @default 'notifications' */
  groupId?: string;
  /** @default DOMAIN_EVENT_TOPICS */
  topics?: readonly string[];
  /** Channel queues are `<queuePrefix>.<channel>`. @default 'notifications' */
  queuePrefix?: string;
  /** Called after each event's jobs are confirmed and recorded (tests observe ordering through it). */
  onJobsPublished?: (jobs: NotificationJob[], message: LogMessage) => void;
}

export interface NotificationWorker extends ConsumerGroupRole {
  /** Handles one partition batch as the subscription would (exported for tests of the steps). */
  handleBatch(batch: MessageBatch): Promise<void>;
  readonly stats: {
    handled: number;
    duplicates: number;
    rejected: number;
    jobs: number;
  };
  /** Events on the worker's topics its group has not committed yet. */
  lag(): Promise<number>;
}

interface Rejected {
  message: LogMessage;
  reason: string;
}

/**
 * Consumes domain events a partition batch at a time: validates each envelope, dedupes the batch
 * against the inbox (one query), turns the new events into notification jobs and publishes them
 * pipelined, then records the batch in the inbox (one insert) before the subscription commits.
 *
 * Order: the publishes are issued in event order without awaiting in between, and the JobQueue
 * keeps the call order per queue, so a user's jobs enter their queue in the order of that user's
 * events. All-or-nothing: when any publish is rejected (not confirmed, timed out, connection lost)
 * the batch throws after every publish settled, nothing is recorded and nothing is committed; the
 * subscription pauses the partition and delivers the same batch again later, so nothing later on
 * it overtakes the failed events. A crash between confirm and commit redelivers the batch: the
 * inbox skips what was recorded, and otherwise the jobs are published again with the same
 * notification ids, which dispatchers deliver once.
 */
export function createNotificationWorker({
  eventLog,
  jobQueue,
  db,
  logger,
  groupId = "notifications",
  topics = DOMAIN_EVENT_TOPICS,
  queuePrefix = "notifications",
  onJobsPublished,
}: NotificationWorkerOptions): NotificationWorker {
  const log = logger.child({ component: "notification-worker", groupId });
  const stats = { handled: 0, duplicates: 0, rejected: 0, jobs: 0 };

  /** Publishes one event's jobs in its consumer span (continuing the event's trace, under its correlation id). */
  const publishJobs = (message: LogMessage, jobs: NotificationJob[]) =>
    consumeMessage(
      message.headers,
      `consume ${message.topic}`,
      {
        service: "worker",
        "messaging.system": eventLog.kind,
        "messaging.destination.name": message.topic,
        "messaging.kafka.offset": message.offset,
        "messaging.consumer.group.name": groupId,
      },
      () =>
        Promise.all(
          jobs.map((job) => {
            const queue = queueFor(queuePrefix, job.channel);
            // The job's own span; its traceparent header makes the dispatcher's span a child of it.
            return inSpan(
              `publish ${queue}`,
              {
                kind: SpanKind.PRODUCER,
                attributes: {
                  service: "worker",
                  "messaging.system": jobQueue.kind,
                  "messaging.destination.name": queue,
                  "messaging.message.id": job.notificationId,
                },
              },
              () =>
                jobQueue.publish(queue, {
                  id: job.notificationId,
                  payload: job,
                  headers: {
                    [CORRELATION_HEADER]: job.correlationId,
                    ...(job.traceparent
                      ? { traceparent: job.traceparent }
                      : {}),
                    ...traceHeaders(),
                  },
                }),
            );
          }),
        ),
    );

  const handleBatch = async ({ messages, heartbeat }: MessageBatch) => {
    const rejected: Rejected[] = [];
    const readable: Array<{ message: LogMessage; event: EventEnvelope }> = [];
    for (const message of messages) {
      try {
        readable.push({ message, event: readEvent(message.value) });
      } catch (error) {
        if (!isUnreadable(error)) throw error;
        // A malformed event (or one no contract describes) can never succeed: park it and move on
        // instead of blocking its partition.
        rejected.push({ message, reason: error.message });
      }
    }
    const ids = [...new Set(readable.map(({ event }) => event.eventId))];
    const seen = new Set(
      ids.length === 0
        ? []
        : (
            await db.query<{ event_id: string }>(
              "SELECT event_id FROM notifications.inbox WHERE event_id = ANY($1)",
              [ids],
            )
          ).map((row) => row.event_id),
    );
    let duplicates = 0;
    const fresh: Array<{
      message: LogMessage;
      event: EventEnvelope;
      jobs: NotificationJob[];
    }> = [];
    for (const { message, event } of readable) {
      // `seen` grows with the batch: an event repeated inside the batch is a duplicate too.
      if (seen.has(event.eventId)) {
        duplicates += 1;
        log.debug(
          { eventId: event.eventId, type: event.type },
          "duplicate event skipped",
        );
        continue;
      }
      seen.add(event.eventId);
      fresh.push({ message, event, jobs: mapEventToJobs(event) });
    }
    await heartbeat();
    // Every publish is issued before any is awaited (in event order), then all are awaited together:
    // one broker round trip for the batch instead of one per job. allSettled, not all: a retry of the
    // batch must not start while some of its publishes are still in flight.
    const outcomes = await Promise.allSettled(
      fresh.map(({ message, jobs }) => publishJobs(message, jobs)),
    );
    const failed = outcomes.find(
      (outcome): outcome is PromiseRejectedResult =>
        outcome.status === "rejected",
    );
    if (failed) throw failed.reason;
    await heartbeat();
    if (fresh.length > 0 || rejected.length > 0) {
      await db.transaction(async (tx) => {
        if (fresh.length > 0) {
          await tx.query(
            "INSERT INTO notifications.inbox (event_id, event_type, jobs) SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[]) ON CONFLICT (event_id) DO NOTHING",
            [
              fresh.map(({ event }) => event.eventId),
              fresh.map(({ event }) => event.type),
              fresh.map(({ jobs }) => jobs.length),
            ],
          );
        }
        if (rejected.length > 0) {
          await tx.query(
            "INSERT INTO notifications.rejected_events (topic, kafka_partition, kafka_offset, reason, raw) SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[])",
            [
              rejected.map(({ message }) => message.topic),
              rejected.map(({ message }) => message.partition),
              rejected.map(({ message }) => message.offset),
              rejected.map(({ reason }) => reason),
              rejected.map(({ message }) => message.value.slice(0, 10_000)),
            ],
          );
        }
      });
    }
    for (const { message, reason } of rejected)
      log.error(
        {
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
          reason,
        },
        "event rejected",
      );
    stats.rejected += rejected.length;
    stats.duplicates += duplicates;
    for (const { message, event, jobs } of fresh) {
      stats.handled += 1;
      stats.jobs += jobs.length;
      if (jobs.length > 0)
        log.info(
          {
            eventId: event.eventId,
            type: event.type,
            correlationId: event.correlationId,
            jobs: jobs.length,
          },
          "notification jobs published",
        );
      onJobsPublished?.(jobs, message);
    }
  };

  return {
    ...consumerGroup(
      eventLog,
      { groupId, topics, handleBatch },
      {
        prepare: async () => {
          for (const channel of CHANNELS)
            await jobQueue.declare(queueFor(queuePrefix, channel));
        },
        started: () => log.info({ topics }, "notification worker consuming"),
      },
    ),
    stats,
    handleBatch,
    lag: () => eventLog.lag(groupId, topics),
  };
}
