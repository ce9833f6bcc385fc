import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "./database.ts";

/**
 * Applies `NNN-name.sql` files from `dir` in order, once each, recording them in
 * `<schema>.schema_migrations`. The same files run on PostgreSQL and PGlite. An advisory lock
 * keyed by the schema makes concurrent starts of several replicas apply each file exactly once.
 */
export async function migrate(
  db: Database,
  { schema, dir }: { schema: string; dir: string },
): Promise<string[]> {
  assertIdentifier(schema);
  const files = readdirSync(dir)
    .filter((name) => /^\d{3}-[\w-]+\.sql$/.test(name))
    .sort();
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [
      `migrate:${schema}`,
    ]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (
        await tx.query<{ id: string }>(
          `SELECT id FROM ${schema}.schema_migrations`,
        )
      ).map((row) => row.id),
    );
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      for (const statement of splitStatements(
        readFileSync(join(dir, file), "utf8"),
      ))
        await tx.query(statement);
      await tx.query(
        `INSERT INTO ${schema}.schema_migrations (id) VALUES ($1)`,
        [file],
      );
      applied.push(file);
    }
    return applied;
  });
}

/**
 * Runs `seed` once per database: the marker row makes a restart (or a second replica) skip it,
 * even if an operator later deletes the demo rows on purpose.
 */
export async function seedOnce(
  db: Database,
  {
    schema,
    name,
    seed,
  }: {
    schema: string;
    name: string;
    seed: (
      tx: Parameters<Parameters<Database["transaction"]>[0]>[0],
    ) => Promise<void>;
  },
): Promise<boolean> {
  assertIdentifier(schema);
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [
      `seed:${schema}`,
    ]);
    const marker = `seed:${name}`;
    const [row] = await tx.query(
      `SELECT 1 FROM ${schema}.schema_migrations WHERE id = $1`,
      [marker],
    );
    if (row) return false;
    await seed(tx);
    await tx.query(`INSERT INTO ${schema}.schema_migrations (id) VALUES ($1)`, [
      marker,
    ]);
    return true;
  });
}

function assertIdentifier(name: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(name))
    throw new Error(`not a safe SQL identifier: ${name}`);
}

/** Migration files hold plain DDL separated by `;` at line ends (no functions with bodies). */
function splitStatements(script: string): string[] {
  return script
    .split(/;\s*$/m)
    .map((statement) => statement.replace(/^\s*--.*$/gm, "").trim())
    .filter((statement) => statement.length > 0);
}
