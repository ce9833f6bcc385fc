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
import { define, readSetting, type Setting } from "../../platform/settings.ts";
import { PASSWORD_HASH_COST, PASSWORD_HASH_COST_ENV } from "./passwords.ts";

/** The users service's settings; the token ones are shared with the router, which checks what users issues. */
export const USERS_SETTINGS = Object.freeze({
  port: SUBGRAPH_PORT_SETTINGS.users,
  jwtIssuer: TOKEN_SETTINGS.jwtIssuer,
  jwtAudience: TOKEN_SETTINGS.jwtAudience,
  jwtTtlSeconds: define.int([60, 86_400], {
    env: "JWT_TTL_SECONDS",
    key: "users.jwt_ttl_seconds",
    default: 3600,
    description: "access-token lifetime in seconds",
  }),
  passwordHashCost: define.int(
    [PASSWORD_HASH_COST.floor, PASSWORD_HASH_COST.max],
    {
      env: PASSWORD_HASH_COST_ENV,
      key: "users.password_hash_cost",
      default: PASSWORD_HASH_COST.default,
      description: `scrypt cost of new password hashes as log2(N): each step doubles memory and login time; ${PASSWORD_HASH_COST.floor} is the floor (tests use it), existing hashes keep verifying after a change (each stores its own parameters)`,
    },
  ),
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
  /** scrypt cost (log2 N) of new password hashes (USERS_SETTINGS.passwordHashCost). */
  readonly passwordHashCost: number;
}

export function loadUsersConfig(env: Env): UsersConfig {
  const common = readSubgraphProcessConfig(env, "users");
  return Object.freeze({
    ...common,
    jwtIssuer: readSetting(env, USERS_SETTINGS.jwtIssuer),
    jwtAudience: readSetting(env, USERS_SETTINGS.jwtAudience),
    jwtTtlSeconds: readSetting(env, USERS_SETTINGS.jwtTtlSeconds),
    passwordHashCost: readSetting(env, USERS_SETTINGS.passwordHashCost),
    demoPassword: readDemoPassword(env, {
      production: common.production,
      seed: common.seedDemoData,
    }),
  });
}
