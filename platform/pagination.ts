import { badInput } from "./errors.ts";
import { nulPathInValue } from "./input-guard.ts";

/** Largest page a client may ask for; benchmarks read lists of up to 1,000 items. */
export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 20;

export interface PageArgs {
  readonly first?: number | null;
  readonly after?: string | null;
}

export interface Page<Cursor> {
  readonly limit: number;
  readonly after: Cursor | undefined;
}

/** Validates Relay arguments. Cursors are opaque base64url JSON; a tampered one is BAD_USER_INPUT. */
export function parsePage<Cursor>(
  args: PageArgs,
  isCursor: (value: unknown) => value is Cursor,
): Page<Cursor> {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE)
    throw badInput(
      "first",
      `first must be between 0 and ${MAX_PAGE_SIZE}, got ${first}`,
    );
  if (args.after === undefined || args.after === null)
    return { limit: first, after: undefined };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(args.after, "base64url").toString("utf8"));
  } catch {
    decoded = undefined;
  }
  // A NUL escaped inside the cursor's JSON passes every check on the argument's own text, and would
  // reach SQL (PostgreSQL refuses it with a 500): no cursor this API returns contains one.
  if (!isCursor(decoded) || nulPathInValue(decoded, "after") !== undefined)
    throw badInput("after", "after is not a cursor returned by this field");
  return { limit: first, after: decoded };
}

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

export interface Connection<Node> {
  edges: Array<{ cursor: string; node: Node }>;
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: number;
}

/**
 * Builds a connection from rows fetched with `LIMIT limit + 1`: the extra row only says whether a
 * next page exists and is dropped.
 */
export function toConnection<Node>(
  rows: readonly Node[],
  {
    limit,
    hasAfter,
    totalCount,
    cursorOf,
  }: {
    limit: number;
    hasAfter: boolean;
    totalCount: number;
    cursorOf: (node: Node) => unknown;
  },
): Connection<Node> {
  const nodes = rows.slice(0, limit);
  const edges = nodes.map((node) => ({
    cursor: encodeCursor(cursorOf(node)),
    node,
  }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > limit,
      hasPreviousPage: hasAfter,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
  };
}

/**
 * Pages for many parents from one windowed query (rows carry `user_id` and the parent's
 * `total_count`), in the order of `parentIds`. A parent with no row on this page still has a total
 * when the page starts past the end of its list: `countMissing` fetches those totals (one query,
 * only then); with no cursor, no row means no items at all.
 */
export async function pagesByParent<
  Row extends { user_id: string; total_count: number },
>(
  parentIds: readonly string[],
  rows: readonly Row[],
  {
    hasAfter,
    countMissing,
  }: {
    hasAfter: boolean;
    countMissing: (
      missing: string[],
    ) => Promise<Array<{ user_id: string; total_count: number }>>;
  },
): Promise<Array<{ rows: Row[]; totalCount: number }>> {
  const byParent = new Map<string, { rows: Row[]; totalCount: number }>();
  for (const row of rows) {
    const entry = byParent.get(row.user_id) ?? {
      rows: [],
      totalCount: row.total_count,
    };
    entry.rows.push(row);
    byParent.set(row.user_id, entry);
  }
  const missing = parentIds.filter((id) => !byParent.has(id));
  if (hasAfter && missing.length > 0) {
    for (const count of await countMissing(missing))
      byParent.set(count.user_id, { rows: [], totalCount: count.total_count });
  }
  return parentIds.map((id) => byParent.get(id) ?? { rows: [], totalCount: 0 });
}
