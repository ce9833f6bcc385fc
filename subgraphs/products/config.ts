import { readCommonConfig, readPort, readString, type CommonConfig, type Env } from '../../platform/config.ts';

export interface ProductsConfig extends CommonConfig {
  /** @default 4002 */
  readonly port: number;
  /** @default "127.0.0.1" */
  readonly host: string;
}

export function loadProductsConfig(env: Env): ProductsConfig {
  return Object.freeze({ ...readCommonConfig(env), port: readPort(env, 'PRODUCTS_PORT', 4002), host: readString(env, 'HOST', '127.0.0.1') });
}
