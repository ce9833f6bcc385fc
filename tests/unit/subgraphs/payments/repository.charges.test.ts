import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Database } from "../../../../platform/database.ts";
import { chargeSql } from "../../../../subgraphs/payments/repository.ts";
import { paymentsModule } from "../../../../subgraphs/payments/server.ts";
import { chargeRequest } from "../../../support/charge-requests.ts";
import { withMigratedDb } from "../../../support/subgraph.ts";
import { paymentsOptionsUnused } from "../../../support/subgraph-options.ts";

describe("the charge SQL of the payments repository on PGlite", () => {
  let db: Database;
  const charge = () => chargeRequest({ amountMinor: 500, currency: "EUR" });

  withMigratedDb(
    paymentsModule(paymentsOptionsUnused()),
    (opened) => {
      db = opened;
    },
    { seed: false },
  );

  it("inserts one PENDING payment per key and finds it by key and by id", async () => {
    const request = charge();
    const row = await chargeSql.insertPending(db, request);
    expect(row).toMatchObject({
      order_id: request.orderId,
      status: "PENDING",
      amount_minor: 500,
      currency: "EUR",
      idempotency_key: request.idempotencyKey,
      provider_capture: null,
    });
    expect(
      await chargeSql.insertPending(db, { ...request, amountMinor: 1 }),
    ).toBeUndefined();
    expect(await chargeSql.byKey(db, request.idempotencyKey)).toEqual(row);
    expect(await chargeSql.byId(db, row!.id, { forUpdate: true })).toEqual(row);
    expect(await chargeSql.byKey(db, `charge:${randomUUID()}`)).toBeUndefined();
  });

  const eventFor = (row: { id: string; user_id: string }, status: string) => ({
    type: "payments.payment.captured",
    key: row.user_id,
    data: {
      paymentId: row.id,
      orderId: randomUUID(),
      userId: row.user_id,
      amount: 500,
      currency: "EUR",
      status,
      failureCode: null,
    },
  });
  const eventsOf = async (paymentId: string) =>
    (
      await db.query<{ count: number }>(
        "SELECT count(*)::int AS count FROM payments.outbox WHERE envelope->'data'->>'paymentId' = $1",
        [paymentId],
      )
    )[0]!.count;

  it("settles only a PENDING payment, keeping the provider references it is given, and writes its event in the same statement only then", async () => {
    const row = (await chargeSql.insertPending(db, charge()))!;
    const before = db.queryCount;
    expect(
      await chargeSql.settle(
        db,
        row.id,
        {
          status: "CAPTURED",
          authorization: "auth_1",
          capture: "cap_1",
        },
        eventFor(row, "CAPTURED"),
      ),
    ).toMatchObject({
      status: "CAPTURED",
      provider_authorization: "auth_1",
      provider_capture: "cap_1",
      failure_code: null,
    });
    expect(db.queryCount - before).toBe(1);
    expect(await eventsOf(row.id)).toBe(1);
    expect(
      await chargeSql.settle(
        db,
        row.id,
        {
          status: "FAILED",
          failureCode: "late",
        },
        eventFor(row, "FAILED"),
      ),
    ).toBeUndefined();
    expect(await eventsOf(row.id)).toBe(1);
    expect(await chargeSql.markRefunded(db, row.id)).toMatchObject({
      status: "REFUNDED",
    });

    const inFlight = (await chargeSql.insertPending(db, charge()))!;
    await chargeSql.voidInFlight(db, inFlight.id);
    expect(
      await chargeSql.settle(
        db,
        inFlight.id,
        { status: "CAPTURED" },
        eventFor(inFlight, "CAPTURED"),
      ),
    ).toBeUndefined();
    expect(await eventsOf(inFlight.id)).toBe(0);
    await chargeSql.recordProviderRefs(db, inFlight.id, {
      authorization: "auth_2",
      capture: "cap_2",
    });
    expect(await chargeSql.byId(db, inFlight.id)).toMatchObject({
      status: "VOIDED",
      failure_code: "voided_in_flight",
      provider_authorization: "auth_2",
      provider_capture: "cap_2",
    });
  });

  it("leaves a VOIDED tombstone only under a key never used", async () => {
    const unseen = charge();
    await chargeSql.voidedTombstone(db, unseen);
    expect(await chargeSql.byKey(db, unseen.idempotencyKey)).toMatchObject({
      status: "VOIDED",
      amount_minor: 0,
      failure_code: "voided_before_charge",
    });
    expect(await chargeSql.insertPending(db, unseen)).toBeUndefined();

    const used = charge();
    await chargeSql.insertPending(db, used);
    await chargeSql.voidedTombstone(db, used);
    expect(await chargeSql.byKey(db, used.idempotencyKey)).toMatchObject({
      status: "PENDING",
      amount_minor: 500,
    });
  });
});
