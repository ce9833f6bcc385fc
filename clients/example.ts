/**
 * `npm run example`: a storefront session with the typed client against a running router —
 * browse, log in, place an order and follow it live (PENDING → CONFIRMED, over the router's
 * subscription), read it back in "my orders". Start the stack first (`npm start`).
 *
 *   npm run example                                  # http://localhost:4000/graphql, ada@switchyard.dev
 *   npm run example -- --url http://host:4000/graphql --email grace@switchyard.dev --password …
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { ClientError, createClient } from "./client.ts";
import {
  BrowseProductsDocument,
  FollowOrderDocument,
  LogInDocument,
  MyOrdersDocument,
  PlaceOrderDocument,
} from "./generated/graphql.ts";

const { values } = parseArgs({
  options: {
    url: {
      type: "string",
      default: process.env.ROUTER_URL ?? "http://localhost:4000/graphql",
    },
    email: { type: "string", default: "ada@switchyard.dev" },
    password: { type: "string", default: "switchyard-demo" },
  },
});

const client = createClient({ url: values.url });
try {
  const { products } = await client.request(BrowseProductsDocument, {
    first: 5,
  });
  console.log(
    `${products.totalCount} products; the first ${products.edges.length}:`,
  );
  for (const { node } of products.edges)
    console.log(
      `  ${node.name}  ${node.price} ${node.currency}${node.inStock ? "" : "  (out of stock)"}`,
    );

  const { logIn } = await client.request(LogInDocument, {
    email: values.email,
    password: values.password,
  });
  client.setToken(logIn.token);
  console.log(`Logged in as ${logIn.user.name} (${logIn.user.role}).`);

  const product = products.edges.find(({ node }) => node.inStock)?.node;
  if (!product) throw new Error("no product in stock among the first five");
  // Follow every order of ours live, from before the order exists: its PENDING event is the first.
  let connected!: () => void;
  const following = new Promise<void>((resolve) => (connected = resolve));
  const updates = client.subscribe(
    FollowOrderDocument,
    {},
    { onConnected: connected },
  );
  const firstUpdate = updates.next();
  await following;
  const { placeOrder } = await client.request(PlaceOrderDocument, {
    input: {
      idempotencyKey: `example-${randomUUID()}`,
      items: [{ productId: product.id, quantity: 1 }],
      paymentToken: "tok_visa",
    },
  });
  console.log(
    `Order ${placeOrder.id}: ${placeOrder.status}, total ${placeOrder.total} ${placeOrder.currency}, payment ${placeOrder.payment?.status ?? "none"}.`,
  );
  for (
    let update = await firstUpdate;
    !update.done;
    update = await updates.next()
  ) {
    const order = update.value.data?.orderUpdated;
    if (!order) {
      console.log(
        `  live: ${update.value.errors.map((e) => e.message).join("; ")}`,
      );
      continue;
    }
    if (order.id !== placeOrder.id) continue;
    console.log(
      `  live: ${order.status}  (${order.user?.name ?? "?"}: ${order.items.map((item) => `${item.quantity} x ${item.product?.name ?? "?"}`).join(", ")}; payment ${order.payment?.status ?? "none"})`,
    );
    if (order.status !== "PENDING") break;
  }
  await updates.return();

  const { me } = await client.request(MyOrdersDocument, { first: 3 });
  console.log(
    `${me?.orders.totalCount ?? 0} orders; latest ${me?.orders.edges.length ?? 0}:`,
  );
  for (const { node } of me?.orders.edges ?? []) {
    console.log(
      `  ${node.id}  ${node.status}  ${node.total} ${node.currency}  ${node.items.map((item) => `${item.quantity} x ${item.product?.name ?? "?"}`).join(", ")}`,
    );
  }
} catch (error) {
  if (!(error instanceof ClientError)) throw error;
  console.error(`${error.code}: ${error.message}`);
  process.exitCode = 1;
}
