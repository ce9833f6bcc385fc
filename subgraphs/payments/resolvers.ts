import {
  assertOwnerOrAdmin,
  type AuthContext,
} from "../../platform/authorization.ts";
import { notFound } from "../../platform/errors.ts";
import { isId, parseId } from "../../platform/ids.ts";
import { findOwned, ownedReference } from "../../platform/owned-rows.ts";
import {
  DateTimeScalar,
  DecimalScalar,
  formatMinorUnits,
} from "../../platform/scalars.ts";
import type { Charges } from "./charges.ts";
import type { PaymentLoaders } from "./loaders.ts";
import type { PaymentRepository, PaymentRow } from "./repository.ts";
import type { Resolvers } from "./generated/resolvers-types.ts";

export interface PaymentsContext extends AuthContext {
  loaders: PaymentLoaders;
  repo: PaymentRepository;
  charges: Charges;
}

function toPayment(row: PaymentRow) {
  return {
    id: row.id,
    order: { id: row.order_id },
    amount: formatMinorUnits(row.amount_minor),
    currency: row.currency,
    status: row.status,
    createdAt: row.created_at,
  };
}

export const resolvers: Resolvers<PaymentsContext> = {
  Decimal: DecimalScalar,
  DateTime: DateTimeScalar,
  Query: {
    payment: async (_root, { id }, { loaders, principal }) =>
      toPayment(await findOwned(principal, loaders.paymentById, "Payment", id)),
  },
  Mutation: {
    // @requiresScopes(admin) is enforced before this runs (platform/authorization.ts).
    async refundPayment(_root, { id }, { charges }) {
      const row = await charges.refundById(parseId(id));
      if (!row) throw notFound("Payment", id);
      return toPayment(row);
    },
  },
  Payment: {
    __resolveReference: ownedReference(
      "Payment",
      ({ loaders }: PaymentsContext) => loaders.paymentById,
      toPayment,
    ),
  },
  Order: {
    // Payments knows an order only by id; an order without payments resolves with payment null.
    __resolveReference: (reference) =>
      isId(reference.id) ? { id: reference.id.toLowerCase() } : null,
    async payment(order, _args, { loaders, principal }) {
      const row = await loaders.paymentByOrderId.load(order.id);
      if (!row) return null;
      assertOwnerOrAdmin(principal, row.user_id, `Payment ${row.id}`);
      return toPayment(row);
    },
  },
};
