import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * Creates a database with a random name (`<prefix>_<hex>`) on the PostgreSQL server at `adminUrl`
 * and returns its URL; `drop` removes it even while connections to it are still open (`WITH
 * (FORCE)`), so a test file or a bench that failed half-way still cleans up. No vitest import: the
 * pipeline bench (scripts/pipeline-bench.ts) uses it too.
 */
export async function createThrowawayDatabase(
  adminUrl: string,
  prefix: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const asAdmin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await asAdmin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => asAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
