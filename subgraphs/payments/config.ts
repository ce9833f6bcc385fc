import { readCommonConfig, readInternalServiceSecret, readInt, readPort, readString, type CommonConfig, type Env } from '../../platform/config.ts';

export interface PaymentsConfig extends CommonConfig {
  /** @default 4004 */
  readonly port: number;
  /** @default "127.0.0.1" */
  readonly host: string;
  /** Signs/verifies internal REST calls: INTERNAL_SERVICE_SECRET, required in production. */
  readonly internalServiceSecret: string;
  /** How long the (simulated) provider may take before a charge fails with PAYMENT_FAILED. @default 1000 */
  readonly providerTimeoutMs: number;
}

export function loadPaymentsConfig(env: Env): PaymentsConfig {
  return Object.freeze({
    ...readCommonConfig(env),
    port: readPort(env, 'PAYMENTS_PORT', 4004),
    host: readString(env, 'HOST', '127.0.0.1'),
    internalServiceSecret: readInternalServiceSecret(env),
    providerTimeoutMs: readInt(env, 'PAYMENT_PROVIDER_TIMEOUT_MS', 1000, { min: 10, max: 60_000 }),
  });
}
