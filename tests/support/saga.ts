import type { Database } from "../../platform/database.ts";
import { stableId } from "../../platform/ids.ts";
import type { Stack } from "../../stack.ts";
import type { createOrdersSubgraph } from "../../subgraphs/orders/server.ts";
import type { createProductsSubgraph } from "../../subgraphs/products/server.ts";

export const ordersOf = (stack: Stack) =>
  stack.subgraphs.orders.server as ReturnType<typeof createOrdersSubgraph>;
export const inventoryOf = (stack: Stack) =>
  (stack.subgraphs.products.server as ReturnType<typeof createProductsSubgraph>)
    .inventory;

let counter = 0;
/** A fresh product with `inventory` units at 10.00, so tests never share stock. */
export async function newProduct(
  stack: Stack,
  inventory: number,
  priceMinor = 1000,
): Promise<string> {
  counter += 1;
  const id = stableId(`test-product:${process.pid}:${Date.now()}:${counter}`);
  await stack.subgraphs.products.db.query(
    `INSERT INTO products.products (id, sku, name, description, price_minor, currency, inventory) VALUES ($1, $2, $3, '', $4, 'USD', $5)`,
    [
      id,
      `T-${id.slice(0, 8)}`,
      `Test product ${counter}`,
      priceMinor,
      inventory,
    ],
  );
  return id;
}

export async function stockOf(
  stack: Stack,
  productId: string,
): Promise<number> {
  const [row] = await stack.subgraphs.products.db.query<{ inventory: number }>(
    "SELECT inventory FROM products.products WHERE id = $1",
    [productId],
  );
  return row!.inventory;
}

export async function paymentsFor(stack: Stack, orderId: string) {
  return stack.subgraphs.payments.db.query<{
    status: string;
    amount_minor: number;
  }>("SELECT status, amount_minor FROM payments.payments WHERE order_id = $1", [
    orderId,
  ]);
}

export async function eventsFor(
  db: Database,
  schema: string,
  field: string,
  value: string,
) {
  return db.query<{
    type: string;
    event_key: string;
    envelope: { data: Record<string, unknown>; key: string };
  }>(
    `SELECT type, event_key, envelope FROM ${schema}.outbox WHERE envelope->'data'->>'${field}' = $1 ORDER BY seq`,
    [value],
  );
}

export const customer = (name: string) =>
  stableId(`test-customer:${name}:${process.pid}:${Date.now()}`);

/** The field of an outbox event's data that names the order, in each service the saga calls. */
const ORDER_FIELD = {
  orders: "orderId",
  products: "reservationId",
  payments: "orderId",
} as const;

/** The types of the events `service` wrote about an order, oldest first. */
export async function eventTypesFor(
  stack: Stack,
  service: keyof typeof ORDER_FIELD,
  orderId: string,
): Promise<string[]> {
  const events = await eventsFor(
    stack.subgraphs[service].db,
    service,
    ORDER_FIELD[service],
    orderId,
  );
  return events.map((event) => event.type);
}
