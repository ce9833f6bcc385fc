import type { Database } from '../../platform/database.ts';
import { pagesByParent } from '../../platform/pagination.ts';

export interface OrderRow {
  id: string;
  user_id: string;
  status: 'PENDING' | 'CONFIRMED' | 'FAILED' | 'CANCELLED';
  total_minor: number;
  currency: string;
  created_at: Date;
  failure_code?: string | null;
}

export interface OrderItemRow {
  order_id: string;
  position: number;
  product_id: string;
  quantity: number;
  unit_price_minor: number;
}

/** Position in a user's newest-first list: (createdAt, id), compared as a row value. */
export type OrderCursor = readonly [createdAt: string, id: string];

const COLUMNS = 'id, user_id, status, total_minor, currency, created_at, failure_code';

export function createOrderRepository(db: Database) {
  return {
    async ordersByIds(ids: readonly string[]): Promise<Array<OrderRow | null>> {
      const rows = await db.query<OrderRow>(`SELECT ${COLUMNS} FROM orders.orders WHERE id = ANY($1::uuid[])`, [ids]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    },

    async itemsByOrderIds(orderIds: readonly string[]): Promise<OrderItemRow[][]> {
      const rows = await db.query<OrderItemRow>(
        'SELECT order_id, position, product_id, quantity, unit_price_minor FROM orders.order_items WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, position',
        [orderIds],
      );
      const byOrder = new Map<string, OrderItemRow[]>();
      for (const row of rows) {
        const list = byOrder.get(row.order_id);
        if (list) list.push(row);
        else byOrder.set(row.order_id, [row]);
      }
      return orderIds.map((id) => byOrder.get(id) ?? []);
    },

    /**
     * One page of orders for each of several users in one statement: a window function numbers
     * each user's orders after the cursor and keeps the first `limit + 1`.
     */
    async pagesByUsers(userIds: readonly string[], { limit, after }: { limit: number; after: OrderCursor | undefined }): Promise<Array<{ rows: OrderRow[]; totalCount: number }>> {
      const rows = await db.query<OrderRow & { total_count: number }>(
        `SELECT ${COLUMNS}, total_count FROM (
           SELECT counted.*, row_number() OVER (PARTITION BY counted.user_id ORDER BY counted.created_at DESC, counted.id DESC) AS rn
             FROM (
               SELECT o.*, count(*) OVER (PARTITION BY o.user_id)::int AS total_count
                 FROM orders.orders o
                WHERE o.user_id = ANY($1::uuid[])
             ) counted
            WHERE $2::timestamptz IS NULL OR (counted.created_at, counted.id) < ($2::timestamptz, $3::uuid)
         ) page
         WHERE rn <= $4
         ORDER BY user_id, created_at DESC, id DESC`,
        [userIds, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
      );
      return pagesByParent(userIds, rows, {
        hasAfter: after !== undefined,
        countMissing: (missing) =>
          db.query('SELECT user_id, count(*)::int AS total_count FROM orders.orders WHERE user_id = ANY($1::uuid[]) GROUP BY user_id', [missing]),
      });
    },
  };
}

export type OrderRepository = ReturnType<typeof createOrderRepository>;
