import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";
import pg from "pg";
import {
  openStorage,
  type Database,
  type Storage,
} from "../../platform/database.ts";
import { migrate } from "../../platform/migrate.ts";
import { skipReason } from "./ci.ts";
import { scratchPglite } from "./pglite.ts";
import { createThrowawayDatabase } from "./throwaway-postgres.ts";

/** Server used for the PostgreSQL runs; each test file gets its own throw-away database on it. */
const ADMIN_URL =
  process.env.TEST_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/postgres";

export interface Backend {
  readonly name: "pglite" | "postgres";
  /** Why this backend cannot run here; undefined when it can. In CI an unavailable backend throws. */
  readonly unavailable: string | undefined;
  open(): Promise<{
    storage: Storage;
    databaseUrl: string | undefined;
    drop(): Promise<void>;
  }>;
}

async function postgresUnavailable(): Promise<string | undefined> {
  const client = new pg.Client({
    connectionString: ADMIN_URL,
    connectionTimeoutMillis: 3000,
  });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${ADMIN_URL} is not reachable (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** PGlite (a fresh database per call, see ./pglite.ts): always available, no server; the only backend unit tests use. */
export const pgliteBackend: Backend = {
  name: "pglite",
  unavailable: undefined,
  async open() {
    const storage = await scratchPglite();
    return { storage, databaseUrl: undefined, drop: () => storage.close() };
  },
};

/**
 * The PostgreSQL server at TEST_DATABASE_URL, probed when called (never on import). Outside CI an
 * unreachable server gives a backend whose `unavailable` says why (printed); in CI it throws.
 */
export async function postgresBackend(): Promise<Backend> {
  const reason = skipReason(
    "PostgreSQL",
    await postgresUnavailable().then(
      (why) =>
        why &&
        `${why}. Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`,
    ),
  );
  return {
    name: "postgres",
    unavailable: reason,
    async open() {
      const database = await createThrowawayDatabase(
        ADMIN_URL,
        "switchyard_test",
      );
      const storage = await openStorage({
        databaseUrl: database.url,
        dataDir: "",
      });
      return {
        storage,
        databaseUrl: database.url,
        async drop() {
          await storage.close();
          await database.drop();
        },
      };
    },
  };
}

/** Both engines, for tests that must hold on each: PGlite always, PostgreSQL when reachable. */
export async function allBackends(): Promise<Backend[]> {
  return [pgliteBackend, await postgresBackend()];
}

/**
 * Hooks the enclosing describe block to one throw-away database on `backend` for all its tests
 * (opening and migrating one per test was most of a file's time): `prepare` readies `service`'s
 * schema and `use` receives the service's handle before the tests run; each test empties the
 * tables it needs itself. Nothing is opened when the backend is unavailable (the block's tests skip
 * on `backend.unavailable`).
 */
export function withServiceDatabase(
  backend: Backend,
  service: string,
  prepare: (db: Database) => Promise<unknown>,
  use: (db: Database) => void,
): void {
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    if (backend.unavailable) return;
    const opened = await backend.open();
    drop = opened.drop;
    const db = opened.storage.forService(service);
    await prepare(db);
    use(db);
  });
  afterAll(async () => {
    await drop?.();
  });
}

/**
 * Hooks the enclosing describe block to a throw-away database on `backend` with the orders schema
 * (and its outbox) migrated; `use` receives the orders handle before the tests run. Nothing is
 * opened when the backend is unavailable (the block's tests skip on `backend.unavailable`).
 */
export function withOrdersDatabase(
  backend: Backend,
  use: (orders: Database) => void,
): void {
  withServiceDatabase(
    backend,
    "orders",
    (orders) =>
      migrate(orders, {
        schema: "orders",
        dir: fileURLToPath(
          new URL("../../subgraphs/orders/migrations", import.meta.url),
        ),
      }),
    use,
  );
}
