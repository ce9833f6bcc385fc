import { readCommonConfig, readDemoPassword, readInt, readPort, readString, type CommonConfig, type Env } from '../../platform/config.ts';

export interface UsersConfig extends CommonConfig {
  /** @default 4001 */
  readonly port: number;
  /** @default "127.0.0.1" */
  readonly host: string;
  /** `iss` of issued tokens. @default "switchyard-users" */
  readonly jwtIssuer: string;
  /** `aud` of issued tokens. @default "switchyard" */
  readonly jwtAudience: string;
  /** Access-token lifetime in seconds. @default 3600 */
  readonly jwtTtlSeconds: number;
  /** Password of the seeded demo accounts (see readDemoPassword). @default the published demo password, outside production */
  readonly demoPassword: string;
}

export function loadUsersConfig(env: Env): UsersConfig {
  const common = readCommonConfig(env);
  return Object.freeze({
    ...common,
    port: readPort(env, 'USERS_PORT', 4001),
    host: readString(env, 'HOST', '127.0.0.1'),
    jwtIssuer: readString(env, 'JWT_ISSUER', 'switchyard-users'),
    jwtAudience: readString(env, 'JWT_AUDIENCE', 'switchyard'),
    jwtTtlSeconds: readInt(env, 'JWT_TTL_SECONDS', 3600, { min: 60, max: 86_400 }),
    demoPassword: readDemoPassword(env, { production: common.production, seed: common.seedDemoData }),
  });
}
