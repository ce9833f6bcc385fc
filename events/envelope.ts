import { randomUUID } from "node:crypto";
import { currentCorrelationId } from "../platform/correlation.ts";
import {
  PUBLISHING_SUBGRAPHS,
  type PublishingSubgraph,
} from "../platform/services.ts";
import { currentTraceparent } from "../platform/tracing.ts";

/**
 * The envelope every event travels in (ARCHITECTURE.md), owned by this module alone: its shape,
 * the one check both ends run (the producer before writing the outbox row, every consumer on the
 * bytes it reads), the topic each event goes to, and the Kafka headers the relay sets. `key` is the
 * customer's user id for every event about a customer, so one user's events stay in order on one
 * Kafka partition; the aggregate id otherwise.
 */
export interface EventEnvelope<Data = Record<string, unknown>> {
  eventId: string;
  type: string;
  version: number;
  occurredAt: string;
  key: string;
  correlationId: string;
  traceparent: string | null;
  data: Data;
}

export interface NewEvent<Data = Record<string, unknown>> {
  type: string;
  version?: number;
  key: string;
  data: Data;
  /**
   * Used only when the event is written outside any request or message (a sweeper, a saga resumed
   * after a restart): inside one, the envelope carries that request's correlation id.
   * @default the event id
   */
  correlationId?: string | undefined;
  /** @default the active span's traceparent, when tracing records one */
  traceparent?: string | undefined;
}

/** The topic of each publishing subgraph's events: `switchyard.<subgraph>`. */
export const topicOf = (domain: PublishingSubgraph) =>
  `switchyard.${domain}` as const;

/** Topics the relay publishes to: one per publishing subgraph (platform/services.ts). */
export const EVENT_TOPICS = PUBLISHING_SUBGRAPHS.map(topicOf);

/**
 * The business domains' topics: every topic but the pipeline's own `switchyard.notifications`
 * (deliveries, which the router's live updates follow). The worker and analytics follow these: a
 * delivery never causes another notification, and the worker must not consume its own output.
 */
export const DOMAIN_EVENT_TOPICS = EVENT_TOPICS.filter(
  (topic) => topic !== topicOf("notifications"),
);

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

/** Throws InvalidEnvelopeError naming the first bad field; the one check of both ends. */
function checkEnvelope(value: unknown): asserts value is EventEnvelope {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new InvalidEnvelopeError("not an object");
  const envelope = value as Record<string, unknown>;
  const check = (field: string, ok: boolean, expected = "") => {
    if (!ok) throw new InvalidEnvelopeError(`field ${field}${expected}`);
  };
  check(
    "eventId",
    typeof envelope.eventId === "string" && UUID.test(envelope.eventId),
  );
  check(
    "type",
    typeof envelope.type === "string" && EVENT_TYPE.test(envelope.type),
    ` (domain.entity.pastTenseVerb, got ${String(envelope.type)})`,
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
}

/**
 * Wraps a new event in its envelope and checks it, so a malformed one fails the producer's
 * transaction instead of reaching every consumer.
 */
export function buildEnvelope<Data>(
  event: NewEvent<Data>,
  now = new Date(),
): EventEnvelope<Data> {
  const eventId = randomUUID();
  const envelope: EventEnvelope<Data> = {
    eventId,
    type: event.type,
    version: event.version ?? 1,
    occurredAt: now.toISOString(),
    key: event.key,
    correlationId: currentCorrelationId() ?? event.correlationId ?? eventId,
    traceparent: event.traceparent || currentTraceparent() || null,
    data: event.data,
  };
  checkEnvelope(envelope);
  return envelope;
}

/**
 * Validates an envelope at consume time (the producer checked it too, but a consumer must not
 * trust bytes from a topic). Throws InvalidEnvelopeError naming the first bad field.
 */
export function parseEnvelope(raw: string): EventEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new InvalidEnvelopeError("not JSON");
  }
  checkEnvelope(value);
  return value;
}

/** The topic an event is published to, from its type's domain (`orders.order.placed` → `switchyard.orders`). */
export function topicFor(envelope: Pick<EventEnvelope, "type">): string {
  return `switchyard.${envelope.type.split(".")[0]}`;
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
