/**
 * `npm run trace -- <correlationId> [file|dir ...]`: one request's timeline across every service,
 * from JSON log lines. Reads the files given (a directory: every file in it), else stdin when it is
 * piped, else the log `npm start` writes (.data/switchyard.log). Lines that are not JSON, or carry
 * a prefix before the JSON (`docker compose logs`), are read from their first `{`.
 */
import { createReadStream, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { isValidCorrelationId } from "../platform/correlation.ts";
import { LEVEL_NAMES, type LogEntry } from "../platform/log-lines.ts";
import { DEV_LOG_FILE } from "../platform/logger.ts";

export type { LogEntry };
/** Fields every line has or the header already shows; the rest is the line's story. */
const HIDDEN = new Set([
  "time",
  "level",
  "msg",
  "service",
  "correlationId",
  "traceId",
  "pid",
  "hostname",
  "component",
]);

/** The entry a log line holds when it belongs to `correlationId`, else undefined. */
export function entryOf(
  line: string,
  correlationId: string,
): LogEntry | undefined {
  if (!line.includes(correlationId)) return undefined;
  const start = line.indexOf("{");
  if (start < 0) return undefined;
  try {
    const entry = JSON.parse(line.slice(start)) as unknown;
    if (
      typeof entry !== "object" ||
      entry === null ||
      (entry as LogEntry).correlationId !== correlationId
    )
      return undefined;
    return entry as LogEntry;
  } catch {
    return undefined;
  }
}

const plural = (count: number, noun: string) =>
  `${count} ${noun}${count === 1 ? "" : "s"}`;

const short = (value: unknown) => {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
};

/** The timeline: a header (services, trace ids, span of time) and one line per entry, oldest first. */
export function formatTimeline(
  correlationId: string,
  entries: LogEntry[],
): string {
  if (entries.length === 0)
    return `no log lines for correlation id ${correlationId}\n`;
  const sorted = [...entries].sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
  const first = sorted[0]!.time ?? 0;
  const last = sorted.at(-1)!.time ?? first;
  const services = [...new Set(sorted.map((entry) => entry.service ?? "?"))];
  const traces = [
    ...new Set(
      sorted
        .map((entry) => entry.traceId)
        .filter((id): id is string => typeof id === "string"),
    ),
  ];
  const width = Math.max(...services.map((service) => service.length));
  const out = [
    `correlation id ${correlationId}: ${plural(sorted.length, "line")} from ${plural(services.length, "service")} (${services.join(", ")}) over ${last - first} ms`,
    ...(traces.length > 0 ? [`trace ids: ${traces.join(", ")}`] : []),
  ];
  for (const entry of sorted) {
    const at = new Date(entry.time ?? 0).toISOString().slice(11, 23);
    const offset = `+${(entry.time ?? first) - first}ms`.padStart(8);
    const level = (
      LEVEL_NAMES[entry.level ?? 30] ?? String(entry.level)
    ).padEnd(5);
    const fields = Object.entries(entry)
      .filter(([key, value]) => !HIDDEN.has(key) && value !== undefined)
      .map(([key, value]) => `${key}=${short(value)}`)
      .join(" ");
    out.push(
      `${at} ${offset}  ${(entry.service ?? "?").padEnd(width)}  ${level} ${entry.msg ?? ""}${fields ? `  ${fields}` : ""}`,
    );
  }
  return `${out.join("\n")}\n`;
}

function filesOf(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => filesOf(join(path, name)));
}

async function collect(
  streams: Readable[],
  correlationId: string,
): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for (const stream of streams) {
    for await (const line of createInterface({
      input: stream,
      crlfDelay: Infinity,
    })) {
      const entry = entryOf(line, correlationId);
      if (entry) entries.push(entry);
    }
  }
  return entries;
}

async function main(args: string[]): Promise<number> {
  const [correlationId, ...paths] = args;
  if (!correlationId || !isValidCorrelationId(correlationId)) {
    process.stderr.write(
      "usage: npm run trace -- <correlationId> [file|dir ...]  (reads stdin when piped, else .data/switchyard.log)\n",
    );
    return 2;
  }
  let streams: Readable[];
  // Searching the default log: say which file, so "no log lines" is never a mystery.
  let searched: string | undefined;
  if (paths.length > 0)
    streams = paths.flatMap(filesOf).map((file) => createReadStream(file));
  else if (!process.stdin.isTTY) streams = [process.stdin];
  else {
    searched = DEV_LOG_FILE;
    if (!existsSync(DEV_LOG_FILE)) {
      process.stderr.write(
        `trace: no log file at ${DEV_LOG_FILE} (npm start writes it outside production; LOG_FILE moves it). Pass log files, or pipe a log in.\n`,
      );
      return 2;
    }
    streams = [createReadStream(DEV_LOG_FILE)];
  }
  const entries = await collect(streams, correlationId);
  const timeline = formatTimeline(correlationId, entries);
  process.stdout.write(
    entries.length === 0 && searched
      ? `${timeline.trimEnd()} in ${searched} (pass log files, or pipe a log in, to search elsewhere)\n`
      : timeline,
  );
  return entries.length > 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`trace: ${(error as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
