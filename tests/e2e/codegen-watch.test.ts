/**
 * `npm run codegen -- --watch` (scripts/codegen.ts, configured by codegen.ts): run in a scratch
 * copy of the schema and operations; a new operation file is generated, a broken one reported
 * while the last good output stays.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SUBGRAPH_NAMES } from "../../platform/services.ts";
import { expectGoodThenBrokenEdit } from "../support/watch-edits.ts";
import { watchScratch } from "../support/watch-script.ts";

const scratch = watchScratch("codegen-watch");
const { dir } = scratch;

describe("npm run codegen -- --watch", () => {
  it("regenerates when an operation file appears, and keeps the last good output when one breaks", async () => {
    scratch.copy("schema/api.graphql");
    scratch.copy("clients/operations");
    // The same run also writes each subgraph's resolver types from its schema.
    for (const name of SUBGRAPH_NAMES)
      scratch.copy(`subgraphs/${name}/schema.graphql`);
    const generated = join(dir, "clients/generated/graphql.ts");
    const watcher = await scratch.start(
      "codegen.ts",
      /Watching schema\/api\.graphql/,
    );
    expect(existsSync(generated)).toBe(true);
    expect(readFileSync(generated, "utf8")).not.toContain("WatchProbe");

    await expectGoodThenBrokenEdit(
      watcher,
      generated,
      join(dir, "clients/operations/watch-probe.graphql"),
      {
        good: () => "query WatchProbe { products(first: 1) { totalCount } }\n",
        gained: "WatchProbeQuery",
        broken: () =>
          "query WatchProbe { products(first: 1) { noSuchField } }\n",
        reported: "operation error(s)",
      },
    );
    expect(watcher.output()).toMatch(
      /Cannot query field "noSuchField".*\n\s+at clients\/operations\/watch-probe\.graphql:1:/,
    );
  }, 240_000);
});
