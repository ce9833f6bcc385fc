import { internalServiceConfigModule } from "../../platform/config.ts";
import { define } from "../../platform/settings.ts";

/** Products' own settings; the port and the internal-service secret come with every internal service. */
const products = internalServiceConfigModule("products", {
  reservationTtlSeconds: define.int([1, 7 * 86_400], {
    env: "RESERVATION_TTL_SECONDS",
    key: "products.reservation_ttl_seconds",
    default: 900,
    description:
      "how long reserved stock waits for its order to commit it before the sweeper returns it",
  }),
  reservationSweepIntervalMs: define.int([100, 3_600_000], {
    env: "RESERVATION_SWEEP_INTERVAL_MS",
    key: "products.reservation_sweep_interval_ms",
    default: 30_000,
    description: "how often expired reservations are returned",
  }),
});

export const PRODUCTS_SETTINGS = products.settings;
export const PRODUCTS_SETTINGS_READ = products.read;
export type ProductsConfig = ReturnType<typeof products.load>;
export const loadProductsConfig = products.load;
