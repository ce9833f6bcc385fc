import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Database } from "../../../../platform/database.ts";
import {
  createInventory,
  type Inventory,
} from "../../../../subgraphs/products/inventory.ts";
import { productsModule } from "../../../../subgraphs/products/server.ts";
import { stockIn } from "../../../support/stock.ts";
import { withMigratedDb } from "../../../support/subgraph.ts";
import { PRODUCTS_OPTIONS_UNUSED } from "../../../support/subgraph-options.ts";

describe("stock reservations (createInventory on PGlite)", () => {
  let db: Database;
  let inventory: Inventory;
  let counter = 0;

  /** A product of its own with `units` in stock at 10.00, so tests never share stock. */
  async function product(units: number): Promise<string> {
    counter += 1;
    const id = randomUUID();
    await db.query(
      `INSERT INTO products.products (id, sku, name, description, price_minor, currency, inventory) VALUES ($1, $2, $3, '', 1000, 'USD', $4)`,
      [id, `INV-${counter}`, `Inventory test ${counter}`, units],
    );
    return id;
  }
  const stockOf = (id: string) => stockIn(db, id);
  const reservationsOf = async (id: string) =>
    db.query<{ status: string }>(
      "SELECT status FROM products.reservations WHERE id = $1",
      [id],
    );
  const outboxTypes = async (reservationId: string) =>
    (
      await db.query<{ type: string }>(
        `SELECT type FROM products.outbox WHERE envelope->'data'->>'reservationId' = $1 ORDER BY seq`,
        [reservationId],
      )
    ).map((row) => row.type);

  /** Reserves `items` for a user of its own, under `reservationId`. */
  const reserve = (
    items: Array<{ productId: string; quantity: number }>,
    reservationId: string = randomUUID(),
  ) => inventory.reserve({ reservationId, userId: randomUUID(), items });
  /** A product of its own with `units` in stock, and a reservation of `quantity` of it. */
  async function reserveOfNew(units: number, quantity: number) {
    const id = await product(units);
    const reservationId = randomUUID();
    const reply = await reserve([{ productId: id, quantity }], reservationId);
    return { id, reservationId, reply };
  }
  /** Backdates a reservation's expiry, so the sweeper finds it due. */
  const expire = (reservationId: string) =>
    db.query(
      `UPDATE products.reservations SET expires_at = now() - interval '1 minute' WHERE id = $1`,
      [reservationId],
    );

  withMigratedDb(
    productsModule(PRODUCTS_OPTIONS_UNUSED),
    (opened) => {
      db = opened;
      inventory = createInventory({ db, reservationTtlSeconds: 900 });
    },
    { seed: false },
  );

  it("takes the units of a reservation within stock, at the current price, and records the event", async () => {
    const { id, reservationId, reply } = await reserveOfNew(5, 5);
    expect(reply).toEqual({
      kind: "reserved",
      created: true,
      reservation: {
        reservationId,
        status: "RESERVED",
        items: [
          { productId: id, quantity: 5, unitPriceMinor: 1000, currency: "USD" },
        ],
      },
    });
    expect(await stockOf(id)).toBe(0);
    expect(await outboxTypes(reservationId)).toEqual([
      "products.stock.reserved",
    ]);
  });

  it("refuses more units than are in stock as insufficient-stock, and takes nothing", async () => {
    const { id, reservationId, reply } = await reserveOfNew(3, 4);
    // With the prices, so orders can record the refused order at what it would cost.
    expect(reply).toEqual({
      kind: "insufficient-stock",
      productId: id,
      prices: [{ productId: id, unitPriceMinor: 1000, currency: "USD" }],
    });
    expect(await stockOf(id)).toBe(3);
    // The whole reservation rolled back: no row, no event.
    expect(await reservationsOf(reservationId)).toEqual([]);
    expect(await outboxTypes(reservationId)).toEqual([]);
  });

  it("refuses a reservation whole when one of its products is short, giving back what the others had taken", async () => {
    const [plenty, scarce] = [await product(10), await product(1)];
    const reply = await reserve([
      { productId: plenty, quantity: 2 },
      { productId: scarce, quantity: 2 },
    ]);
    expect(reply).toEqual({
      kind: "insufficient-stock",
      productId: scarce,
      prices: [plenty, scarce].map((productId) => ({
        productId,
        unitPriceMinor: 1000,
        currency: "USD",
      })),
    });
    expect([await stockOf(plenty), await stockOf(scarce)]).toEqual([10, 1]);
  });

  it("quotes current prices of known products (for orders of the previous release), leaving unknown ids out", async () => {
    const id = await product(1);
    expect(await inventory.quote([id, randomUUID()])).toEqual([
      { productId: id, unitPriceMinor: 1000, currency: "USD" },
    ]);
  });

  it("reports an unknown product before a short one, whatever their id order", async () => {
    const scarce = await product(0);
    for (const unknown of [
      "00000000-0000-4000-8000-000000000000",
      "ffffffff-ffff-4fff-bfff-ffffffffffff",
    ])
      expect(
        await reserve([
          { productId: scarce, quantity: 1 },
          { productId: unknown, quantity: 1 },
        ]),
      ).toEqual({ kind: "unknown-product", productId: unknown });
  });

  it("never lets stock go below zero: of many reservations for the last units, only as many as there are units succeed", async () => {
    const id = await product(3);
    const replies = await Promise.all(
      Array.from({ length: 8 }, () =>
        reserve([{ productId: id, quantity: 1 }]),
      ),
    );
    expect(replies.filter((reply) => reply.kind === "reserved")).toHaveLength(
      3,
    );
    expect(
      replies.filter((reply) => reply.kind === "insufficient-stock"),
    ).toHaveLength(5);
    expect(await stockOf(id)).toBe(0);
  });

  it("answers unknown-product for an unknown product", async () => {
    const productId = randomUUID();
    expect(await reserve([{ productId, quantity: 1 }])).toEqual({
      kind: "unknown-product",
      productId,
    });
  });

  it("is idempotent by reservation id: a repeated reserve takes nothing more, a release gives back once, a late reserve after it takes nothing", async () => {
    const id = await product(4);
    const reservationId = randomUUID();
    const request = {
      reservationId,
      userId: randomUUID(),
      items: [{ productId: id, quantity: 3 }],
    };
    expect(await inventory.reserve(request)).toMatchObject({
      kind: "reserved",
      created: true,
    });
    expect(await inventory.reserve(request)).toMatchObject({
      kind: "reserved",
      created: false,
      reservation: { status: "RESERVED" },
    });
    expect(await stockOf(id)).toBe(1);

    await inventory.release(reservationId);
    await inventory.release(reservationId);
    expect(await stockOf(id)).toBe(4);
    expect(await inventory.reserve(request)).toEqual({
      kind: "released",
      reservationId,
    });
    expect(await stockOf(id)).toBe(4);
    expect(await outboxTypes(reservationId)).toEqual([
      "products.stock.reserved",
      "products.stock.released",
    ]);
  });

  it("a committed reservation is sold: the sweeper leaves it alone, and commit after a release is refused", async () => {
    const id = await product(2);
    const sold = randomUUID();
    await reserve([{ productId: id, quantity: 1 }], sold);
    expect(await inventory.commit(sold)).toMatchObject({
      kind: "committed",
      reservation: { reservationId: sold, status: "COMMITTED" },
    });
    await expire(sold);
    await inventory.sweepExpired();
    expect(await stockOf(id)).toBe(1);

    const released = randomUUID();
    await inventory.release(released);
    expect(await inventory.commit(released)).toEqual({
      kind: "released",
      reservationId: released,
    });
    expect(await inventory.commit(randomUUID())).toMatchObject({
      kind: "unknown-reservation",
    });
  });

  it("sweeps reservations whose order never committed them in time, giving their stock back", async () => {
    const id = await product(5);
    const stale = randomUUID();
    await reserve([{ productId: id, quantity: 2 }], stale);
    await expire(stale);
    expect(await inventory.sweepExpired()).toBeGreaterThanOrEqual(1);
    expect(await stockOf(id)).toBe(5);
    expect(await reservationsOf(stale)).toEqual([{ status: "RELEASED" }]);
  });
});
