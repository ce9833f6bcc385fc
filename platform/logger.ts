import { pino, type DestinationStream, type Logger } from "pino";
import type { LogFormat, LogLevel } from "./config.ts";
import { currentCorrelationId } from "./correlation.ts";
import { createTerminalStream } from "./log-lines.ts";
import { currentTraceId } from "./tracing.ts";

export type { Logger };

/**
 * The fields every log line written while handling a request or message carries: its correlation
 * id and, when tracing records it, its trace id. Read from the async context (platform/correlation.ts)
 * rather than bound into child loggers, so a line logged deep inside a library call (the gateway,
 * a breaker, a retry) is tied to its request as well as one logged by our own handlers.
 */
export function requestFields(): { correlationId?: string; traceId?: string } {
  const correlationId = currentCorrelationId();
  if (correlationId === undefined) return {};
  const traceId = currentTraceId();
  return traceId === undefined ? { correlationId } : { correlationId, traceId };
}

/**
 * A child bound to `{ service }`, unless `logger` already names a service: pino writes every
 * binding of every level of children, so re-binding would put `service` twice on each line. A
 * process that runs one role (`npm run start:worker`) is named by that role.
 */
export function forService(logger: Logger, service: string): Logger {
  return "service" in logger.bindings() ? logger : logger.child({ service });
}

/**
 * One root logger per process. Services take a child bound to `{ service }` (forService); every line logged
 * while a request or message is handled gets `correlationId` and `traceId` (requestFields).
 * Authorization headers, passwords and tokens are redacted wherever they appear.
 */
/** Where `npm start` also writes its log in development, and where `npm run trace` looks by default. */
export const DEV_LOG_FILE = ".data/switchyard.log";

export function createLogger({
  level = "info",
  destination,
  file,
  format = "json",
}: {
  level?: LogLevel;
  destination?: DestinationStream;
  /** Also append every line to this file (`off` or undefined: stdout only). */
  file?: string | undefined;
  /**
   * `pretty` (one line per event, platform/log-lines.ts) only takes effect on a terminal: a pipe
   * or a file must stay JSON for collectors and `npm run trace`. The log file is always JSON.
   */
  format?: LogFormat;
} = {}): Logger {
  // A terminal's writes are synchronous in Node, so lines (and the start-up banner) keep their order.
  const terminal =
    format === "pretty" && process.stdout.isTTY
      ? createTerminalStream({
          write: (text) => process.stdout.write(text),
          color: process.stdout.hasColors(),
        })
      : undefined;
  const stdout =
    destination ?? terminal ?? pino.destination({ fd: 1, sync: false });
  const streams =
    file && file !== "off"
      ? pino.multistream([
          { stream: stdout, level },
          {
            stream: pino.destination({ dest: file, mkdir: true, sync: false }),
            level,
          },
        ])
      : stdout;
  return pino(
    {
      level,
      base: { pid: process.pid },
      mixin: requestFields,
      redact: {
        paths: [
          "req.headers.authorization",
          "headers.authorization",
          "password",
          "*.password",
          "token",
          "*.token",
          "variables.password",
          "variables.input.password",
        ],
        censor: "[redacted]",
      },
    },
    streams,
  );
}
