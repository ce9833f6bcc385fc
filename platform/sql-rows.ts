import type { Sql } from "./database.ts";

/**
 * `rows` rearranged in the order of `keys`, null where no row has the key: what a DataLoader batch
 * must return (one entry per key, in key order), whatever order the database answered in.
 */
export function inKeyOrder<Row>(
  keys: readonly string[],
  rows: readonly Row[],
  keyOf: (row: Row) => string,
): Array<Row | null> {
  const byKey = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => byKey.get(key) ?? null);
}

/**
 * A batch read by key: `text` takes the keys as its one parameter (`= ANY($1::uuid[])`), and the
 * rows come back in key order, null where missing (see `inKeyOrder`).
 */
export function batchByKey<Row>(
  sql: Sql,
  text: string,
  keyOf: (row: Row) => string,
): (keys: readonly string[]) => Promise<Array<Row | null>> {
  return async (keys) =>
    inKeyOrder(keys, await sql.query<Row>(text, [keys]), keyOf);
}

/** Whether a single-row read locks its row until the transaction ends. */
export interface RowLock {
  /** Appends `FOR UPDATE`: only meaningful inside a transaction. @default false */
  forUpdate?: boolean;
}

/** The first row `text` returns, or undefined when it returns none. */
export async function firstRow<Row>(
  sql: Sql,
  text: string,
  params: readonly unknown[],
  { forUpdate = false }: RowLock = {},
): Promise<Row | undefined> {
  const [row] = await sql.query<Row>(
    forUpdate ? `${text} FOR UPDATE` : text,
    params,
  );
  return row;
}

/**
 * The batch read of a table by its uuid primary key `id`. `table` and `columns` are the caller's
 * own constants (schema-qualified table, column list), never input.
 */
export function batchByUuid<Row extends { id: string }>(
  sql: Sql,
  table: string,
  columns: string,
): (ids: readonly string[]) => Promise<Array<Row | null>> {
  return batchByKey<Row>(
    sql,
    `SELECT ${columns} FROM ${table} WHERE id = ANY($1::uuid[])`,
    (row) => row.id,
  );
}
