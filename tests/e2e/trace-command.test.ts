import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { withCorrelation } from "../../platform/correlation.ts";
import { createLogger } from "../../platform/logger.ts";
import { waitUntil } from "../support/stack.ts";

const run = promisify(execFile);
/** The script as `npm run trace` runs it, without npx's start-up cost. */
const trace = (...args: string[]) =>
  run(process.execPath, ["--import", "tsx", "scripts/trace.ts", ...args]);
const ID = "req-42";
const at = (ms: number) => Date.parse("2026-01-01T12:00:00.000Z") + ms;
const line = (fields: Record<string, unknown>) =>
  JSON.stringify({ level: 30, pid: 1, ...fields });

describe("npm run trace", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-trace-"));
  // Two files out of order, a compose prefix, another request's lines, and noise.
  writeFileSync(
    join(dir, "a.log"),
    [
      line({
        time: at(30),
        service: "worker",
        correlationId: ID,
        traceId: "t1",
        msg: "notification jobs published",
        jobs: 1,
      }),
      "Router ready at http://localhost:4000/graphql",
      line({
        time: at(5),
        service: "router",
        correlationId: "someone-else",
        msg: "request served",
      }),
      line({
        time: at(0),
        service: "router",
        correlationId: ID,
        traceId: "t1",
        msg: "request served",
        status: 200,
      }),
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "b.log"),
    [
      `orders-1  | ${line({ time: at(10), service: "orders", correlationId: ID, traceId: "t1", msg: "order placed", orderId: "o-1" })}`,
      `{ broken json ${ID}`,
      line({
        time: at(50),
        level: 40,
        service: "dispatcher",
        correlationId: ID,
        msg: "notification delivery failed",
        attempt: 1,
      }),
    ].join("\n"),
  );

  it("prints one request’s lines from every file, oldest first, and nothing of other requests", async () => {
    const { stdout } = await trace(ID, dir);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toBe(
      `correlation id ${ID}: 4 lines from 4 services (router, orders, worker, dispatcher) over 50 ms`,
    );
    expect(lines[1]).toBe("trace ids: t1");
    expect(lines.slice(2).map((row) => row.split(/\s+/).slice(1, 4))).toEqual([
      ["+0ms", "router", "INFO"],
      ["+10ms", "orders", "INFO"],
      ["+30ms", "worker", "INFO"],
      ["+50ms", "dispatcher", "WARN"],
    ]);
    expect(lines[3]).toContain("order placed  orderId=o-1");
    expect(stdout).not.toContain("someone-else");
  }, 60_000);

  it("reads piped stdin, exits 1 when nothing matches and 2 on a malformed id", async () => {
    const piped = await run("sh", [
      "-c",
      `cat ${join(dir, "a.log")} | "${process.execPath}" --import tsx scripts/trace.ts ${ID}`,
    ]);
    expect(piped.stdout).toContain("2 lines from 2 services (router, worker)");
    await expect(trace("nobody", dir)).rejects.toMatchObject({
      code: 1,
      stdout: "no log lines for correlation id nobody\n",
    });
    await expect(trace("not valid!", dir)).rejects.toMatchObject({ code: 2 });
  }, 60_000);

  it("reads the file the logger appends to (LOG_FILE), with the correlation id the request scope adds", async () => {
    const file = join(dir, "logs", "switchyard.log");
    const stdout: string[] = [];
    const logger = createLogger({
      destination: { write: (text: string) => void stdout.push(text) },
      file,
    }).child({ service: "orders" });
    withCorrelation(ID, () => logger.info({ orderId: "o-9" }, "order placed"));
    logger.info("outside any request");
    await new Promise<void>((resolve, reject) =>
      logger.flush((error) => (error ? reject(error) : resolve())),
    );
    await waitUntil(
      "the log file has both lines",
      () =>
        existsSync(file) &&
        readFileSync(file, "utf8").trim().split("\n").length === 2,
    );
    expect(stdout).toHaveLength(2);
    const { stdout: timeline } = await trace(ID, file);
    expect(timeline).toContain("1 line from 1 service (orders)");
    expect(timeline).toContain("order placed  orderId=o-9");
  }, 60_000);
});
