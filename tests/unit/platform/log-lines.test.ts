import { pino } from "pino";
import { describe, expect, it } from "vitest";
import {
  createTerminalStream,
  formatLogLine,
} from "../../../platform/log-lines.ts";
import { createLogger, forService } from "../../../platform/logger.ts";

const AT = new Date(2026, 0, 2, 3, 4, 5, 67).getTime();

/** A logger writing terminal lines into an array, as `npm start` writes them to a terminal. */
function terminalLogger() {
  const out: string[] = [];
  const logger = pino(
    { base: { pid: 1 }, timestamp: () => `,"time":${AT}` },
    createTerminalStream({
      write: (text) => void out.push(text),
      color: false,
    }),
  );
  return { logger, out };
}

/** The raw JSON text pino writes, so duplicate keys (which JSON.parse would hide) show. */
function rawLogger() {
  const raw: string[] = [];
  const logger = createLogger({
    destination: { write: (line: string) => void raw.push(line) },
  });
  return { logger, raw };
}

describe("terminal log lines", () => {
  it("one line per event: time, service, level, message, then the fields, without pid or trace id", () => {
    const { logger, out } = terminalLogger();
    logger.child({ service: "router" }).info(
      {
        method: "POST",
        path: "/graphql",
        status: 200,
        ms: 4.2,
        correlationId: "abc",
        traceId: "f".repeat(32),
      },
      "request served",
    );
    expect(out).toEqual([
      "03:04:05.067 router        INFO  request served method=POST path=/graphql status=200 ms=4.2 correlationId=abc\n",
    ]);
  });

  it("joins a multi-line message, quotes values with spaces, and shows an error as one line with where it was thrown", () => {
    const { logger, out } = terminalLogger();
    const error = new TypeError("bad thing");
    logger
      .child({ service: "orders" })
      .error(
        { err: error, note: "two words", items: [1, 2] },
        "Gateway loaded.\n\t* Mode: unmanaged",
      );
    expect(out).toHaveLength(1);
    const [line] = out;
    expect(line).toMatch(
      /^03:04:05\.067 orders {8}ERROR Gateway loaded\. \* Mode: unmanaged err="TypeError: bad thing \(at .*log-lines\.test\.ts:\d+:\d+\)" note="two words" items=\[1,2\]\n$/,
    );
  });

  it('names a line without a service "?" rather than dropping the column', () => {
    expect(formatLogLine({ time: AT, level: 40, msg: "careful" })).toBe(
      "03:04:05.067 ?             WARN  careful",
    );
  });

  it("shows a banner entry as a block: its message as the title, then aligned rows", () => {
    const { logger, out } = terminalLogger();
    logger.child({ service: "switchyard" }).info(
      {
        banner: [
          ["Router", "http://localhost:4000/graphql"],
          ["Log file", ".data/switchyard.log"],
        ],
      },
      "Router ready at http://localhost:4000/graphql",
    );
    expect(out.join("")).toBe(
      "\n  Router ready at http://localhost:4000/graphql\n  Router    http://localhost:4000/graphql\n  Log file  .data/switchyard.log\n\n",
    );
  });

  it("passes a line that is not JSON through unchanged", () => {
    const out: string[] = [];
    createTerminalStream({
      write: (text) => void out.push(text),
      color: false,
    }).write("plain text\n");
    expect(out).toEqual(["plain text\n"]);
  });

  it("colours the level only when asked", () => {
    expect(
      formatLogLine(
        { time: AT, level: 50, service: "x", msg: "m" },
        { color: true },
      ),
    ).toContain("\u001b[31mERROR\u001b[0m");
    expect(
      formatLogLine({ time: AT, level: 50, service: "x", msg: "m" }),
    ).not.toContain("\u001b[");
  });
});

describe("service names on log lines", () => {
  it('forService binds a service once: a child of a named logger keeps one "service" key', () => {
    const { logger, raw } = rawLogger();
    const worker = forService(logger, "worker");
    forService(worker, "relay").info("from a role process");
    forService(logger, "relay").info("from npm start");
    expect(raw.map((line) => line.match(/"service":/g)?.length)).toEqual([
      1, 1,
    ]);
    expect(
      raw.map((line) => (JSON.parse(line) as { service: string }).service),
    ).toEqual(["worker", "relay"]);
  });
});
