import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Database } from "../../../../platform/database.ts";
import { demoPayments } from "../../../../platform/demo-data.ts";
import {
  createPaymentRepository,
  type PaymentRepository,
} from "../../../../subgraphs/payments/repository.ts";
import { paymentsModule } from "../../../../subgraphs/payments/server.ts";
import { withMigratedDb } from "../../../support/subgraph.ts";
import { paymentsOptionsUnused } from "../../../support/subgraph-options.ts";

describe("the payments repository on PGlite", () => {
  let db: Database;
  let repo: PaymentRepository;

  withMigratedDb(paymentsModule(paymentsOptionsUnused()), (opened) => {
    db = opened;
    repo = createPaymentRepository(db);
  });

  it("reads payments by id in one statement, in key order, null where missing", async () => {
    const [a, b] = [demoPayments[0]!, demoPayments[1]!];
    const before = db.queryCount;
    const rows = await repo.paymentsByIds([b.id, randomUUID(), a.id]);
    expect(db.queryCount - before).toBe(1);
    expect(
      rows.map(
        (row) =>
          row && { id: row.id, amount: row.amount_minor, status: row.status },
      ),
    ).toEqual([
      { id: b.id, amount: b.amountMinor, status: b.status },
      null,
      { id: a.id, amount: a.amountMinor, status: a.status },
    ]);
  });

  it("gives each order its latest payment attempt, and null for an order never paid", async () => {
    const orderId = randomUUID();
    const userId = randomUUID();
    const insert = (status: string, at: string) =>
      db.query(
        `INSERT INTO payments.payments (id, order_id, user_id, amount_minor, currency, status, created_at, updated_at) VALUES ($1, $2, $3, 500, 'USD', $4, $5, $5)`,
        [randomUUID(), orderId, userId, status, at],
      );
    await insert("DECLINED", "2026-11-01T10:00:00Z");
    await insert("CAPTURED", "2026-11-01T10:05:00Z");
    const paid = demoPayments[2]!;
    const latest = await repo.latestByOrderIds([
      orderId,
      randomUUID(),
      paid.orderId,
    ]);
    expect(latest.map((row) => row?.status ?? null)).toEqual([
      "CAPTURED",
      null,
      paid.status,
    ]);
  });
});
