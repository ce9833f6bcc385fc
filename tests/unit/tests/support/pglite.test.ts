import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  PGLITE_ROOT_ENV,
  removeTree,
  scratchPglite,
} from "../../../support/pglite.ts";

/**
 * The per-file PGlite copies (tests/support/pglite.ts) and their removal. Left to the global
 * setup's teardown, a whole suite's copies (gigabytes) were removed synchronously in vitest's main
 * process while it stopped the last worker: "Timeout terminating forks worker" for the last file.
 */
const scratchDir = (prefix: string): string =>
  mkdtempSync(join(tmpdir(), `switchyard-${prefix}-`));

describe("scratch PGlite databases (tests/support/pglite.ts)", () => {
  it("removes a database's copy of the template when its storage closes, so copies never pile up for the teardown", async () => {
    const runRoot = process.env[PGLITE_ROOT_ENV];
    expect(
      runRoot,
      `the unit project's global setup (tests/support/pglite-setup.ts) sets ${PGLITE_ROOT_ENV}`,
    ).toBeDefined();
    const root = scratchDir("pglite-root");
    onTestFinished(() => removeTree(root));
    cpSync(join(runRoot!, "template"), join(root, "template"), {
      recursive: true,
    });
    const storage = await scratchPglite({ root });
    const copies = readdirSync(root).filter((name) => name !== "template");
    expect(copies).toHaveLength(1);
    expect(await storage.forService("test").query("SELECT 1 AS one")).toEqual([
      { one: 1 },
    ]);
    await storage.close();
    expect(readdirSync(root)).toEqual(["template"]);
  });

  it("removes a tree without holding the event loop: callbacks queued meanwhile run before it is done", async () => {
    const dir = scratchDir("remove-tree");
    for (let index = 0; index < 50; index++) {
      mkdirSync(join(dir, `d${index}`));
      writeFileSync(join(dir, `d${index}`, "file"), "x");
    }
    let ranMeanwhile = false;
    setImmediate(() => (ranMeanwhile = true));
    await removeTree(dir);
    expect(ranMeanwhile).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });
});
