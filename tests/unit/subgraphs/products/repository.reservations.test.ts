import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Database } from "../../../../platform/database.ts";
import {
  insertProduct,
  reservationSql,
} from "../../../../subgraphs/products/repository.ts";
import { productsModule } from "../../../../subgraphs/products/server.ts";
import { stockIn } from "../../../support/stock.ts";
import { withMigratedDb } from "../../../support/subgraph.ts";
import { PRODUCTS_OPTIONS_UNUSED } from "../../../support/subgraph-options.ts";

describe("the reservation SQL of the products repository on PGlite", () => {
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
  const stockOf = (id: string) => stockIn(db, id);

  withMigratedDb(
    productsModule(PRODUCTS_OPTIONS_UNUSED),
    (opened) => {
      db = opened;
    },
    { seed: false },
  );

  const reserved = (
    reservationId: string,
    userId: string,
    productIds: string[],
  ) => ({
    type: "products.stock.reserved",
    key: userId,
    data: {
      reservationId,
      userId,
      items: productIds.map((productId) => ({ productId, quantity: 1 })),
    },
  });
  /** Reserves through reservationSql.reserve with a TTL of 60 s. */
  const reserve = (
    reservationId: string,
    userId: string,
    items: Array<{ productId: string; quantity: number }>,
  ) =>
    reservationSql.reserve(
      db,
      { reservationId, userId, ttlSeconds: 60, items },
      reserved(
        reservationId,
        userId,
        items.map((item) => item.productId),
      ),
    );
  const outboxOf = (reservationId: string) =>
    db.query(
      "SELECT type FROM products.outbox WHERE envelope->'data'->>'reservationId' = $1",
      [reservationId],
    );

  it("reserves in one statement: the priced lines, the units taken and the event, or nothing at all", async () => {
    const [first, second] = [await product(3), await product(1)];
    const userId = randomUUID();
    const id = randomUUID();
    const before = db.queryCount;
    expect(
      await reserve(id, userId, [
        { productId: second, quantity: 1 },
        { productId: first, quantity: 2 },
      ]),
    ).toEqual({
      id,
      user_id: userId,
      status: "RESERVED",
      items: [
        {
          productId: second,
          quantity: 1,
          unitPriceMinor: 750,
          currency: "EUR",
        },
        { productId: first, quantity: 2, unitPriceMinor: 750, currency: "EUR" },
      ],
    });
    expect(db.queryCount - before).toBe(1);
    expect([await stockOf(first), await stockOf(second)]).toEqual([1, 0]);
    expect(await outboxOf(id)).toEqual([{ type: "products.stock.reserved" }]);

    // One line short, one unknown, or the id taken: nothing written, no units taken.
    const short = randomUUID();
    expect(
      await reserve(short, userId, [
        { productId: first, quantity: 1 },
        { productId: second, quantity: 1 },
      ]),
    ).toBeUndefined();
    const unknown = randomUUID();
    expect(
      await reserve(unknown, userId, [
        { productId: first, quantity: 1 },
        { productId: randomUUID(), quantity: 1 },
      ]),
    ).toBeUndefined();
    expect(
      await reserve(id, userId, [{ productId: first, quantity: 1 }]),
    ).toBeUndefined();
    expect([await stockOf(first), await stockOf(second)]).toEqual([1, 0]);
    for (const refused of [short, unknown])
      expect([
        await reservationSql.find(db, refused),
        await outboxOf(refused),
      ]).toEqual([undefined, []]);
    expect(await outboxOf(id)).toHaveLength(1);

    await reservationSql.returnStock(db, first, 2);
    expect(await stockOf(first)).toBe(3);
    const missing = randomUUID();
    expect(await reservationSql.stock(db, [first, missing])).toEqual(
      new Map([
        [
          first,
          {
            inventory: 3,
            price: { productId: first, unitPriceMinor: 750, currency: "EUR" },
          },
        ],
      ]),
    );
  });

  it("commits only a live reservation, and a tombstone never overwrites nor lets a late reserve in", async () => {
    const productId = await product(5);
    const id = randomUUID();
    const userId = randomUUID();
    const items = [
      { productId, quantity: 1, unitPriceMinor: 750, currency: "EUR" },
    ];
    await reserve(id, userId, [{ productId, quantity: 1 }]);
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
      await reserve(unknown, userId, [{ productId, quantity: 1 }]),
    ).toBeUndefined();
    expect(await stockOf(productId)).toBe(4);
  });

  it("locks only RESERVED reservations past their expiry", async () => {
    const [expired, fresh, sold] = [randomUUID(), randomUUID(), randomUUID()];
    const productId = await product(3);
    for (const id of [expired, fresh, sold])
      await reserve(id, randomUUID(), [{ productId, quantity: 1 }]);
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
