import DataLoader from "dataloader";
import type { Database } from "../platform/database.ts";
import { InfrastructureError } from "../platform/errors.ts";
import type { Logger } from "../platform/logger.ts";
import { consumeMessage } from "../platform/tracing.ts";
import type { ChannelSender } from "./channels.ts";
import type { EventEnvelope } from "./envelope.ts";
import { changeWithEvents, prepareEvent } from "./outbox-writer.ts";
import { DownstreamUnavailableError, UndeliverableError } from "./channels.ts";
import type { Subscription } from "./event-log.ts";
import type { JobQueue, ReceivedJob } from "./job-queue.ts";
import {
  CHANNELS,
  parseNotificationJob,
  queueFor,
  type Channel,
  type NotificationJob,
} from "./notification-job.ts";
import type { RecipientDirectory } from "./recipients.ts";
import { decideRetry, type RetryPolicy } from "./retry-policy.ts";

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
  /**
   * Jobs in flight per channel queue (the consumer's prefetch): different recipients are
   * delivered in parallel up to this bound, one recipient's jobs one after another. Larger
   * batches of claims and records are also cheaper per job (bench: 91 → 51 µs of CPU per job from
   * 50 to 200). It is also how many jobs per queue a dispatcher holds during an outage. @default 100
   */
  prefetch?: number;
  /** How long a sender holds a notification before another may retry it. @default 60 */
  claimSeconds?: number;
  /** Claims (and DELIVERED records) written in one statement at most. @default 100 */
  batchSize?: number;
  /** First wait while a downstream is unavailable; doubles up to `maxHoldMs`. @default 250 */
  holdMs?: number;
  /** @default 10000 */
  maxHoldMs?: number;
}

export interface Dispatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  handle(job: ReceivedJob): Promise<void>;
  readonly stats: {
    delivered: number;
    skipped: number;
    failed: number;
    held: number;
  };
  /** Downstreams (`database`, `smtp`, `users`, …) the dispatcher is waiting for right now. */
  readonly unavailable: readonly string[];
}

/** Thrown out of a hold when the dispatcher stops: the queue puts the job back unchanged. */
class StoppingError extends Error {
  constructor() {
    super("dispatcher stopping");
    this.name = "StoppingError";
  }
}

interface Claim {
  job: NotificationJob;
  attempt: number;
}

/**
 * Delivers notification jobs, one consumer per channel queue. Delivery is idempotent by
 * notification id (the worker may publish a job twice after a crash; the queue may redeliver after
 * a lost ack): a sender first claims the id in the deliveries table, so a job already DELIVERED is
 * acknowledged without sending, and two copies in flight at once never both send.
 * Every attempt leaves a record: SENDING, DELIVERED, FAILED (will retry) or DEAD (went to the DLQ).
 *
 * Throughput: up to `prefetch` jobs per queue are in flight; jobs of one recipient run one after
 * another in queue order (a lane per user), different recipients in parallel. Claims and DELIVERED
 * records of jobs in flight together are written in one statement each (a DataLoader batch), which
 * keeps the order claim → send → record per job, so the exactly-once argument above is unchanged.
 * A job that fails goes to a retry tier and may then arrive after that user's later jobs: order is
 * kept for jobs that succeed first time, which is every job while the downstreams are up.
 *
 * Outages: while PostgreSQL, the SMTP server, a webhook gateway or the users subgraph is
 * unavailable, every job would fail alike and the retry tiers would carry the whole backlog into
 * the DLQ within a minute. So the dispatcher *holds* the job (unacked, retrying the failed step
 * with backoff) instead of failing it. Holding rather than nack-with-requeue: the prefetch bound
 * then pauses the consumer by itself (the broker sends nothing more while `prefetch` jobs are
 * held), no attempt is counted, nothing spins through the broker, and a crash while holding just
 * redelivers. A send that failed for an outage releases its claim first, so the retry may claim
 * again; a DELIVERED record that cannot be written is retried alone, never by sending again.
 */
export function createDispatcher({
  jobQueue,
  db,
  logger,
  senders,
  recipients,
  retry,
  queuePrefix = "notifications",
  prefetch = 100,
  claimSeconds = 60,
  batchSize = 100,
  holdMs = 250,
  maxHoldMs = 10_000,
}: DispatcherOptions): Dispatcher {
  const log = logger.child({ component: "dispatcher" });
  const subscriptions: Subscription[] = [];
  const stats = { delivered: 0, skipped: 0, failed: 0, held: 0 };
  const down = new Map<string, number>();
  let stopping = false;
  const wakers = new Set<() => void>();

  const record = (
    job: NotificationJob,
    fields: {
      status: "FAILED" | "DEAD";
      attempts: number;
      transport: string | null;
      error: string | null;
    },
  ) =>
    db.query(
      `INSERT INTO notifications.deliveries (notification_id, user_id, channel, subject, event_id, event_type, correlation_id, status, attempts, transport, last_error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (notification_id) DO UPDATE SET status = EXCLUDED.status, attempts = EXCLUDED.attempts, transport = EXCLUDED.transport,
         last_error = EXCLUDED.last_error, claimed_until = NULL, updated_at = now()
       WHERE notifications.deliveries.status <> 'DELIVERED'`,
      [
        job.notificationId,
        job.userId,
        job.channel,
        job.subject,
        job.eventId,
        job.eventType,
        job.correlationId,
        fields.status,
        fields.attempts,
        fields.transport,
        fields.error,
      ],
    );

  /**
   * Claims notifications for this sender, one statement per batch: true when this dispatcher may
   * send it. A DELIVERED row, or a live SENDING claim of another delivery of the same id, refuses
   * the claim; so does a second copy of an id within one batch (one statement may not touch a row
   * twice, and the first copy's claim already covers the send).
   */
  const claims = new DataLoader<Claim, boolean>(
    async (batch) => {
      const first = new Map<string, Claim>();
      for (const claim of batch)
        if (!first.has(claim.job.notificationId))
          first.set(claim.job.notificationId, claim);
      const rows = [...first.values()];
      const granted = await db.query<{ notification_id: string }>(
        `INSERT INTO notifications.deliveries (notification_id, user_id, channel, subject, event_id, event_type, correlation_id, status, attempts, claimed_until)
         SELECT n, u, c, s, e::uuid, t, k, 'SENDING', a, now() + make_interval(secs => $9)
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[]) AS x(n, u, c, s, e, t, k, a)
         ON CONFLICT (notification_id) DO UPDATE SET status = 'SENDING', attempts = EXCLUDED.attempts, claimed_until = EXCLUDED.claimed_until, updated_at = now()
         WHERE notifications.deliveries.status <> 'DELIVERED' AND (notifications.deliveries.status <> 'SENDING' OR notifications.deliveries.claimed_until < now())
         RETURNING notification_id`,
        [
          rows.map(({ job }) => job.notificationId),
          rows.map(({ job }) => job.userId),
          rows.map(({ job }) => job.channel),
          rows.map(({ job }) => job.subject),
          rows.map(({ job }) => job.eventId),
          rows.map(({ job }) => job.eventType),
          rows.map(({ job }) => job.correlationId),
          rows.map(({ attempt }) => attempt),
          claimSeconds,
        ],
      );
      const ids = new Set(granted.map((row) => row.notification_id));
      return batch.map(
        (claim) =>
          first.get(claim.job.notificationId) === claim &&
          ids.has(claim.job.notificationId),
      );
    },
    { cache: false, maxBatchSize: batchSize },
  );

  /**
   * DELIVERED records, one statement per batch; the row exists since its claim. The same statement
   * writes each newly delivered notification's `notifications.notification.delivered` event to the
   * notifications outbox (the router's `myNotifications` follows it): the event exists if and only
   * if the record committed, and a record already DELIVERED (a copy) writes none. Each event is
   * prepared when its job asks (`load`), so it carries that job's correlation id and trace.
   */
  const deliveredRecords = new DataLoader<
    {
      job: NotificationJob;
      attempt: number;
      transport: string;
      event: EventEnvelope<unknown>;
    },
    true
  >(
    async (batch) => {
      // One event per notification, even if two copies of it meet in one batch.
      const events = new Map(
        batch.map(({ job, event }) => [
          job.notificationId,
          { row: job.notificationId, envelope: event },
        ]),
      );
      await changeWithEvents(
        db,
        "notifications",
        {
          text: `UPDATE notifications.deliveries AS d SET status = 'DELIVERED', attempts = x.a, transport = x.t, last_error = NULL, delivered_at = now(), claimed_until = NULL, updated_at = now()
                   FROM unnest($1::text[], $2::int[], $3::text[]) AS x(n, a, t)
                  WHERE d.notification_id = x.n AND d.status <> 'DELIVERED'
              RETURNING d.notification_id`,
          params: [
            batch.map(({ job }) => job.notificationId),
            batch.map(({ attempt }) => attempt),
            batch.map(({ transport }) => transport),
          ],
          column: "notification_id",
        },
        [...events.values()],
      );
      return batch.map(() => true as const);
    },
    { cache: false, maxBatchSize: batchSize },
  );

  /** A wait that `stop()` cuts short. */
  const pause = (ms: number) =>
    new Promise<void>((done) => {
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        done();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });

  const markDown = (downstream: string, error: unknown) => {
    if (!down.has(downstream))
      log.warn(
        { err: error, downstream },
        "downstream unavailable; holding jobs until it is back",
      );
    down.set(downstream, (down.get(downstream) ?? 0) + 1);
  };
  const markUp = (downstream: string) => {
    if (down.delete(downstream))
      log.info({ downstream }, "downstream available again; delivering");
  };

  /** The database is unavailable when its driver says so (connection-class errors, see platform/database.ts). */
  const databaseOutage = (error: unknown) =>
    error instanceof InfrastructureError && error.retriable;

  /** Runs a database step, holding (retrying with backoff) while PostgreSQL is unavailable. */
  const withDatabase = async <T>(step: () => Promise<T>): Promise<T> => {
    for (let wait = holdMs; ; wait = Math.min(wait * 2, maxHoldMs)) {
      try {
        const result = await step();
        markUp("database");
        return result;
      } catch (error) {
        if (!databaseOutage(error)) throw error;
        if (stopping) throw new StoppingError();
        markDown("database", error);
        stats.held += 1;
        await pause(wait);
        if (stopping) throw new StoppingError();
      }
    }
  };

  /**
   * `turn` settles when the recipient's previous job did: this job claims before, sends after it.
   * A copy whose notification is already in flight here (`behindCopy`) claims only after its turn.
   */
  const deliver = async (
    received: ReceivedJob,
    turn: Promise<void>,
    behindCopy: boolean,
  ) => {
    // An invalid job throws InvalidJobError (not retriable): the queue dead-letters it at once.
    const job = parseNotificationJob(received.payload);
    // Its delivered event, checked against its contract before anything is sent: a job whose event
    // could not be written fails here, not after the send (which would then be repeated).
    const event = prepareEvent({
      type: "notifications.notification.delivered",
      key: job.userId,
      data: { notificationId: job.notificationId, userId: job.userId },
      correlationId: job.correlationId,
    });
    const sender = senders[job.channel];
    let heldFor: string | undefined;
    // The earlier copy is in this lane: claiming now, this copy's statement (another batch, another
    // connection) may win the claim, and the earlier copy would then wait in place for the claim to
    // lapse while this copy waits for its turn: both stuck for `claimSeconds` (a worker's duplicate
    // after a crash between the RabbitMQ confirm and the Kafka commit met this). After its turn,
    // this copy finds the earlier one DELIVERED and is skipped, or claims if it failed.
    if (behindCopy) await turn;
    for (let wait = holdMs; ; wait = Math.min(wait * 2, maxHoldMs)) {
      const claimed = await withDatabase(() =>
        claims.load({ job, attempt: received.attempt }),
      );
      if (!claimed) {
        const [row] = await withDatabase(() =>
          db.query<{ status: string }>(
            "SELECT status FROM notifications.deliveries WHERE notification_id = $1",
            [job.notificationId],
          ),
        );
        if (row?.status === "DELIVERED") {
          log.debug(
            { notificationId: job.notificationId },
            "already delivered; skipping",
          );
          stats.skipped += 1;
          return;
        }
        // Another copy holds a live claim: most often a dispatcher killed mid-send (its unacked copy
        // came back here), whose claim lapses after `claimSeconds`. Wait for it in place, like an
        // outage hold: sent through the retry tiers, this job would come back after the recipient's
        // later jobs and break their order (the chaos soak saw #34 delivered after #75). The lane
        // holds the recipient's later jobs behind it meanwhile; other recipients flow.
        if (stopping) throw new StoppingError();
        stats.held += 1;
        log.info(
          { notificationId: job.notificationId, waitMs: wait },
          "another delivery holds the claim; waiting for it to finish or lapse",
        );
        await pause(wait);
        if (stopping) throw new StoppingError();
        continue;
      }
      const claimedAt = Date.now();
      await turn;
      // A long wait for the recipient's previous job (held through an outage) may outlast the
      // claim, and a lapsed claim can be taken by a copy redelivered to another dispatcher. Nothing
      // tells whose a live claim is then, so claim again: refused while the other copy holds it.
      // (0.9: the database's clock decides the lapse, this process's clock measures the wait.)
      if (Date.now() - claimedAt >= claimSeconds * 900) continue;
      try {
        const recipient = await recipients.lookup(job.userId);
        if (!recipient)
          throw new UndeliverableError(
            `no recipient known for user ${job.userId}`,
          );
        await sender.send(job, recipient);
        if (heldFor) markUp(heldFor);
      } catch (error) {
        if (error instanceof DownstreamUnavailableError && !stopping) {
          // Release the claim (FAILED, no lease) so the retry after the wait may claim again; if
          // the database is down too, the lease lapses by itself after `claimSeconds`.
          heldFor = error.downstream;
          markDown(error.downstream, error);
          stats.held += 1;
          await record(job, {
            status: "FAILED",
            attempts: received.attempt,
            transport: sender.transport,
            error: error.message,
          }).catch(() => undefined);
          await pause(wait);
          if (stopping) throw new StoppingError();
          continue;
        }
        stats.failed += 1;
        const dead =
          decideRetry(retry, received.attempt, error).action === "dead-letter";
        await withDatabase(() =>
          record(job, {
            status: dead ? "DEAD" : "FAILED",
            attempts: received.attempt,
            transport: sender.transport,
            error: (error as Error).message,
          }),
        );
        log.warn(
          {
            err: error,
            notificationId: job.notificationId,
            channel: job.channel,
            attempt: received.attempt,
            correlationId: job.correlationId,
          },
          "notification delivery failed",
        );
        throw error;
      }
      // Sent: only the record is retried from here on, never the send.
      await withDatabase(() =>
        deliveredRecords.load({
          job,
          attempt: received.attempt,
          transport: sender.transport,
          event,
        }),
      );
      stats.delivered += 1;
      log.info(
        {
          notificationId: job.notificationId,
          channel: job.channel,
          userId: job.userId,
          correlationId: job.correlationId,
          transport: sender.transport,
        },
        "notification delivered",
      );
      return;
    }
  };

  /** Each job is delivered under its correlation id and in a consumer span continuing its trace. */
  const traced = (
    received: ReceivedJob,
    turn: Promise<void>,
    behindCopy = false,
  ) =>
    consumeMessage(
      received.headers,
      `deliver ${received.queue}`,
      {
        service: "dispatcher",
        "messaging.system": jobQueue.kind,
        "messaging.destination.name": received.queue,
        "messaging.message.id": received.id,
        "delivery.attempt": received.attempt,
      },
      () => deliver(received, turn, behindCopy),
    );

  // One lane per (queue, user): a job sends only once that user's previous job on the queue
  // settled (sent and recorded, skipped or failed), but claims before that, so a lane costs one
  // database round trip per job instead of two. The queue hands jobs over in queue order and
  // `handle` chains synchronously, so lane order is queue order, and the DELIVERED records (and
  // their delivered_at) follow it too. Jobs with no readable user id (invalid, dead-lettered at
  // once) need no lane.
  // A notification's copies share its recipient and channel, so their lane too: `copies` counts
  // those in flight here, and a later copy waits for its turn before it claims (see `deliver`).
  const lanes = new Map<string, Promise<void>>();
  const copies = new Map<string, number>();
  const handle = (received: ReceivedJob): Promise<void> => {
    const { userId, notificationId } =
      typeof received.payload === "object" && received.payload !== null
        ? (received.payload as { userId?: unknown; notificationId?: unknown })
        : {};
    if (typeof userId !== "string") return traced(received, Promise.resolve());
    const key = `${received.queue}\u0000${userId}`;
    const previous = lanes.get(key) ?? Promise.resolve();
    const id = typeof notificationId === "string" ? notificationId : undefined;
    const behindCopy = id !== undefined && copies.has(id);
    if (id !== undefined) copies.set(id, (copies.get(id) ?? 0) + 1);
    const run = traced(received, previous, behindCopy);
    if (id !== undefined)
      void run
        .catch(() => undefined)
        .then(() => {
          const left = (copies.get(id) ?? 1) - 1;
          if (left === 0) copies.delete(id);
          else copies.set(id, left);
        });
    // Settled once this job and every earlier one of the lane are: a job that finished early
    // (skipped) must not let a later one overtake an earlier one still sending.
    const settled = Promise.allSettled([previous, run]).then(() => undefined);
    lanes.set(key, settled);
    void settled.then(() => {
      if (lanes.get(key) === settled) lanes.delete(key);
    });
    return run;
  };

  return {
    handle,
    stats,
    get unavailable() {
      return [...down.keys()];
    },
    async start() {
      if (subscriptions.length > 0) return;
      stopping = false;
      for (const channel of CHANNELS)
        subscriptions.push(
          await jobQueue.consume(queueFor(queuePrefix, channel), handle, {
            prefetch,
          }),
        );
      log.info({ queuePrefix, prefetch }, "dispatchers consuming");
    },
    async stop() {
      // Held jobs give up first, so the subscriptions' wait for jobs in flight ends; the queue
      // puts them back unchanged because their subscription is stopping.
      stopping = true;
      const stops = subscriptions
        .splice(0)
        .map((subscription) => subscription.stop());
      for (const wake of [...wakers]) wake();
      await Promise.all(stops);
      await Promise.all(
        Object.values(senders).map((sender) => sender.close?.()),
      );
    },
  };
}
