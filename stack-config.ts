/**
 * The configuration of `npm start`, the all-in-one process: each module's config, read from the
 * same environment (and switchyard.yaml), composed instead of borrowing one service's. Settings
 * every service shares (log, storage, seeding, host) are read once, at the top.
 */
import {
  loadPipelineConfig,
  PIPELINE_SETTINGS_READ,
  type PipelineConfig,
} from "./events/config.ts";
import {
  COMMON_SETTINGS,
  readCommonConfig,
  type CommonConfig,
  type Env,
} from "./platform/config.ts";
import { DEV_LOG_FILE } from "./platform/logger.ts";
import { readSetting, type Setting } from "./platform/settings.ts";
import {
  loadRouterConfig,
  ROUTER_SETTINGS_READ,
  type RouterConfig,
} from "./router/config.ts";
import {
  loadNotificationsConfig,
  NOTIFICATIONS_SETTINGS_READ,
  type NotificationsConfig,
} from "./subgraphs/notifications/config.ts";
import {
  loadOrdersConfig,
  ORDERS_SETTINGS_READ,
  type OrdersConfig,
} from "./subgraphs/orders/config.ts";
import {
  loadPaymentsConfig,
  PAYMENTS_SETTINGS_READ,
  type PaymentsConfig,
} from "./subgraphs/payments/config.ts";
import {
  loadProductsConfig,
  PRODUCTS_SETTINGS_READ,
  type ProductsConfig,
} from "./subgraphs/products/config.ts";
import {
  loadUsersConfig,
  USERS_SETTINGS_READ,
  type UsersConfig,
} from "./subgraphs/users/config.ts";

export interface StackConfig extends CommonConfig {
  /** Bind address of every listener of the process. */
  readonly host: string;
  readonly users: UsersConfig;
  readonly products: ProductsConfig;
  readonly orders: OrdersConfig;
  readonly payments: PaymentsConfig;
  readonly notifications: NotificationsConfig;
  readonly router: RouterConfig;
  readonly pipeline: PipelineConfig;
}

/** Every declaration `npm start` reads (the union of the modules'). */
export const STACK_SETTINGS_READ: readonly Setting<unknown>[] = [
  ...new Map(
    [
      ...USERS_SETTINGS_READ,
      ...PRODUCTS_SETTINGS_READ,
      ...ORDERS_SETTINGS_READ,
      ...PAYMENTS_SETTINGS_READ,
      ...NOTIFICATIONS_SETTINGS_READ,
      ...ROUTER_SETTINGS_READ,
      ...PIPELINE_SETTINGS_READ,
    ].map((declared) => [declared.env, declared]),
  ).values(),
];

export function loadStackConfig(env: Env): StackConfig {
  const common = readCommonConfig(env);
  return Object.freeze({
    ...common,
    // One log for the whole system in development: `npm run trace -- <id>` reads it (docs/observability.md).
    logFile: common.logFile ?? (common.production ? undefined : DEV_LOG_FILE),
    host: readSetting(env, COMMON_SETTINGS.host),
    users: loadUsersConfig(env),
    products: loadProductsConfig(env),
    orders: loadOrdersConfig(env),
    payments: loadPaymentsConfig(env),
    notifications: loadNotificationsConfig(env),
    router: loadRouterConfig(env),
    pipeline: loadPipelineConfig(env),
  });
}
