import type { Handler } from '../../platform/http-server.ts';
import { field, internalEndpoint, InvalidRequestError } from '../../platform/internal-api.ts';
import type { Logger } from '../../platform/logger.ts';
import { MAX_PAYMENT_MINOR, MIN_PAYMENT_MINOR } from '../../platform/scalars.ts';
import type { Charges } from './charges.ts';

const CALLERS = ['orders'] as const;

/** Internal REST endpoints the orders saga calls; each is idempotent by `idempotencyKey`. */
export function createInternalRoutes({ charges, secret, logger }: { charges: Charges; secret: string; logger: Logger }): Record<string, Handler> {
  const common = { secret, allowed: CALLERS, logger };
  const key = (value: unknown) => {
    const text = field.string(value, 'idempotencyKey', 120);
    if (!/^[\w:.-]+$/.test(text)) throw new InvalidRequestError('idempotencyKey may hold letters, digits and _ : . - only');
    return text;
  };
  return {
    '/internal/payments/charge': internalEndpoint({
      ...common,
      parse(body) {
        const object = field.object(body);
        const currency = field.string(object.currency, 'currency', 3);
        if (!/^[A-Z]{3}$/.test(currency)) throw new InvalidRequestError('currency must be an ISO 4217 code');
        return {
          idempotencyKey: key(object.idempotencyKey),
          orderId: field.uuid(object.orderId, 'orderId'),
          userId: field.uuid(object.userId, 'userId'),
          amountMinor: field.int(object.amountMinor, 'amountMinor', MIN_PAYMENT_MINOR, MAX_PAYMENT_MINOR),
          currency,
          paymentToken: field.string(object.paymentToken, 'paymentToken', 64),
        };
      },
      handle: (request) => charges.charge(request),
    }),
    '/internal/payments/refund': internalEndpoint({
      ...common,
      parse(body) {
        const object = field.object(body);
        return { idempotencyKey: key(object.idempotencyKey), orderId: field.uuid(object.orderId, 'orderId'), userId: field.uuid(object.userId, 'userId') };
      },
      handle: (request) => charges.refund(request),
    }),
  };
}
