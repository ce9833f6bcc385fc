import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Database } from "../../../../platform/database.ts";
import { demoUsers } from "../../../../platform/demo-data.ts";
import { orderSql } from "../../../../subgraphs/orders/repository.ts";
import { ordersModule } from "../../../../subgraphs/orders/server.ts";
import { withMigratedDb } from "../../../support/subgraph.ts";
import { ORDERS_OPTIONS_UNUSED } from "../../../support/subgraph-options.ts";

describe("the orders repository on PGlite (writes and saga state)", () => {
  let db: Database;
  const userId = demoUsers[0]!.id;

  const placedEvent = (orderId: string) => ({
    type: "orders.order.placed",
    key: userId,
    data: { orderId, userId, items: [], total: 1500, currency: "USD" },
  });
  const finishedEvent = (orderId: string, status: string) => ({
    type:
      status === "CONFIRMED" ? "orders.order.confirmed" : "orders.order.failed",
    key: userId,
    data: { orderId, userId, status, total: 1500, currency: "USD" },
  });
  const eventsOf = async (orderId: string) =>
    (
      await db.query<{ type: string }>(
        "SELECT type FROM orders.outbox WHERE envelope->'data'->>'orderId' = $1 ORDER BY seq",
        [orderId],
      )
    ).map((row) => row.type);

  async function placed(
    items: Array<{
      productId: string;
      quantity: number;
      unitPriceMinor: number;
    }> = [],
    leaseSeconds = 60,
    start: Parameters<typeof orderSql.insert>[1]["start"] = { step: "PAY" },
  ) {
    const id = randomUUID();
    const key = `k-${id}`;
    const row = await orderSql.insert(
      db,
      {
        id,
        userId,
        totalMinor: 1500,
        currency: "USD",
        idempotencyKey: key,
        requestHash: "h",
        paymentToken: "tok_visa",
        correlationId: null,
        leaseSeconds,
        items,
        start,
      },
      placedEvent(id),
    );
    expect(row).toMatchObject({ id });
    return { id, key, row };
  }

  withMigratedDb(
    ordersModule(ORDERS_OPTIONS_UNUSED),
    (opened) => {
      db = opened;
    },
    { seed: false },
  );

  it("inserts one PENDING order per user and key at step PAY (its stock reserved, payment about to be attempted), already claimed, with its items in position order and its event, in one statement", async () => {
    const [first, second] = [randomUUID(), randomUUID()];
    const before = db.queryCount;
    const { id, key, row } = await placed([
      { productId: first, quantity: 1, unitPriceMinor: 500 },
      { productId: second, quantity: 2, unitPriceMinor: 500 },
    ]);
    expect(db.queryCount - before).toBe(1);
    // What a claim would answer after advancing to PAY: the lease is this caller's, both marked attempted.
    expect(row).toEqual({
      id,
      user_id: userId,
      status: "PENDING",
      total_minor: 1500,
      currency: "USD",
      payment_token: "tok_visa",
      failure_code: null,
      saga_step: "PAY",
      reserve_attempted: true,
      payment_attempted: true,
      correlation_id: null,
      items: [
        { productId: first, quantity: 1 },
        { productId: second, quantity: 2 },
      ],
    });
    expect(await orderSql.claim(db, id, 60)).toBeUndefined();
    expect(await orderSql.due(db, 1000)).not.toContain(id);
    const duplicate = randomUUID();
    expect(
      await orderSql.insert(
        db,
        {
          id: duplicate,
          userId,
          totalMinor: 1,
          currency: "USD",
          idempotencyKey: key,
          requestHash: "other",
          paymentToken: "tok_visa",
          correlationId: null,
          leaseSeconds: 60,
          items: [{ productId: first, quantity: 9, unitPriceMinor: 1 }],
          start: { step: "PAY" },
        },
        placedEvent(duplicate),
      ),
    ).toBeUndefined();
    expect(await orderSql.items(db, duplicate)).toEqual([]);
    expect(await eventsOf(duplicate)).toEqual([]);
    expect(await eventsOf(id)).toEqual(["orders.order.placed"]);
    expect(await orderSql.items(db, id)).toEqual([
      { productId: first, quantity: 1 },
      { productId: second, quantity: 2 },
    ]);
    expect(await orderSql.record(db, id)).toMatchObject({
      id,
      status: "PENDING",
      saga_step: "PAY",
      request_hash: "h",
      total_minor: 1500,
    });
    expect(await orderSql.recordByKey(db, userId, key)).toMatchObject({ id });
    expect(await orderSql.recordByKey(db, randomUUID(), key)).toBeUndefined();
  });

  it("inserts an order refused before it existed at step COMPENSATE with its code, releasing its id but paying nothing", async () => {
    const { row } = await placed(
      [{ productId: randomUUID(), quantity: 1, unitPriceMinor: 1500 }],
      60,
      { step: "COMPENSATE", failureCode: "INSUFFICIENT_STOCK" },
    );
    expect(row).toMatchObject({
      status: "PENDING",
      saga_step: "COMPENSATE",
      failure_code: "INSUFFICIENT_STOCK",
      reserve_attempted: true,
      payment_attempted: false,
    });
  });

  it("leases a saga to one runner (with its items), moves it only from the step it is at, and finishes it", async () => {
    const productId = randomUUID();
    // Inserted with its lease already expired, as after a crash right after the insert.
    const { id } = await placed(
      [{ productId, quantity: 3, unitPriceMinor: 500 }],
      -1,
    );
    expect(await orderSql.due(db, 1000)).toContain(id);
    expect(await orderSql.claim(db, id, 60)).toMatchObject({
      id,
      saga_step: "PAY",
      reserve_attempted: true,
      payment_attempted: true,
      correlation_id: null,
      items: [{ productId, quantity: 3 }],
    });
    expect(await orderSql.claim(db, id, 60)).toBeUndefined();
    expect(await orderSql.due(db, 1000)).not.toContain(id);

    await orderSql.setAttempted(db, id, "reserve_attempted", true);
    expect(
      await orderSql.advance(db, id, "COMMIT", "DONE", null),
    ).toBeUndefined();
    expect(
      await orderSql.advance(db, id, "PAY", "COMPENSATE", "INSUFFICIENT_STOCK"),
    ).toMatchObject({
      saga_step: "COMPENSATE",
      failure_code: "INSUFFICIENT_STOCK",
      reserve_attempted: true,
    });
    // A later advance without a code keeps the first one.
    expect(
      await orderSql.advance(db, id, "COMPENSATE", "COMPENSATE", null),
    ).toMatchObject({ failure_code: "INSUFFICIENT_STOCK" });
    expect(
      await orderSql.finish(
        db,
        id,
        "RESERVE",
        "FAILED",
        finishedEvent(id, "FAILED"),
      ),
    ).toBeUndefined();
    expect(await eventsOf(id)).toEqual(["orders.order.placed"]);
    expect(
      await orderSql.finish(
        db,
        id,
        "COMPENSATE",
        "FAILED",
        finishedEvent(id, "FAILED"),
      ),
    ).toMatchObject({
      status: "FAILED",
      saga_step: "DONE",
      failure_code: "INSUFFICIENT_STOCK",
    });
    expect(await eventsOf(id)).toEqual([
      "orders.order.placed",
      "orders.order.failed",
    ]);
    expect(await orderSql.claim(db, id, 60)).toBeUndefined();
  });

  it("offers an expired lease to the resumer, and cancels only a confirmed, finished order", async () => {
    const { id } = await placed([], -1);
    expect(await orderSql.due(db, 1000)).toContain(id);
    await orderSql.claim(db, id, 60);
    await orderSql.extendLease(db, id, -1);
    expect(await orderSql.due(db, 1000)).toContain(id);

    expect(await orderSql.startCancel(db, id)).toBe(false);
    await orderSql.advance(db, id, "PAY", "COMMIT", null);
    await orderSql.finish(
      db,
      id,
      "COMMIT",
      "CONFIRMED",
      finishedEvent(id, "CONFIRMED"),
    );
    expect(await orderSql.startCancel(db, id)).toBe(true);
    expect(await orderSql.record(db, id)).toMatchObject({
      status: "CONFIRMED",
      saga_step: "CANCEL",
    });
    expect(await orderSql.startCancel(db, id)).toBe(false);
  });
});
