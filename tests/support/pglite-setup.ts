import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLITE_ROOT_ENV, removeTree } from "./pglite.ts";

/**
 * vitest global setup: initialises one empty PGlite data directory for the whole run, which
 * scratchPglite() copies for each test file (see ./pglite.ts). Workers inherit the variable. Every
 * project lists this file; vitest runs all projects' setups before the first test and their
 * teardowns after the last, so the first one creates the template and the others reuse it.
 *
 * The teardown is asynchronous (see removeTree): vitest awaits it in its main process while the
 * last worker is being stopped, and a synchronous removal there starved that stop.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const existing = process.env[PGLITE_ROOT_ENV];
  if (existing && existsSync(join(existing, "template")))
    return async () => undefined;
  const root = mkdtempSync(join(tmpdir(), "switchyard-test-pglite-"));
  const template = await PGlite.create(join(root, "template"));
  await template.close();
  process.env[PGLITE_ROOT_ENV] = root;
  return () => removeTree(root);
}
