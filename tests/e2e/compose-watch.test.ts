/**
 * `npm run compose -- --watch` (scripts/compose.ts): a copy of supergraph.yaml and the subgraph
 * schemas in a scratch folder, the watcher running there; editing a subgraph schema recomposes the
 * supergraph, and a broken edit is reported while the last good supergraph stays.
 */
import {
  appendFileSync,
  cpSync,
  existsSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readCompositionConfig } from "../../scripts/composition.ts";
import { waitFor } from "../support/wait.ts";
import {
  repoScratchDir,
  REPO_ROOT,
  startProcess,
  type Service,
} from "../support/process.ts";

const ROOT = REPO_ROOT;
const dir = repoScratchDir("compose-watch");
let watcher: Service | undefined;
afterAll(async () => {
  await watcher?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("npm run compose -- --watch", () => {
  it("recomposes when a subgraph schema changes, and keeps the last good supergraph when an edit breaks composition", async () => {
    cpSync(join(ROOT, "supergraph.yaml"), join(dir, "supergraph.yaml"));
    for (const { schemaFile } of readCompositionConfig(
      join(ROOT, "supergraph.yaml"),
    ).subgraphs)
      cpSync(schemaFile, join(dir, schemaFile.slice(ROOT.length + 1)));
    const supergraph = join(dir, "supergraph.graphql");
    watcher = await startProcess(join(ROOT, "scripts/compose.ts"), {
      cwd: dir,
      env: {},
      args: ["--watch"],
      readyLine: /Watching supergraph\.yaml/,
      timeoutMs: 120_000,
    });
    expect(existsSync(supergraph)).toBe(true);
    expect(readFileSync(supergraph, "utf8")).not.toContain("watchProbe");

    const products = join(dir, "subgraphs/products/schema.graphql");
    const good = readFileSync(products, "utf8");
    appendFileSync(
      products,
      '\n"""Added by the watch test."""\ntype WatchProbe {\n  """Its id."""\n  id: ID!\n}\n\nextend type Query {\n  """A probe."""\n  watchProbe: WatchProbe\n}\n',
    );
    await waitFor(
      () =>
        readFileSync(supergraph, "utf8").includes("watchProbe")
          ? true
          : undefined,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: "the supergraph to gain watchProbe",
      },
    );

    writeFileSync(products, `${good}\ntype Broken {\n`);
    await waitFor(
      () =>
        watcher!.output().includes("Composition failed") ? true : undefined,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: "the watcher to report the broken schema",
      },
    );
    expect(watcher.child.exitCode).toBeNull();
    expect(readFileSync(supergraph, "utf8")).toContain("watchProbe");

    writeFileSync(products, good);
    await waitFor(
      () =>
        readFileSync(supergraph, "utf8").includes("watchProbe")
          ? undefined
          : true,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: "the supergraph to drop watchProbe again",
      },
    );
  }, 240_000);
});
