import {
  field,
  internalEndpoint,
  InvalidRequestError,
  type InternalReply,
} from "../../platform/internal-api.ts";
import type { Handler } from "../../platform/http-server.ts";
import type { Logger } from "../../platform/logger.ts";
import {
  PRODUCTS_PATHS,
  RESERVATION_CODES,
  type RefusalBody,
} from "./contract.ts";
import type {
  CommitOutcome,
  Inventory,
  ReleaseOutcome,
  ReserveOutcome,
} from "./inventory.ts";

const CALLERS = ["orders"] as const;

const refused = (status: number, body: RefusalBody): InternalReply => ({
  status,
  body,
});

/** A reservation released (cancelled or expired) before this call: it cannot be used again. */
const released = (reservationId: string) =>
  refused(409, { code: RESERVATION_CODES.released, reservationId });

function unreachable(outcome: never): never {
  throw new Error(`unhandled outcome ${JSON.stringify(outcome)}`);
}

/** The one place a reserve outcome becomes HTTP: 201 for a new reservation, 200 for a repeat. */
export function reserveReply(outcome: ReserveOutcome): InternalReply {
  switch (outcome.kind) {
    case "reserved":
      return { status: outcome.created ? 201 : 200, body: outcome.reservation };
    case "insufficient-stock":
      return refused(409, {
        code: RESERVATION_CODES.insufficientStock,
        productId: outcome.productId,
        prices: outcome.prices,
      });
    case "unknown-product":
      return refused(404, {
        code: RESERVATION_CODES.notFound,
        productId: outcome.productId,
      });
    case "released":
      return released(outcome.reservationId);
    default:
      return unreachable(outcome);
  }
}

export function commitReply(outcome: CommitOutcome): InternalReply {
  switch (outcome.kind) {
    case "committed":
      return { status: 200, body: outcome.reservation };
    case "released":
      return released(outcome.reservationId);
    case "unknown-reservation":
      return refused(404, {
        code: RESERVATION_CODES.notFound,
        reservationId: outcome.reservationId,
      });
    default:
      return unreachable(outcome);
  }
}

export function releaseReply(outcome: ReleaseOutcome): InternalReply {
  return {
    status: 200,
    body: { reservationId: outcome.reservationId, status: "RELEASED" },
  };
}

function reservationId(body: unknown) {
  return field.uuid(field.object(body).reservationId, "reservationId");
}

/** Internal REST endpoints the orders saga calls; every one is idempotent by reservation id. */
export function createInternalRoutes({
  inventory,
  secret,
  logger,
}: {
  inventory: Inventory;
  secret: string;
  logger: Logger;
}): Record<string, Handler> {
  const endpoint = <Request>(
    parse: (body: unknown) => Request,
    handle: (request: Request) => Promise<InternalReply>,
  ) => internalEndpoint({ secret, allowed: CALLERS, logger, parse, handle });
  return {
    [PRODUCTS_PATHS.prices]: endpoint(
      (body) =>
        field
          .array(field.object(body).productIds, "productIds", 1, 100)
          .map((id, index) => field.uuid(id, `productIds[${index}]`)),
      async (productIds) => ({
        status: 200,
        body: { prices: await inventory.quote(productIds) },
      }),
    ),
    [PRODUCTS_PATHS.reserve]: endpoint(
      (body) => {
        const object = field.object(body);
        const items = field
          .array(object.items, "items", 1, 50)
          .map((raw, index) => {
            const item = field.object(raw, `items[${index}]`);
            return {
              productId: field.uuid(
                item.productId,
                `items[${index}].productId`,
              ),
              quantity: field.int(
                item.quantity,
                `items[${index}].quantity`,
                1,
                1000,
              ),
            };
          });
        if (new Set(items.map((item) => item.productId)).size !== items.length)
          throw new InvalidRequestError("items must name each product once");
        return {
          reservationId: field.uuid(object.reservationId, "reservationId"),
          userId: field.uuid(object.userId, "userId"),
          items,
        };
      },
      async (request) => reserveReply(await inventory.reserve(request)),
    ),
    [PRODUCTS_PATHS.commit]: endpoint(reservationId, async (id) =>
      commitReply(await inventory.commit(id)),
    ),
    [PRODUCTS_PATHS.release]: endpoint(reservationId, async (id) =>
      releaseReply(await inventory.release(id)),
    ),
  };
}
