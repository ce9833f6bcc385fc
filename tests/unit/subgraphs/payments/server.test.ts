import { describe, expect, it } from "vitest";
import { formatMinorUnits } from "../../../../platform/scalars.ts";
import { demoOrders, demoPayments } from "../../../../platform/demo-data.ts";
import { createSimulatedProvider } from "../../../../subgraphs/payments/provider.ts";
import {
  createPaymentsSubgraph,
  paymentsModule,
  type PaymentsOptions,
} from "../../../../subgraphs/payments/server.ts";
import { subgraphForTests } from "../../../support/subgraph.ts";
import {
  errorCodeOf,
  expectOwnerAndAdminsOnly,
  readersOf,
} from "../../../support/subgraph-access.ts";

const OPTIONS: PaymentsOptions = {
  internalServiceSecret: "payments-unit-test-secret",
  provider: createSimulatedProvider({ timeoutMs: 50 }),
};
const captured = demoPayments.find((payment) => payment.status === "CAPTURED")!;
const readers = readersOf(captured.userId);
const { owner, admin } = readers;
const UNKNOWN = "00000000-0000-4000-8000-000000000000";
const orderWithoutPayment = demoOrders.find(
  (order) => !demoPayments.some((payment) => payment.orderId === order.id),
)!;

describe("the payments subgraph (createPaymentsSubgraph, in-process on PGlite)", () => {
  const payments = subgraphForTests(paymentsModule(OPTIONS), (deps) =>
    createPaymentsSubgraph(deps, OPTIONS),
  );

  it("shows a payment to its payer and to admins, FORBIDDEN to other customers, UNAUTHENTICATED to nobody", async () => {
    const query =
      "query($id: ID!) { payment(id: $id) { id amount currency status order { id } } }";
    const expected = {
      id: captured.id,
      amount: formatMinorUnits(captured.amountMinor),
      currency: "USD",
      status: "CAPTURED",
      order: { id: captured.orderId },
    };
    await expectOwnerAndAdminsOnly(
      payments,
      readers,
      { document: query, variables: { id: captured.id }, field: "payment" },
      expected,
    );
    expect(await errorCodeOf(payments, query, { id: UNKNOWN }, admin)).toBe(
      "NOT_FOUND",
    );
  });

  it("adds payment to the router’s Order entities: the payment of a paid order, null for an order without one", async () => {
    const { data, errors } = await payments.query(
      "query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id payment { id status } } } }",
      {
        r: [
          { __typename: "Order", id: captured.orderId },
          { __typename: "Order", id: orderWithoutPayment.id },
        ],
      },
      owner,
    );
    expect(errors).toBeUndefined();
    expect(data._entities).toEqual([
      {
        id: captured.orderId,
        payment: { id: captured.id, status: "CAPTURED" },
      },
      { id: orderWithoutPayment.id, payment: null },
    ]);
  });

  it("refunds for admins only, and answers NOT_FOUND for an unknown payment", async () => {
    const refund =
      "mutation($id: ID!) { refundPayment(id: $id) { id status } }";
    expect(
      await errorCodeOf(payments, refund, { id: captured.id }, owner),
    ).toBe("FORBIDDEN");
    expect(await errorCodeOf(payments, refund, { id: UNKNOWN }, admin)).toBe(
      "NOT_FOUND",
    );
    const refunded = await payments.query(refund, { id: captured.id }, admin);
    expect(refunded.errors).toBeUndefined();
    expect(refunded.data.refundPayment).toEqual({
      id: captured.id,
      status: "REFUNDED",
    });
  });
});
