/**
 * Log lines for a person at a terminal: one line per event (time, service, level, message, then
 * the fields that tell this event apart), instead of pino's JSON, or a block of lines per event.
 * Only ever a terminal's view: files, pipes and production keep JSON (platform/logger.ts), which is
 * what collectors and `npm run trace` read.
 */
import { Writable } from "node:stream";

/** A pino entry as it arrives in JSON. */
export type LogEntry = Record<string, unknown> & {
  time?: number;
  level?: number;
  msg?: string;
  service?: string;
};

export const LEVEL_NAMES: Readonly<Record<number, string>> = Object.freeze({
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
});

/**
 * Fields a terminal line leaves out: those in its head (time, level, service, message), the
 * process's own (pid, hostname), and the trace id (the correlation id stays: `npm run trace` takes it).
 */
const OMITTED = new Set([
  "time",
  "level",
  "msg",
  "service",
  "pid",
  "hostname",
  "traceId",
  "banner",
]);

/** A field's value on one line: strings as they are unless they need quotes, the rest as JSON, long ones cut. */
export function shortValue(value: unknown, max = 120): string {
  let text: string;
  if (
    value instanceof Object &&
    typeof (value as { message?: unknown }).message === "string"
  )
    text = errorText(
      value as { type?: string; message: string; stack?: string },
    );
  else if (typeof value === "string")
    text =
      /^[^\s"=]*$/.test(value) && value !== "" ? value : JSON.stringify(value);
  else text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** An error on one line: its type and message, and where it was thrown (first stack frame). */
function errorText({
  type,
  message,
  stack,
}: {
  type?: string;
  message: string;
  stack?: string;
}): string {
  const at = stack
    ?.split("\n")
    .find((line) => line.trimStart().startsWith("at "))
    ?.trim();
  return JSON.stringify(
    `${type ? `${type}: ` : ""}${message}${at ? ` (${at})` : ""}`,
  );
}

const COLORS: Readonly<Record<string, string>> = Object.freeze({
  TRACE: "90",
  DEBUG: "90",
  INFO: "32",
  WARN: "33",
  ERROR: "31",
  FATAL: "35",
});
const paint = (color: boolean, code: string, text: string) =>
  color ? `\u001b[${code}m${text}\u001b[0m` : text;

/**
 * A start-up banner: one log entry whose message is the title and whose `banner` field holds the
 * rows (label, value). JSON keeps it one line; a terminal shows it as a block.
 */
export type BannerRows = ReadonlyArray<readonly [label: string, value: string]>;

function formatBanner(title: string, rows: BannerRows, color: boolean): string {
  const width = Math.max(0, ...rows.map(([label]) => label.length));
  const lines = rows.map(
    ([label, value]) => `  ${paint(color, "2", label.padEnd(width))}  ${value}`,
  );
  return ["", `  ${paint(color, "1;32", title)}`, ...lines, ""].join("\n");
}

/**
 * One entry as one terminal line (a banner entry as its block):
 * `12:03:04.123 router       INFO  request served method=POST path=/graphql status=200 ms=4.2`.
 * Times are local, as a person reads a clock; the JSON keeps epoch milliseconds.
 */
export function formatLogLine(
  entry: LogEntry,
  {
    color = false,
    serviceWidth = 13,
  }: { color?: boolean; serviceWidth?: number } = {},
): string {
  if (Array.isArray(entry.banner))
    return formatBanner(entry.msg ?? "", entry.banner as BannerRows, color);
  const time = new Date(entry.time ?? Date.now());
  const clock = `${String(time.getHours()).padStart(2, "0")}:${String(time.getMinutes()).padStart(2, "0")}:${String(time.getSeconds()).padStart(2, "0")}.${String(time.getMilliseconds()).padStart(3, "0")}`;
  const level = LEVEL_NAMES[entry.level ?? 30] ?? String(entry.level);
  const fields = Object.entries(entry)
    .filter(([key, value]) => !OMITTED.has(key) && value !== undefined)
    .map(
      ([key, value]) => `${paint(color, "2", `${key}=`)}${shortValue(value)}`,
    )
    .join(" ");
  const head = `${paint(color, "2", clock)} ${paint(color, "36", String(entry.service ?? "?").padEnd(serviceWidth))} ${paint(color, COLORS[level] ?? "0", level.padEnd(5))}`;
  // One line per event: a message that spans lines (the gateway's) is joined.
  const message = String(entry.msg ?? "").replace(/\s*\n\s*/g, " ");
  return `${head} ${message}${fields ? ` ${fields}` : ""}`;
}

/**
 * A pino destination that writes each entry as formatLogLine's line to `write` (the terminal).
 * A line that is not JSON passes through unchanged.
 */
export function createTerminalStream({
  write,
  color,
}: {
  write: (text: string) => void;
  color: boolean;
}): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      for (const line of String(chunk).split("\n")) {
        if (line === "") continue;
        let text = line;
        try {
          text = formatLogLine(JSON.parse(line) as LogEntry, { color });
        } catch {
          // Not one of ours: show it as it came.
        }
        write(`${text}\n`);
      }
      done();
    },
  });
}
