import { describe, expect, it } from "vitest";
import {
  buildEnvelope,
  DOMAIN_EVENT_TOPICS,
  EVENT_TOPICS,
  InvalidEnvelopeError,
  parseEnvelope,
  topicFor,
} from "../../../events/envelope.ts";

describe("the event envelope, checked the same way by producer and consumer", () => {
  const good = { type: "orders.order.placed", key: "user-1", data: {} };

  it("builds an envelope the consumer accepts as it is", () => {
    const envelope = buildEnvelope(good, new Date("2026-01-01T00:00:00Z"));
    expect(parseEnvelope(JSON.stringify(envelope))).toEqual(envelope);
    expect(envelope).toMatchObject({ version: 1, traceparent: null });
    expect(envelope.correlationId).toBe(envelope.eventId);
  });

  it.each([
    ["field type", { ...good, type: "OrderPlaced" }],
    ["field key", { ...good, key: "" }],
    ["field version", { ...good, version: 0 }],
    ["field traceparent", { ...good, traceparent: "00-abc" }],
    ["field data", { ...good, data: [] }],
  ])("refuses to produce an event with a bad %s", (problem, event) => {
    expect(() => buildEnvelope(event)).toThrow(InvalidEnvelopeError);
    expect(() => buildEnvelope(event)).toThrow(problem);
  });

  it("sends each event to its producing domain's topic, one of EVENT_TOPICS", () => {
    const topic = topicFor({ type: "payments.payment.captured" });
    expect(topic).toBe("switchyard.payments");
    expect(EVENT_TOPICS).toContain(topic);
    expect(EVENT_TOPICS).toEqual([
      "switchyard.orders",
      "switchyard.payments",
      "switchyard.products",
      "switchyard.notifications",
    ]);
  });

  it("keeps the pipeline's own deliveries out of the topics the worker and analytics follow", () => {
    expect(topicFor({ type: "notifications.notification.delivered" })).toBe(
      "switchyard.notifications",
    );
    expect(DOMAIN_EVENT_TOPICS).toEqual([
      "switchyard.orders",
      "switchyard.payments",
      "switchyard.products",
    ]);
  });
});
