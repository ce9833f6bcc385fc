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
 * An event checked against its contract and wrapped in its envelope now, to be written later by
 * `changeWithEvents`: the envelope takes the correlation id and traceparent of the caller's
 * context at this moment (a batch written later runs in the context of whichever call started it).
 */
export function prepareEvent<Data>(event: NewEvent<Data>): EventEnvelope<Data> {
  validateEventData(event.type, event.version ?? 1, event.data);
  return buildEnvelope(event);
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
    `INSERT INTO ${schema}.outbox ${OUTBOX_COLUMNS} VALUES ($1, $2, $3, $4, $5)`,
    outboxValues(envelope),
  );
  return envelope;
}

/** The outbox insert's columns, in the order of `outboxValues`. */
const OUTBOX_COLUMNS = "(event_id, topic, event_key, type, envelope)";

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
          event AS (INSERT INTO ${schema}.outbox ${OUTBOX_COLUMNS}
                    SELECT $${n + 1}::uuid, $${n + 2}::text, $${n + 3}::text, $${n + 4}::text, $${n + 5}::jsonb
                     WHERE EXISTS (SELECT 1 FROM change))
     SELECT * FROM change`,
    [...change.params, ...outboxValues(envelope)],
  );
}

/**
 * A change of many rows and one event per changed row, in one statement (the batch form of
 * `changeWithEvent`, same guarantee: an event exists if and only if its row's change committed).
 * The change must return `column`; each event names, in `row`, the value of `column` of the row it
 * reports, and is written only if the change returned that row (an `UPDATE ... WHERE` that found
 * nothing to change writes no event). Events are written in the order given.
 */
export async function changeWithEvents<Row>(
  tx: Sql,
  schema: PublishingSubgraph,
  change: { text: string; params: readonly unknown[]; column: string },
  events: ReadonlyArray<{ row: string; envelope: EventEnvelope<unknown> }>,
): Promise<Row[]> {
  const n = change.params.length;
  const rows = events.map(({ envelope }) => outboxValues(envelope));
  const column = (index: number) => rows.map((values) => values[index]);
  return tx.query<Row>(
    `WITH change AS (${change.text}),
          event AS (INSERT INTO ${schema}.outbox ${OUTBOX_COLUMNS}
                    SELECT x.event_id, x.topic, x.event_key, x.type, x.envelope
                      FROM unnest($${n + 1}::uuid[], $${n + 2}::text[], $${n + 3}::text[], $${n + 4}::text[], $${n + 5}::jsonb[], $${n + 6}::text[])
                           WITH ORDINALITY AS x(event_id, topic, event_key, type, envelope, row_key, position)
                     WHERE x.row_key IN (SELECT ${change.column}::text FROM change)
                     ORDER BY x.position)
     SELECT * FROM change`,
    [
      ...change.params,
      ...[0, 1, 2, 3, 4].map(column),
      events.map(({ row }) => row),
    ],
  );
}
