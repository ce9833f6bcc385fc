import type { Database } from '../../platform/database.ts';

export interface PaymentRow {
  id: string;
  order_id: string;
  user_id: string;
  amount_minor: number;
  currency: string;
  status: 'PENDING' | 'AUTHORIZED' | 'CAPTURED' | 'DECLINED' | 'VOIDED' | 'REFUNDED' | 'FAILED';
  created_at: Date;
}

const COLUMNS = 'id, order_id, user_id, amount_minor, currency, status, created_at';

export function createPaymentRepository(db: Database) {
  return {
    async paymentsByIds(ids: readonly string[]): Promise<Array<PaymentRow | null>> {
      const rows = await db.query<PaymentRow>(`SELECT ${COLUMNS} FROM payments.payments WHERE id = ANY($1::uuid[])`, [ids]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    },

    /** The latest payment attempt of each order, in key order. */
    async latestByOrderIds(orderIds: readonly string[]): Promise<Array<PaymentRow | null>> {
      const rows = await db.query<PaymentRow>(
        `SELECT DISTINCT ON (order_id) ${COLUMNS} FROM payments.payments
          WHERE order_id = ANY($1::uuid[])
          ORDER BY order_id, created_at DESC, id DESC`,
        [orderIds],
      );
      const byOrder = new Map(rows.map((row) => [row.order_id, row]));
      return orderIds.map((id) => byOrder.get(id) ?? null);
    },
  };
}

export type PaymentRepository = ReturnType<typeof createPaymentRepository>;
