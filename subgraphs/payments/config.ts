import { readCommonConfig, readPort, readString, type CommonConfig, type Env } from '../../platform/config.ts';

export interface PaymentsConfig extends CommonConfig {
  /** @default 4004 */
  readonly port: number;
  /** @default "127.0.0.1" */
  readonly host: string;
}

export function loadPaymentsConfig(env: Env): PaymentsConfig {
  return Object.freeze({ ...readCommonConfig(env), port: readPort(env, 'PAYMENTS_PORT', 4004), host: readString(env, 'HOST', '127.0.0.1') });
}
