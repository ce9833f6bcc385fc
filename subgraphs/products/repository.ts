import type { Database, Sql } from "../../platform/database.ts";
import type { NewEvent } from "../../events/envelope.ts";
import { changeWithEvent } from "../../events/outbox-writer.ts";
import { badInput } from "../../platform/errors.ts";
import type { Price, ReservationItem, ReservationStatus } from "./contract.ts";

export interface ProductRow {
  id: string;
  sku: string;
  name: string;
  description: string;
  price_minor: number;
  currency: string;
  inventory: number;
}

const COLUMNS = "id, sku, name, description, price_minor, currency, inventory";

export interface ReservationRow {
  id: string;
  user_id: string | null;
  status: ReservationStatus;
  items: ReservationItem[];
}

const RESERVATION_COLUMNS = "id, user_id, status, items";

/** Inserts a product; with `ignoreExisting`, an existing id or SKU is left as it is (seeding). */
export async function insertProduct(
  tx: Sql,
  product: ProductRow,
  { ignoreExisting = false } = {},
): Promise<ProductRow | undefined> {
  const [row] = await tx.query<ProductRow>(
    `INSERT INTO products.products (id, sku, name, description, price_minor, currency, inventory)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ${ignoreExisting ? "ON CONFLICT DO NOTHING" : ""} RETURNING ${COLUMNS}`,
    [
      product.id,
      product.sku,
      product.name,
      product.description,
      product.price_minor,
      product.currency,
      product.inventory,
    ],
  );
  return row;
}

/**
 * The SQL of stock reservations. Every function takes the handle to run on (`Database` or a
 * transaction), so the domain decides what one transaction holds.
 */
export const reservationSql = {
  /** Current prices of the given products; unknown ids are simply absent. */
  async prices(tx: Sql, productIds: readonly string[]): Promise<Price[]> {
    const rows = await tx.query<{
      id: string;
      price_minor: number;
      currency: string;
    }>(
      "SELECT id, price_minor, currency FROM products.products WHERE id = ANY($1::uuid[])",
      [productIds],
    );
    return rows.map((row) => ({
      productId: row.id,
      unitPriceMinor: row.price_minor,
      currency: row.currency,
    }));
  },

  /** Inserts a RESERVED row; false when the id exists (a concurrent duplicate blocks until the other transaction ends). */
  async claim(
    tx: Sql,
    {
      reservationId,
      userId,
      ttlSeconds,
    }: { reservationId: string; userId: string; ttlSeconds: number },
  ): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO products.reservations (id, user_id, status, expires_at) VALUES ($1, $2, 'RESERVED', now() + make_interval(secs => $3))
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [reservationId, userId, ttlSeconds],
    );
    return rows.length > 0;
  },

  /** Inserts a RELEASED tombstone unless the id exists, so a late reserve can never take stock. */
  async tombstone(tx: Sql, reservationId: string): Promise<void> {
    await tx.query(
      `INSERT INTO products.reservations (id, status, expires_at) VALUES ($1, 'RELEASED', now()) ON CONFLICT (id) DO NOTHING`,
      [reservationId],
    );
  },

  async find(
    tx: Sql,
    reservationId: string,
    { forUpdate = false } = {},
  ): Promise<ReservationRow | undefined> {
    const [row] = await tx.query<ReservationRow>(
      `SELECT ${RESERVATION_COLUMNS} FROM products.reservations WHERE id = $1${forUpdate ? " FOR UPDATE" : ""}`,
      [reservationId],
    );
    return row;
  },

  /** Takes units if that many are in stock (stock never goes negative); the price they were taken at, or undefined. */
  async takeStock(
    tx: Sql,
    productId: string,
    quantity: number,
  ): Promise<{ unitPriceMinor: number; currency: string } | undefined> {
    const [row] = await tx.query<{ price_minor: number; currency: string }>(
      "UPDATE products.products SET inventory = inventory - $2, updated_at = now() WHERE id = $1 AND inventory >= $2 RETURNING price_minor, currency",
      [productId, quantity],
    );
    return row && { unitPriceMinor: row.price_minor, currency: row.currency };
  },

  async returnStock(
    tx: Sql,
    productId: string,
    quantity: number,
  ): Promise<void> {
    await tx.query(
      "UPDATE products.products SET inventory = inventory + $2, updated_at = now() WHERE id = $1",
      [productId, quantity],
    );
  },

  async productExists(tx: Sql, productId: string): Promise<boolean> {
    return (
      (
        await tx.query("SELECT 1 FROM products.products WHERE id = $1", [
          productId,
        ])
      ).length > 0
    );
  },

  /** Records the reserved lines and writes `event` with them, in one statement. */
  async saveItems(
    tx: Sql,
    reservationId: string,
    items: readonly ReservationItem[],
    event: NewEvent,
  ): Promise<void> {
    await changeWithEvent(
      tx,
      "products",
      {
        text: "UPDATE products.reservations SET items = $2 WHERE id = $1 RETURNING id",
        params: [reservationId, JSON.stringify(items)],
      },
      event,
    );
  },

  /** Marks a RESERVED or COMMITTED reservation COMMITTED; undefined when it is released or unknown. */
  async commit(
    tx: Sql,
    reservationId: string,
  ): Promise<ReservationRow | undefined> {
    const [row] = await tx.query<ReservationRow>(
      `UPDATE products.reservations SET status = 'COMMITTED', updated_at = now() WHERE id = $1 AND status IN ('RESERVED', 'COMMITTED') RETURNING ${RESERVATION_COLUMNS}`,
      [reservationId],
    );
    return row;
  },

  async markReleased(tx: Sql, reservationId: string): Promise<void> {
    await tx.query(
      `UPDATE products.reservations SET status = 'RELEASED', updated_at = now() WHERE id = $1`,
      [reservationId],
    );
  },

  /** Locks up to `limit` RESERVED reservations past their expiry, skipping ones another replica holds. */
  async lockExpired(tx: Sql, limit: number): Promise<ReservationRow[]> {
    return tx.query<ReservationRow>(
      `SELECT ${RESERVATION_COLUMNS} FROM products.reservations
        WHERE status = 'RESERVED' AND expires_at < now()
        ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
  },
};

function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

export function createProductRepository(db: Database) {
  return {
    async productsByIds(
      ids: readonly string[],
    ): Promise<Array<ProductRow | null>> {
      const rows = await db.query<ProductRow>(
        `SELECT ${COLUMNS} FROM products.products WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    },

    /**
     * One page in SKU order plus the total count, in one statement. `limit + 1` rows are read so
     * the caller knows whether a next page exists.
     */
    async page({
      limit,
      afterSku,
      search,
    }: {
      limit: number;
      afterSku: string | undefined;
      search: string | undefined;
    }): Promise<{ rows: ProductRow[]; totalCount: number }> {
      const pattern = search ? likePattern(search) : null;
      const filter = `($1::text IS NULL OR name ILIKE $1)`;
      const rows = await db.query<ProductRow & { total_count: number }>(
        `SELECT ${COLUMNS}, (SELECT count(*) FROM products.products WHERE ${filter})::int AS total_count
           FROM products.products
          WHERE ${filter} AND ($2::text IS NULL OR sku > $2)
          ORDER BY sku
          LIMIT $3`,
        [pattern, afterSku ?? null, limit + 1],
      );
      if (rows.length > 0) return { rows, totalCount: rows[0]!.total_count };
      // An empty page still owes the client a total: only then is a second statement needed.
      const [count] = await db.query<{ total_count: number }>(
        `SELECT count(*)::int AS total_count FROM products.products WHERE ${filter}`,
        [pattern],
      );
      return { rows, totalCount: count?.total_count ?? 0 };
    },

    async insert(
      product: Omit<ProductRow, "id"> & { id: string },
    ): Promise<ProductRow> {
      try {
        return (await insertProduct(db, product))!;
      } catch (error) {
        if ((error as { code?: string }).code === "23505")
          throw badInput("input.sku", "a product with this SKU already exists");
        throw error;
      }
    },

    /** Adds units in one statement, so concurrent restocks and reservations never lose an update. */
    async restock(
      id: string,
      quantity: number,
    ): Promise<ProductRow | undefined> {
      const [row] = await db.query<ProductRow>(
        `UPDATE products.products SET inventory = inventory + $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, quantity],
      );
      return row;
    },
  };
}

export type ProductRepository = ReturnType<typeof createProductRepository>;
