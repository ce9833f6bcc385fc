import type { Database } from "../../platform/database.ts";

/** What `run` resolves to, and how many statements it sent to `db` (its `queryCount`). */
export async function withStatementCount<T>(
  db: Database,
  run: () => Promise<T>,
): Promise<[result: T, statements: number]> {
  const before = db.queryCount;
  const result = await run();
  return [result, db.queryCount - before];
}
