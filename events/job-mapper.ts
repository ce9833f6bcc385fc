import type { EventEnvelope } from "./envelope.ts";
import type { Channel, NotificationJob } from "./notification-job.ts";

interface Message {
  channel: Channel;
  subject: string;
  body: string;
}

function money(minor: unknown, currency: unknown): string {
  if (typeof minor !== "number" || !Number.isInteger(minor))
    return "your order total";
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}${typeof currency === "string" ? ` ${currency}` : ""}`;
}

const ref = (id: unknown) =>
  typeof id === "string" ? id.slice(0, 8) : "your order";

/**
 * What the customer is told about each event, and on which channels. Events a customer need not
 * hear about (a placed order is followed by confirmed or failed; stock moves are internal) map to
 * nothing. Pure: no I/O, no clock, so it is tested by table.
 */
function messagesFor(event: EventEnvelope): Message[] {
  const data = event.data;
  switch (event.type) {
    case "orders.order.confirmed":
      return [
        {
          channel: "email",
          subject: `Order ${ref(data.orderId)} confirmed`,
          body: `Thank you! Your order ${String(data.orderId)} for ${money(data.total, data.currency)} is confirmed.`,
        },
      ];
    case "orders.order.failed":
      return [
        {
          channel: "email",
          subject: `Order ${ref(data.orderId)} could not be placed`,
          body: `We could not place your order ${String(data.orderId)} (${String(data.reason ?? "unknown reason")}). Nothing was charged.`,
        },
      ];
    case "orders.order.cancelled":
      return [
        {
          channel: "email",
          subject: `Order ${ref(data.orderId)} cancelled`,
          body: `Your order ${String(data.orderId)} was cancelled.`,
        },
      ];
    case "payments.payment.declined":
    case "payments.payment.failed": {
      const subject = `Payment for order ${ref(data.orderId)} did not go through`;
      return [
        {
          channel: "email",
          subject,
          body: `Your payment of ${money(data.amount, data.currency)} for order ${String(data.orderId)} did not go through. Please try another card.`,
        },
        {
          channel: "sms",
          subject,
          body: `Switchyard: payment of ${money(data.amount, data.currency)} for order ${ref(data.orderId)} did not go through.`,
        },
      ];
    }
    case "payments.payment.refunded":
      return [
        {
          channel: "email",
          subject: `Refund for order ${ref(data.orderId)}`,
          body: `We refunded ${money(data.amount, data.currency)} for order ${String(data.orderId)}.`,
        },
      ];
    default:
      return [];
  }
}

/** The notification jobs one event produces, each with a deterministic id (`eventId:channel`). */
export function mapEventToJobs(event: EventEnvelope): NotificationJob[] {
  const userId =
    typeof event.data.userId === "string" ? event.data.userId : event.key;
  return messagesFor(event).map((message) => ({
    notificationId: `${event.eventId}:${message.channel}`,
    channel: message.channel,
    userId,
    eventId: event.eventId,
    eventType: event.type,
    correlationId: event.correlationId,
    traceparent: event.traceparent,
    subject: message.subject,
    body: message.body,
  }));
}
