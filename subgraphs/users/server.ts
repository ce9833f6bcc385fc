import { sendJson } from "../../platform/http-server.ts";
import {
  contextWithLoaders,
  subgraphFolder,
  type SubgraphDeps,
} from "../../platform/subgraph-server.ts";
import { demoUsers, DEMO_PASSWORD } from "../../platform/demo-data.ts";
import { requiredDefault } from "../../platform/settings.ts";
import { USERS_SETTINGS } from "./config.ts";
import { createLoaders } from "./loaders.ts";
import { createPasswordHasher } from "./passwords.ts";
import { createUserRepository } from "./repository.ts";
import { resolvers, type UsersContext } from "./resolvers.ts";
import { createTokenIssuer } from "./tokens.ts";

const folder = subgraphFolder(
  "users",
  {
    schema: new URL("./schema.graphql", import.meta.url),
    migrations: new URL("./migrations", import.meta.url),
  },
  resolvers,
);
/** The parsed schema.graphql, for tests that build the schema without the server. */
export const typeDefs = folder.typeDefs;

export interface UsersOptions {
  jwtIssuer: string;
  jwtAudience: string;
  jwtTtlSeconds: number;
  /** Password of the seeded demo accounts. @default DEMO_PASSWORD, the published one (development only; see readDemoPassword) */
  demoPassword?: string;
  /** scrypt cost (log2 N) of new password hashes; refused below the floor (subgraphs/users/passwords.ts). */
  passwordHashCost: number;
}

/** The declared defaults (subgraphs/users/config.ts), for in-process stacks and tests. */
export const DEFAULT_USERS_OPTIONS: UsersOptions = {
  jwtIssuer: requiredDefault(USERS_SETTINGS.jwtIssuer),
  jwtAudience: requiredDefault(USERS_SETTINGS.jwtAudience),
  jwtTtlSeconds: requiredDefault(USERS_SETTINGS.jwtTtlSeconds),
  passwordHashCost: requiredDefault(USERS_SETTINGS.passwordHashCost),
};

export function createUsersSubgraph(
  deps: SubgraphDeps,
  options: UsersOptions = DEFAULT_USERS_OPTIONS,
) {
  const repo = createUserRepository(deps.db);
  const passwords = createPasswordHasher({ cost: options.passwordHashCost });
  const tokens = createTokenIssuer({
    db: deps.db,
    issuer: options.jwtIssuer,
    audience: options.jwtAudience,
    ttlSeconds: options.jwtTtlSeconds,
  });
  return folder.server<UsersContext>(deps, {
    context: contextWithLoaders(repo, createLoaders, {
      repo,
      tokens,
      passwords,
    }),
    routes: {
      "/.well-known/jwks.json": async (_req, res) =>
        sendJson(res, 200, await tokens.jwks(), {
          "cache-control": "public, max-age=300",
        }),
    },
  });
}

export function usersModule(options: UsersOptions = DEFAULT_USERS_OPTIONS) {
  return folder.module({
    async seed(tx) {
      const passwordHash = await createPasswordHasher({
        cost: options.passwordHashCost,
      }).hash(options.demoPassword ?? DEMO_PASSWORD);
      for (const user of demoUsers) {
        await tx.query(
          "INSERT INTO users.users (id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
          [user.id, user.email, user.name, user.role, passwordHash],
        );
      }
    },
    create: (deps) => createUsersSubgraph(deps, options),
  });
}
