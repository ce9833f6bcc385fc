import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll } from "vitest";
import {
  repoScratchDir,
  REPO_ROOT,
  startProcess,
  type Service,
} from "./process.ts";
import { waitFor } from "./wait.ts";

/**
 * A repository script's `--watch` mode run in a scratch copy (`.cache/<prefix>-…`): copy the files
 * it reads, start it there, poll for what it writes; the watcher is stopped and the copy removed
 * after the file's tests.
 */
export function watchScratch(prefix: string) {
  const dir = repoScratchDir(prefix);
  let watcher: Service | undefined;
  afterAll(async () => {
    await watcher?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    /** Copies a file or folder, by its path in the repository, to the same path in the scratch copy. */
    copy(path: string) {
      cpSync(join(REPO_ROOT, path), join(dir, path), { recursive: true });
    },
    /** Runs `scripts/<script> --watch` in the scratch copy until it prints `readyLine`. */
    async start(script: string, readyLine: RegExp): Promise<Service> {
      watcher = await startProcess(join(REPO_ROOT, "scripts", script), {
        cwd: dir,
        env: {},
        args: ["--watch"],
        readyLine,
        timeoutMs: 120_000,
      });
      return watcher;
    },
  };
}

/** Polls a watcher's effect (a file's text, its output) for up to a minute. */
export async function waitUntil(
  condition: () => boolean,
  what: string,
): Promise<void> {
  await waitFor(() => (condition() ? true : undefined), {
    timeoutMs: 60_000,
    intervalMs: 100,
    what,
  });
}
