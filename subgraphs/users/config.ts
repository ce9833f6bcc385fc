import {
  COMMON_SETTINGS,
  readDemoPassword,
  readSubgraphProcessConfig,
  SUBGRAPH_PORT_SETTINGS,
  subgraphSettingsRead,
  TOKEN_SETTINGS,
  type Env,
  type SubgraphProcessConfig,
} from "../../platform/config.ts";
import {
  integer,
  readSetting,
  setting,
  type Setting,
} from "../../platform/settings.ts";

/** The users service's settings; the token ones are shared with the router, which checks what users issues. */
export const USERS_SETTINGS = Object.freeze({
  port: SUBGRAPH_PORT_SETTINGS.users,
  jwtIssuer: TOKEN_SETTINGS.jwtIssuer,
  jwtAudience: TOKEN_SETTINGS.jwtAudience,
  jwtTtlSeconds: setting<number>({
    env: "JWT_TTL_SECONDS",
    key: "users.jwt_ttl_seconds",
    type: integer({ min: 60, max: 86_400 }),
    default: 3600,
    description: "access-token lifetime in seconds",
  }),
  demoPassword: COMMON_SETTINGS.demoPassword,
});

export const USERS_SETTINGS_READ: readonly Setting<unknown>[] =
  subgraphSettingsRead(USERS_SETTINGS);

export interface UsersConfig extends SubgraphProcessConfig {
  /** `iss` of issued tokens (USERS_SETTINGS.jwtIssuer). */
  readonly jwtIssuer: string;
  /** `aud` of issued tokens (USERS_SETTINGS.jwtAudience). */
  readonly jwtAudience: string;
  /** Access-token lifetime in seconds (USERS_SETTINGS.jwtTtlSeconds). */
  readonly jwtTtlSeconds: number;
  /** Password of the seeded demo accounts (see readDemoPassword). */
  readonly demoPassword: string;
}

export function loadUsersConfig(env: Env): UsersConfig {
  const common = readSubgraphProcessConfig(env, "users");
  return Object.freeze({
    ...common,
    jwtIssuer: readSetting(env, USERS_SETTINGS.jwtIssuer),
    jwtAudience: readSetting(env, USERS_SETTINGS.jwtAudience),
    jwtTtlSeconds: readSetting(env, USERS_SETTINGS.jwtTtlSeconds),
    demoPassword: readDemoPassword(env, {
      production: common.production,
      seed: common.seedDemoData,
    }),
  });
}
