import type { EventEnvelope } from "../platform/outbox.ts";

export type { EventEnvelope };

/** Topics the relay publishes to: one per publishing domain (`switchyard.<domain>`). */
export const EVENT_TOPICS = [
  "switchyard.orders",
  "switchyard.payments",
  "switchyard.products",
] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EVENT_TYPE = /^[a-z]+\.[a-z]+\.[a-z][a-zA-Z]*$/;
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export class InvalidEnvelopeError extends Error {
  readonly retriable = false;
  constructor(problem: string) {
    super(`invalid event envelope: ${problem}`);
    this.name = "InvalidEnvelopeError";
  }
}

/**
 * Validates an envelope at consume time (the producer validated it too, but a consumer must not
 * trust bytes from a topic). Throws InvalidEnvelopeError naming the first bad field.
 */
export function parseEnvelope(raw: string): EventEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new InvalidEnvelopeError("not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new InvalidEnvelopeError("not an object");
  const envelope = value as Record<string, unknown>;
  const check = (field: string, ok: boolean) => {
    if (!ok) throw new InvalidEnvelopeError(`field ${field}`);
  };
  check(
    "eventId",
    typeof envelope.eventId === "string" && UUID.test(envelope.eventId),
  );
  check(
    "type",
    typeof envelope.type === "string" && EVENT_TYPE.test(envelope.type),
  );
  check(
    "version",
    Number.isInteger(envelope.version) && (envelope.version as number) >= 1,
  );
  check(
    "occurredAt",
    typeof envelope.occurredAt === "string" &&
      !Number.isNaN(Date.parse(envelope.occurredAt)),
  );
  check("key", typeof envelope.key === "string" && envelope.key.length > 0);
  check(
    "correlationId",
    typeof envelope.correlationId === "string" &&
      envelope.correlationId.length > 0,
  );
  check(
    "traceparent",
    envelope.traceparent === null ||
      (typeof envelope.traceparent === "string" &&
        TRACEPARENT.test(envelope.traceparent)),
  );
  check(
    "data",
    typeof envelope.data === "object" &&
      envelope.data !== null &&
      !Array.isArray(envelope.data),
  );
  return envelope as unknown as EventEnvelope;
}

/** Kafka headers the relay sets, so consumers and tracing can route without parsing the value. */
export function headersFor(envelope: EventEnvelope): Record<string, string> {
  return {
    eventId: envelope.eventId,
    eventType: envelope.type,
    correlationId: envelope.correlationId,
    ...(envelope.traceparent ? { traceparent: envelope.traceparent } : {}),
  };
}
