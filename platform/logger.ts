import { pino, type DestinationStream, type Logger } from 'pino';
import PinoPretty from 'pino-pretty';
import type { LogFormat, LogLevel } from './config.ts';
import { currentCorrelationId } from './correlation.ts';
import { currentTraceId } from './tracing.ts';

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
 * One root logger per process. Services take a child bound to `{ service }`; every line logged
 * while a request or message is handled gets `correlationId` and `traceId` (requestFields).
 * Authorization headers, passwords and tokens are redacted wherever they appear.
 */
/** Where `npm start` also writes its log in development, and where `npm run trace` looks by default. */
export const DEV_LOG_FILE = '.data/switchyard.log';

export function createLogger({
  level = 'info',
  destination,
  file,
  format = 'json',
}: {
  level?: LogLevel;
  destination?: DestinationStream;
  /** Also append every line to this file (`off` or undefined: stdout only). */
  file?: string | undefined;
  /** `pretty` only takes effect on a terminal: a pipe or a file must stay JSON for collectors and `npm run trace`. */
  format?: LogFormat;
} = {}): Logger {
  const stdout = destination ?? (format === 'pretty' && process.stdout.isTTY ? PinoPretty({ colorize: true }) : pino.destination({ fd: 1, sync: false }));
  const streams = file && file !== 'off' ? pino.multistream([{ stream: stdout, level }, { stream: pino.destination({ dest: file, mkdir: true, sync: false }), level }]) : stdout;
  return pino(
    {
      level,
      base: { pid: process.pid },
      mixin: requestFields,
      redact: {
        paths: [
          'req.headers.authorization',
          'headers.authorization',
          'password',
          '*.password',
          'token',
          '*.token',
          'variables.password',
          'variables.input.password',
        ],
        censor: '[redacted]',
      },
    },
    streams,
  );
}
