import {
  COMMON_SETTINGS,
  COMMON_SETTINGS_READ,
  readCommonConfig,
  readInternalServiceSecret,
  SUBGRAPH_PORT_SETTINGS,
  type CommonConfig,
  type Env,
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

export const PAYMENTS_SETTINGS_READ: readonly Setting<unknown>[] = [
  ...COMMON_SETTINGS_READ,
  ...Object.values(PAYMENTS_SETTINGS),
];

export interface PaymentsConfig extends CommonConfig {
  /** PAYMENTS_SETTINGS.port */
  readonly port: number;
  /** COMMON_SETTINGS.host */
  readonly host: string;
  /** Signs/verifies internal REST calls: INTERNAL_SERVICE_SECRET, required in production. */
  readonly internalServiceSecret: string;
  /** PAYMENTS_SETTINGS.providerTimeoutMs */
  readonly providerTimeoutMs: number;
}

export function loadPaymentsConfig(env: Env): PaymentsConfig {
  return Object.freeze({
    ...readCommonConfig(env),
    port: readSetting(env, PAYMENTS_SETTINGS.port),
    host: readSetting(env, COMMON_SETTINGS.host),
    internalServiceSecret: readInternalServiceSecret(env),
    providerTimeoutMs: readSetting(env, PAYMENTS_SETTINGS.providerTimeoutMs),
  });
}
