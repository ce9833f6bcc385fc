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
    outboxValues(envelope),
  );
  return envelope;
}

/** An event's outbox row: the values of the outbox insert's columns, in order. */
function outboxValues<Data>(envelope: EventEnvelope<Data>): unknown[] {
  return [
    envelope.eventId,
    topicFor(envelope),
    envelope.key,
    envelope.type,
    JSON.stringify(envelope),
  ];
}

/**
 * A change and its event in one statement: the data is checked against its contract first, as
 * `appendEvent` does. The change (an `INSERT`/`UPDATE ... RETURNING`, its parameters `$1..$n`) runs
 * and `event` is written to `<schema>.outbox` only if the change returned a row; answers the
 * change's rows. A single statement is atomic on its own, so this keeps the outbox guarantee (the
 * event exists if and only if the change committed) without a transaction: one round trip instead
 * of four (BEGIN, change, insert, COMMIT).
 */
export async function changeWithEvent<Row, Data>(
  tx: Sql,
  schema: PublishingSubgraph,
  change: {
    text: string;
    params: readonly unknown[];
    /** Further data-modifying CTEs (`name AS (...)`, comma-separated) that may read `change`. */
    also?: string;
  },
  event: NewEvent<Data>,
): Promise<Row[]> {
  validateEventData(event.type, event.version ?? 1, event.data);
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
