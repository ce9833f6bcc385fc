import { pino, type Logger } from "pino";

/**
 * Loggers for tests, in a module of their own: a unit test that needs only a logger does not pay
 * for importing ./stack.ts (every subgraph, the gateway, the router: seconds of CPU per file).
 */
export const silentLogger = pino({ level: "silent" });

/** A pino logger at `level` whose lines land parsed in `lines`, for asserting on log fields. */
export function memoryLogger(level: "debug" | "info" | "warn" = "info"): {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
} {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level },
    {
      write: (line: string) =>
        void lines.push(JSON.parse(line) as Record<string, unknown>),
    },
  );
  return { logger, lines };
}
