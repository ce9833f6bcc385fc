import { stableId } from "./ids.ts";

/**
 * The demo data set every service seeds its own part of on first start. Ids are derived from names
 * (stableId), so orders can reference users and products without reading their tables.
 */
export const DEMO_PASSWORD = "switchyard-demo";

export interface DemoUser {
  id: string;
  email: string;
  name: string;
  role: "CUSTOMER" | "ADMIN";
}
export interface DemoProduct {
  id: string;
  sku: string;
  name: string;
  description: string;
  priceMinor: number;
  currency: "USD";
  inventory: number;
}
export interface DemoOrder {
  id: string;
  userId: string;
  status: "PENDING" | "CONFIRMED" | "FAILED" | "CANCELLED";
  items: Array<{ productId: string; quantity: number; unitPriceMinor: number }>;
  totalMinor: number;
  currency: "USD";
  createdAt: string;
}
export interface DemoPayment {
  id: string;
  orderId: string;
  userId: string;
  amountMinor: number;
  currency: "USD";
  status: "CAPTURED" | "DECLINED" | "REFUNDED";
  createdAt: string;
}

export const demoUsers: DemoUser[] = [
  {
    id: stableId("user:admin"),
    email: "admin@switchyard.dev",
    name: "Sam Admin",
    role: "ADMIN",
  },
  {
    id: stableId("user:ada"),
    email: "ada@switchyard.dev",
    name: "Ada Lovelace",
    role: "CUSTOMER",
  },
  {
    id: stableId("user:grace"),
    email: "grace@switchyard.dev",
    name: "Grace Hopper",
    role: "CUSTOMER",
  },
  {
    id: stableId("user:linus"),
    email: "linus@switchyard.dev",
    name: "Linus Torvalds",
    role: "CUSTOMER",
  },
  {
    id: stableId("user:margaret"),
    email: "margaret@switchyard.dev",
    name: "Margaret Hamilton",
    role: "CUSTOMER",
  },
];

const ADJECTIVES = [
  "Walnut",
  "Copper",
  "Linen",
  "Granite",
  "Cobalt",
  "Maple",
  "Slate",
  "Amber",
  "Juniper",
  "Basalt",
];
const NOUNS = ["Desk Lamp", "Notebook", "Mug", "Backpack", "Headphones"];

export const demoProducts: DemoProduct[] = ADJECTIVES.flatMap((adjective, a) =>
  NOUNS.map((noun, n) => {
    const index = a * NOUNS.length + n;
    const sku = `SW-${String(index + 1).padStart(4, "0")}`;
    return {
      id: stableId(`product:${sku}`),
      sku,
      name: `${adjective} ${noun}`,
      description: `A ${noun.toLowerCase()} in ${adjective.toLowerCase()}, made to last.`,
      priceMinor: 499 + ((index * 1733) % 19_000),
      currency: "USD" as const,
      inventory: index % 11 === 0 ? 0 : 5 + ((index * 7) % 60),
    };
  }),
);

const ORDER_STATUSES: DemoOrder["status"][] = [
  "CONFIRMED",
  "CONFIRMED",
  "CONFIRMED",
  "PENDING",
  "CANCELLED",
  "FAILED",
];

export const demoOrders: DemoOrder[] = Array.from(
  { length: 12 },
  (_, index) => {
    const customer = demoUsers[1 + (index % 4)]!;
    const items = [0, 1, 2].slice(0, 1 + (index % 3)).map((offset) => {
      const product =
        demoProducts[(index * 4 + offset * 9 + 1) % demoProducts.length]!;
      return {
        productId: product.id,
        quantity: 1 + ((index + offset) % 3),
        unitPriceMinor: product.priceMinor,
      };
    });
    return {
      id: stableId(`order:${index + 1}`),
      userId: customer.id,
      status: ORDER_STATUSES[index % ORDER_STATUSES.length]!,
      items,
      totalMinor: items.reduce(
        (sum, item) => sum + item.quantity * item.unitPriceMinor,
        0,
      ),
      currency: "USD",
      createdAt: new Date(Date.UTC(2026, 10, 1 + index, 9, 30)).toISOString(),
    };
  },
);

const PAYMENT_STATUS: Partial<
  Record<DemoOrder["status"], DemoPayment["status"]>
> = {
  CONFIRMED: "CAPTURED",
  CANCELLED: "REFUNDED",
  FAILED: "DECLINED",
};

export const demoPayments: DemoPayment[] = demoOrders.flatMap((order) => {
  const status = PAYMENT_STATUS[order.status];
  return status
    ? [
        {
          id: stableId(`payment:${order.id}`),
          orderId: order.id,
          userId: order.userId,
          amountMinor: order.totalMinor,
          currency: order.currency,
          status,
          createdAt: order.createdAt,
        },
      ]
    : [];
});
