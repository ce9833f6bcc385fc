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

export const PAYMENTS_SETTINGS = Object.freeze({
  port: SUBGRAPH_PORT_SETTINGS.payments,
  internalServiceSecret: COMMON_SETTINGS.internalServiceSecret,
  providerTimeoutMs: setting<number>({
    env: "PAYMENT_PROVIDER_TIMEOUT_MS",
    key: "payments.provider_timeout_ms",
    type: integer({ min: 10, max: 60_000 }),
    default: 1000,
    description:
      "how long the (simulated) provider may take before a charge fails with PAYMENT_FAILED",
  }),
});

export const PAYMENTS_SETTINGS_READ: readonly Setting<unknown>[] =
  subgraphSettingsRead(PAYMENTS_SETTINGS);

export interface PaymentsConfig extends InternalServiceConfig {
  /** PAYMENTS_SETTINGS.providerTimeoutMs */
  readonly providerTimeoutMs: number;
}

export function loadPaymentsConfig(env: Env): PaymentsConfig {
  return Object.freeze({
    ...readInternalServiceConfig(env, "payments"),
    providerTimeoutMs: readSetting(env, PAYMENTS_SETTINGS.providerTimeoutMs),
  });
}
