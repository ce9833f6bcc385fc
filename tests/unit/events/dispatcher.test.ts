import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
} from "vitest";
import {
  DownstreamUnavailableError,
  type ChannelSender,
} from "../../../events/channels.ts";
import {
  createDispatcher,
  type Dispatcher,
} from "../../../events/dispatcher.ts";
import {
  createMemoryJobQueue,
  deadLetterQueueOf,
  type JobQueue,
} from "../../../events/job-queue.ts";
import {
  CHANNELS,
  type NotificationJob,
} from "../../../events/notification-job.ts";
import type { EventEnvelope } from "../../../events/envelope.ts";
import { prepareNotificationsDatabase } from "../../../events/pipeline.ts";
import { CORRELATION_HEADER } from "../../../platform/correlation.ts";
import type { RetryPolicy } from "../../../events/retry-policy.ts";
import { type Database, type Storage } from "../../../platform/database.ts";
import { scratchPglite } from "../../support/pglite.ts";
import { InfrastructureError } from "../../../platform/errors.ts";
import { waitFor } from "../../support/wait.ts";
import { silentLogger } from "../../support/logger.ts";
import { directoryOf } from "../../support/notifications.ts";

// Two attempts with short tiers: a job failed through the tiers reaches the DLQ within ~20 ms.
const retry: RetryPolicy = { delaysMs: [5], maxAttempts: 2 };
const users = ["u-a", "u-b", "u-c"];
const recipients = directoryOf(users);

const jobFor = (user: string, n: number): NotificationJob => ({
  notificationId: `${user}-${n}:email`,
  channel: "email",
  userId: user,
  eventId: `00000000-0000-4000-8000-${String(users.indexOf(user)).padStart(4, "0")}${String(n).padStart(8, "0")}`,
  eventType: "orders.order.confirmed",
  correlationId: `c-${user}-${n}`,
  traceparent: null,
  subject: `order ${n}`,
  body: "hello",
});

describe("the dispatcher", () => {
  let storage: Storage;
  let db: Database;
  let jobs: JobQueue;
  let dispatcher: Dispatcher | undefined;

  beforeAll(async () => {
    storage = await scratchPglite();
    db = storage.forService("notifications");
    await prepareNotificationsDatabase(db);
  });
  afterAll(async () => {
    await storage.close();
  });
  beforeEach(async () => {
    await db.query("DELETE FROM notifications.deliveries");
    await db.query("DELETE FROM notifications.outbox");
    jobs = createMemoryJobQueue({ logger: silentLogger, retry });
  });
  afterEach(async () => {
    await dispatcher?.stop();
    dispatcher = undefined;
    await jobs.close();
  });

  const start = async (
    send: ChannelSender["send"],
    {
      database = db,
      prefetch = 20,
      claimSeconds = 60,
    }: { database?: Database; prefetch?: number; claimSeconds?: number } = {},
  ) => {
    const sender: ChannelSender = { transport: "test", send };
    dispatcher = createDispatcher({
      jobQueue: jobs,
      db: database,
      logger: silentLogger,
      senders: Object.fromEntries(
        CHANNELS.map((channel) => [channel, sender]),
      ) as Record<(typeof CHANNELS)[number], ChannelSender>,
      recipients,
      retry,
      queuePrefix: "test",
      prefetch,
      holdMs: 5,
      maxHoldMs: 20,
      claimSeconds,
    });
    await dispatcher.start();
    return dispatcher;
  };
  const publish = (job: NotificationJob) =>
    jobs.publish("test.email", { id: job.notificationId, payload: job });
  const statusOf = async (id: string) =>
    (
      await db.query<{ status: string; attempts: number }>(
        "SELECT status, attempts FROM notifications.deliveries WHERE notification_id = $1",
        [id],
      )
    )[0];

  /**
   * Waits for far more refusals than the two attempts of the policy, checks the jobs were held, not
   * failed (the dependency is reported unavailable, the DLQ is empty), then brings the dependency
   * back and waits until `delivered` jobs went out.
   */
  const expectHeldThenDelivered = async (
    running: Dispatcher,
    {
      refused,
      unavailable,
      recover,
      delivered,
    }: {
      refused: () => number;
      unavailable: string;
      recover: () => void;
      delivered: number;
    },
  ) => {
    await waitFor(() => (refused() >= 10 ? true : undefined), {
      what: "repeated refusals",
    });
    expect(running.unavailable).toEqual([unavailable]);
    expect(await jobs.depth(deadLetterQueueOf("test.email"))).toBe(0);
    recover();
    await waitFor(
      () => (running.stats.delivered === delivered ? true : undefined),
      { what: `the ${delivered} held jobs delivered` },
    );
  };

  /** The events the dispatcher wrote to the notifications outbox, in outbox order. */
  const deliveredEvents = async () =>
    (
      await db.query<{
        envelope: EventEnvelope<{ notificationId: string; userId: string }>;
      }>("SELECT envelope FROM notifications.outbox ORDER BY seq")
    ).map((row) => row.envelope);

  it("delivers different recipients in parallel and each recipient’s jobs in queue order", async () => {
    const sent: string[] = [];
    let inFlight = 0;
    let peak = 0;
    const running = await start(async (job) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      // Later jobs finish sooner: without a lane per user they would overtake the earlier ones.
      await new Promise((done) =>
        setTimeout(done, 10 - (Number(job.subject.split(" ")[1]) % 10)),
      );
      sent.push(job.notificationId);
      inFlight -= 1;
    });
    const all = users.flatMap((user) =>
      Array.from({ length: 10 }, (_, n) => jobFor(user, n)),
    );
    // Interleaved: u-a 0, u-b 0, u-c 0, u-a 1, …
    for (let n = 0; n < 10; n += 1)
      for (const user of users) await publish(jobFor(user, n));
    await waitFor(
      () => (running.stats.delivered === all.length ? true : undefined),
      { what: "every delivery" },
    );
    for (const user of users)
      expect(sent.filter((id) => id.startsWith(`${user}-`))).toEqual(
        Array.from({ length: 10 }, (_, n) => `${user}-${n}:email`),
      );
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(users.length);
  });

  it("writes the claims and DELIVERED records of jobs in flight together in shared statements", async () => {
    const statements: string[] = [];
    db.onQuery((text) => statements.push(text));
    const running = await start(async () => undefined, { prefetch: 30 });
    const all = Array.from({ length: 30 }, (_, n) => jobFor(users[n % 3]!, n));
    await Promise.all(all.map(publish));
    await waitFor(
      () => (running.stats.delivered === all.length ? true : undefined),
      { what: "every delivery" },
    );
    const claims = statements.filter((text) =>
      text.includes("'SENDING'"),
    ).length;
    const records = statements.filter((text) =>
      text.includes("status = 'DELIVERED'"),
    ).length;
    expect(claims).toBeGreaterThan(0);
    expect(claims).toBeLessThan(all.length);
    expect(records).toBeLessThan(all.length);
    const delivered = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM notifications.deliveries WHERE status = 'DELIVERED' AND delivered_at IS NOT NULL",
    );
    expect(delivered[0]?.n).toBe(all.length);
  });

  it("writes each delivery's notifications.notification.delivered event (ids only, keyed by the user, under the job's correlation id) in the statement of its DELIVERED record", async () => {
    const statements: string[] = [];
    db.onQuery((text) => statements.push(text));
    const running = await start(async () => undefined, { prefetch: 30 });
    const all = Array.from({ length: 30 }, (_, n) => jobFor(users[n % 3]!, n));
    // Each job under its own correlation id, as the worker publishes them: the records are written
    // in shared statements, each event must still carry its own job's id.
    await Promise.all(
      all.map((job) =>
        jobs.publish("test.email", {
          id: job.notificationId,
          payload: job,
          headers: { [CORRELATION_HEADER]: job.correlationId },
        }),
      ),
    );
    await waitFor(
      () => (running.stats.delivered === all.length ? true : undefined),
      { what: "every delivery" },
    );
    const written = [...statements];
    const events = await deliveredEvents();
    expect(
      events
        .map((event) => ({
          type: event.type,
          key: event.key,
          correlationId: event.correlationId,
          data: event.data,
        }))
        .sort((a, b) =>
          a.data.notificationId.localeCompare(b.data.notificationId),
        ),
    ).toEqual(
      all
        .map((job) => ({
          type: "notifications.notification.delivered",
          key: job.userId,
          correlationId: job.correlationId,
          data: { notificationId: job.notificationId, userId: job.userId },
        }))
        .sort((a, b) =>
          a.data.notificationId.localeCompare(b.data.notificationId),
        ),
    );
    // No statement of its own: the outbox rows join the DELIVERED records' statements.
    expect(
      written.filter((text) => text.includes("notifications.outbox")),
    ).toEqual(written.filter((text) => text.includes("status = 'DELIVERED',")));
  });

  it("sends two copies of one notification in flight together once", async () => {
    let sends = 0;
    const running = await start(async () => {
      sends += 1;
    });
    const job = jobFor("u-a", 1);
    await Promise.all([publish(job), publish(job)]);
    await waitFor(
      () =>
        running.stats.delivered + running.stats.skipped === 2
          ? true
          : undefined,
      { what: "both copies settled" },
    );
    expect(sends).toBe(1);
    expect(await statusOf(job.notificationId)).toMatchObject({
      status: "DELIVERED",
    });
    // Delivered once, so one delivered event (the skipped copy changed no record).
    expect(await deliveredEvents()).toHaveLength(1);
  });

  it("sends the earlier of two copies in one lane at once when the later copy's claim statement would overtake its own", async () => {
    // A worker that crashed after RabbitMQ confirmed a job publishes it again on restart: both
    // copies reach one dispatcher, in one recipient's lane, often in separate claim batches whose
    // statements run on separate connections. Here the earlier copy's claim statement is held back
    // until the later copy had every chance to claim first.
    const job = jobFor("u-a", 1);
    let holding: (() => void) | undefined;
    const held = new Promise<void>((resolve) => (holding = resolve));
    let releaseFirst: () => void = () => undefined;
    const laterClaims: Array<Promise<unknown>> = [];
    let claimsOfJob = 0;
    const racing: Database = {
      ...db,
      async query<Row>(text: string, params?: readonly unknown[]) {
        const claim =
          text.includes("'SENDING'") &&
          Array.isArray(params?.[0]) &&
          params[0].includes(job.notificationId);
        if (!claim) return db.query<Row>(text, params);
        claimsOfJob += 1;
        if (claimsOfJob === 1) {
          await new Promise<void>((resolve) => {
            releaseFirst = resolve;
            holding?.();
          });
          return db.query<Row>(text, params);
        }
        const result = db.query<Row>(text, params);
        laterClaims.push(result);
        return result;
      },
    };
    let sends = 0;
    const running = await start(
      async () => {
        sends += 1;
      },
      { database: racing, claimSeconds: 60 },
    );
    const copy = (id: string) => ({
      id,
      queue: "test.email",
      attempt: 1,
      payload: job,
      headers: {},
    });
    const first = running.handle(copy("first"));
    await held;
    const second = running.handle(copy("second"));
    // Claims are batched on the next tick: a claim the later copy makes is issued before this.
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all(laterClaims);
    releaseFirst();
    // Without the fix the earlier copy waits for the later copy's claim to lapse (60 s), and the
    // later copy waits for the earlier one's turn.
    await waitFor(
      () =>
        running.stats.delivered + running.stats.skipped === 2
          ? true
          : undefined,
      { what: "both copies settled", timeoutMs: 10_000 },
    );
    await Promise.all([first, second]);
    expect(sends).toBe(1);
    expect(running.stats).toMatchObject({ delivered: 1, skipped: 1 });
    expect(await statusOf(job.notificationId)).toMatchObject({
      status: "DELIVERED",
    });
  });

  it("holds jobs while the SMTP server is unavailable instead of walking them into the DLQ, then delivers each once", async () => {
    let smtpDown = true;
    let refused = 0;
    const sent: string[] = [];
    const running = await start(async (job) => {
      if (smtpDown) {
        refused += 1;
        throw new DownstreamUnavailableError(
          "smtp",
          "smtp unavailable: connect ECONNREFUSED",
        );
      }
      sent.push(job.notificationId);
    });
    for (let n = 0; n < 3; n += 1) await publish(jobFor("u-a", n));
    await expectHeldThenDelivered(running, {
      refused: () => refused,
      unavailable: "smtp",
      recover: () => void (smtpDown = false),
      delivered: 3,
    });
    expect(sent).toEqual(["u-a-0:email", "u-a-1:email", "u-a-2:email"]);
    expect(running.unavailable).toEqual([]);
    expect(await statusOf("u-a-0:email")).toMatchObject({
      status: "DELIVERED",
      attempts: 1,
    });
    expect(await jobs.depth(deadLetterQueueOf("test.email"))).toBe(0);
  });

  it("holds jobs while PostgreSQL is unavailable, then delivers each once", async () => {
    let databaseDown = true;
    let refused = 0;
    const flaky: Database = {
      ...db,
      async query(text, params) {
        if (databaseDown) {
          refused += 1;
          throw new InfrastructureError(
            "database unavailable: connect ECONNREFUSED",
            { retriable: true },
          );
        }
        return db.query(text, params);
      },
    };
    const sent: string[] = [];
    const running = await start(
      async (job) => void sent.push(job.notificationId),
      { database: flaky },
    );
    await publish(jobFor("u-b", 0));
    await expectHeldThenDelivered(running, {
      refused: () => refused,
      unavailable: "database",
      recover: () => void (databaseDown = false),
      delivered: 1,
    });
    expect(sent).toEqual(["u-b-0:email"]);
    expect(await jobs.depth(deadLetterQueueOf("test.email"))).toBe(0);
  });

  it("never sends a job while another copy holds its claim: waits in place, keeping the recipient’s order, and sends once the claim lapsed", async () => {
    let smtpDown = true;
    const sent: string[] = [];
    await start(
      async (job) => {
        if (smtpDown && job.notificationId === "u-a-0:email")
          throw new DownstreamUnavailableError("smtp", "smtp unavailable");
        sent.push(job.notificationId);
      },
      { claimSeconds: 1 },
    );
    await publish(jobFor("u-a", 0));
    await publish(jobFor("u-a", 1));
    // u-a-1 is claimed while it waits for u-a-0; its one-second claim lapses during the outage.
    await waitFor(
      async () =>
        (
          await db.query(
            "SELECT 1 FROM notifications.deliveries WHERE notification_id = 'u-a-1:email' AND status = 'SENDING' AND claimed_until < now()",
          )
        ).length > 0
          ? true
          : undefined,
      { what: "the lapsed claim" },
    );
    // A copy redelivered to another dispatcher claims it now.
    await db.query(
      "UPDATE notifications.deliveries SET claimed_until = now() + interval '60 seconds' WHERE notification_id = 'u-a-1:email'",
    );
    await publish(jobFor("u-a", 2));
    smtpDown = false;
    // u-a-1 waits in place while the other copy's claim is live: never sent meanwhile, and u-a-2
    // waits behind it (through the retry tiers it would come back after u-a-2).
    await waitFor(() => (sent.includes("u-a-0:email") ? true : undefined), {
      what: "u-a-0 after the outage",
    });
    await waitFor(
      async () =>
        (
          await db.query(
            "SELECT 1 FROM notifications.deliveries WHERE notification_id = 'u-a-1:email' AND status = 'SENDING'",
          )
        ).length > 0
          ? true
          : undefined,
      { what: "the other copy still holding u-a-1" },
    );
    expect(sent).toEqual(["u-a-0:email"]);
    // The other copy's claim lapses (its dispatcher died): u-a-1 is sent, then u-a-2, each once.
    await db.query(
      "UPDATE notifications.deliveries SET claimed_until = now() - interval '1 second' WHERE notification_id = 'u-a-1:email'",
    );
    await waitFor(() => (sent.length === 3 ? true : undefined), {
      what: "u-a-1 and u-a-2 after the lapse",
    });
    expect(sent).toEqual(["u-a-0:email", "u-a-1:email", "u-a-2:email"]);
    expect(await jobs.depth(deadLetterQueueOf("test.email"))).toBe(0);
  });

  it("puts a held job back on its queue unchanged when it stops", async () => {
    let attempts = 0;
    const running = await start(async () => {
      attempts += 1;
      throw new DownstreamUnavailableError("smtp", "smtp unavailable");
    });
    await publish(jobFor("u-c", 0));
    await waitFor(() => (attempts >= 2 ? true : undefined), {
      what: "the hold",
    });
    await running.stop();
    dispatcher = undefined;
    expect(await jobs.depth("test.email")).toBe(1);
    expect(await jobs.depth(deadLetterQueueOf("test.email"))).toBe(0);
  });

  it("dead-letters an invalid job after one attempt", async () => {
    const running = await start(async () => undefined);
    await jobs.publish("test.email", {
      id: "bad",
      payload: { notificationId: "bad" },
    });
    await waitFor(
      async () =>
        (await jobs.depth(deadLetterQueueOf("test.email"))) === 1
          ? true
          : undefined,
      { what: "the dead letter" },
    );
    expect(running.stats.delivered).toBe(0);
  });
});
