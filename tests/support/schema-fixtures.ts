import { readFileSync } from "node:fs";

/** The committed baseline API schema (schema/baseline/api.graphql), read when asked. */
export const readBaselineSdl = () =>
  readFileSync("schema/baseline/api.graphql", "utf8");

/** The baseline with one edit, failing loudly if the edit no longer applies. */
export function editedBaseline(find: string | RegExp, replace: string): string {
  const baselineSdl = readBaselineSdl();
  const next = baselineSdl.replace(find, replace);
  if (next === baselineSdl)
    throw new Error(`fixture edit ${String(find)} did not apply`);
  return next;
}

/** The baseline without Order.failureCode: a breaking change (FIELD_REMOVED). */
export const baselineWithoutFailureCode = () =>
  editedBaseline(/\n\s+"""\n[^"]*"""\n\s+failureCode: String\n/, "\n");
