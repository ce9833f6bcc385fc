import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database, Storage } from "../../../../platform/database.ts";
import {
  insertProduct,
  reservationSql,
} from "../../../../subgraphs/products/repository.ts";
import { productsModule } from "../../../../subgraphs/products/server.ts";
import { memoryStorage, migratedDb } from "../../../support/subgraph.ts";

describe("the reservation SQL of the products repository on PGlite", () => {
  let storage: Storage;
  let db: Database;
  let counter = 0;

  async function product(units: number): Promise<string> {
    counter += 1;
    const id = randomUUID();
    await insertProduct(db, {
      id,
      sku: `RS-${counter}`,
      name: `Reservation SQL ${counter}`,
      description: "",
      price_minor: 750,
      currency: "EUR",
      inventory: units,
    });
    return id;
  }
  const stockOf = async (id: string) =>
    (
      await db.query<{ inventory: number }>(
        "SELECT inventory FROM products.products WHERE id = $1",
        [id],
      )
    )[0]!.inventory;

  beforeAll(async () => {
    storage = await memoryStorage();
    db = await migratedDb(
      productsModule({
        internalServiceSecret: "unused",
        reservationTtlSeconds: 900,
        reservationSweepIntervalMs: 3_600_000,
      }),
      storage,
      { seed: false },
    );
  });
  afterAll(async () => {
    await storage?.close();
  });

  it("takes stock only while enough is left, at the current price, and gives it back", async () => {
    const id = await product(3);
    expect(await reservationSql.takeStock(db, id, 2)).toEqual({
      unitPriceMinor: 750,
      currency: "EUR",
    });
    expect(await reservationSql.takeStock(db, id, 2)).toBeUndefined();
    expect(await stockOf(id)).toBe(1);
    await reservationSql.returnStock(db, id, 2);
    expect(await stockOf(id)).toBe(3);
    expect(await reservationSql.productExists(db, id)).toBe(true);
    expect(await reservationSql.productExists(db, randomUUID())).toBe(false);
    expect(await reservationSql.prices(db, [id, randomUUID()])).toEqual([
      { productId: id, unitPriceMinor: 750, currency: "EUR" },
    ]);
  });

  it("claims an id once, commits only a live reservation, and a tombstone never overwrites", async () => {
    const id = randomUUID();
    const userId = randomUUID();
    expect(
      await reservationSql.claim(db, {
        reservationId: id,
        userId,
        ttlSeconds: 60,
      }),
    ).toBe(true);
    expect(
      await reservationSql.claim(db, {
        reservationId: id,
        userId,
        ttlSeconds: 60,
      }),
    ).toBe(false);
    const items = [
      {
        productId: randomUUID(),
        quantity: 1,
        unitPriceMinor: 5,
        currency: "USD",
      },
    ];
    const before = db.queryCount;
    await reservationSql.saveItems(db, id, items, {
      type: "products.stock.reserved",
      key: userId,
      data: {
        reservationId: id,
        userId,
        items: [{ productId: items[0]!.productId, quantity: 1 }],
      },
    });
    expect(db.queryCount - before).toBe(1);
    expect(
      await db.query(
        "SELECT type FROM products.outbox WHERE envelope->'data'->>'reservationId' = $1",
        [id],
      ),
    ).toEqual([{ type: "products.stock.reserved" }]);
    await reservationSql.tombstone(db, id);
    expect(await reservationSql.find(db, id)).toEqual({
      id,
      user_id: userId,
      status: "RESERVED",
      items,
    });
    expect(await reservationSql.commit(db, id)).toMatchObject({
      id,
      status: "COMMITTED",
    });
    await reservationSql.markReleased(db, id);
    expect(await reservationSql.commit(db, id)).toBeUndefined();

    const unknown = randomUUID();
    await reservationSql.tombstone(db, unknown);
    expect(
      await reservationSql.find(db, unknown, { forUpdate: true }),
    ).toMatchObject({ status: "RELEASED", user_id: null });
    expect(
      await reservationSql.claim(db, {
        reservationId: unknown,
        userId,
        ttlSeconds: 60,
      }),
    ).toBe(false);
  });

  it("locks only RESERVED reservations past their expiry", async () => {
    const [expired, fresh, sold] = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of [expired, fresh, sold])
      await reservationSql.claim(db, {
        reservationId: id,
        userId: randomUUID(),
        ttlSeconds: 60,
      });
    await db.query(
      `UPDATE products.reservations SET expires_at = now() - interval '1 minute' WHERE id = ANY($1::uuid[])`,
      [[expired, sold]],
    );
    await reservationSql.commit(db, sold);
    const locked = await db.transaction((tx) =>
      reservationSql.lockExpired(tx, 100),
    );
    expect(locked.map((row) => row.id)).toContain(expired);
    expect(locked.map((row) => row.id)).not.toContain(fresh);
    expect(locked.map((row) => row.id)).not.toContain(sold);
  });

  it("seeds idempotently: an existing product is left as it is", async () => {
    const id = await product(4);
    expect(
      await insertProduct(
        db,
        {
          id,
          sku: "OTHER",
          name: "Other",
          description: "",
          price_minor: 1,
          currency: "USD",
          inventory: 99,
        },
        { ignoreExisting: true },
      ),
    ).toBeUndefined();
    expect(await stockOf(id)).toBe(4);
  });
});
