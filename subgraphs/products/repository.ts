import type { Database } from '../../platform/database.ts';
import { badInput } from '../../platform/errors.ts';

export interface ProductRow {
  id: string;
  sku: string;
  name: string;
  description: string;
  price_minor: number;
  currency: string;
  inventory: number;
}

const COLUMNS = 'id, sku, name, description, price_minor, currency, inventory';

function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

export function createProductRepository(db: Database) {
  return {
    async productsByIds(ids: readonly string[]): Promise<Array<ProductRow | null>> {
      const rows = await db.query<ProductRow>(`SELECT ${COLUMNS} FROM products.products WHERE id = ANY($1::uuid[])`, [ids]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    },

    /**
     * One page in SKU order plus the total count, in one statement. `limit + 1` rows are read so
     * the caller knows whether a next page exists.
     */
    async page({ limit, afterSku, search }: { limit: number; afterSku: string | undefined; search: string | undefined }): Promise<{ rows: ProductRow[]; totalCount: number }> {
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
      const [count] = await db.query<{ total_count: number }>(`SELECT count(*)::int AS total_count FROM products.products WHERE ${filter}`, [pattern]);
      return { rows, totalCount: count?.total_count ?? 0 };
    },

    async insert(product: Omit<ProductRow, 'id'> & { id: string }): Promise<ProductRow> {
      try {
        const [row] = await db.query<ProductRow>(
          `INSERT INTO products.products (id, sku, name, description, price_minor, currency, inventory)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
          [product.id, product.sku, product.name, product.description, product.price_minor, product.currency, product.inventory],
        );
        return row!;
      } catch (error) {
        if ((error as { code?: string }).code === '23505') throw badInput('input.sku', 'a product with this SKU already exists');
        throw error;
      }
    },

    /** Adds units in one statement, so concurrent restocks and reservations never lose an update. */
    async restock(id: string, quantity: number): Promise<ProductRow | undefined> {
      const [row] = await db.query<ProductRow>(
        `UPDATE products.products SET inventory = inventory + $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, quantity],
      );
      return row;
    },
  };
}

export type ProductRepository = ReturnType<typeof createProductRepository>;
