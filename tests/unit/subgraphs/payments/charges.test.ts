import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Database } from "../../../../platform/database.ts";
import { silentLogger } from "../../../support/logger.ts";
import {
  createCharges,
  type Charges,
} from "../../../../subgraphs/payments/charges.ts";
import {
  createSimulatedProvider,
  TEST_CARDS,
} from "../../../../subgraphs/payments/provider.ts";
import { paymentsModule } from "../../../../subgraphs/payments/server.ts";
import { chargeRequest } from "../../../support/charge-requests.ts";
import { withMigratedDb } from "../../../support/subgraph.ts";

describe("charges and refunds (createCharges on PGlite)", () => {
  let db: Database;
  let charges: Charges;
  const request = (paymentToken: string = TEST_CARDS.approve) => ({
    ...chargeRequest({ amountMinor: 1250, currency: "USD" }),
    paymentToken,
  });
  const eventTypes = async (orderId: string) =>
    (
      await db.query<{ type: string }>(
        `SELECT type FROM payments.outbox WHERE envelope->'data'->>'orderId' = $1 ORDER BY seq`,
        [orderId],
      )
    ).map((row) => row.type);

  const provider = createSimulatedProvider({ timeoutMs: 20 });
  withMigratedDb(
    paymentsModule({ internalServiceSecret: "unused", provider }),
    (opened) => {
      db = opened;
      charges = createCharges({ db, provider, logger: silentLogger });
    },
    { seed: false },
  );

  it("charges once per key: a repeat answers the same payment, another amount under the key is key-reused", async () => {
    const charge = request();
    const first = await charges.charge(charge);
    expect(first).toMatchObject({
      kind: "charged",
      payment: {
        orderId: charge.orderId,
        status: "CAPTURED",
        amountMinor: 1250,
        currency: "USD",
      },
    });
    expect(await charges.charge(charge)).toEqual(first);
    expect(await charges.charge({ ...charge, amountMinor: 99 })).toEqual({
      kind: "key-reused",
    });
    expect(await eventTypes(charge.orderId)).toEqual([
      "payments.payment.captured",
    ]);
  });

  it("tells a decline from a provider failure", async () => {
    expect(await charges.charge(request(TEST_CARDS.decline))).toMatchObject({
      kind: "declined",
      payment: { status: "DECLINED" },
    });
    expect(await charges.charge(request(TEST_CARDS.error))).toMatchObject({
      kind: "failed",
      payment: { status: "FAILED" },
    });
  });

  it("a refund gives back a capture; before any charge it leaves a tombstone that voids the late charge", async () => {
    const charge = request();
    await charges.charge(charge);
    expect(await charges.refund(charge)).toMatchObject({
      kind: "given-back",
      payment: { orderId: charge.orderId, status: "REFUNDED" },
    });
    expect(await charges.charge(charge)).toMatchObject({
      kind: "charged",
      payment: { status: "REFUNDED" },
    });

    const late = request();
    expect(await charges.refund(late)).toMatchObject({
      kind: "given-back",
      payment: { status: "VOIDED" },
    });
    expect(await charges.charge(late)).toMatchObject({ kind: "key-reused" });
    expect(await charges.current(`charge:${randomUUID()}`)).toEqual({
      kind: "unknown-charge",
    });
  });
});
