import type { Sql } from "../platform/database.ts";
import {
  appendToOutbox,
  changeWithOutbox,
  type EventEnvelope,
  type NewEvent,
} from "../platform/outbox.ts";
import { validateEventData } from "./contracts.ts";

/**
 * How services write their events: the data is checked against its contract (events/contracts.ts)
 * before it joins the caller's transaction, so a malformed event fails the state change that would
 * have produced it instead of reaching every consumer.
 */
export async function appendEvent<Data>(
  tx: Sql,
  schema: "users" | "products" | "orders" | "payments",
  event: NewEvent<Data>,
): Promise<EventEnvelope<Data>> {
  validateEventData(event.type, event.version ?? 1, event.data);
  return appendToOutbox(tx, schema, event);
}

/**
 * A change and its event in one statement (see `changeWithOutbox`): the data is checked against
 * its contract first, as `appendEvent` does. The event is written only if the change returned a row.
 */
export async function changeWithEvent<Row, Data>(
  tx: Sql,
  schema: "users" | "products" | "orders" | "payments",
  change: { text: string; params: readonly unknown[]; also?: string },
  event: NewEvent<Data>,
): Promise<Row[]> {
  validateEventData(event.type, event.version ?? 1, event.data);
  return changeWithOutbox<Row, Data>(tx, schema, change, event);
}
