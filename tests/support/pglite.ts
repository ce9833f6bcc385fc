import { cpSync, existsSync, mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { openStorage, type Storage } from "../../platform/database.ts";

/** Set by tests/support/pglite-setup.ts: a directory holding `template/`, an initialised, empty PGlite. */
export const PGLITE_ROOT_ENV = "SWITCHYARD_TEST_PGLITE_ROOT";

/**
 * A fresh, empty PGlite database of the test file's own. Initialising PGlite (its initdb) costs
 * seconds of CPU per database, so the tests' global setup initialises one template per run and
 * each database starts as a copy of it (a fraction of a second). Without that setup (a file run by
 * some other runner) it is PGlite in memory, as `npm start --` minus the disk.
 *
 * Closing the storage removes its copy (about 1,000 files, 40 MB): left for the end of the run,
 * the copies of a whole suite added up to gigabytes that the setup's teardown then had to remove.
 */
export async function scratchPglite({
  root = process.env[PGLITE_ROOT_ENV],
}: { root?: string } = {}): Promise<Storage> {
  if (!root || !existsSync(join(root, "template")))
    return openStorage({ dataDir: "memory://" });
  const dir = mkdtempSync(join(root, "db-"));
  cpSync(join(root, "template"), dir, { recursive: true });
  const storage = await openStorage({ dataDir: dir });
  return {
    ...storage,
    async close() {
      await storage.close();
      await removeTree(dir);
    },
  };
}

/**
 * Removes a directory tree without blocking the event loop (fs.promises.rm). The global setup's
 * teardown runs in vitest's main process while it is still stopping the last test file's worker:
 * an rmSync there held the main thread for longer than vitest's teardownTimeout (10 s) on a loaded
 * machine, and vitest then reported "Timeout terminating forks worker" for that last file.
 */
export function removeTree(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}
