import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { watchFiles } from "../../../router/watch-files.ts";
import { scratchDir } from "../../support/scratch.ts";
import { waitFor } from "../../support/wait.ts";

describe("watchFiles", () => {
  const dir = scratchDir("watch-files-");
  const closers: Array<() => void> = [];
  afterEach(() => {
    for (const close of closers.splice(0)) close();
  });

  it("calls back when a watched file is replaced by rename (the folder is watched, not the file)", async () => {
    const path = join(dir, "renamed.txt");
    writeFileSync(path, "1");
    let calls = 0;
    const watcher = watchFiles([path], 5, () => (calls += 1));
    closers.push(() => watcher.close());
    writeFileSync(`${path}.tmp`, "2");
    renameSync(`${path}.tmp`, path);
    await waitFor(() => (calls > 0 ? true : undefined));
  });

  it("calls nothing after close", async () => {
    const path = join(dir, "closed.txt");
    writeFileSync(path, "1");
    let calls = 0;
    const watcher = watchFiles([path], 5, () => (calls += 1));
    watcher.close();
    writeFileSync(path, "2");
    // A second watcher on the same file shows the change was seen by the OS; the closed one stays silent.
    let seen = false;
    const witness = watchFiles([path], 5, () => (seen = true));
    closers.push(() => witness.close());
    writeFileSync(path, "3");
    await waitFor(() => (seen ? true : undefined));
    expect(calls).toBe(0);
  });
});
