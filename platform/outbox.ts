import { randomUUID } from "node:crypto";
import { currentCorrelationId } from "./correlation.ts";
import type { Sql } from "./database.ts";
import { currentTraceparent } from "./tracing.ts";

/**
 * The envelope every event travels in (ARCHITECTURE.md): validated here when produced and again by
 * consumers. `key` is the customer's user id for every event about a customer, so one user's events
 * stay in order on one Kafka partition; the aggregate id otherwise.
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

const EVENT_TYPE = /^[a-z]+\.[a-z]+\.[a-z][a-zA-Z]*$/;
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export class InvalidEventError extends Error {}

export function buildEnvelope<Data>(
  event: NewEvent<Data>,
  now = new Date(),
): EventEnvelope<Data> {
  if (!EVENT_TYPE.test(event.type))
    throw new InvalidEventError(
      `event type must look like domain.entity.pastTenseVerb, got ${event.type}`,
    );
  if (!event.key) throw new InvalidEventError(`event ${event.type} has no key`);
  const version = event.version ?? 1;
  if (!Number.isInteger(version) || version < 1)
    throw new InvalidEventError(
      `event ${event.type} has an invalid version ${version}`,
    );
  if (event.traceparent && !TRACEPARENT.test(event.traceparent))
    throw new InvalidEventError(
      `event ${event.type} has a malformed traceparent`,
    );
  const eventId = randomUUID();
  return {
    eventId,
    type: event.type,
    version,
    occurredAt: now.toISOString(),
    key: event.key,
    correlationId: currentCorrelationId() ?? event.correlationId ?? eventId,
    traceparent: event.traceparent ?? currentTraceparent() ?? null,
    data: event.data,
  };
}

/** An event's outbox row: the values of `OUTBOX_COLUMNS`, in order. */
export function outboxValues<Data>(envelope: EventEnvelope<Data>): unknown[] {
  return [
    envelope.eventId,
    `switchyard.${envelope.type.split(".")[0]}`,
    envelope.key,
    envelope.type,
    JSON.stringify(envelope),
  ];
}

/**
 * Writes an event into `<schema>.outbox` inside the caller's transaction: the event exists if and
 * only if the state change that caused it committed. The relay publishes rows in `seq` order.
 */
export async function appendToOutbox<Data>(
  tx: Sql,
  schema: "users" | "products" | "orders" | "payments",
  event: NewEvent<Data>,
): Promise<EventEnvelope<Data>> {
  const envelope = buildEnvelope(event);
  await tx.query(
    `INSERT INTO ${schema}.outbox (event_id, topic, event_key, type, envelope) VALUES ($1, $2, $3, $4, $5)`,
    outboxValues(envelope),
  );
  return envelope;
}

/**
 * One statement that makes a change (an `INSERT`/`UPDATE ... RETURNING`, its parameters `$1..$n`)
 * and writes `event` to `<schema>.outbox` only if the change returned a row; answers the change's
 * rows. A single statement is atomic on its own, so this keeps the outbox guarantee (the event
 * exists if and only if the change committed) without a transaction: one round trip instead of
 * four (BEGIN, change, insert, COMMIT).
 */
export async function changeWithOutbox<Row, Data>(
  tx: Sql,
  schema: "users" | "products" | "orders" | "payments",
  change: {
    text: string;
    params: readonly unknown[];
    /** Further data-modifying CTEs (`name AS (...)`, comma-separated) that may read `change`. */
    also?: string;
  },
  event: NewEvent<Data>,
): Promise<Row[]> {
  const envelope = buildEnvelope(event);
  const n = change.params.length;
  return tx.query<Row>(
    `WITH change AS (${change.text}),${change.also ? ` ${change.also},` : ""}
          event AS (INSERT INTO ${schema}.outbox (event_id, topic, event_key, type, envelope)
                    SELECT $${n + 1}::uuid, $${n + 2}::text, $${n + 3}::text, $${n + 4}::text, $${n + 5}::jsonb
                     WHERE EXISTS (SELECT 1 FROM change))
     SELECT * FROM change`,
    [...change.params, ...outboxValues(envelope)],
  );
}
