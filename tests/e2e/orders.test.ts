import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { demoUsers } from "../../platform/demo-data.ts";
import type { Stack } from "../../stack.ts";
import { pgliteBackend } from "../support/storage.ts";
import { bearerFor, gql, stackForFile } from "../support/stack.ts";
import { newProduct, paymentsFor, stockOf } from "../support/saga.ts";

const PLACE = `mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { id status total failureCode user { id name } items { product { id name } quantity unitPrice } payment { id status amount } }
}`;
const CANCEL = `mutation Cancel($id: ID!) { cancelOrder(id: $id) { id status payment { status } } }`;
const REFUND = `mutation Refund($id: ID!) { refundPayment(id: $id) { id status } }`;

describe("orders through the router", () => {
  const stackOf = stackForFile(pgliteBackend, {
    payments: { providerTimeoutMs: 50 },
  });
  let stack: Stack;
  let ada: Record<string, string>;
  let grace: Record<string, string>;
  let admin: Record<string, string>;

  beforeAll(async () => {
    stack = stackOf();
    ada = await bearerFor(stack.routerUrl, "ada@switchyard.dev");
    grace = await bearerFor(stack.routerUrl, "grace@switchyard.dev");
    admin = await bearerFor(stack.routerUrl, demoUsers[0]!.email);
  });

  /** Places an order of `quantity` × `product`, paid with a good card, as `caller` (anonymous by default). */
  const placeOrder = (
    product: string,
    quantity: number,
    caller: Record<string, string> = {},
  ) =>
    gql(
      stack.routerUrl,
      PLACE,
      {
        input: {
          idempotencyKey: randomUUID(),
          paymentToken: "tok_visa",
          items: [{ productId: product, quantity }],
        },
      },
      caller,
    );

  it("places an order for the signed-in customer and returns it with items, prices and payment", async () => {
    const product = await newProduct(stack, 5, 1999);
    const { data, errors } = await placeOrder(product, 2, ada);
    expect(errors).toBeUndefined();
    expect(data.placeOrder).toMatchObject({
      status: "CONFIRMED",
      total: "39.98",
      failureCode: null,
      user: {
        id: demoUsers.find((user) => user.email === "ada@switchyard.dev")!.id,
      },
      items: [{ product: { id: product }, quantity: 2, unitPrice: "19.99" }],
      payment: { status: "CAPTURED", amount: "39.98" },
    });
    expect(await stockOf(stack, product)).toBe(3);
  });

  it("needs a signed-in customer: an anonymous placeOrder is UNAUTHENTICATED and writes nothing", async () => {
    const product = await newProduct(stack, 5);
    const { errors } = await placeOrder(product, 1);
    expect(errors?.map((error) => error.extensions?.code)).toEqual([
      "UNAUTHENTICATED",
    ]);
    expect(await stockOf(stack, product)).toBe(5);
  });

  it("answers a retry with the same idempotency key with the same order, and a reuse for another order with BAD_USER_INPUT", async () => {
    const product = await newProduct(stack, 5);
    const key = `checkout-${randomUUID()}`;
    const input = {
      idempotencyKey: key,
      paymentToken: "tok_visa",
      items: [{ productId: product, quantity: 1 }],
    };
    const [first, second] = await Promise.all([
      gql(stack.routerUrl, PLACE, { input }, ada),
      gql(stack.routerUrl, PLACE, { input }, ada),
    ]);
    expect(first.data.placeOrder.id).toBe(second.data.placeOrder.id);
    expect(await paymentsFor(stack, first.data.placeOrder.id)).toHaveLength(1);
    expect(await stockOf(stack, product)).toBe(4);
    const reused = await gql(
      stack.routerUrl,
      PLACE,
      { input: { ...input, items: [{ productId: product, quantity: 2 }] } },
      ada,
    );
    expect(reused.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "input.idempotencyKey",
    });
  });

  it.each<[string, { quantity?: number; paymentToken?: string }, string]>([
    ["more than the stock", { quantity: 9 }, "INSUFFICIENT_STOCK"],
    ["a declined card", { paymentToken: "tok_declined" }, "PAYMENT_DECLINED"],
    ["a provider error", { paymentToken: "tok_error" }, "PAYMENT_FAILED"],
  ])(
    "fails an order with %s with the coded reason and the order id, leaving stock as it was",
    async (_label, change, code) => {
      const product = await newProduct(stack, 5);
      const input = {
        idempotencyKey: randomUUID(),
        items: [{ productId: product, quantity: change.quantity ?? 1 }],
        paymentToken: change.paymentToken ?? "tok_visa",
      };
      const { errors } = await gql(stack.routerUrl, PLACE, { input }, ada);
      expect(errors).toHaveLength(1);
      expect(errors![0]!.extensions).toMatchObject({ code });
      expect(await stockOf(stack, product)).toBe(5);
      const failedId = errors![0]!.extensions!.orderId as string;
      const { data } = await gql(
        stack.routerUrl,
        `query($id: ID!) { order(id: $id) { status failureCode } }`,
        { id: failedId },
        ada,
      );
      expect(data.order).toEqual({ status: "FAILED", failureCode: code });
    },
  );

  it("lets only the owner cancel, refunding and restocking; another customer's attempt is NOT_FOUND", async () => {
    const product = await newProduct(stack, 5);
    const placed = await placeOrder(product, 2, ada);
    const orderId = placed.data.placeOrder.id as string;
    const stranger = await gql(stack.routerUrl, CANCEL, { id: orderId }, grace);
    expect(stranger.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const cancelled = await gql(stack.routerUrl, CANCEL, { id: orderId }, ada);
    expect(cancelled.errors).toBeUndefined();
    expect(cancelled.data.cancelOrder).toEqual({
      id: orderId,
      status: "CANCELLED",
      payment: { status: "REFUNDED" },
    });
    expect(await stockOf(stack, product)).toBe(5);
  });

  it("refunds a payment for an admin only", async () => {
    const product = await newProduct(stack, 5);
    const placed = await placeOrder(product, 1, ada);
    const paymentId = placed.data.placeOrder.payment.id as string;
    for (const [caller, code] of [
      [ada, "FORBIDDEN"],
      [{}, "UNAUTHENTICATED"],
    ] as const) {
      const refused = await gql(
        stack.routerUrl,
        REFUND,
        { id: paymentId },
        caller,
      );
      expect(refused.errors?.[0]?.extensions?.code).toBe(code);
    }
    expect(
      (await paymentsFor(stack, placed.data.placeOrder.id)).map(
        (payment) => payment.status,
      ),
    ).toEqual(["CAPTURED"]);
    const refunded = await gql(
      stack.routerUrl,
      REFUND,
      { id: paymentId },
      admin,
    );
    expect(refunded.data.refundPayment).toEqual({
      id: paymentId,
      status: "REFUNDED",
    });
    const again = await gql(stack.routerUrl, REFUND, { id: paymentId }, admin);
    expect(again.data.refundPayment.status).toBe("REFUNDED");
    const unknown = await gql(
      stack.routerUrl,
      REFUND,
      { id: randomUUID() },
      admin,
    );
    expect(unknown.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });
});
