import { randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import type { Database, Storage } from "../../platform/database.ts";
import { listen, type RunningServer } from "../../platform/http-server.ts";
import {
  createInternalTokenSigner,
  INTERNAL_TOKEN_HEADER,
} from "../../platform/internal-token.ts";
import type { Principal } from "../../platform/principal.ts";
import {
  prepareDatabase,
  type SubgraphDeps,
  type SubgraphModule,
  type SubgraphServer,
} from "../../platform/subgraph-server.ts";
import { scratchPglite } from "./pglite.ts";
import { gql, type GraphQLResponse, type Json } from "./graphql.ts";
import { silentLogger } from "./logger.ts";

/** One subgraph built by its own factory, on PGlite in memory, answering on a loopback port. */
export interface InProcessSubgraph<Server extends SubgraphServer> {
  /** What the factory returned (with its extras, e.g. products' `inventory`). */
  readonly server: Server;
  readonly db: Database;
  /** Base URL (internal REST routes hang off it); GraphQL is at `${url}/graphql`. */
  readonly url: string;
  /** Runs an operation as the router would send it: signed for `principal` (null = anonymous). */
  query<Data = Json>(
    document: string,
    variables?: Record<string, unknown>,
    principal?: Principal | null,
  ): Promise<GraphQLResponse<Data>>;
  stop(): Promise<void>;
}

/** Principals as the router vouches for them, from the demo users' roles. */
export const asCustomer = (id: string): Principal => ({
  id,
  role: "CUSTOMER",
  scopes: ["customer"],
});
export const asAdmin = (id: string): Principal => ({
  id,
  role: "ADMIN",
  scopes: ["admin"],
});

/**
 * Migrates (and by default seeds) `module`'s schema on `storage`, then calls `create` (the
 * subgraph's own `createXSubgraph(deps, …)`) and serves it on port 0. No router, no other service,
 * no broker: a unit test of one subgraph through its real schema, resolvers, loaders and SQL.
 * Several subgraphs may share one `storage`, each on its own schema, as `npm start` does.
 */
export async function startSubgraph<Server extends SubgraphServer>(
  module: Pick<SubgraphModule, "name" | "migrationsDir" | "seed">,
  create: (deps: SubgraphDeps) => Server,
  { storage, seed = true }: { storage: Storage; seed?: boolean },
): Promise<InProcessSubgraph<Server>> {
  const internalTokenSecret = randomBytes(32).toString("base64url");
  const signer = createInternalTokenSigner({ secret: internalTokenSecret });
  const db = await migratedDb(module, storage, { seed });
  const server = create({
    db,
    logger: silentLogger,
    production: false,
    internalTokenSecret,
  });
  await server.start();
  let running: RunningServer;
  try {
    running = await listen(server.handler, { port: 0, host: "127.0.0.1" });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    server,
    db,
    url: running.url,
    async query(document, variables = {}, principal = null) {
      return gql(`${running.url}/graphql`, document, variables, {
        [INTERNAL_TOKEN_HEADER]: await signer.sign(principal),
      });
    },
    async stop() {
      await running.close();
      await server.stop();
    },
  };
}

/** A fresh PGlite for a test file's subgraphs (./pglite.ts); close it after stopping them. */
export const memoryStorage = scratchPglite;

/**
 * `startSubgraph` on a PGlite of its own for the enclosing describe: started before its tests,
 * stopped and the storage closed after. The returned object stands for the running subgraph inside
 * tests and hooks registered after this call.
 */
export function subgraphForTests<Server extends SubgraphServer>(
  module: Pick<SubgraphModule, "name" | "migrationsDir" | "seed">,
  create: (deps: SubgraphDeps) => Server,
): InProcessSubgraph<Server> {
  let storage: Storage | undefined;
  let started: InProcessSubgraph<Server> | undefined;
  beforeAll(async () => {
    storage = await memoryStorage();
    started = await startSubgraph(module, create, { storage });
  });
  afterAll(async () => {
    await started?.stop();
    await storage?.close();
  });
  const running = () => {
    if (!started)
      throw new Error(`the ${module.name} subgraph runs only inside tests`);
    return started;
  };
  return {
    get server() {
      return running().server;
    },
    get db() {
      return running().db;
    },
    get url() {
      return running().url;
    },
    query: (document, variables, principal) =>
      running().query(document, variables, principal),
    stop: () => running().stop(),
  };
}

/** `module`'s schema on `storage`, migrated (and seeded with the demo data unless `seed: false`): for repository tests. */
export async function migratedDb(
  module: Pick<SubgraphModule, "name" | "migrationsDir" | "seed">,
  storage: Storage,
  { seed = true } = {},
): Promise<Database> {
  const db = storage.forService(module.name);
  await prepareDatabase({ ...module, create: () => undefined as never }, db, {
    seed,
    logger: silentLogger,
  });
  return db;
}

/**
 * A PGlite database of the enclosing describe's own, with `module`'s schema migrated (and seeded
 * unless `seed: false`): opened before its tests and handed to `ready`, closed after them.
 */
export function withMigratedDb(
  module: Pick<SubgraphModule, "name" | "migrationsDir" | "seed">,
  ready: (db: Database) => void | Promise<void>,
  { seed = true }: { seed?: boolean } = {},
): void {
  let storage: Storage | undefined;
  beforeAll(async () => {
    storage = await memoryStorage();
    await ready(await migratedDb(module, storage, { seed }));
  });
  afterAll(async () => {
    await storage?.close();
  });
}
