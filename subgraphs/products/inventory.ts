import type { Database, Sql } from "../../platform/database.ts";
import { appendEvent } from "../../events/outbox-writer.ts";
import type { Price, ReservationBody, ReservationItem } from "./contract.ts";
import { reservationSql, type ReservationRow } from "./repository.ts";

/** What a reserve came to; `created` is false when the id had already reserved (a retry). */
export type ReserveOutcome =
  | { kind: "reserved"; reservation: ReservationBody; created: boolean }
  | { kind: "insufficient-stock"; productId: string }
  | { kind: "unknown-product"; productId: string }
  | { kind: "released"; reservationId: string };

export type CommitOutcome =
  | { kind: "committed"; reservation: ReservationBody }
  | { kind: "released"; reservationId: string }
  | { kind: "unknown-reservation"; reservationId: string };

export type ReleaseOutcome = { kind: "released"; reservationId: string };

/** Thrown inside a reservation transaction to roll it back and answer with `outcome`. */
class Refusal extends Error {
  constructor(readonly outcome: ReserveOutcome) {
    super(outcome.kind);
  }
}

const toBody = (row: ReservationRow): ReservationBody => ({
  reservationId: row.id,
  status: row.status,
  items: row.items,
});
const byProductId = <T extends { productId: string }>(items: readonly T[]) =>
  [...items].sort((a, b) => a.productId.localeCompare(b.productId));

/**
 * Stock reservations for the place-order saga. Stock never goes negative: every decrement is a
 * conditional UPDATE (`inventory >= quantity`), taken in product-id order so two reservations that
 * share products cannot deadlock. Every operation is idempotent by reservation id.
 */
export function createInventory({
  db,
  reservationTtlSeconds,
}: {
  db: Database;
  reservationTtlSeconds: number;
}) {
  async function returnStock(tx: Sql, row: ReservationRow): Promise<void> {
    for (const item of byProductId(row.items))
      await reservationSql.returnStock(tx, item.productId, item.quantity);
    await reservationSql.markReleased(tx, row.id);
    await appendEvent(tx, "products", {
      type: "products.stock.released",
      key: row.user_id ?? row.id,
      data: {
        reservationId: row.id,
        userId: row.user_id,
        items: row.items.map(({ productId, quantity }) => ({
          productId,
          quantity,
        })),
      },
    });
  }

  return {
    /** Current prices of the given products; unknown ids are simply absent. */
    quote: (productIds: readonly string[]): Promise<Price[]> =>
      reservationSql.prices(db, productIds),

    async reserve({
      reservationId,
      userId,
      items,
    }: {
      reservationId: string;
      userId: string;
      items: Array<{ productId: string; quantity: number }>;
    }): Promise<ReserveOutcome> {
      try {
        return await db.transaction(async (tx): Promise<ReserveOutcome> => {
          // Claim the id first: a concurrent duplicate blocks here until this transaction ends.
          if (
            !(await reservationSql.claim(tx, {
              reservationId,
              userId,
              ttlSeconds: reservationTtlSeconds,
            }))
          ) {
            const existing = await reservationSql.find(tx, reservationId);
            if (!existing || existing.status === "RELEASED")
              throw new Refusal({ kind: "released", reservationId });
            return {
              kind: "reserved",
              reservation: toBody(existing),
              created: false,
            };
          }
          const reserved: ReservationItem[] = [];
          for (const item of byProductId(items)) {
            const taken = await reservationSql.takeStock(
              tx,
              item.productId,
              item.quantity,
            );
            if (!taken) {
              const exists = await reservationSql.productExists(
                tx,
                item.productId,
              );
              throw new Refusal({
                kind: exists ? "insufficient-stock" : "unknown-product",
                productId: item.productId,
              });
            }
            reserved.push({
              productId: item.productId,
              quantity: item.quantity,
              ...taken,
            });
          }
          const ordered = items.map((item) =>
            reserved.find((entry) => entry.productId === item.productId)!,
          );
          await reservationSql.saveItems(tx, reservationId, ordered, {
            type: "products.stock.reserved",
            key: userId,
            data: {
              reservationId,
              userId,
              items: ordered.map(({ productId, quantity }) => ({
                productId,
                quantity,
              })),
            },
          });
          return {
            kind: "reserved",
            reservation: { reservationId, status: "RESERVED", items: ordered },
            created: true,
          };
        });
      } catch (error) {
        if (error instanceof Refusal) return error.outcome;
        throw error;
      }
    },

    /** Makes reserved stock sold: the sweeper no longer returns it. */
    async commit(reservationId: string): Promise<CommitOutcome> {
      const row = await reservationSql.commit(db, reservationId);
      if (row) return { kind: "committed", reservation: toBody(row) };
      return (await reservationSql.find(db, reservationId))
        ? { kind: "released", reservationId }
        : { kind: "unknown-reservation", reservationId };
    },

    /** Returns the stock of a reserved or sold reservation; for an unknown id, leaves a tombstone. */
    async release(reservationId: string): Promise<ReleaseOutcome> {
      return db.transaction(async (tx) => {
        await reservationSql.tombstone(tx, reservationId);
        const row = await reservationSql.find(tx, reservationId, {
          forUpdate: true,
        });
        if (row && row.status !== "RELEASED") await returnStock(tx, row);
        return { kind: "released", reservationId };
      });
    },

    /** Releases reservations whose order never committed them in time. Safe on several replicas. */
    async sweepExpired(limit = 100): Promise<number> {
      return db.transaction(async (tx) => {
        const expired = await reservationSql.lockExpired(tx, limit);
        for (const row of expired) await returnStock(tx, row);
        return expired.length;
      });
    },
  };
}

export type Inventory = ReturnType<typeof createInventory>;
