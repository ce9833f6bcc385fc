import { describe, expect, it } from "vitest";
import {
  contributionOf,
  createAnalyticsConsumer,
  prepareAnalyticsDatabase,
} from "../../../events/analytics-consumer.ts";
import { createMemoryEventLog } from "../../../events/event-log.ts";
import type { Database } from "../../../platform/database.ts";
import { buildEnvelope } from "../../../events/envelope.ts";
import { waitFor } from "../../support/wait.ts";
import { silentLogger } from "../../support/logger.ts";
import { pgliteBackend, withServiceDatabase } from "../../support/storage.ts";

const at = (iso: string) => new Date(iso);
const confirmed = (
  user: string,
  total: number,
  when: string,
  currency = "USD",
) =>
  buildEnvelope(
    {
      type: "orders.order.confirmed",
      key: user,
      data: { orderId: `${user}-${when}`, userId: user, total, currency },
    },
    at(when),
  );

describe("analytics contributions", () => {
  it("counts a confirmed order and its total in the hour it happened", () => {
    expect(
      contributionOf(confirmed("u", 2900, "2026-11-24T13:59:59.999Z")),
    ).toEqual({
      hour: "2026-11-24T13:00:00.000Z",
      currency: "USD",
      orders: 1,
      revenueMinor: 2900,
      refunds: 0,
      refundedMinor: 0,
    });
  });

  it("counts a refund apart from revenue, and ignores events that are not sales", () => {
    const refund = buildEnvelope(
      {
        type: "payments.payment.refunded",
        key: "u",
        data: { amount: 500, currency: "EUR" },
      },
      at("2026-11-24T14:00:00Z"),
    );
    expect(contributionOf(refund)).toMatchObject({
      hour: "2026-11-24T14:00:00.000Z",
      currency: "EUR",
      orders: 0,
      refunds: 1,
      refundedMinor: 500,
    });
    expect(
      contributionOf(
        buildEnvelope({
          type: "orders.order.placed",
          key: "u",
          data: { total: 1 },
        }),
      ),
    ).toBeUndefined();
  });
});

describe("the analytics consumer group", () => {
  let db: Database;
  withServiceDatabase(
    pgliteBackend,
    "analytics",
    prepareAnalyticsDatabase,
    (analytics) => (db = analytics),
  );

  it("keeps orders and revenue per hour and currency, counting a redelivered event once", async () => {
    const log = createMemoryEventLog({ logger: silentLogger });
    const events = [
      confirmed("a", 1000, "2026-11-24T10:05:00Z"),
      confirmed("b", 2500, "2026-11-24T10:55:00Z"),
      confirmed("a", 700, "2026-11-24T11:01:00Z"),
      confirmed("c", 300, "2026-11-24T10:30:00Z", "EUR"),
    ];
    const refund = buildEnvelope(
      {
        type: "payments.payment.refunded",
        key: "a",
        data: {
          paymentId: "pay-a",
          orderId: "a-order",
          userId: "a",
          amount: 1000,
          currency: "USD",
        },
      },
      at("2026-11-24T11:30:00Z"),
    );
    await log.publish(
      "switchyard.orders",
      [...events, events[1]!].map((event) => ({
        key: event.key,
        value: JSON.stringify(event),
      })),
    );
    await log.publish("switchyard.payments", [
      { key: "a", value: JSON.stringify(refund) },
      { key: "a", value: "garbage" },
    ]);
    const analytics = createAnalyticsConsumer({
      eventLog: log,
      db,
      logger: silentLogger,
      topics: ["switchyard.orders", "switchyard.payments"],
    });
    await analytics.start();
    await waitFor(
      () =>
        analytics.stats.counted +
          analytics.stats.duplicates +
          analytics.stats.rejected ===
        7
          ? true
          : undefined,
      { what: "every event" },
    );
    await analytics.stop();
    await log.close();

    expect(analytics.stats).toEqual({
      counted: 5,
      ignored: 0,
      duplicates: 1,
      rejected: 1,
    });
    const rows = await db.query<{
      hour: Date;
      currency: string;
      orders: number;
      revenue_minor: number | string;
      refunds: number;
      refunded_minor: number | string;
    }>("SELECT * FROM analytics.hourly ORDER BY hour, currency");
    expect(
      rows.map((row) => [
        row.hour.toISOString(),
        row.currency,
        row.orders,
        Number(row.revenue_minor),
        row.refunds,
        Number(row.refunded_minor),
      ]),
    ).toEqual([
      ["2026-11-24T10:00:00.000Z", "EUR", 1, 300, 0, 0],
      ["2026-11-24T10:00:00.000Z", "USD", 2, 3500, 0, 0],
      ["2026-11-24T11:00:00.000Z", "USD", 1, 700, 1, 1000],
    ]);
  });
});
