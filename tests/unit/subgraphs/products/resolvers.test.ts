import { describe, expect, it } from "vitest";
import {
  formatMinorUnits,
  MAX_PAYMENT_MINOR,
  MIN_PAYMENT_MINOR,
} from "../../../../platform/scalars.ts";
import {
  resolvers,
  type ProductsContext,
} from "../../../../subgraphs/products/resolvers.ts";
import type { ProductRow } from "../../../../subgraphs/products/repository.ts";

type CreateProduct = (
  root: unknown,
  args: { input: Record<string, unknown> },
  context: ProductsContext,
) => Promise<{ price: string }>;
// The generated type admits `{ resolve }` objects too; this one is a plain function.
const createProduct = (
  resolvers.Mutation as unknown as { createProduct: CreateProduct }
).createProduct;

/** A repository that stores nothing: these tests are about what reaches it. */
const context = {
  repo: {
    insert: async (row: Omit<ProductRow, "created_at" | "updated_at">) => row,
  },
} as unknown as ProductsContext;

const create = (price: string) =>
  createProduct(
    undefined,
    { input: { sku: "SKU-1", name: "Lamp", price } },
    context,
  );

describe("createProduct prices", () => {
  it("accepts exactly the amounts payments can charge, from the smallest to the largest", async () => {
    for (const minor of [MIN_PAYMENT_MINOR, 1999, MAX_PAYMENT_MINOR])
      expect((await create(formatMinorUnits(minor))).price).toBe(
        formatMinorUnits(minor),
      );
  });

  it.each([
    ["0.00", "free: payments refuses a zero charge"],
    ["-1.00", "negative"],
    [
      formatMinorUnits(MAX_PAYMENT_MINOR + 1),
      "one cent above the largest payment",
    ],
    ["9999999999999.99", "the largest Decimal"],
  ])("refuses %s (%s) with BAD_USER_INPUT on input.price", async (price) => {
    await expect(create(price)).rejects.toMatchObject({
      extensions: { code: "BAD_USER_INPUT", field: "input.price" },
    });
  });
});
