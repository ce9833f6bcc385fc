import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const TESTS = join(import.meta.dirname, "..");
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? files(join(dir, entry.name))
      : [relative(TESTS, join(dir, entry.name))],
  );
const testFiles = files(TESTS).filter((file) => file.endsWith(".test.ts"));

/** The layout vitest.config.ts relies on: its projects pick test files up by folder only. */
describe("the test layout (vitest.config.ts projects)", () => {
  it("has every test file in unit/, int/ or e2e/, where a project runs it (a file anywhere else would never run)", () => {
    expect(testFiles.length).toBeGreaterThan(0);
    expect(testFiles.filter((file) => !/^(unit|int|e2e)\//.test(file))).toEqual(
      [],
    );
  });

  it("keeps unit tests off servers and brokers: none imports the broker probes, the PostgreSQL backend or child-process helpers", () => {
    const offenders = testFiles
      // This file names them in its own patterns.
      .filter(
        (file) =>
          file.startsWith("unit/") && file !== "unit/vitest.config.test.ts",
      )
      .filter((file) => {
        const source = readFileSync(join(TESTS, file), "utf8");
        return (
          /'[./]*support\/(brokers|private-rabbit|process|crashing-worker)\.ts'/.test(
            source,
          ) || /\b(postgresBackend|allBackends)\b/.test(source)
        );
      });
    // waitFor and unique live in tests/support/wait.ts; pgliteBackend in storage.ts is fine.
    expect(
      offenders,
      "unit tests importing broker or PostgreSQL support (take waitFor/unique from tests/support/wait.ts)",
    ).toEqual([]);
  });
});
