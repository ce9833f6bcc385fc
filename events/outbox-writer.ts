import type { Sql } from "../platform/database.ts";
import {
  appendToOutbox,
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
