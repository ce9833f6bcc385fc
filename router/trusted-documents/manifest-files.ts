import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { applyReload, watchFiles, type ReloadOptions } from "../watch-files.ts";
import { parseManifest, type ManifestOperation } from "./manifest.ts";

/** The trusted documents of every manifest file, by id; hot-reloaded. */
export interface ManifestFiles {
  get(id: string): ManifestOperation | undefined;
  has(id: string): boolean;
  readonly size: number;
  close(): void;
}

function readAll(paths: readonly string[]): Map<string, ManifestOperation> {
  const all = new Map<string, ManifestOperation>();
  for (const path of paths) {
    let entries;
    try {
      entries = parseManifest(readFileSync(path, "utf8"));
    } catch (error) {
      throw new Error(`manifest ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    for (const [id, entry] of entries) all.set(id, entry);
  }
  return all;
}

/**
 * Loads the manifests now (a missing or invalid file fails the start: enforce with a broken list
 * would refuse every client) and reloads them when one changes, as router/supergraph-file.ts does
 * for the supergraph: the directories are watched (a file replaced by rename is seen), changes are
 * debounced, and a set that no longer reads is logged and the previous one kept. The swap is one
 * assignment, so a request sees the old set or the new one, never a mix.
 */
export function loadManifestFiles(
  paths: readonly string[],
  { logger, debounceMs = 150, onReload }: ReloadOptions,
): ManifestFiles {
  const fullPaths = paths.map((path) => resolve(path));
  let current = readAll(fullPaths);
  const reload = () =>
    applyReload(
      { logger, onReload },
      { paths: fullPaths },
      {
        applied: "trusted documents reloaded",
        rejected: "trusted documents unreadable; keeping the current set",
      },
      () => {
        current = readAll(fullPaths);
        return { documents: current.size };
      },
    );
  const watcher = watchFiles(fullPaths, debounceMs, reload);
  return {
    get: (id) => current.get(id),
    has: (id) => current.has(id),
    get size() {
      return current.size;
    },
    close() {
      watcher.close();
    },
  };
}
