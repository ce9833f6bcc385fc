import type { Database, Sql } from "../../platform/database.ts";
import type { NewEvent } from "../../events/envelope.ts";
import { changeWithEvent } from "../../events/outbox-writer.ts";
import { badInput } from "../../platform/errors.ts";
import {
  batchByUuid,
  firstRow,
  type RowLock,
} from "../../platform/sql-rows.ts";
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
  /**
   * A whole reservation in one statement (atomic on its own, so no transaction): the products are
   * locked in id order (two reservations that share products cannot deadlock), and only if every
   * one exists with enough units is the RESERVED row inserted with its priced lines, the units taken
   * and `event` written. Nothing is written when a product is missing or short, or when the id
   * already exists (a retry, a concurrent duplicate, or a release's tombstone: the insert's
   * `ON CONFLICT` waits for a concurrent one to end). Answers the reservation, or undefined then:
   * `find` and `stock` tell which case it was. Stock never goes negative: the take runs under the
   * lock that checked it, and the `inventory >= 0` constraint would fail the statement otherwise.
   */
  async reserve(
    tx: Sql,
    {
      reservationId,
      userId,
      ttlSeconds,
      items,
    }: {
      reservationId: string;
      userId: string;
      ttlSeconds: number;
      items: ReadonlyArray<{ productId: string; quantity: number }>;
    },
    event: NewEvent,
  ): Promise<ReservationRow | undefined> {
    const [row] = await changeWithEvent<ReservationRow, unknown>(
      tx,
      "products",
      {
        text: `INSERT INTO products.reservations (id, user_id, status, expires_at, items)
          SELECT $1, $2, 'RESERVED', now() + make_interval(secs => $3),
                 jsonb_agg(jsonb_build_object('productId', wanted.product_id, 'quantity', wanted.quantity,
                   'unitPriceMinor', locked.price_minor, 'currency', locked.currency) ORDER BY wanted.position)
            FROM unnest($4::uuid[], $5::int[]) WITH ORDINALITY AS wanted(product_id, quantity, position)
            JOIN (SELECT id, inventory, price_minor, currency FROM products.products
                   WHERE id = ANY($4::uuid[]) ORDER BY id FOR UPDATE) locked ON locked.id = wanted.product_id
          HAVING count(*) = cardinality($4::uuid[]) AND bool_and(locked.inventory >= wanted.quantity)
          ON CONFLICT (id) DO NOTHING
          RETURNING ${RESERVATION_COLUMNS}`,
        params: [
          reservationId,
          userId,
          ttlSeconds,
          items.map((item) => item.productId),
          items.map((item) => item.quantity),
        ],
        also: `take AS (UPDATE products.products SET inventory = inventory - wanted.quantity, updated_at = now()
            FROM unnest($4::uuid[], $5::int[]) AS wanted(product_id, quantity)
           WHERE products.products.id = wanted.product_id AND EXISTS (SELECT 1 FROM change))`,
      },
      event,
    );
    return row;
  },

  /**
   * Units in stock and current prices of the given products; unknown ids are simply absent. Read
   * after a refused reservation: the refusal tells which product and what the order would cost.
   */
  async stock(
    tx: Sql,
    productIds: readonly string[],
  ): Promise<Map<string, { inventory: number; price: Price }>> {
    const rows = await tx.query<{
      id: string;
      inventory: number;
      price_minor: number;
      currency: string;
    }>(
      "SELECT id, inventory, price_minor, currency FROM products.products WHERE id = ANY($1::uuid[])",
      [productIds],
    );
    return new Map(
      rows.map((row) => [
        row.id,
        {
          inventory: row.inventory,
          price: {
            productId: row.id,
            unitPriceMinor: row.price_minor,
            currency: row.currency,
          },
        },
      ]),
    );
  },

  /** Inserts a RELEASED tombstone unless the id exists, so a late reserve can never take stock. */
  async tombstone(tx: Sql, reservationId: string): Promise<void> {
    await tx.query(
      `INSERT INTO products.reservations (id, status, expires_at) VALUES ($1, 'RELEASED', now()) ON CONFLICT (id) DO NOTHING`,
      [reservationId],
    );
  },

  find: (
    tx: Sql,
    reservationId: string,
    lock?: RowLock,
  ): Promise<ReservationRow | undefined> =>
    firstRow(
      tx,
      `SELECT ${RESERVATION_COLUMNS} FROM products.reservations WHERE id = $1`,
      [reservationId],
      lock,
    ),

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
    productsByIds: batchByUuid<ProductRow>(db, "products.products", COLUMNS),

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
