import { randomUUID } from "node:crypto";
import { demoUsers } from "../../platform/demo-data.ts";
import type { Stack } from "../../stack.ts";
import { gql } from "./graphql.ts";
import { ordersOf } from "./saga.ts";

/** Two demo customers: Ada places the orders, Grace is the other customer who must see none of them. */
export const ada = demoUsers.find((user) => user.email.startsWith("ada"))!;
export const grace = demoUsers.find((user) => user.email.startsWith("grace"))!;

/** placeOrder through the router, answering the new order's id and status. */
export const PLACE_ORDER = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }`;

/**
 * The variables of a fresh order of one `productId`: a new idempotency key every call, so no two
 * calls are ever taken for a retry of each other. `tok_visa` is the card the fake provider captures.
 */
export const placeOrderVariables = (
  productId: string,
  paymentToken = "tok_visa",
) => ({
  input: {
    items: [{ productId, quantity: 1 }],
    idempotencyKey: randomUUID(),
    paymentToken,
  },
});

/** Places an order of one `productId` at the router on `routerUrl`, as the caller `auth` says. */
export const placeOrderAt = (
  routerUrl: string,
  auth: Record<string, string>,
  productId: string,
  paymentToken?: string,
) =>
  gql<{ placeOrder: { id: string; status: string } }>(
    routerUrl,
    PLACE_ORDER,
    placeOrderVariables(productId, paymentToken),
    auth,
  );

/**
 * Places an order straight at the orders service of `stack` (no router, no token), as `userId`:
 * what saga tests call to reach placeOrder's own errors and crash points.
 */
export const placeOrderInProcess = (
  stack: Stack,
  userId: string,
  items: Array<{ productId: string; quantity: number }>,
  {
    paymentToken = "tok_visa",
    idempotencyKey = randomUUID(),
  }: { paymentToken?: string; idempotencyKey?: string } = {},
) =>
  ordersOf(stack).orders.placeOrder(userId, {
    items,
    idempotencyKey,
    paymentToken,
  });
