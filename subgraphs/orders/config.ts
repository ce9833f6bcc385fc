import { readCommonConfig, readInternalServiceSecret, readInt, readPort, readString, readUrl, type CommonConfig, type Env } from '../../platform/config.ts';

export interface OrdersConfig extends CommonConfig {
  /** @default 4003 */
  readonly port: number;
  /** @default "127.0.0.1" */
  readonly host: string;
  /** Signs/verifies internal REST calls: INTERNAL_SERVICE_SECRET, required in production. */
  readonly internalServiceSecret: string;
  /** Base URL of the products service's internal API. @default "http://127.0.0.1:4002" */
  readonly productsInternalUrl: string;
  /** Base URL of the payments service's internal API. @default "http://127.0.0.1:4004" */
  readonly paymentsInternalUrl: string;
  /** Per-attempt timeout of internal REST calls. @default 2000 */
  readonly serviceTimeoutMs: number;
  /** How long placeOrder waits for its saga before answering with a PENDING order. @default 10000 */
  readonly placeOrderWaitMs: number;
  /** How often the resumer looks for sagas left by a crashed process or deferred. @default 5000 */
  readonly sagaResumeIntervalMs: number;
  /** How long a process owns a running saga before another may take it over. @default 30000 */
  readonly sagaLeaseMs: number;
}

export function loadOrdersConfig(env: Env): OrdersConfig {
  return Object.freeze({
    ...readCommonConfig(env),
    port: readPort(env, 'ORDERS_PORT', 4003),
    host: readString(env, 'HOST', '127.0.0.1'),
    internalServiceSecret: readInternalServiceSecret(env),
    productsInternalUrl: readUrl(env, 'PRODUCTS_INTERNAL_URL', 'http://127.0.0.1:4002')!,
    paymentsInternalUrl: readUrl(env, 'PAYMENTS_INTERNAL_URL', 'http://127.0.0.1:4004')!,
    serviceTimeoutMs: readInt(env, 'SERVICE_TIMEOUT_MS', 2000, { min: 50, max: 60_000 }),
    placeOrderWaitMs: readInt(env, 'PLACE_ORDER_WAIT_MS', 10_000, { min: 0, max: 120_000 }),
    sagaResumeIntervalMs: readInt(env, 'SAGA_RESUME_INTERVAL_MS', 5000, { min: 50, max: 3_600_000 }),
    sagaLeaseMs: readInt(env, 'SAGA_LEASE_MS', 30_000, { min: 100, max: 3_600_000 }),
  });
}
