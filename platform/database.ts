import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { InfrastructureError } from "./errors.ts";

/** What repositories need: parameterised queries and transactions. Both drivers speak it. */
export interface Sql {
  query<Row = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<Row[]>;
}

export interface Database extends Sql {
  readonly kind: "postgres" | "pglite";
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  /** Statements run so far through this handle (tests assert SQL counts per request with it). */
  readonly queryCount: number;
  /**
   * Transactions run so far through this handle: on PostgreSQL each adds a BEGIN and a COMMIT round
   * trip to its statements (the placeOrder bench reports round trips per order from both counts).
   */
  readonly transactionCount: number;
  onQuery(listener: (text: string) => void): void;
  /**
   * Calls `onNotify` for every NOTIFY on `channel` (a plain identifier) until the returned stop
   * function runs. On PostgreSQL a dedicated connection listens and reconnects by itself (calling
   * `onNotify` once back, since notifications sent meanwhile are lost); PGlite delivers them
   * in-process. Callers treat it as a wake-up hint only and keep a polling fallback.
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * The process-wide storage engine: one pg pool per service against PostgreSQL, or one PGlite
 * instance shared by every service of the process (PGlite boots in ~4 s empty, ~0.4 s warm, and
 * allows a single connection, so one instance per process is the only sane shape).
 */
export interface Storage {
  readonly kind: "postgres" | "pglite";
  /** A handle for one service. Each service's SQL names its own schema (`orders.orders`). */
  forService(service: string): Database;
  close(): Promise<void>;
}

export async function openStorage({
  databaseUrl,
  dataDir,
}: {
  databaseUrl?: string | undefined;
  dataDir: string;
}): Promise<Storage> {
  return databaseUrl ? openPostgres(databaseUrl) : openPglite(dataDir);
}

function counted(
  kind: Database["kind"],
  base: Omit<
    Database,
    "queryCount" | "transactionCount" | "onQuery" | "kind" | "close" | "listen"
  >,
  listen: Database["listen"],
  close: () => Promise<void>,
): Database {
  const listeners: Array<(text: string) => void> = [];
  let count = 0;
  let transactions = 0;
  const note = (text: string) => {
    count += 1;
    for (const listener of listeners) listener(text);
  };
  const wrap = (sql: Sql): Sql => ({
    query: (text, params) => {
      note(text);
      return sql.query(text, params);
    },
  });
  return {
    kind,
    query: (text, params) => wrap(base).query(text, params),
    transaction: (fn) => {
      transactions += 1;
      return base.transaction((tx) => fn(wrap(tx)));
    },
    exec: base.exec,
    get queryCount() {
      return count;
    },
    get transactionCount() {
      return transactions;
    },
    onQuery: (listener) => listeners.push(listener),
    listen,
    close,
  };
}

const LISTEN_RETRY_MS = 1000;

function assertChannelName(channel: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel))
    throw new Error(`not a safe LISTEN channel name: ${channel}`);
}

/** LISTEN on a connection of its own (a pooled one would lose the subscription when released). */
function listenOnPostgres(
  url: string,
  service: string,
  channel: string,
  onNotify: () => void,
): () => Promise<void> {
  assertChannelName(channel);
  let client: pg.Client | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const retryLater = () => {
    if (stopped) return;
    timer = setTimeout(() => void connect(), LISTEN_RETRY_MS);
    timer.unref();
  };
  const connect = async () => {
    const candidate = new pg.Client({
      connectionString: url,
      application_name: `switchyard-${service}-listen`,
    });
    candidate.on("error", () => undefined);
    candidate.on("notification", (message) => {
      if (message.channel === channel) onNotify();
    });
    candidate.on("end", () => {
      if (client !== candidate) return;
      client = undefined;
      retryLater();
    });
    try {
      await candidate.connect();
      await candidate.query(`LISTEN ${channel}`);
    } catch {
      await candidate.end().catch(() => undefined);
      retryLater();
      return;
    }
    if (stopped) {
      await candidate.end().catch(() => undefined);
      return;
    }
    client = candidate;
    // Whatever was notified while no connection listened is caught up now.
    onNotify();
  };
  void connect();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    const current = client;
    client = undefined;
    await current?.end().catch(() => undefined);
  };
}

/** Socket errors of a server that is gone or unreachable: they pass with time, like SQLSTATE class 08. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/**
 * node-postgres reports a connection that ends under it (the server or the network went away
 * mid-query or mid-handshake) with a plain Error and no code, so its message is the only sign;
 * it is read here, once, and callers decide on `retriable` as everywhere else.
 */
const CONNECTION_ENDED =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

function asInfrastructureError(error: unknown): never {
  if (
    error instanceof Error &&
    (("code" in error &&
      typeof error.code === "string" &&
      NETWORK_CODES.has(error.code)) ||
      (!("code" in error) && CONNECTION_ENDED.test(error.message)))
  ) {
    throw new InfrastructureError(`database unreachable: ${error.message}`, {
      retriable: true,
      cause: error,
    });
  }
  if (
    error instanceof Error &&
    "code" in error &&
    typeof error.code === "string" &&
    /^(08|57P|53)/.test(error.code)
  ) {
    // Connection exceptions (08xxx), admin shutdown (57Pxx) and resource exhaustion (53xxx) pass with time.
    throw new InfrastructureError(`database unavailable: ${error.message}`, {
      retriable: true,
      cause: error,
    });
  }
  throw error;
}

async function openPostgres(url: string): Promise<Storage> {
  const pools = new Set<pg.Pool>();
  const listening = new Set<() => Promise<void>>();
  // Parse NUMERIC-free schema: amounts are integer minor units; BIGINT counts come back as strings
  // by default, which would leak into arithmetic, so parse int8 as number (counts stay < 2^53).
  pg.types.setTypeParser(20, (value: string) => Number(value));
  const probe = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await probe.query("SELECT 1");
  } catch (error) {
    await probe.end();
    throw new InfrastructureError(
      `cannot connect to PostgreSQL at DATABASE_URL: ${(error as Error).message}`,
      { retriable: true, cause: error },
    );
  } finally {
    if (!probe.ended) await probe.end();
  }
  return {
    kind: "postgres",
    forService(service) {
      const pool = new pg.Pool({
        connectionString: url,
        max: 10,
        application_name: `switchyard-${service}`,
      });
      pool.on("error", () => {
        /* idle client errors surface on the next query; without a listener they crash the process */
      });
      pools.add(pool);
      const query = async <Row>(text: string, params?: readonly unknown[]) =>
        (
          await pool
            .query(text, params as unknown[] | undefined)
            .catch(asInfrastructureError)
        ).rows as Row[];
      return counted(
        "postgres",
        {
          query,
          async transaction(fn) {
            const client = await pool.connect().catch(asInfrastructureError);
            // A checked-out client has no listener of the pool's: a connection that ends between
            // two statements would emit an unhandled 'error' and take the process down. The
            // statement in flight (or the next one) rejects on its own; the client is then broken.
            let broken: Error | undefined;
            const onError = (error: Error) => {
              broken = error;
            };
            client.on("error", onError);
            const run = async (text: string, params?: readonly unknown[]) =>
              (
                await client
                  .query(text, params as unknown[] | undefined)
                  .catch(asInfrastructureError)
              ).rows;
            try {
              await run("BEGIN");
              const result = await fn({ query: run });
              await run("COMMIT");
              return result;
            } catch (error) {
              if (!broken)
                await client.query("ROLLBACK").catch(() => undefined);
              throw error;
            } finally {
              client.removeListener("error", onError);
              // A broken client is destroyed rather than handed to the next caller.
              client.release(broken);
            }
          },
          async exec(script) {
            await pool.query(script).catch(asInfrastructureError);
          },
        },
        async (channel, onNotify) => {
          const stop = listenOnPostgres(url, service, channel, onNotify);
          listening.add(stop);
          return async () => {
            listening.delete(stop);
            await stop();
          };
        },
        async () => {
          pools.delete(pool);
          await pool.end();
        },
      );
    },
    async close() {
      await Promise.all([...listening].map((stop) => stop()));
      listening.clear();
      await Promise.all([...pools].map((pool) => pool.end()));
      pools.clear();
    },
  };
}

async function openPglite(dataDir: string): Promise<Storage> {
  if (dataDir !== "memory://") mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir === "memory://" ? undefined : dataDir);
  // PGlite is one connection: a transaction holds it, so a query issued outside the transaction
  // while it runs waits (PGlite queues it). Serialising here keeps that ordering explicit.
  let closed = false;
  return {
    kind: "pglite",
    forService() {
      return counted(
        "pglite",
        {
          query: async (text, params) =>
            (await db.query(text, params as unknown[] | undefined))
              .rows as never[],
          transaction: (fn) =>
            db.transaction((tx) =>
              fn({
                query: async (text, params) =>
                  (await tx.query(text, params as unknown[] | undefined))
                    .rows as never[],
              }),
            ),
          async exec(script) {
            await db.exec(script);
          },
        },
        async (channel, onNotify) => {
          assertChannelName(channel);
          const unlisten = await db.listen(channel, () => onNotify());
          // Stopping races the storage's close at shutdown: an UNLISTEN on a closed PGlite is moot.
          return async () => {
            if (!closed) await unlisten().catch(() => undefined);
          };
        },
        async () => undefined,
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}
