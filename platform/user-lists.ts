import type DataLoader from "dataloader";
import type { Sql } from "./database.ts";
import {
  pagesByParent,
  parsePage,
  toConnection,
  type Connection,
  type Page,
  type PageArgs,
} from "./pagination.ts";

/**
 * A user's newest-first list (a user's orders, a user's notifications): rows of one table owned
 * through `user_id`, ordered by a timestamp then an id, both descending, read one page at a time
 * with a keyset cursor `[timestamp ISO, id]` for many users in one statement.
 */
export interface UserListTable {
  /** Schema-qualified table, e.g. `orders.orders`. Code constants only: they are spliced into SQL. */
  table: string;
  /** The columns each row returns. */
  columns: string;
  /** The timestamp column the list is newest-first by. */
  timeColumn: string;
  /** The id column that breaks ties between equal timestamps. */
  idColumn: string;
  /** The SQL type of `user_id` and of the id column (`uuid` or `text`). */
  keyType: "uuid" | "text";
  /** A condition on the table's own columns that every listed row meets (e.g. `status = 'DELIVERED'`). */
  filter?: string;
}

/** Position in a user's newest-first list: (timestamp, id), compared as a row value. */
export type UserListCursor = readonly [time: string, id: string];

export interface UserPage<Row> {
  rows: Row[];
  totalCount: number;
}

/**
 * The batch read of pages of many users' lists: a window function numbers each user's rows after
 * the cursor and keeps the first `limit + 1` (the extra row says whether a next page exists), each
 * row carrying its user's total. Pages come back in the order of `userIds` (see `pagesByParent`).
 */
export function userListPages<Row extends { user_id: string }>(
  sql: Sql,
  { table, columns, timeColumn, idColumn, keyType, filter }: UserListTable,
): (
  userIds: readonly string[],
  page: Page<UserListCursor>,
) => Promise<Array<UserPage<Row>>> {
  const where = `user_id = ANY($1::${keyType}[])${filter ? ` AND ${filter}` : ""}`;
  const pageSql = `SELECT ${columns}, total_count FROM (
       SELECT counted.*, row_number() OVER (PARTITION BY counted.user_id ORDER BY counted.${timeColumn} DESC, counted.${idColumn} DESC) AS rn
         FROM (
           SELECT listed.*, count(*) OVER (PARTITION BY listed.user_id)::int AS total_count
             FROM ${table} listed
            WHERE ${where}
         ) counted
        WHERE $2::timestamptz IS NULL OR (counted.${timeColumn}, counted.${idColumn}) < ($2::timestamptz, $3::${keyType})
     ) page
     WHERE rn <= $4
     ORDER BY user_id, ${timeColumn} DESC, ${idColumn} DESC`;
  const countSql = `SELECT user_id, count(*)::int AS total_count FROM ${table} WHERE ${where} GROUP BY user_id`;
  return async (userIds, { limit, after }) => {
    const rows = await sql.query<Row & { total_count: number }>(pageSql, [
      userIds,
      after?.[0] ?? null,
      after?.[1] ?? null,
      limit + 1,
    ]);
    return pagesByParent(userIds, rows, {
      hasAfter: after !== undefined,
      countMissing: (missing) => sql.query(countSql, [missing]),
    });
  };
}

/**
 * A `User` list field's resolution: validates `first`/`after`, loads the user's page through the
 * request's page loaders (one statement for every user asked with the same arguments) and builds
 * the connection, each node's cursor being its `[timestamp, id]`.
 */
export function userListConnection<Row, Node>({
  isCursor,
  toNode,
  cursorOf,
}: {
  isCursor: (value: unknown) => value is UserListCursor;
  toNode: (row: Row) => Node;
  cursorOf: (node: Node) => UserListCursor;
}) {
  return async (
    pages: (page: Page<UserListCursor>) => DataLoader<string, UserPage<Row>>,
    userId: string,
    args: PageArgs,
  ): Promise<Connection<Node>> => {
    const page = parsePage(args, isCursor);
    const { rows, totalCount } = await pages(page).load(userId);
    return toConnection(rows.map(toNode), {
      limit: page.limit,
      hasAfter: page.after !== undefined,
      totalCount,
      cursorOf,
    });
  };
}
