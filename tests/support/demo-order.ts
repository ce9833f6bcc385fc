/** One demo order read through all four subgraphs, and the answer the router must give for it. */
import {
  demoOrders,
  demoPayments,
  demoProducts,
  demoUsers,
} from "../../platform/demo-data.ts";

/** An order that touches every subgraph: users (its customer), products (its items), payments. */
export const ORDER_QUERY = `query Order($id: ID!) {
  order(id: $id) { id user { name email } items { product { name price } quantity } payment { status } }
}`;

/** A confirmed demo order with more than one item (so it has a payment and several products). */
export const demoOrder = demoOrders.find(
  (candidate) => candidate.status === "CONFIRMED" && candidate.items.length > 1,
)!;

/** The demo user who placed `demoOrder`. */
export const demoOrderCustomer = demoUsers.find(
  (user) => user.id === demoOrder.userId,
)!;

/** The seeded status of `demoOrder`'s payment. */
export const demoOrderPaymentStatus = demoPayments.find(
  (payment) => payment.orderId === demoOrder.id,
)!.status;

/** `ORDER_QUERY`'s full answer for `demoOrder` from the seeded demo data. */
export function expectedDemoOrder() {
  return {
    id: demoOrder.id,
    user: { name: demoOrderCustomer.name, email: demoOrderCustomer.email },
    items: demoOrder.items.map((item) => {
      const product = demoProducts.find(
        (candidate) => candidate.id === item.productId,
      )!;
      return {
        product: {
          name: product.name,
          price: (product.priceMinor / 100).toFixed(2),
        },
        quantity: item.quantity,
      };
    }),
    payment: { status: demoOrderPaymentStatus },
  };
}
