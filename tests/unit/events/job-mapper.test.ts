import { describe, expect, it } from "vitest";
import {
  parseEnvelope,
  InvalidEnvelopeError,
} from "../../../events/envelope.ts";
import { mapEventToJobs } from "../../../events/job-mapper.ts";
import { parseNotificationJob } from "../../../events/notification-job.ts";
import { buildEnvelope } from "../../../events/envelope.ts";

const event = (type: string, data: Record<string, unknown>) =>
  buildEnvelope({
    type,
    key: "user-1",
    correlationId: "order-1",
    data: { userId: "user-1", orderId: "abcdef12-0000", ...data },
  });

describe("the event to notification job mapper", () => {
  it.each([
    [
      "orders.order.confirmed",
      { total: 2900, currency: "USD" },
      ["email"],
      /confirmed/,
    ],
    [
      "orders.order.failed",
      { reason: "INSUFFICIENT_STOCK" },
      ["email"],
      /could not be placed/,
    ],
    ["orders.order.cancelled", {}, ["email"], /cancelled/],
    [
      "payments.payment.declined",
      { amount: 1999, currency: "EUR" },
      ["email", "sms"],
      /did not go through/,
    ],
    [
      "payments.payment.failed",
      { amount: 5, currency: "EUR" },
      ["email", "sms"],
      /did not go through/,
    ],
    [
      "payments.payment.refunded",
      { amount: 1000, currency: "USD" },
      ["email"],
      /Refund/,
    ],
  ])("maps %s to %j", (type, data, channels, subject) => {
    const envelope = event(type, data);
    const jobs = mapEventToJobs(envelope);
    expect(jobs.map((job) => job.channel)).toEqual(channels);
    for (const job of jobs) {
      expect(job).toMatchObject({
        notificationId: `${envelope.eventId}:${job.channel}`,
        userId: "user-1",
        eventId: envelope.eventId,
        eventType: type,
        correlationId: "order-1",
      });
      expect(job.subject).toMatch(subject);
      expect(parseNotificationJob(JSON.parse(JSON.stringify(job)))).toEqual(
        job,
      );
    }
  });

  it("formats minor units as money in the message body", () => {
    expect(
      mapEventToJobs(
        event("orders.order.confirmed", { total: 2905, currency: "USD" }),
      )[0]!.body,
    ).toContain("29.05 USD");
    expect(
      mapEventToJobs(
        event("payments.payment.declined", { amount: 7, currency: "EUR" }),
      )[1]!.body,
    ).toContain("0.07 EUR");
  });

  it.each([
    "orders.order.placed",
    "payments.payment.captured",
    "products.stock.reserved",
    "products.stock.released",
    "users.user.registered",
  ])("tells the customer nothing about %s", (type) => {
    expect(mapEventToJobs(event(type, {}))).toEqual([]);
  });

  it("is deterministic: the same event always yields the same jobs (redelivery makes no new notification ids)", () => {
    const envelope = event("payments.payment.failed", {
      amount: 100,
      currency: "USD",
    });
    expect(mapEventToJobs(envelope)).toEqual(
      mapEventToJobs(structuredClone(envelope)),
    );
  });
});

describe("envelope validation at consume time", () => {
  it("accepts what the outbox writes", () => {
    const envelope = event("orders.order.confirmed", {});
    expect(parseEnvelope(JSON.stringify(envelope))).toEqual(envelope);
  });

  /** A valid envelope with `fields` overwritten, as the consumer reads it. */
  const withFields = (fields: Record<string, unknown>) =>
    JSON.stringify({ ...event("orders.order.confirmed", {}), ...fields });
  it.each([
    ["not JSON", "{nope"],
    ["field eventId", withFields({ eventId: "x" })],
    ["field type", withFields({ type: "Orders.Confirmed" })],
    ["field key", withFields({ key: "" })],
    ["field traceparent", withFields({ traceparent: "abc" })],
    ["field data", withFields({ data: [] })],
  ])("rejects an envelope with a bad %s", (problem, raw) => {
    expect(() => parseEnvelope(raw)).toThrow(InvalidEnvelopeError);
    expect(() => parseEnvelope(raw)).toThrow(problem);
  });
});
