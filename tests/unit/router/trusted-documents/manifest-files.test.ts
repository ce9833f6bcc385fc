import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "graphql";
import { afterEach, describe, expect, it } from "vitest";
import { loadManifestFiles } from "../../../../router/trusted-documents/manifest-files.ts";
import { buildManifest } from "../../../../router/trusted-documents/manifest.ts";
import { memoryLogger } from "../../../support/logger.ts";
import { waitFor } from "../../../support/wait.ts";

const manifestOf = (query: string) => buildManifest([parse(query)]);

describe("manifest files", () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  function folder() {
    const dir = mkdtempSync(join(tmpdir(), "manifests-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  it("loads every file, reloads one replaced by rename, and keeps the last good set when a file breaks", async () => {
    const dir = folder();
    const [a, b] = [join(dir, "a.json"), join(dir, "b.json")];
    const first = manifestOf("query A { a }");
    const second = manifestOf("query B { b }");
    writeFileSync(a, JSON.stringify(first));
    writeFileSync(b, JSON.stringify(second));
    const outcomes: string[] = [];
    const { logger } = memoryLogger();
    const files = loadManifestFiles([a, b], {
      logger,
      debounceMs: 10,
      onReload: (outcome) => outcomes.push(outcome),
    });
    cleanups.push(() => files.close());
    expect(files.size).toBe(2);
    const third = manifestOf("query C { c }");
    writeFileSync(`${a}.tmp`, JSON.stringify(third));
    renameSync(`${a}.tmp`, a);
    await waitFor(() =>
      files.has(third.operations[0]!.id) ? true : undefined,
    );
    expect(files.has(first.operations[0]!.id)).toBe(false);
    expect(files.has(second.operations[0]!.id)).toBe(true);
    writeFileSync(a, "{ not json");
    await waitFor(() => (outcomes.includes("rejected") ? true : undefined));
    expect(files.has(third.operations[0]!.id)).toBe(true);
  });

  it("fails the start on a missing or invalid manifest", () => {
    const { logger } = memoryLogger();
    expect(() =>
      loadManifestFiles([join(folder(), "missing.json")], { logger }),
    ).toThrow(/manifest .*missing\.json/);
  });
});
