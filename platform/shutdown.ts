import type { Logger } from "./logger.ts";

/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits. A second signal while stopping exits at once
 * (the operator pressed Ctrl-C twice), and a stop that hangs is cut off after `timeoutMs`.
 */
const DUPLICATE_SIGNAL_WINDOW_MS = 1000;

export function onShutdown(
  logger: Logger,
  stop: () => Promise<void>,
  { timeoutMs = 15_000 } = {},
): void {
  let stopping = false;
  let firstSignalAt = 0;
  const handle = (signal: NodeJS.Signals) => {
    // One Ctrl-C can arrive twice: from the terminal to the whole process group, and relayed by a
    // parent such as tsx or npm. Only a second signal a moment later means "stop now".
    if (stopping && Date.now() - firstSignalAt < DUPLICATE_SIGNAL_WINDOW_MS)
      return;
    if (stopping) {
      logger.warn({ signal }, "second signal; exiting now");
      process.exit(130);
    }
    stopping = true;
    firstSignalAt = Date.now();
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, "shutdown timed out");
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        logger.info("stopped");
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
}
