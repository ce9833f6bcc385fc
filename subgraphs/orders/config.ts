import { readCommonConfig, readPort, readString, type CommonConfig, type Env } from '../../platform/config.ts';

export interface OrdersConfig extends CommonConfig {
  /** @default 4003 */
  readonly port: number;
  /** @default "127.0.0.1" */
  readonly host: string;
}

export function loadOrdersConfig(env: Env): OrdersConfig {
  return Object.freeze({ ...readCommonConfig(env), port: readPort(env, 'ORDERS_PORT', 4003), host: readString(env, 'HOST', '127.0.0.1') });
}
