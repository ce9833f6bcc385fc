import type { Sql } from "../platform/database.ts";
import type { PublishingSubgraph } from "../platform/services.ts";
import { validateEventData } from "./contracts.ts";
import {
  buildEnvelope,
  topicFor,
  type EventEnvelope,
  type NewEvent,
} from "./envelope.ts";

/**
 * How services write their events: the data is checked against its contract (events/contracts.ts)
 * before it joins the caller's transaction, so a malformed event fails the state change that would
 * have produced it instead of reaching every consumer.
 */
export async function appendEvent<Data>(
  tx: Sql,
  schema: PublishingSubgraph,
  event: NewEvent<Data>,
): Promise<EventEnvelope<Data>> {
  validateEventData(event.type, event.version ?? 1, event.data);
  return appendToOutbox(tx, schema, event);
}

/**
 * Writes an event into `<schema>.outbox` inside the caller's transaction, checking only its
 * envelope (tests and benchmarks write event types no contract registers): the event exists if
 * and only if the state change that caused it committed. The relay publishes rows in `seq` order.
 */
export async function appendToOutbox<Data>(
  tx: Sql,
  schema: PublishingSubgraph,
  event: NewEvent<Data>,
): Promise<EventEnvelope<Data>> {
  const envelope = buildEnvelope(event);
  await tx.query(
    `INSERT INTO ${schema}.outbox (event_id, topic, event_key, type, envelope) VALUES ($1, $2, $3, $4, $5)`,
    [
      envelope.eventId,
      topicFor(envelope),
      envelope.key,
      envelope.type,
      JSON.stringify(envelope),
    ],
  );
  return envelope;
}
