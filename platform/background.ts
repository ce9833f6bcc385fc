import type { Logger } from "./logger.ts";

export interface BackgroundTask {
  start(): void;
  /** Stops scheduling and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

/**
 * Runs `run` every `intervalMs`, never two runs at once (a slow run delays the next instead of
 * piling up). A failing run is logged and retried at the next tick; it never crashes the process.
 */
export function every(
  name: string,
  intervalMs: number,
  run: () => Promise<unknown>,
  logger: Logger,
): BackgroundTask {
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  let stopped = true;
  const tick = () => {
    current = run()
      .then(
        () => undefined,
        (error: unknown) =>
          logger.error({ err: error, task: name }, "background task failed"),
      )
      .finally(() => {
        current = undefined;
        if (!stopped) {
          timer = setTimeout(tick, intervalMs);
          timer.unref();
        }
      });
  };
  return {
    start() {
      if (!stopped) return;
      stopped = false;
      timer = setTimeout(tick, intervalMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
