import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database, Storage } from "../../../../platform/database.ts";
import { demoUsers } from "../../../../platform/demo-data.ts";
import { orderSql } from "../../../../subgraphs/orders/repository.ts";
import { ordersModule } from "../../../../subgraphs/orders/server.ts";
import { memoryStorage, migratedDb } from "../../../support/subgraph.ts";

describe("the orders repository on PGlite (writes and saga state)", () => {
  let storage: Storage;
  let db: Database;
  const userId = demoUsers[0]!.id;

  async function placed() {
    const id = randomUUID();
    const key = `k-${id}`;
    expect(
      await orderSql.insert(db, {
        id,
        userId,
        totalMinor: 1500,
        currency: "USD",
        idempotencyKey: key,
        requestHash: "h",
        paymentToken: "tok_visa",
        correlationId: null,
      }),
    ).toBe(true);
    return { id, key };
  }

  beforeAll(async () => {
    storage = await memoryStorage();
    const options = {
      internalServiceSecret: "unused",
      productsInternalUrl: "http://127.0.0.1:1",
      paymentsInternalUrl: "http://127.0.0.1:1",
      serviceTimeoutMs: 1,
      placeOrderWaitMs: 1,
      sagaResumeIntervalMs: 3_600_000,
      sagaLeaseMs: 1,
    };
    db = await migratedDb(ordersModule(options), storage, { seed: false });
  });
  afterAll(async () => {
    await storage?.close();
  });

  it("inserts one PENDING order per user and key at step RESERVE, with its items in position order", async () => {
    const { id, key } = await placed();
    expect(
      await orderSql.insert(db, {
        id: randomUUID(),
        userId,
        totalMinor: 1,
        currency: "USD",
        idempotencyKey: key,
        requestHash: "other",
        paymentToken: "tok_visa",
        correlationId: null,
      }),
    ).toBe(false);
    const [first, second] = [randomUUID(), randomUUID()];
    await orderSql.insertItem(db, id, {
      position: 1,
      productId: second,
      quantity: 2,
      unitPriceMinor: 500,
    });
    await orderSql.insertItem(db, id, {
      position: 0,
      productId: first,
      quantity: 1,
      unitPriceMinor: 500,
    });
    expect(await orderSql.items(db, id)).toEqual([
      { productId: first, quantity: 1 },
      { productId: second, quantity: 2 },
    ]);
    expect(await orderSql.record(db, id)).toMatchObject({
      id,
      status: "PENDING",
      saga_step: "RESERVE",
      request_hash: "h",
      total_minor: 1500,
    });
    expect(await orderSql.recordByKey(db, userId, key)).toMatchObject({ id });
    expect(await orderSql.recordByKey(db, randomUUID(), key)).toBeUndefined();
  });

  it("leases a saga to one runner, moves it only from the step it is at, and finishes it", async () => {
    const { id } = await placed();
    expect(await orderSql.claim(db, id, 60)).toMatchObject({
      id,
      saga_step: "RESERVE",
      reserve_attempted: false,
      correlation_id: null,
    });
    expect(await orderSql.claim(db, id, 60)).toBeUndefined();
    expect(await orderSql.due(db, 1000)).not.toContain(id);

    await orderSql.setAttempted(db, id, "reserve_attempted", true);
    expect(
      await orderSql.advance(db, id, "PAY", "COMMIT", null),
    ).toBeUndefined();
    expect(
      await orderSql.advance(
        db,
        id,
        "RESERVE",
        "COMPENSATE",
        "INSUFFICIENT_STOCK",
      ),
    ).toMatchObject({
      saga_step: "COMPENSATE",
      failure_code: "INSUFFICIENT_STOCK",
      reserve_attempted: true,
    });
    // A later advance without a code keeps the first one.
    expect(
      await orderSql.advance(db, id, "COMPENSATE", "COMPENSATE", null),
    ).toMatchObject({ failure_code: "INSUFFICIENT_STOCK" });
    expect(await orderSql.finish(db, id, "RESERVE", "FAILED")).toBeUndefined();
    expect(await orderSql.finish(db, id, "COMPENSATE", "FAILED")).toMatchObject(
      { status: "FAILED", saga_step: "DONE" },
    );
    expect(await orderSql.claim(db, id, 60)).toBeUndefined();
  });

  it("offers an expired lease to the resumer, and cancels only a confirmed, finished order", async () => {
    const { id } = await placed();
    expect(await orderSql.due(db, 1000)).toContain(id);
    await orderSql.claim(db, id, 60);
    await orderSql.extendLease(db, id, -1);
    expect(await orderSql.due(db, 1000)).toContain(id);

    expect(await orderSql.startCancel(db, id)).toBe(false);
    await orderSql.advance(db, id, "RESERVE", "COMMIT", null);
    await orderSql.finish(db, id, "COMMIT", "CONFIRMED");
    expect(await orderSql.startCancel(db, id)).toBe(true);
    expect(await orderSql.record(db, id)).toMatchObject({
      status: "CONFIRMED",
      saga_step: "CANCEL",
    });
    expect(await orderSql.startCancel(db, id)).toBe(false);
  });
});
