import type { Database, Sql } from '../../platform/database.ts';
import type { InternalReply } from '../../platform/internal-api.ts';
import { appendEvent } from '../../events/outbox-writer.ts';

export interface ReservationItem {
  productId: string;
  quantity: number;
  unitPriceMinor: number;
  currency: string;
}

interface ReservationRow {
  id: string;
  user_id: string | null;
  status: 'RESERVED' | 'COMMITTED' | 'RELEASED';
  items: ReservationItem[];
}

/** Thrown inside a reservation transaction to roll it back and answer with `reply`. */
class Refusal extends Error {
  constructor(readonly reply: InternalReply) {
    super(String((reply.body as { code?: string }).code));
  }
}

function reservationReply(row: ReservationRow, status = 200): InternalReply {
  return { status, body: { reservationId: row.id, status: row.status, items: row.items } };
}

/**
 * Stock reservations for the place-order saga. Stock never goes negative: every decrement is a
 * conditional UPDATE (`inventory >= quantity`), taken in product-id order so two reservations that
 * share products cannot deadlock. Every operation is idempotent by reservation id.
 */
export function createInventory({ db, reservationTtlSeconds }: { db: Database; reservationTtlSeconds: number }) {
  async function returnStock(tx: Sql, row: ReservationRow): Promise<void> {
    for (const item of [...row.items].sort((a, b) => a.productId.localeCompare(b.productId))) {
      await tx.query('UPDATE products.products SET inventory = inventory + $2, updated_at = now() WHERE id = $1', [item.productId, item.quantity]);
    }
    await tx.query(`UPDATE products.reservations SET status = 'RELEASED', updated_at = now() WHERE id = $1`, [row.id]);
    await appendEvent(tx, 'products', {
      type: 'products.stock.released',
      key: row.user_id ?? row.id,
      data: { reservationId: row.id, userId: row.user_id, items: row.items.map(({ productId, quantity }) => ({ productId, quantity })) },
    });
  }

  return {
    /** Current prices of the given products; unknown ids are simply absent. */
    async quote(productIds: readonly string[]): Promise<Array<{ productId: string; unitPriceMinor: number; currency: string }>> {
      const rows = await db.query<{ id: string; price_minor: number; currency: string }>('SELECT id, price_minor, currency FROM products.products WHERE id = ANY($1::uuid[])', [productIds]);
      return rows.map((row) => ({ productId: row.id, unitPriceMinor: row.price_minor, currency: row.currency }));
    },

    async reserve({ reservationId, userId, items }: { reservationId: string; userId: string; items: Array<{ productId: string; quantity: number }> }): Promise<InternalReply> {
      try {
        return await db.transaction(async (tx) => {
          // Claim the id first: a concurrent duplicate blocks here until this transaction ends.
          const [claimed] = await tx.query<ReservationRow>(
            `INSERT INTO products.reservations (id, user_id, status, expires_at) VALUES ($1, $2, 'RESERVED', now() + make_interval(secs => $3))
             ON CONFLICT (id) DO NOTHING RETURNING id`,
            [reservationId, userId, reservationTtlSeconds],
          );
          if (!claimed) {
            const [existing] = await tx.query<ReservationRow>('SELECT id, user_id, status, items FROM products.reservations WHERE id = $1', [reservationId]);
            if (!existing || existing.status === 'RELEASED') throw new Refusal({ status: 409, body: { code: 'RESERVATION_RELEASED', reservationId } });
            return reservationReply(existing);
          }
          const reserved: ReservationItem[] = [];
          for (const item of [...items].sort((a, b) => a.productId.localeCompare(b.productId))) {
            const [row] = await tx.query<{ price_minor: number; currency: string }>(
              'UPDATE products.products SET inventory = inventory - $2, updated_at = now() WHERE id = $1 AND inventory >= $2 RETURNING price_minor, currency',
              [item.productId, item.quantity],
            );
            if (!row) {
              const [exists] = await tx.query('SELECT 1 FROM products.products WHERE id = $1', [item.productId]);
              throw new Refusal(
                exists
                  ? { status: 409, body: { code: 'INSUFFICIENT_STOCK', productId: item.productId } }
                  : { status: 404, body: { code: 'NOT_FOUND', productId: item.productId } },
              );
            }
            reserved.push({ productId: item.productId, quantity: item.quantity, unitPriceMinor: row.price_minor, currency: row.currency });
          }
          const ordered = items.map((item) => reserved.find((entry) => entry.productId === item.productId)!);
          await tx.query('UPDATE products.reservations SET items = $2 WHERE id = $1', [reservationId, JSON.stringify(ordered)]);
          await appendEvent(tx, 'products', {
            type: 'products.stock.reserved',
            key: userId,
            data: { reservationId, userId, items: ordered.map(({ productId, quantity }) => ({ productId, quantity })) },
          });
          return reservationReply({ id: reservationId, user_id: userId, status: 'RESERVED', items: ordered }, 201);
        });
      } catch (error) {
        if (error instanceof Refusal) return error.reply;
        throw error;
      }
    },

    /** Makes reserved stock sold: the sweeper no longer returns it. */
    async commit(reservationId: string): Promise<InternalReply> {
      const [row] = await db.query<ReservationRow>(
        `UPDATE products.reservations SET status = 'COMMITTED', updated_at = now() WHERE id = $1 AND status IN ('RESERVED', 'COMMITTED') RETURNING id, user_id, status, items`,
        [reservationId],
      );
      if (row) return reservationReply(row);
      const [existing] = await db.query('SELECT status FROM products.reservations WHERE id = $1', [reservationId]);
      return existing ? { status: 409, body: { code: 'RESERVATION_RELEASED', reservationId } } : { status: 404, body: { code: 'NOT_FOUND', reservationId } };
    },

    /** Returns the stock of a reserved or sold reservation; for an unknown id, leaves a tombstone. */
    async release(reservationId: string): Promise<InternalReply> {
      return db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO products.reservations (id, status, expires_at) VALUES ($1, 'RELEASED', now()) ON CONFLICT (id) DO NOTHING`,
          [reservationId],
        );
        const [row] = await tx.query<ReservationRow>('SELECT id, user_id, status, items FROM products.reservations WHERE id = $1 FOR UPDATE', [reservationId]);
        if (row && row.status !== 'RELEASED') await returnStock(tx, row);
        return { status: 200, body: { reservationId, status: 'RELEASED' } };
      });
    },

    /** Releases reservations whose order never committed them in time. Safe on several replicas. */
    async sweepExpired(limit = 100): Promise<number> {
      return db.transaction(async (tx) => {
        const expired = await tx.query<ReservationRow>(
          `SELECT id, user_id, status, items FROM products.reservations
            WHERE status = 'RESERVED' AND expires_at < now()
            ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
          [limit],
        );
        for (const row of expired) await returnStock(tx, row);
        return expired.length;
      });
    },
  };
}

export type Inventory = ReturnType<typeof createInventory>;
