import {
  COMMON_SETTINGS,
  readInternalServiceConfig,
  SUBGRAPH_PORT_SETTINGS,
  subgraphSettingsRead,
  type Env,
  type InternalServiceConfig,
} from "../../platform/config.ts";
import {
  integer,
  readSetting,
  setting,
  type Setting,
} from "../../platform/settings.ts";

export const PRODUCTS_SETTINGS = Object.freeze({
  port: SUBGRAPH_PORT_SETTINGS.products,
  internalServiceSecret: COMMON_SETTINGS.internalServiceSecret,
  reservationTtlSeconds: setting<number>({
    env: "RESERVATION_TTL_SECONDS",
    key: "products.reservation_ttl_seconds",
    type: integer({ min: 1, max: 7 * 86_400 }),
    default: 900,
    description:
      "how long reserved stock waits for its order to commit it before the sweeper returns it",
  }),
  reservationSweepIntervalMs: setting<number>({
    env: "RESERVATION_SWEEP_INTERVAL_MS",
    key: "products.reservation_sweep_interval_ms",
    type: integer({ min: 100, max: 3_600_000 }),
    default: 30_000,
    description: "how often expired reservations are returned",
  }),
});

export const PRODUCTS_SETTINGS_READ: readonly Setting<unknown>[] =
  subgraphSettingsRead(PRODUCTS_SETTINGS);

export interface ProductsConfig extends InternalServiceConfig {
  /** PRODUCTS_SETTINGS.reservationTtlSeconds */
  readonly reservationTtlSeconds: number;
  /** PRODUCTS_SETTINGS.reservationSweepIntervalMs */
  readonly reservationSweepIntervalMs: number;
}

export function loadProductsConfig(env: Env): ProductsConfig {
  return Object.freeze({
    ...readInternalServiceConfig(env, "products"),
    reservationTtlSeconds: readSetting(
      env,
      PRODUCTS_SETTINGS.reservationTtlSeconds,
    ),
    reservationSweepIntervalMs: readSetting(
      env,
      PRODUCTS_SETTINGS.reservationSweepIntervalMs,
    ),
  });
}
