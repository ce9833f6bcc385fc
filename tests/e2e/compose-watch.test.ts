/**
 * `npm run compose -- --watch` (scripts/compose.ts): a copy of supergraph.yaml and the subgraph
 * schemas in a scratch folder, the watcher running there; editing a subgraph schema recomposes the
 * supergraph, and a broken edit is reported while the last good supergraph stays.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readCompositionConfig } from "../../scripts/composition.ts";
import { REPO_ROOT } from "../support/process.ts";
import { expectGoodThenBrokenEdit } from "../support/watch-edits.ts";
import { waitUntil, watchScratch } from "../support/watch-script.ts";

const scratch = watchScratch("compose-watch");
const { dir } = scratch;

describe("npm run compose -- --watch", () => {
  it("recomposes when a subgraph schema changes, and keeps the last good supergraph when an edit breaks composition", async () => {
    scratch.copy("supergraph.yaml");
    for (const { schemaFile } of readCompositionConfig(
      join(REPO_ROOT, "supergraph.yaml"),
    ).subgraphs)
      scratch.copy(schemaFile.slice(REPO_ROOT.length + 1));
    const supergraph = join(dir, "supergraph.graphql");
    const watcher = await scratch.start(
      "compose.ts",
      /Watching supergraph\.yaml/,
    );
    expect(existsSync(supergraph)).toBe(true);
    expect(readFileSync(supergraph, "utf8")).not.toContain("watchProbe");

    const products = join(dir, "subgraphs/products/schema.graphql");
    const good = readFileSync(products, "utf8");
    await expectGoodThenBrokenEdit(watcher, supergraph, products, {
      good: (schema) =>
        `${schema}\n"""Added by the watch test."""\ntype WatchProbe {\n  """Its id."""\n  id: ID!\n}\n\nextend type Query {\n  """A probe."""\n  watchProbe: WatchProbe\n}\n`,
      gained: "watchProbe",
      broken: (schema) => `${schema}\ntype Broken {\n`,
      reported: "Composition failed",
    });

    writeFileSync(products, good);
    await waitUntil(
      () => !readFileSync(supergraph, "utf8").includes("watchProbe"),
      "the supergraph to drop watchProbe again",
    );
  }, 240_000);
});
