import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createLogSender,
  createSmtpEmailSender,
} from "../../../events/channels.ts";
import { createDispatcher } from "../../../events/dispatcher.ts";
import type { Subscription } from "../../../events/event-log.ts";
import {
  deadLetterQueueOf,
  type JobQueue,
  type ReceivedJob,
  type RetryPolicy,
} from "../../../events/job-queue.ts";
import { createKafkaEventLog } from "../../../events/kafka-event-log.ts";
import { createNotificationWorker } from "../../../events/notification-worker.ts";
import {
  CHANNELS,
  queueFor,
  type NotificationJob,
} from "../../../events/notification-job.ts";
import { prepareNotificationsDatabase } from "../../../events/pipeline.ts";
import { createStaticDirectory } from "../../../events/recipients.ts";
import type { Database, Storage } from "../../../platform/database.ts";
import { buildEnvelope } from "../../../events/envelope.ts";
import type { Stack } from "../../../stack.ts";
import {
  deleteQueues,
  KAFKA_BROKERS,
  unique,
  waitFor,
} from "../../support/brokers.ts";
import { newProduct } from "../../support/saga.ts";
import { startSmtpSink } from "../../support/smtp-sink.ts";
import { bootStack, gql, silentLogger } from "../../support/stack.ts";
import { probePipelineServices } from "../../support/pipeline-services.ts";
import { workerScope } from "../../support/notifications.ts";
import { orderConfirmed } from "../../support/order-events.ts";
import {
  declaredQueues,
  openTestJobQueue,
} from "../../support/rabbit-job-queues.ts";
import { PLACE_ORDER } from "../../support/place-order.ts";

const { postgres, unavailable } = await probePipelineServices();
const retry: RetryPolicy = { delaysMs: [100, 300], maxAttempts: 3 };
const FROM = "Switchyard <no-reply@switchyard.test>";

/** Every queue a prefix owns, so the file leaves no quorum queue behind. */
const queuesOf = (prefix: string) =>
  CHANNELS.flatMap((channel) =>
    declaredQueues(queueFor(prefix, channel), retry),
  );

describe.skipIf(unavailable)(
  "the event pipeline on real Kafka, RabbitMQ and PostgreSQL",
  () => {
    let storage: Storage;
    let drop: () => Promise<void>;
    let notifications: Database;
    const prefixes: string[] = [];
    const cleanups: Array<() => Promise<unknown>> = [];
    const newPrefix = () => {
      const prefix = unique("it");
      prefixes.push(prefix);
      return prefix;
    };
    const rabbit = async () => {
      const queue = await openTestJobQueue({ retry });
      cleanups.push(() => queue.close());
      return queue;
    };
    const kafka = (clientId: string) => {
      const log = createKafkaEventLog({
        brokers: KAFKA_BROKERS,
        clientId,
        logger: silentLogger,
      });
      cleanups.push(() => log.close());
      return log;
    };

    beforeAll(async () => {
      ({ storage, drop } = await postgres.open());
      notifications = storage.forService("notifications");
      await prepareNotificationsDatabase(notifications);
    });
    afterAll(async () => {
      for (const cleanup of cleanups.reverse())
        await cleanup().catch(() => undefined);
      await drop?.();
      if (prefixes.length > 0) await deleteQueues(prefixes.flatMap(queuesOf));
    });

    it("a placeOrder through the router delivers exactly one email to the customer, visible in me { notifications } with the request’s correlation id", async () => {
      const sink = await startSmtpSink();
      cleanups.push(() => sink.close());
      const prefix = newPrefix();
      const stack: Stack = await bootStack(storage, {
        payments: { providerTimeoutMs: 50 },
        events: {
          eventLog: kafka("e2e"),
          jobQueue: await rabbit(),
          senders: {
            email: createSmtpEmailSender({ smtpUrl: sink.url, from: FROM }),
            sms: createLogSender({ logger: silentLogger, channel: "sms" }),
            push: createLogSender({ logger: silentLogger, channel: "push" }),
          },
          retry,
          topicPrefix: `${prefix}.`,
          queuePrefix: prefix,
          groupId: prefix,
          relayPollIntervalMs: 50,
        },
      });
      cleanups.push(() => stack.stop());
      const email = `buyer-${randomUUID().slice(0, 8)}@example.test`;
      const signUp = await gql(
        stack.routerUrl,
        "mutation($input: SignUpInput!) { signUp(input: $input) { token user { id } } }",
        { input: { email, name: "Buyer", password: "correct horse battery" } },
      );
      const userId = signUp.data.signUp.user.id as string;
      const bearer = { authorization: `Bearer ${signUp.data.signUp.token}` };
      const product = await newProduct(stack, 5, 1250);

      const requestId = `pipeline-${randomUUID()}`;
      const placed = await gql(
        stack.routerUrl,
        PLACE_ORDER,
        {
          input: {
            items: [{ productId: product, quantity: 2 }],
            idempotencyKey: randomUUID(),
            paymentToken: "tok_visa",
          },
        },
        { ...bearer, "x-request-id": requestId },
      );
      expect(placed.errors).toBeUndefined();
      const order = placed.data.placeOrder as { id: string; status: string };
      expect(order.status).toBe("CONFIRMED");

      const mail = await waitFor(
        () => sink.mails.find((received) => received.to.includes(email)),
        { timeoutMs: 45_000, what: "the confirmation email" },
      );
      // Every event of the order (orders, products, payments) has reached the worker before we count.
      await waitFor(
        async () => {
          const [row] = await notifications.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM notifications.inbox",
          );
          return row!.n >= 4 ? true : undefined;
        },
        { timeoutMs: 30_000, what: "four events in the inbox" },
      );
      // The delivery writes its own event (notifications.notification.delivered) in the statement
      // that records it, so the notifications relay publishes it just after the email: wait for it.
      await waitFor(
        async () => {
          for (const relay of stack.pipeline!.relays)
            if ((await relay.lag()).unpublished !== 0) return undefined;
          return true;
        },
        { timeoutMs: 30_000, what: "every outbox published" },
      );

      expect(
        sink.mails.filter((received) => received.to.includes(email)),
      ).toHaveLength(1);
      expect(mail.subject).toContain("confirmed");
      expect(mail.header("X-Correlation-Id")).toBe(requestId);
      const orderEvents = await stack.subgraphs.orders.db.query<{
        envelope: { correlationId: string };
      }>(
        `SELECT envelope FROM orders.outbox WHERE envelope->'data'->>'orderId' = $1`,
        [order.id],
      );
      expect(orderEvents.map((row) => row.envelope.correlationId)).toEqual([
        requestId,
        requestId,
      ]);
      const deliveries = await notifications.query(
        "SELECT channel, status, event_type, correlation_id, transport FROM notifications.deliveries WHERE user_id = $1",
        [userId],
      );
      expect(deliveries).toEqual([
        {
          channel: "email",
          status: "DELIVERED",
          event_type: "orders.order.confirmed",
          correlation_id: requestId,
          transport: "smtp",
        },
      ]);
      // The analytics group read the same topic on its own offsets and counted the sale.
      const [hour] = await waitFor(
        async () => {
          const rows = await storage
            .forService("analytics")
            .query<{ orders: number; revenue_minor: number }>(
              "SELECT orders, revenue_minor FROM analytics.hourly",
            );
          return rows.length > 0 ? rows : undefined;
        },
        { what: "the hourly analytics row" },
      );
      expect(hour).toEqual({ orders: 1, revenue_minor: 2500 });

      // The customer reads it back through the supergraph, tied to the mutation by its correlation id.
      const mine = await gql(
        stack.routerUrl,
        "{ me { notifications(first: 10) { totalCount edges { node { channel eventType correlationId subject } } } } }",
        {},
        bearer,
      );
      expect(mine.errors).toBeUndefined();
      expect(mine.data.me.notifications.totalCount).toBe(1);
      expect(mine.data.me.notifications.edges[0].node).toMatchObject({
        channel: "EMAIL",
        eventType: "orders.order.confirmed",
        correlationId: requestId,
      });
    });

    it("turns each user’s events into jobs in the order they happened, across partitions and users, once per event id", async () => {
      const prefix = newPrefix();
      const topic = `${prefix}.events`;
      const eventLog = kafka("ordering");
      const jobQueue = await rabbit();
      await eventLog.ensureTopic(topic, { partitions: 3 });
      const published: NotificationJob[] = [];
      const worker = createNotificationWorker({
        eventLog,
        jobQueue,
        db: notifications,
        ...workerScope(prefix, [topic]),
        onJobsPublished: (jobs) => published.push(...jobs),
      });
      await worker.start();
      cleanups.push(() => worker.stop());

      const users = Array.from({ length: 6 }, (_, i) => `user-${i}-${prefix}`);
      const rounds = 8;
      const envelopes = [];
      for (let n = 0; n < rounds; n += 1)
        for (const user of users)
          envelopes.push(
            buildEnvelope(
              orderConfirmed({
                userId: user,
                orderId: `${user}-${n}`,
                total: 100 + n,
                correlationId: `${user}-${n}`,
              }),
            ),
          );
      const duplicate = envelopes[3]!;
      await eventLog.publish(topic, [
        ...envelopes.map((envelope) => ({
          key: envelope.key,
          value: JSON.stringify(envelope),
        })),
        { key: duplicate.key, value: JSON.stringify(duplicate) },
        { key: users[0]!, value: '{"not":"an envelope"}' },
      ]);
      await waitFor(
        () =>
          worker.stats.handled +
            worker.stats.duplicates +
            worker.stats.rejected >=
          envelopes.length + 2
            ? true
            : undefined,
        { timeoutMs: 30_000, what: "every event handled" },
      );

      expect(worker.stats).toMatchObject({
        handled: envelopes.length,
        duplicates: 1,
        rejected: 1,
      });
      for (const user of users)
        expect(
          published
            .filter((job) => job.userId === user)
            .map((job) => job.correlationId),
        ).toEqual(Array.from({ length: rounds }, (_, n) => `${user}-${n}`));
      // The queue holds them in the same per-user order.
      const queued: ReceivedJob[] = [];
      const subscription: Subscription = await jobQueue.consume(
        queueFor(prefix, "email"),
        async (job) => void queued.push(job),
        { prefetch: 1 },
      );
      cleanups.push(() => subscription.stop());
      await waitFor(
        () => (queued.length >= envelopes.length ? true : undefined),
        { what: "the queued jobs" },
      );
      expect(queued).toHaveLength(envelopes.length);
      for (const user of users)
        expect(
          queued
            .filter((job) => (job.payload as NotificationJob).userId === user)
            .map((job) => job.headers.correlationId),
        ).toEqual(Array.from({ length: rounds }, (_, n) => `${user}-${n}`));
      const [rejected] = await notifications.query<{
        topic: string;
        reason: string;
      }>(
        "SELECT topic, reason FROM notifications.rejected_events WHERE topic = $1",
        [topic],
      );
      expect(rejected).toMatchObject({
        topic,
        reason: expect.stringContaining("invalid event envelope"),
      });
    });

    it("sends a poison job to the DLQ after one attempt (it is not retriable) while the other notifications are delivered once each", async () => {
      const prefix = newPrefix();
      const sink = await startSmtpSink();
      cleanups.push(() => sink.close());
      const jobQueue: JobQueue = await rabbit();
      const dispatcher = createDispatcher({
        jobQueue,
        db: notifications,
        logger: silentLogger,
        senders: {
          email: createSmtpEmailSender({ smtpUrl: sink.url, from: FROM }),
          sms: createLogSender({ logger: silentLogger, channel: "sms" }),
          push: createLogSender({ logger: silentLogger, channel: "push" }),
        },
        recipients: createStaticDirectory({
          "poison-user": { email: "poison-user@example.test" },
        }),
        retry,
        queuePrefix: prefix,
      });
      await dispatcher.start();
      cleanups.push(() => dispatcher.stop());
      const queue = queueFor(prefix, "email");
      const dead: ReceivedJob[] = [];
      const dlq = await jobQueue.consume(
        deadLetterQueueOf(queue),
        async (job) => void dead.push(job),
      );
      cleanups.push(() => dlq.stop());

      await jobQueue.publish(queue, {
        id: "poison",
        payload: { channel: "email", subject: 42 },
      });
      const good = [1, 2, 3].map((n) => {
        const envelope = buildEnvelope(
          orderConfirmed({
            userId: "poison-user",
            orderId: `o-${n}`,
            total: n,
          }),
        );
        return {
          id: `${envelope.eventId}:email`,
          payload: {
            notificationId: `${envelope.eventId}:email`,
            channel: "email",
            userId: "poison-user",
            eventId: envelope.eventId,
            eventType: envelope.type,
            correlationId: `o-${n}`,
            traceparent: null,
            subject: `Order o-${n}`,
            body: "hello",
          } satisfies NotificationJob,
        };
      });
      for (const job of good) await jobQueue.publish(queue, job);
      // A redelivered job (same notification id) must not send a second email.
      await jobQueue.publish(queue, good[0]!);

      await waitFor(() => dead[0], {
        timeoutMs: 30_000,
        what: "the dead letter",
      });
      await waitFor(() => (sink.mails.length >= 3 ? true : undefined), {
        what: "three emails",
      });
      await waitFor(
        async () => {
          const rows = await notifications.query(
            `SELECT 1 FROM notifications.deliveries WHERE user_id = 'poison-user' AND status = 'DELIVERED'`,
          );
          return rows.length === 3 ? true : undefined;
        },
        { what: "three delivery records" },
      );
      await waitFor(() => (dispatcher.stats.skipped >= 1 ? true : undefined), {
        what: "the duplicate to be skipped",
      });
      expect(dead).toMatchObject([
        {
          id: "poison",
          attempt: 1,
          headers: {
            "x-last-error": expect.stringContaining("invalid notification job"),
            "x-dead-letter-reason": expect.stringContaining("non-retriable"),
          },
        },
      ]);
      expect(sink.mails.map((mail) => mail.subject).sort()).toEqual([
        "Order o-1",
        "Order o-2",
        "Order o-3",
      ]);
    });
  },
);
