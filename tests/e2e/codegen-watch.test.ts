/**
 * `npm run codegen -- --watch` (scripts/codegen.ts, configured by codegen.ts): run in a scratch
 * copy of the schema and operations; a new operation file is generated, a broken one reported
 * while the last good output stays.
 */
import {
  cpSync,
  existsSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SUBGRAPH_NAMES } from "../../platform/services.ts";
import { waitFor } from "../support/wait.ts";
import {
  repoScratchDir,
  REPO_ROOT,
  startProcess,
  type Service,
} from "../support/process.ts";

const ROOT = REPO_ROOT;
const dir = repoScratchDir("codegen-watch");
let watcher: Service | undefined;
afterAll(async () => {
  await watcher?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("npm run codegen -- --watch", () => {
  it("regenerates when an operation file appears, and keeps the last good output when one breaks", async () => {
    cpSync(join(ROOT, "schema/api.graphql"), join(dir, "schema/api.graphql"));
    cpSync(join(ROOT, "clients/operations"), join(dir, "clients/operations"), {
      recursive: true,
    });
    // The same run also writes each subgraph's resolver types from its schema.
    for (const name of SUBGRAPH_NAMES)
      cpSync(
        join(ROOT, `subgraphs/${name}/schema.graphql`),
        join(dir, `subgraphs/${name}/schema.graphql`),
      );
    const generated = join(dir, "clients/generated/graphql.ts");
    watcher = await startProcess(join(ROOT, "scripts/codegen.ts"), {
      cwd: dir,
      env: {},
      args: ["--watch"],
      readyLine: /Watching schema\/api\.graphql/,
      timeoutMs: 120_000,
    });
    expect(existsSync(generated)).toBe(true);
    expect(readFileSync(generated, "utf8")).not.toContain("WatchProbe");

    const probe = join(dir, "clients/operations/watch-probe.graphql");
    writeFileSync(
      probe,
      "query WatchProbe { products(first: 1) { totalCount } }\n",
    );
    await waitFor(
      () =>
        readFileSync(generated, "utf8").includes("WatchProbeQuery")
          ? true
          : undefined,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: "WatchProbeQuery in the generated client",
      },
    );

    writeFileSync(
      probe,
      "query WatchProbe { products(first: 1) { noSuchField } }\n",
    );
    await waitFor(
      () =>
        watcher!.output().includes("operation error(s)") ? true : undefined,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: "the watcher to report the broken operation",
      },
    );
    expect(watcher.output()).toMatch(
      /Cannot query field "noSuchField".*\n\s+at clients\/operations\/watch-probe\.graphql:1:/,
    );
    expect(watcher.child.exitCode).toBeNull();
    expect(readFileSync(generated, "utf8")).toContain("WatchProbeQuery");
  }, 240_000);
});
