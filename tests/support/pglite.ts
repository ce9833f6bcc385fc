import { cpSync, existsSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { openStorage, type Storage } from "../../platform/database.ts";

/** Set by tests/support/pglite-setup.ts: a directory holding `template/`, an initialised, empty PGlite. */
export const PGLITE_ROOT_ENV = "SWITCHYARD_TEST_PGLITE_ROOT";

/**
 * A fresh, empty PGlite database of the test file's own. Initialising PGlite (its initdb) costs
 * seconds of CPU per database, so the tests' global setup initialises one template per run and
 * each database starts as a copy of it (a fraction of a second). Without that setup (a file run by
 * some other runner) it is PGlite in memory, as `npm start --` minus the disk. The copies live
 * under the run's directory, which the setup removes at the end.
 */
export async function scratchPglite(): Promise<Storage> {
  const root = process.env[PGLITE_ROOT_ENV];
  if (!root || !existsSync(join(root, "template")))
    return openStorage({ dataDir: "memory://" });
  const dir = mkdtempSync(join(root, "db-"));
  cpSync(join(root, "template"), dir, { recursive: true });
  return openStorage({ dataDir: dir });
}
