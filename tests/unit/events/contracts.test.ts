import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  createAnalyticsConsumer,
  prepareAnalyticsDatabase,
} from "../../../events/analytics-consumer.ts";
import {
  EVENT_CONTRACTS,
  EventContractError,
  renderEventDocs,
  validateEventData,
} from "../../../events/contracts.ts";
import {
  createMemoryEventLog,
  type EventLog,
} from "../../../events/event-log.ts";
import { createMemoryJobQueue } from "../../../events/job-queue.ts";
import { createNotificationWorker } from "../../../events/notification-worker.ts";
import { appendEvent } from "../../../events/outbox-writer.ts";
import { prepareNotificationsDatabase } from "../../../events/pipeline.ts";
import { scratchPglite } from "../../support/pglite.ts";
import { buildEnvelope } from "../../../events/envelope.ts";
import { silentLogger } from "../../support/logger.ts";
import { waitFor } from "../../support/wait.ts";

const order = { orderId: "o-1", userId: "u-1", total: 1999, currency: "USD" };

/**
 * Publishes to `topic` an order confirmation whose data breaks its contract (`brokenData`), then a
 * valid one (`order`); returns the valid one.
 */
async function publishBrokenThenValid(
  eventLog: EventLog,
  topic: string,
  brokenData: object,
) {
  const [broken, valid] = [brokenData, order].map((data) =>
    buildEnvelope({ type: "orders.order.confirmed", key: "u", data }),
  );
  await eventLog.publish(
    topic,
    [broken!, valid!].map((envelope) => ({
      key: envelope.key,
      value: JSON.stringify(envelope),
    })),
  );
  return valid!;
}

describe("event contracts", () => {
  it("accept the data each producer writes", () => {
    expect(() =>
      validateEventData("orders.order.confirmed", 1, {
        ...order,
        status: "CONFIRMED",
      }),
    ).not.toThrow();
    expect(() =>
      validateEventData("orders.order.failed", 1, {
        ...order,
        status: "FAILED",
        reason: null,
      }),
    ).not.toThrow();
    expect(() =>
      validateEventData("orders.order.placed", 1, {
        ...order,
        items: [{ productId: "p", quantity: 2, unitPrice: 999 }],
      }),
    ).not.toThrow();
    expect(() =>
      validateEventData("products.stock.released", 1, {
        reservationId: "r",
        userId: null,
        items: [{ productId: "p", quantity: 1 }],
      }),
    ).not.toThrow();
    expect(() =>
      validateEventData("payments.payment.refunded", 1, {
        paymentId: "pay",
        orderId: "o",
        userId: "u",
        amount: 0,
        currency: "EUR",
        reason: "admin",
      }),
    ).not.toThrow();
  });

  it.each([
    [
      "a missing required field",
      "orders.order.confirmed",
      1,
      { orderId: "o", userId: "u", total: 1 },
      "data.currency",
    ],
    [
      "a fractional amount",
      "payments.payment.captured",
      1,
      {
        paymentId: "p",
        orderId: "o",
        userId: "u",
        amount: 19.99,
        currency: "USD",
      },
      "data.amount",
    ],
    [
      "a zero quantity in a list",
      "products.stock.reserved",
      1,
      {
        reservationId: "r",
        userId: "u",
        items: [{ productId: "p", quantity: 0 }],
      },
      "data.items[0].quantity",
    ],
    [
      "a wrong optional type",
      "orders.order.failed",
      1,
      { ...order, reason: 42 },
      "data.reason",
    ],
    ["an unknown type", "orders.order.teleported", 1, order, "no contract"],
    ["an unknown version", "orders.order.confirmed", 2, order, "no contract"],
  ])("reject %s, naming it", (_label, type, version, data, named) => {
    expect(() => validateEventData(type, version, data)).toThrow(
      EventContractError,
    );
    expect(() => validateEventData(type, version, data)).toThrow(named);
  });

  it("stop a malformed event before it reaches the outbox, and so the transaction", async () => {
    const queries: string[] = [];
    const tx = {
      query: async (text: string) => {
        queries.push(text);
        return [];
      },
    } as never;
    await expect(
      appendEvent(tx, "orders", {
        type: "orders.order.confirmed",
        key: "u",
        data: { orderId: "o" },
      }),
    ).rejects.toThrow(EventContractError);
    expect(queries).toEqual([]);
    await appendEvent(tx, "orders", {
      type: "orders.order.confirmed",
      key: "u",
      data: order,
    });
    expect(queries).toHaveLength(1);
  });

  it("are documented in docs/events.md exactly as generated (npm run events:docs)", () => {
    expect(readFileSync("docs/events.md", "utf8")).toBe(renderEventDocs());
    for (const contract of EVENT_CONTRACTS)
      expect(renderEventDocs()).toContain(
        `## \`${contract.type}\` v${contract.version}`,
      );
  });

  it("make the worker park an event whose data breaks its contract, and handle the rest", async () => {
    const storage = await scratchPglite();
    const db = storage.forService("notifications");
    await prepareNotificationsDatabase(db);
    const eventLog = createMemoryEventLog({ logger: silentLogger });
    const published: string[] = [];
    const worker = createNotificationWorker({
      eventLog,
      jobQueue: createMemoryJobQueue({ logger: silentLogger }),
      db,
      logger: silentLogger,
      groupId: "contracts",
      topics: ["contracts"],
      queuePrefix: "contracts",
      onJobsPublished: (jobs) =>
        published.push(...jobs.map((job) => job.eventId)),
    });
    await worker.start();
    try {
      const good = await publishBrokenThenValid(eventLog, "contracts", {
        orderId: "o",
        total: "a lot",
      });
      await waitFor(
        () =>
          worker.stats.handled + worker.stats.rejected >= 2 ? true : undefined,
        { timeoutMs: 10_000, what: "the worker to handle both events" },
      );
      expect(worker.stats).toMatchObject({ handled: 1, rejected: 1 });
      expect(published).toEqual([good.eventId]);
      const [rejected] = await db.query<{ reason: string }>(
        "SELECT reason FROM notifications.rejected_events",
      );
      expect(rejected!.reason).toContain(
        "event contract violated: data.userId",
      );
    } finally {
      await worker.stop();
      await eventLog.close();
      await storage.close();
    }
  });

  it("make the analytics consumer skip an event whose data breaks its contract, and count the rest", async () => {
    const storage = await scratchPglite();
    const db = storage.forService("analytics");
    await prepareAnalyticsDatabase(db);
    const eventLog = createMemoryEventLog({ logger: silentLogger });
    const analytics = createAnalyticsConsumer({
      eventLog,
      db,
      logger: silentLogger,
      groupId: "contracts-analytics",
      topics: ["contracts-analytics"],
    });
    await analytics.start();
    try {
      await publishBrokenThenValid(eventLog, "contracts-analytics", {
        ...order,
        total: -5,
      });
      await waitFor(
        () =>
          analytics.stats.counted + analytics.stats.rejected >= 2
            ? true
            : undefined,
        {
          timeoutMs: 10_000,
          what: "the analytics consumer to take both events",
        },
      );
      expect(analytics.stats).toMatchObject({ counted: 1, rejected: 1 });
      expect(
        await db.query("SELECT orders, revenue_minor FROM analytics.hourly"),
      ).toEqual([{ orders: 1, revenue_minor: 1999 }]);
    } finally {
      await analytics.stop();
      await eventLog.close();
      await storage.close();
    }
  });
});
