import type DataLoader from "dataloader";
import { assertOwnerOrAdmin } from "./authorization.ts";
import { notFound } from "./errors.ts";
import { isId, parseId } from "./ids.ts";
import type { Principal } from "./principal.ts";

/** A loader of rows that belong to one user (orders, payments, notifications). */
type OwnedLoader<Row> = DataLoader<string, Row | null>;

/**
 * The row a query field names by `id`, for its owner or an admin: NOT_FOUND when there is none,
 * else the ownership rule of `assertOwnerOrAdmin` (UNAUTHENTICATED, or FORBIDDEN to other customers).
 * `key` is what the loader is keyed by: the id as a UUID unless the type's ids are not UUIDs.
 */
export async function findOwned<Row extends { user_id: string }>(
  principal: Principal | null,
  loader: OwnedLoader<Row>,
  kind: string,
  id: string,
  key: string = parseId(id),
): Promise<Row> {
  const row = await loader.load(key);
  if (!row) throw notFound(kind, id);
  assertOwnerOrAdmin(principal, row.user_id, `${kind} ${id}`);
  return row;
}

/**
 * The `__resolveReference` of an entity whose rows belong to one user: the row a reference names,
 * checked like any other read (an entity fetch reaches the subgraph from any field of the
 * supergraph), as the node `toNode` makes of it; null for an id that is not a UUID or has no row.
 */
export function ownedReference<
  Row extends { id: string; user_id: string },
  Node,
  Context extends { principal: Principal | null },
>(
  kind: string,
  loaderOf: (context: Context) => OwnedLoader<Row>,
  toNode: (row: Row) => Node,
) {
  return async (
    reference: { id: unknown },
    context: Context,
  ): Promise<Node | null> => {
    if (!isId(reference.id)) return null;
    const row = await loaderOf(context).load(reference.id.toLowerCase());
    if (!row) return null;
    assertOwnerOrAdmin(context.principal, row.user_id, `${kind} ${row.id}`);
    return toNode(row);
  };
}
