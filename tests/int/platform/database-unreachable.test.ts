import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStorage, type Storage } from "../../../platform/database.ts";
import { InfrastructureError } from "../../../platform/errors.ts";
import { startFaultProxy, type FaultProxy } from "../../support/fault-proxy.ts";
import { postgresBackend } from "../../support/storage.ts";

/**
 * A PostgreSQL that goes away surfaces as a retriable InfrastructureError, whichever way it goes:
 * connections cut mid-query or at the handshake (node-postgres: "Connection terminated
 * unexpectedly", no code) and a server that refuses connections (ECONNREFUSED). The dispatcher
 * holds its jobs on exactly that signal instead of walking them through the retry tiers.
 */
const postgres = await postgresBackend();
if (postgres.unavailable)
  console.error(
    `[tests] skipping the unreachable-database tests: ${postgres.unavailable}`,
  );

describe.skipIf(postgres.unavailable)(
  "a PostgreSQL that becomes unreachable",
  () => {
    let proxy: FaultProxy;
    let storage: Storage;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      const opened = await postgres.open();
      drop = opened.drop;
      const target = new URL(opened.databaseUrl!);
      proxy = await startFaultProxy(
        `http://${target.hostname}:${target.port || 5432}/`,
      );
      target.host = `127.0.0.1:${new URL(proxy.url).port}`;
      storage = await openStorage({
        databaseUrl: target.toString(),
        dataDir: "",
      });
    });
    afterAll(async () => {
      await storage?.close();
      await proxy?.close().catch(() => undefined);
      await drop?.();
    });

    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: unknown) => error,
      );

    it("a query cut mid-flight, and new connections reset at the handshake, are retriable infrastructure errors", async () => {
      const db = storage.forService("outage");
      await db.query("SELECT 1");
      const inFlight = failure(db.query("SELECT pg_sleep(5)"));
      // Cuts the pooled connection the query runs on.
      proxy.setMode("reset");
      expect(await inFlight).toMatchObject({ retriable: true });
      expect(await inFlight).toBeInstanceOf(InfrastructureError);
      const atHandshake = await failure(db.query("SELECT 1"));
      expect(atHandshake).toBeInstanceOf(InfrastructureError);
      expect(atHandshake).toMatchObject({ retriable: true });
      proxy.setMode("pass");
      expect(await db.query<{ one: number }>("SELECT 1 AS one")).toEqual([
        { one: 1 },
      ]);
    });

    it("a transaction whose connection is cut mid-statement or between statements rejects with a retriable error, and nothing is thrown outside it", async () => {
      const db = storage.forService("transaction");
      const uncaught: unknown[] = [];
      const record = (error: unknown) => uncaught.push(error);
      process.on("uncaughtException", record);
      try {
        let sleeping = false;
        const midStatement = failure(
          db.transaction((tx) => {
            sleeping = true;
            return tx.query("SELECT pg_sleep(5)");
          }),
        );
        await expect.poll(() => sleeping).toBe(true);
        proxy.setMode("reset");
        expect(await midStatement).toBeInstanceOf(InfrastructureError);
        expect(await midStatement).toMatchObject({ retriable: true });
        proxy.setMode("pass");

        // The connection ends while the transaction waits between two statements: no query is
        // in flight to receive the error, so only a listener on the checked-out client catches it.
        let cut!: () => void;
        const between = failure(
          db.transaction(async (tx) => {
            await tx.query("SELECT 1");
            await new Promise<void>((resolve) => {
              cut = resolve;
            });
            return tx.query("SELECT 2");
          }),
        );
        await expect.poll(() => cut).toBeDefined();
        proxy.setMode("reset");
        // A new connection being refused takes a round trip; the cut connection's end, which the
        // proxy sent first, has reached the waiting transaction's client by then.
        expect(await failure(db.query("SELECT 3"))).toBeInstanceOf(
          InfrastructureError,
        );
        cut();
        expect(await between).toBeInstanceOf(InfrastructureError);
        expect(await between).toMatchObject({ retriable: true });
        proxy.setMode("pass");
        expect(
          await db.transaction((tx) =>
            tx.query<{ one: number }>("SELECT 1 AS one"),
          ),
        ).toEqual([{ one: 1 }]);
      } finally {
        proxy.setMode("pass");
        process.off("uncaughtException", record);
      }
      expect(uncaught).toEqual([]);
    });

    it("a refused connection is a retriable infrastructure error; SQL errors stay what they are", async () => {
      const db = storage.forService("refused");
      expect(
        await failure(db.query("SELECT * FROM no_such_table")),
      ).not.toBeInstanceOf(InfrastructureError);
      await proxy.close();
      const refused = await failure(db.query("SELECT 1"));
      expect(refused).toBeInstanceOf(InfrastructureError);
      expect(refused).toMatchObject({ retriable: true });
    });
  },
);
