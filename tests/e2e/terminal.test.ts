import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEV_LOG_FILE } from "../../platform/logger.ts";
import { waitUntil } from "../support/stack.ts";
import { ALL_PORTS_ZERO } from "../support/port-zero.ts";

/**
 * What a person sees in a terminal: `npm start` and `npm run trace` under a pseudo-terminal
 * (util-linux `script`), since both decide by whether stdout/stdin is a terminal.
 */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** Runs `command` on a pseudo-terminal; its screen output collects in `screen()`. */
function onTerminal(
  command: string,
  env: Record<string, string> = {},
): {
  child: ChildProcess;
  screen: () => string;
  exited: Promise<number | null>;
} {
  // detached: its own process group, so the test can stop script and everything under it.
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let screen = "";
  child.stdout!.on("data", (chunk: Buffer) => (screen += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (screen += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return {
    child,
    screen: () => screen.replace(ANSI, "").replace(/\r/g, ""),
    exited,
  };
}

describe("in a terminal", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-tty-"));
  const started: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of started)
      if (child.exitCode === null && child.pid)
        process.kill(-child.pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "npm start shows one line per event, then the banner as the last thing once ready",
    { timeout: 180_000 },
    async () => {
      const run = onTerminal(`${process.execPath} --import tsx main.ts`, {
        ...ALL_PORTS_ZERO,
        DATA_DIR: join(dir, "pglite"),
        LOG_FILE: join(dir, "switchyard.log"),
        NODE_ENV: "development",
        APOLLO_TELEMETRY_DISABLED: "true",
      });
      started.push(run.child);
      // The banner's last row marks the end of start-up output.
      await waitUntil("the banner", () => /Stop +Ctrl-C/.test(run.screen()), {
        attempts: 600,
        everyMs: 200,
      });
      const screen = run.screen();
      const [events, banner] = screen.split(/\n(?=\n {2}Router ready at )/) as [
        string,
        string,
      ];
      // Before the banner: events only, each on one line that starts with time, service and level.
      const lines = events.trim().split("\n");
      expect(lines.length).toBeGreaterThan(10);
      for (const line of lines)
        expect(line).toMatch(
          /^\d\d:\d\d:\d\d\.\d{3} [a-z-]+ +(TRACE|DEBUG|INFO|WARN|ERROR|FATAL) +\S/,
        );
      expect(
        lines.some((line) =>
          /^\S+ router +INFO +Gateway successfully loaded schema\./.test(line),
        ),
      ).toBe(true);
      expect(lines.some((line) => line.startsWith("{"))).toBe(false);
      // The banner, and nothing after it.
      expect(banner).toMatch(
        /^\n {2}Router ready at http:\/\/localhost:\d+\/graphql\n {2}Home +http:\/\/localhost:\d+\/ /,
      );
      expect(banner).toMatch(/\n {2}Accounts +ada@switchyard\.dev/);
      expect(banner).toMatch(
        /\n {2}Stop +Ctrl-C \(every service stops cleanly\)\n*$/,
      );
      process.kill(-run.child.pid!, "SIGINT");
      expect(await run.exited).toBe(0);
    },
  );

  it(
    "npm run trace, with no file and nothing piped, names the file it searched",
    { timeout: 60_000 },
    async () => {
      const run = onTerminal(
        `${process.execPath} --import tsx scripts/trace.ts nobody-at-all`,
      );
      started.push(run.child);
      await run.exited;
      // Either the default log exists and has no such line, or it does not exist: both name it.
      expect(run.screen()).toMatch(
        new RegExp(
          `(no log lines for correlation id nobody-at-all in ${DEV_LOG_FILE.replace(".", "\\.")}|no log file at ${DEV_LOG_FILE.replace(".", "\\.")})`,
        ),
      );
    },
  );
});
