import type { Database, Sql } from "../../platform/database.ts";
import { appendEvent } from "../../events/outbox-writer.ts";
import type { Price, ReservationBody } from "./contract.ts";
import { reservationSql, type ReservationRow } from "./repository.ts";

/** What a reserve came to; `created` is false when the id had already reserved (a retry). */
export type ReserveOutcome =
  | { kind: "reserved"; reservation: ReservationBody; created: boolean }
  | { kind: "insufficient-stock"; productId: string; prices: Price[] }
  | { kind: "unknown-product"; productId: string }
  | { kind: "released"; reservationId: string };

export type CommitOutcome =
  | { kind: "committed"; reservation: ReservationBody }
  | { kind: "released"; reservationId: string }
  | { kind: "unknown-reservation"; reservationId: string };

export type ReleaseOutcome = { kind: "released"; reservationId: string };

/** How often a reserve refused for stock that is there again is retried before it stays refused. */
const MAX_RESERVE_ATTEMPTS = 3;

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
    /** Current prices of the given products; unknown ids are simply absent (see PRODUCTS_PATHS.prices). */
    async quote(productIds: readonly string[]): Promise<Price[]> {
      const stock = await reservationSql.stock(db, productIds);
      return [...stock.values()].map((entry) => entry.price);
    },

    async reserve({
      reservationId,
      userId,
      items,
    }: {
      reservationId: string;
      userId: string;
      items: Array<{ productId: string; quantity: number }>;
    }): Promise<ReserveOutcome> {
      const event = {
        type: "products.stock.reserved",
        key: userId,
        data: {
          reservationId,
          userId,
          items: items.map(({ productId, quantity }) => ({
            productId,
            quantity,
          })),
        },
      };
      // Stock read after a refusal may have changed since: a reservation refused for a short
      // product that is no longer short is simply tried again (bounded; then it stays refused).
      for (let attempt = 1; ; attempt += 1) {
        const row = await reservationSql.reserve(
          db,
          { reservationId, userId, ttlSeconds: reservationTtlSeconds, items },
          event,
        );
        if (row)
          return { kind: "reserved", reservation: toBody(row), created: true };
        // Nothing was written: the id exists (a retry, a duplicate, a tombstone) or a product is
        // missing (reported first) or short, in product-id order as the locks were taken.
        const existing = await reservationSql.find(db, reservationId);
        if (existing)
          return existing.status === "RELEASED"
            ? { kind: "released", reservationId }
            : {
                kind: "reserved",
                reservation: toBody(existing),
                created: false,
              };
        const stock = await reservationSql.stock(
          db,
          items.map((item) => item.productId),
        );
        const unknown = byProductId(items).find(
          (item) => !stock.has(item.productId),
        );
        if (unknown)
          return { kind: "unknown-product", productId: unknown.productId };
        for (const item of byProductId(items)) {
          if (
            stock.get(item.productId)!.inventory < item.quantity ||
            attempt === MAX_RESERVE_ATTEMPTS
          )
            // With the prices: orders records a refused order at what it would have cost.
            return {
              kind: "insufficient-stock",
              productId: item.productId,
              prices: items.map((wanted) => stock.get(wanted.productId)!.price),
            };
        }
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
