import { watch } from "node:fs";
import { basename, dirname } from "node:path";
import type { Logger } from "../platform/logger.ts";

/** How a file-backed input (the supergraph, the trusted-document manifests) reports its reloads. */
export interface ReloadOptions {
  logger: Logger;
  /** Changes closer together than this are read once. @default 150 */
  debounceMs?: number;
  onReload?: (outcome: "applied" | "rejected") => void;
}

/**
 * Calls `onChange` once changes to any of `paths` (absolute) settle for `debounceMs`. The folders are
 * watched, not the files: editors and `npm run compose` replace a file by rename, which a watch on
 * the file itself would miss. The watchers do not keep the process alive.
 */
export function watchFiles(
  paths: readonly string[],
  debounceMs: number,
  onChange: () => void,
): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  const watchers = [...new Set(paths.map(dirname))].map((folder) => {
    const names = new Set(
      paths
        .filter((path) => dirname(path) === folder)
        .map((path) => basename(path)),
    );
    const watcher = watch(folder, (_event, filename) => {
      if (filename !== null && !names.has(filename)) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, debounceMs);
    });
    watcher.unref();
    return watcher;
  });
  return {
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}

/**
 * Runs one reload and reports it: logged with `fields` (and whatever `apply` returns) and `applied`
 * when `apply` returns, logged as an error with `rejected` when it throws, the current input kept.
 */
export function applyReload(
  { logger, onReload }: ReloadOptions,
  fields: Readonly<Record<string, unknown>>,
  messages: { readonly applied: string; readonly rejected: string },
  apply: () => Readonly<Record<string, unknown>> | void,
): void {
  try {
    const outcome = apply();
    logger.info({ ...fields, ...outcome }, messages.applied);
    onReload?.("applied");
  } catch (error) {
    logger.error({ err: error, ...fields }, messages.rejected);
    onReload?.("rejected");
  }
}
