import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Storage } from "../../../platform/database.ts";
import { migrate, seedOnce } from "../../../platform/migrate.ts";
import type { Backend } from "../storage.ts";

/**
 * Migrations and seeding, the same on every engine: PGlite runs it in tests/unit/platform/migrate.test.ts,
 * PostgreSQL in tests/int/platform/migrate.test.ts.
 */
export function migrationContract(backend: Backend): void {
  describe(`migrations and seeding on ${backend.name}`, () => {
    let storage: Storage;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      if (backend.unavailable) return;
      ({ storage, drop } = await backend.open());
    });
    afterAll(async () => drop?.());

    it.skipIf(backend.unavailable)(
      "applies each file once, in order, however often and however concurrently it runs",
      async () => {
        const dir = migrationsDir();
        const db = storage.forService("shop");
        const runs = await Promise.all([
          migrate(db, { schema: "shop", dir }),
          migrate(storage.forService("shop"), { schema: "shop", dir }),
        ]);
        expect(runs.flat().sort()).toEqual([
          "001-widgets.sql",
          "002-gadgets.sql",
        ]);
        expect(await migrate(db, { schema: "shop", dir })).toEqual([]);
        const applied = await db.query<{ id: string }>(
          "SELECT id FROM shop.schema_migrations ORDER BY id",
        );
        expect(applied.map((row) => row.id)).toEqual([
          "001-widgets.sql",
          "002-gadgets.sql",
        ]);
      },
    );

    it.skipIf(backend.unavailable)(
      "rolls a failing migration back whole, leaving nothing half-applied",
      async () => {
        const dir = mkdtempSync(join(tmpdir(), "switchyard-migrations-"));
        writeFileSync(
          join(dir, "001-ok.sql"),
          "CREATE TABLE broken.ok (id int);\n",
        );
        writeFileSync(
          join(dir, "002-bad.sql"),
          "CREATE TABLE broken.bad (id nonsense_type);\n",
        );
        const db = storage.forService("broken");
        await expect(migrate(db, { schema: "broken", dir })).rejects.toThrow(
          /nonsense_type/,
        );
        expect(
          await db.query(
            `SELECT 1 FROM information_schema.tables WHERE table_schema = 'broken'`,
          ),
        ).toEqual([]);
      },
    );

    it.skipIf(backend.unavailable)(
      "seeds once, even when asked again after a restart",
      async () => {
        const db = storage.forService("shop");
        const seed = async (tx: { query: typeof db.query }) => {
          await tx.query(
            "INSERT INTO shop.widgets (id) SELECT coalesce(max(id), 0) + 1 FROM shop.widgets",
          );
        };
        expect(await seedOnce(db, { schema: "shop", name: "demo", seed })).toBe(
          true,
        );
        expect(await seedOnce(db, { schema: "shop", name: "demo", seed })).toBe(
          false,
        );
        expect(await db.query("SELECT id FROM shop.widgets")).toEqual([
          { id: 1 },
        ]);
      },
    );

    it.skipIf(backend.unavailable)(
      "rolls back a transaction that throws",
      async () => {
        const db = storage.forService("shop");
        await expect(
          db.transaction(async (tx) => {
            await tx.query("INSERT INTO shop.gadgets (id) VALUES (7)");
            throw new Error("changed my mind");
          }),
        ).rejects.toThrow("changed my mind");
        expect(
          await db.query("SELECT id FROM shop.gadgets WHERE id = 7"),
        ).toEqual([]);
      },
    );
  });
}

function migrationsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-migrations-"));
  writeFileSync(
    join(dir, "001-widgets.sql"),
    "CREATE TABLE IF NOT EXISTS shop.widgets (id int PRIMARY KEY);\n-- a comment\nCREATE INDEX IF NOT EXISTS widgets_id ON shop.widgets (id);\n",
  );
  writeFileSync(
    join(dir, "002-gadgets.sql"),
    "CREATE TABLE shop.gadgets (id int PRIMARY KEY);\n",
  );
  writeFileSync(join(dir, "README.md"), "not a migration");
  return dir;
}
