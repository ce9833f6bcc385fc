import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { expect } from "vitest";
import type { Service } from "./process.ts";
import { waitUntil } from "./watch-script.ts";

/**
 * The two edits a `--watch` script is tested with, both of the input file `input` (given its text
 * before them, "" when new): `good`, after which the file at `output` gains `gained`; then
 * `broken`, which the watcher reports (`reported` in what it prints) while it keeps running and
 * `output` keeps what the good edit brought.
 */
export async function expectGoodThenBrokenEdit(
  watcher: Service,
  output: string,
  input: string,
  {
    good,
    gained,
    broken,
    reported,
  }: {
    good: (before: string) => string;
    gained: string;
    broken: (before: string) => string;
    reported: string;
  },
): Promise<void> {
  const before = existsSync(input) ? readFileSync(input, "utf8") : "";
  writeFileSync(input, good(before));
  await waitUntil(
    () => readFileSync(output, "utf8").includes(gained),
    `${gained} in ${output}`,
  );
  writeFileSync(input, broken(before));
  await waitUntil(
    () => watcher.output().includes(reported),
    `the watcher to report "${reported}"`,
  );
  expect(watcher.child.exitCode).toBeNull();
  expect(readFileSync(output, "utf8")).toContain(gained);
}
