import { internalServiceConfigModule } from "../../platform/config.ts";
import { define } from "../../platform/settings.ts";

/** Orders' own settings; the port and the internal-service secret come with every internal service. */
const orders = internalServiceConfigModule("orders", {
  productsInternalUrl: define.url({
    env: "PRODUCTS_INTERNAL_URL",
    key: "orders.products_internal_url",
    default: "http://127.0.0.1:4002",
    description: "base URL of the products service’s internal API",
  }),
  paymentsInternalUrl: define.url({
    env: "PAYMENTS_INTERNAL_URL",
    key: "orders.payments_internal_url",
    default: "http://127.0.0.1:4004",
    description: "base URL of the payments service’s internal API",
  }),
  serviceTimeoutMs: define.int([50, 60_000], {
    env: "SERVICE_TIMEOUT_MS",
    key: "orders.service_timeout_ms",
    default: 2000,
    description: "per-attempt timeout of internal REST calls",
  }),
  placeOrderWaitMs: define.int([0, 120_000], {
    env: "PLACE_ORDER_WAIT_MS",
    key: "orders.place_order_wait_ms",
    default: 10_000,
    description:
      "how long placeOrder waits for its saga before answering with a PENDING order",
  }),
  sagaResumeIntervalMs: define.int([50, 3_600_000], {
    env: "SAGA_RESUME_INTERVAL_MS",
    key: "orders.saga_resume_interval_ms",
    default: 5000,
    description:
      "how often sagas left by a crashed process, or deferred, are resumed",
  }),
  sagaLeaseMs: define.int([100, 3_600_000], {
    env: "SAGA_LEASE_MS",
    key: "orders.saga_lease_ms",
    default: 30_000,
    description:
      "how long a process owns a running saga before another may take it over",
  }),
});

export const ORDERS_SETTINGS = orders.settings;
export const ORDERS_SETTINGS_READ = orders.read;
export type OrdersConfig = ReturnType<typeof orders.load>;
export const loadOrdersConfig = orders.load;
