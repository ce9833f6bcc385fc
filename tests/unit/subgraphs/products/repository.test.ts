import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Database } from "../../../../platform/database.ts";
import { demoProducts } from "../../../../platform/demo-data.ts";
import {
  createProductRepository,
  type ProductRepository,
} from "../../../../subgraphs/products/repository.ts";
import { productsModule } from "../../../../subgraphs/products/server.ts";
import { withStatementCount } from "../../../support/statements.ts";
import { withMigratedDb } from "../../../support/subgraph.ts";
import { PRODUCTS_OPTIONS_UNUSED } from "../../../support/subgraph-options.ts";

describe("the products repository on PGlite", () => {
  let db: Database;
  let repo: ProductRepository;

  withMigratedDb(productsModule(PRODUCTS_OPTIONS_UNUSED), (opened) => {
    db = opened;
    repo = createProductRepository(db);
  });

  it("reads any number of products in one statement, in the order asked, null where missing", async () => {
    const [a, b] = [demoProducts[3]!, demoProducts[7]!];
    const missing = randomUUID();
    const [rows, statements] = await withStatementCount(db, () =>
      repo.productsByIds([b.id, missing, a.id]),
    );
    expect(statements).toBe(1);
    expect(rows.map((row) => row?.sku ?? null)).toEqual([b.sku, null, a.sku]);
  });

  it("pages in SKU order with the total in one statement, and still counts on an empty page", async () => {
    const skus = demoProducts.map((product) => product.sku).sort();
    const [first, firstStatements] = await withStatementCount(db, () =>
      repo.page({ limit: 4, afterSku: undefined, search: undefined }),
    );
    expect(firstStatements).toBe(1);
    // limit + 1 rows: the extra one tells the caller a next page exists.
    expect(first.rows.map((row) => row.sku)).toEqual(skus.slice(0, 5));
    expect(first.totalCount).toBe(demoProducts.length);

    const [pastTheEnd, pastTheEndStatements] = await withStatementCount(
      db,
      () => repo.page({ limit: 4, afterSku: skus.at(-1), search: undefined }),
    );
    expect(pastTheEnd).toEqual({ rows: [], totalCount: demoProducts.length });
    expect(pastTheEndStatements).toBe(2);
  });

  it("searches names case-insensitively, with %, _ and \\ matched literally", async () => {
    const mugs = await repo.page({
      limit: 100,
      afterSku: undefined,
      search: "MUG",
    });
    expect(mugs.totalCount).toBe(
      demoProducts.filter((product) => /mug/i.test(product.name)).length,
    );
    await repo.insert({
      id: randomUUID(),
      sku: "LIT-1",
      name: "100% cotton_tote",
      description: "",
      price_minor: 100,
      currency: "USD",
      inventory: 1,
    });
    expect(
      (
        await repo.page({ limit: 100, afterSku: undefined, search: "100%" })
      ).rows.map((row) => row.sku),
    ).toEqual(["LIT-1"]);
    expect(
      (await repo.page({ limit: 100, afterSku: undefined, search: "c_tton" }))
        .totalCount,
    ).toBe(0);
    expect(
      (
        await repo.page({ limit: 100, afterSku: undefined, search: "%" })
      ).rows.map((row) => row.sku),
    ).toEqual(["LIT-1"]);
  });

  it("refuses a duplicate SKU with BAD_USER_INPUT, and restocks in one statement", async () => {
    const id = randomUUID();
    await repo.insert({
      id,
      sku: "DUP-1",
      name: "Once",
      description: "",
      price_minor: 100,
      currency: "USD",
      inventory: 2,
    });
    await expect(
      repo.insert({
        id: randomUUID(),
        sku: "DUP-1",
        name: "Twice",
        description: "",
        price_minor: 100,
        currency: "USD",
        inventory: 2,
      }),
    ).rejects.toMatchObject({
      extensions: { code: "BAD_USER_INPUT", field: "input.sku" },
    });
    await Promise.all([repo.restock(id, 3), repo.restock(id, 4)]);
    expect((await repo.productsByIds([id]))[0]!.inventory).toBe(9);
    expect(await repo.restock(randomUUID(), 1)).toBeUndefined();
  });
});
