import type { Database } from "../../platform/database.ts";

/** The units of `productId` in stock, read straight from the products schema on `db`. */
export async function stockIn(
  db: Database,
  productId: string,
): Promise<number> {
  const [row] = await db.query<{ inventory: number }>(
    "SELECT inventory FROM products.products WHERE id = $1",
    [productId],
  );
  return row!.inventory;
}
