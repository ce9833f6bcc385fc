import {
  assertOwnerOrAdmin,
  type AuthContext,
} from "../../platform/authorization.ts";
import {
  codedError,
  ERROR_CODES,
  type ErrorCode,
} from "../../platform/errors.ts";
import type { Principal } from "../../platform/principal.ts";
import type { OrderService } from "./order-service.ts";
import { isId, parseId } from "../../platform/ids.ts";
import { userListConnection } from "../../platform/user-lists.ts";
import { findOwned, ownedReference } from "../../platform/owned-rows.ts";
import {
  DateTimeScalar,
  DecimalScalar,
  formatMinorUnits,
} from "../../platform/scalars.ts";
import type { OrderLoaders } from "./loaders.ts";
import type {
  OrderCursor,
  OrderItemRow,
  OrderRepository,
  OrderRow,
} from "./repository.ts";
import type { Resolvers } from "./generated/resolvers-types.ts";

export interface OrdersContext extends AuthContext {
  loaders: OrderLoaders;
  repo: OrderRepository;
  orders: OrderService;
}

function signedIn(principal: Principal | null): Principal {
  if (!principal)
    throw codedError("UNAUTHENTICATED", "sign in to place or cancel orders");
  return principal;
}

/** A saga that ended FAILED answers the mutation with its coded reason (and the order id). */
function settled(order: OrderRow & { failure_code: string | null }) {
  if (order.status === "FAILED") {
    const code = (
      order.failure_code && order.failure_code in ERROR_CODES
        ? order.failure_code
        : "INTERNAL_SERVER_ERROR"
    ) as ErrorCode;
    throw codedError(code, `order ${order.id} failed: ${code}`, {
      orderId: order.id,
    });
  }
  return toOrder(order);
}

export interface OrderView {
  id: string;
  userId: string;
  status: OrderRow["status"];
  total: string;
  currency: string;
  createdAt: Date;
  failureCode: string | null;
}

function toOrder(row: OrderRow): OrderView {
  return {
    id: row.id,
    userId: row.user_id,
    status: row.status,
    total: formatMinorUnits(row.total_minor),
    currency: row.currency,
    createdAt: row.created_at,
    failureCode: row.failure_code ?? null,
  };
}

const isOrderCursor = (value: unknown): value is OrderCursor =>
  Array.isArray(value) &&
  value.length === 2 &&
  typeof value[0] === "string" &&
  !Number.isNaN(Date.parse(value[0])) &&
  isId(value[1]);

const ordersOfUser = userListConnection({
  isCursor: isOrderCursor,
  toNode: toOrder,
  cursorOf: (order) => [order.createdAt.toISOString(), order.id],
});

export const resolvers: Resolvers<OrdersContext> = {
  Decimal: DecimalScalar,
  DateTime: DateTimeScalar,
  Query: {
    order: async (_root, { id }, { loaders, principal }) =>
      toOrder(await findOwned(principal, loaders.orderById, "Order", id)),
  },
  Mutation: {
    async placeOrder(_root, { input }, { orders, principal }) {
      return settled(await orders.placeOrder(signedIn(principal).id, input));
    },
    async cancelOrder(_root, { id }, { orders, principal }) {
      return toOrder(
        await orders.cancelOrder(signedIn(principal), parseId(id)),
      );
    },
  },
  Order: {
    // Reached from a payment the caller may see, so normally theirs; checked anyway.
    __resolveReference: ownedReference(
      "Order",
      ({ loaders }: OrdersContext) => loaders.orderById,
      toOrder,
    ),
    user: (order) => ({ id: order.userId }),
    async items(order, _args, { loaders }) {
      const items = await loaders.itemsByOrderId.load(order.id);
      return items.map((item: OrderItemRow) => ({
        product: { __typename: "Product", id: item.product_id },
        quantity: item.quantity,
        unitPrice: formatMinorUnits(item.unit_price_minor),
      }));
    },
  },
  User: {
    // Any well-formed id is a user as far as orders knows: one with no orders has an empty list.
    __resolveReference: (reference) =>
      isId(reference.id) ? { id: reference.id.toLowerCase() } : null,
    async orders(user, args, { loaders, principal }) {
      assertOwnerOrAdmin(principal, user.id, "another user's orders");
      return ordersOfUser(loaders.ordersPageByUser, user.id, args);
    },
  },
};
