import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  executorArgument,
  routerScript,
  run,
} from "../../../scripts/federation-audit.ts";
import { waitFor } from "../../support/wait.ts";

/**
 * The audit's `npm start` starts routers (run.sh execs node) that may outlive it; left running with
 * our pipes they kept the vitest worker alive ("Timeout terminating forks worker"). Here a small
 * script stands in: it starts a grandchild that inherits its stdout and never ends, writes the
 * grandchild's pid to a file and exits.
 */
const script = (exitCode: number) => `
const { spawn } = require("node:child_process");
const { writeFileSync } = require("node:fs");
const grandchild = spawn(process.execPath, ["-e", "setInterval(() => console.log('still here'), 50)"], { stdio: ["ignore", "inherit", "inherit"] });
writeFileSync(process.env.PID_FILE, String(grandchild.pid));
console.log("parent done");
setTimeout(() => process.exit(${exitCode}), 100);
`;

/** Alive and not a zombie (a container's init may be slow to reap an orphan). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  const state = readFileSync(stat, "utf8").split(") ")[1]?.[0];
  return state !== "Z" && state !== "X";
};

describe("the audit's command runner", () => {
  const dirs: string[] = [];
  const pids: number[] = [];
  afterEach(() => {
    for (const pid of pids.splice(0))
      if (alive(pid)) process.kill(pid, "SIGKILL");
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true });
  });

  const start = (exitCode: number) => {
    const dir = mkdtempSync(join(tmpdir(), "audit-run-"));
    dirs.push(dir);
    const pidFile = join(dir, "pid");
    const result = run(process.execPath, ["-e", script(exitCode)], {
      cwd: dir,
      env: { ...process.env, PID_FILE: pidFile },
      log: () => undefined,
    });
    const grandchild = () => {
      const pid = Number(readFileSync(pidFile, "utf8"));
      pids.push(pid);
      return pid;
    };
    return { result, grandchild };
  };

  it("leaves no grandchild behind when the command exits", async () => {
    const { result, grandchild } = start(0);
    // Without its own process group the run settled while the grandchild still held the pipes.
    await expect(result).resolves.toBeUndefined();
    const pid = grandchild();
    await waitFor(() => (alive(pid) ? undefined : true), {
      what: "the grandchild to be gone",
      timeoutMs: 5000,
    });
  });

  it("leaves no grandchild behind when the command fails, and reports its output", async () => {
    const { result, grandchild } = start(3);
    await expect(result).rejects.toThrow(/exited with 3:[\s\S]*parent done/);
    const pid = grandchild();
    await waitFor(() => (alive(pid) ? undefined : true), {
      what: "the grandchild to be gone",
      timeoutMs: 5000,
    });
  });
});

/**
 * `--executor` picks the router's ROUTER_EXECUTOR for the run (written into the plug-in's run.sh),
 * `--production` its NODE_ENV.
 */
describe("the federation audit's router options", () => {
  it("reads --executor in both spellings and refuses an unknown executor", () => {
    expect(executorArgument(["--record"])).toBeUndefined();
    expect(executorArgument(["--executor", "switchyard"])).toBe("switchyard");
    expect(executorArgument(["--production", "--executor=gateway"])).toBe(
      "gateway",
    );
    expect(() => executorArgument(["--executor", "rust"])).toThrow(
      /--executor takes one of switchyard, gateway, not rust/,
    );
    expect(() => executorArgument(["--executor"])).toThrow(/not nothing/);
  });

  it("writes ROUTER_EXECUTOR into run.sh only when an executor is chosen", () => {
    const ports = { auditPort: 1, gatewayPort: 2 };
    expect(routerScript(ports)).not.toContain("ROUTER_EXECUTOR");
    const script = routerScript({
      ...ports,
      executor: "switchyard",
      production: true,
    });
    expect(script).toContain("export ROUTER_EXECUTOR=switchyard\n");
    expect(script).toContain("export NODE_ENV=production\n");
    // Set before the router starts.
    expect(script.indexOf("ROUTER_EXECUTOR")).toBeLessThan(
      script.indexOf("router/main.ts"),
    );
  });
});
