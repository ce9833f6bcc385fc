import { field, internalEndpoint, InvalidRequestError } from '../../platform/internal-api.ts';
import type { Handler } from '../../platform/http-server.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Inventory } from './inventory.ts';

const CALLERS = ['orders'] as const;

function reservationId(body: unknown) {
  return field.uuid(field.object(body).reservationId, 'reservationId');
}

/** Internal REST endpoints the orders saga calls; every one is idempotent by reservation id. */
export function createInternalRoutes({ inventory, secret, logger }: { inventory: Inventory; secret: string; logger: Logger }): Record<string, Handler> {
  const endpoint = <Request>(parse: (body: unknown) => Request, handle: (request: Request) => ReturnType<Inventory['release']>) =>
    internalEndpoint({ secret, allowed: CALLERS, logger, parse, handle });
  return {
    '/internal/prices': endpoint(
      (body) => field.array(field.object(body).productIds, 'productIds', 1, 100).map((id, index) => field.uuid(id, `productIds[${index}]`)),
      async (productIds) => ({ status: 200, body: { prices: await inventory.quote(productIds) } }),
    ),
    '/internal/reservations': endpoint(
      (body) => {
        const object = field.object(body);
        const items = field.array(object.items, 'items', 1, 50).map((raw, index) => {
          const item = field.object(raw, `items[${index}]`);
          return { productId: field.uuid(item.productId, `items[${index}].productId`), quantity: field.int(item.quantity, `items[${index}].quantity`, 1, 1000) };
        });
        if (new Set(items.map((item) => item.productId)).size !== items.length) throw new InvalidRequestError('items must name each product once');
        return { reservationId: field.uuid(object.reservationId, 'reservationId'), userId: field.uuid(object.userId, 'userId'), items };
      },
      (request) => inventory.reserve(request),
    ),
    '/internal/reservations/commit': endpoint(reservationId, (id) => inventory.commit(id)),
    '/internal/reservations/release': endpoint(reservationId, (id) => inventory.release(id)),
  };
}
