import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { SupergraphSdlHook } from "@apollo/gateway";
import { applyReload, watchFiles, type ReloadOptions } from "./watch-files.ts";

/**
 * Serves the supergraph from a file and hot-reloads it. The directory is watched (editors and
 * `npm run compose` replace files by rename, which a watch on the file itself would miss); changes
 * are debounced, unchanged content is ignored, and a supergraph the gateway rejects is logged and
 * the previous one kept. The gateway swaps schemas atomically: in-flight requests finish on the
 * schema they started with.
 */
export function supergraphFromFile(
  path: string,
  { logger, debounceMs = 150, onReload }: ReloadOptions,
): SupergraphSdlHook {
  const fullPath = resolve(path);
  return async ({ update }) => {
    let current = await readFile(fullPath, "utf8");
    const reload = async () => {
      let next: string;
      try {
        next = await readFile(fullPath, "utf8");
      } catch (error) {
        logger.warn(
          { err: error, path: fullPath },
          "supergraph file unreadable; keeping the current schema",
        );
        return;
      }
      if (next === current || next.trim() === "") return;
      applyReload(
        { logger, onReload },
        { path: fullPath },
        {
          applied: "supergraph reloaded",
          rejected: "new supergraph rejected; keeping the current schema",
        },
        () => {
          update(next);
          current = next;
        },
      );
    };
    const watcher = watchFiles([fullPath], debounceMs, () => void reload());
    return {
      supergraphSdl: current,
      async cleanup() {
        watcher.close();
      },
    };
  };
}
