/**
 * A customer with a long order history, written straight into the services' tables: the list-size
 * table of `npm run bench`, its 100-order workload and the federation test's constant-cost check use
 * it. Every order has two items; every other order has a captured payment (so `payment` resolves to
 * null half the time, as it does for unpaid orders).
 */
import { demoProducts } from "../platform/demo-data.ts";
import type { Database } from "../platform/database.ts";
import { stableId } from "../platform/ids.ts";

export interface BulkBuyer {
  readonly id: string;
  readonly email: string;
}

const ROWS_PER_INSERT = 200;

/** Inserts `rows` with one multi-row INSERT per ROWS_PER_INSERT rows. */
async function insertRows(
  db: Database,
  head: string,
  rows: ReadonlyArray<readonly unknown[]>,
  tuple: (offset: number) => string,
): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + ROWS_PER_INSERT);
    const width = chunk[0]!.length;
    await db.query(
      `${head} VALUES ${chunk.map((_, index) => tuple(index * width)).join(", ")}`,
      chunk.flat(),
    );
  }
}

export async function seedBulkOrders(
  dbs: { users: Database; orders: Database; payments: Database },
  { tag, count }: { tag: string; count: number },
): Promise<BulkBuyer> {
  const buyer = {
    id: stableId(`user:bulk-buyer:${tag}`),
    email: `bulk-${tag}@switchyard.dev`,
  };
  await dbs.users.query(
    `INSERT INTO users.users (id, email, name, role, password_hash) VALUES ($1, $2, 'Bulk Buyer', 'CUSTOMER', 'x')`,
    [buyer.id, buyer.email],
  );
  const orders: unknown[][] = [];
  const items: unknown[][] = [];
  const payments: unknown[][] = [];
  for (let index = 0; index < count; index += 1) {
    const orderId = stableId(`order:bulk:${tag}:${index}`);
    const product = demoProducts[index % demoProducts.length]!;
    const second = demoProducts[0]!;
    const total = product.priceMinor * 2 + second.priceMinor;
    orders.push([orderId, buyer.id, total, index]);
    items.push(
      [orderId, 0, product.id, 2, product.priceMinor],
      [orderId, 1, second.id, 1, second.priceMinor],
    );
    if (index % 2 === 0)
      payments.push([
        stableId(`payment:bulk:${tag}:${index}`),
        orderId,
        buyer.id,
        total,
      ]);
  }
  await insertRows(
    dbs.orders,
    `INSERT INTO orders.orders (id, user_id, status, total_minor, currency, created_at)`,
    orders,
    (o) =>
      `($${o + 1}, $${o + 2}, 'CONFIRMED', $${o + 3}, 'USD', now() - make_interval(mins => $${o + 4}::int))`,
  );
  await insertRows(
    dbs.orders,
    `INSERT INTO orders.order_items (order_id, position, product_id, quantity, unit_price_minor)`,
    items,
    (o) => `($${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5})`,
  );
  await insertRows(
    dbs.payments,
    `INSERT INTO payments.payments (id, order_id, user_id, amount_minor, currency, status)`,
    payments,
    (o) => `($${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, 'USD', 'CAPTURED')`,
  );
  return buyer;
}

/** The nested list the list-size table and the 100-order workload read: orders → items → product, payment. */
export const BULK_ORDERS_QUERY = `query BulkOrders($id: ID!, $first: Int!) { user(id: $id) { orders(first: $first) { edges { node { id total items { quantity unitPrice product { name price } } payment { status } } } } } }`;
