import { createHash } from "node:crypto";
import { badInput } from "./errors.ts";

const UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** IDs are UUIDs; anything else is rejected before it reaches SQL (where it would be a 500). */
export function parseId(value: string, field = "id"): string {
  if (!UUID.test(value))
    throw badInput(
      field,
      `${field} must be a UUID, got ${JSON.stringify(value.slice(0, 64))}`,
    );
  return value.toLowerCase();
}

export function isId(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

/**
 * A stable UUID (version 5 layout) for a name: demo data uses it so each service can seed its own
 * rows independently and still agree on the ids of the others' rows.
 */
export function stableId(name: string): string {
  const hash = createHash("sha1").update(`switchyard:${name}`).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
