import { readCommonConfig, readInternalServiceSecret, readInt, readPort, readString, type CommonConfig, type Env } from '../../platform/config.ts';

export interface ProductsConfig extends CommonConfig {
  /** @default 4002 */
  readonly port: number;
  /** @default "127.0.0.1" */
  readonly host: string;
  /** Signs/verifies internal REST calls: INTERNAL_SERVICE_SECRET, required in production. */
  readonly internalServiceSecret: string;
  /** How long reserved stock waits for its order to commit it before the sweeper returns it. @default 900 */
  readonly reservationTtlSeconds: number;
  /** How often the sweeper looks for expired reservations. @default 30000 */
  readonly reservationSweepIntervalMs: number;
}

export function loadProductsConfig(env: Env): ProductsConfig {
  return Object.freeze({
    ...readCommonConfig(env),
    port: readPort(env, 'PRODUCTS_PORT', 4002),
    host: readString(env, 'HOST', '127.0.0.1'),
    internalServiceSecret: readInternalServiceSecret(env),
    reservationTtlSeconds: readInt(env, 'RESERVATION_TTL_SECONDS', 900, { min: 1, max: 7 * 86_400 }),
    reservationSweepIntervalMs: readInt(env, 'RESERVATION_SWEEP_INTERVAL_MS', 30_000, { min: 100, max: 3_600_000 }),
  });
}
