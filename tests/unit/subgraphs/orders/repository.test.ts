import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Database } from "../../../../platform/database.ts";
import { demoOrders, demoUsers } from "../../../../platform/demo-data.ts";
import {
  createOrderRepository,
  type OrderRepository,
} from "../../../../subgraphs/orders/repository.ts";
import { ordersModule } from "../../../../subgraphs/orders/server.ts";
import { withStatementCount } from "../../../support/statements.ts";
import { withMigratedDb } from "../../../support/subgraph.ts";
import { ORDERS_OPTIONS_UNUSED } from "../../../support/subgraph-options.ts";

describe("the orders repository on PGlite (reads)", () => {
  let db: Database;
  let repo: OrderRepository;
  const newestFirst = (userId: string) =>
    demoOrders
      .filter((order) => order.userId === userId)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));

  withMigratedDb(ordersModule(ORDERS_OPTIONS_UNUSED), (opened) => {
    db = opened;
    repo = createOrderRepository(db);
  });

  it("reads orders by id and their items by order id, each in one statement and key order", async () => {
    const [a, b] = [demoOrders[2]!, demoOrders[5]!];
    const missing = randomUUID();
    const [orders, orderStatements] = await withStatementCount(db, () =>
      repo.ordersByIds([b.id, missing, a.id]),
    );
    expect(orders.map((row) => row?.id ?? null)).toEqual([b.id, null, a.id]);
    expect(orderStatements).toBe(1);
    const [items, itemStatements] = await withStatementCount(db, () =>
      repo.itemsByOrderIds([a.id, missing, b.id]),
    );
    expect(itemStatements).toBe(1);
    expect(
      items.map((list) => list.map((item) => [item.product_id, item.quantity])),
    ).toEqual([
      a.items.map((item) => [item.productId, item.quantity]),
      [],
      b.items.map((item) => [item.productId, item.quantity]),
    ]);
  });

  it("pages several users’ orders newest first in one statement, with totals and cursors that continue", async () => {
    const [ada, grace] = [demoUsers[1]!, demoUsers[2]!];
    const nobody = randomUUID();
    const [[adaPage, nobodyPage, gracePage], statements] =
      await withStatementCount(db, () =>
        repo.pagesByUsers([ada.id, nobody, grace.id], {
          limit: 1,
          after: undefined,
        }),
      );
    expect(statements).toBeLessThanOrEqual(2);
    expect(adaPage!.totalCount).toBe(newestFirst(ada.id).length);
    expect(adaPage!.rows.map((row) => row.id)).toEqual(
      newestFirst(ada.id)
        .slice(0, 2)
        .map((order) => order.id),
    );
    expect(gracePage!.rows[0]!.id).toBe(newestFirst(grace.id)[0]!.id);
    expect(nobodyPage).toEqual({ rows: [], totalCount: 0 });

    const last = adaPage!.rows[0]!;
    const [next] = await repo.pagesByUsers([ada.id], {
      limit: 10,
      after: [new Date(last.created_at).toISOString(), last.id],
    });
    expect(next!.rows.map((row) => row.id)).toEqual(
      newestFirst(ada.id)
        .slice(1)
        .map((order) => order.id),
    );
  });
});
