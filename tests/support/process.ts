import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";

/** The repository's root. */
export const REPO_ROOT = resolve(import.meta.dirname, "../..");

/**
 * A new scratch folder under the repository's `.cache/` (git-ignored): a child process started
 * there, or a bundle written there, resolves packages (tsx included) from the repository's
 * node_modules, which a folder under the system's tmp would not.
 */
export function repoScratchDir(prefix: string): string {
  mkdirSync(join(REPO_ROOT, ".cache"), { recursive: true });
  return mkdtempSync(join(REPO_ROOT, ".cache", `${prefix}-`));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Service {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Sends `signal` and resolves with the exit code; kills after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/**
 * Starts an entry point as its own process (TypeScript through tsx unless `nodeArgs` say otherwise)
 * and waits until `readyLine` appears on stdout; without one, returns once it is spawned (the caller
 * waits for its own condition, e.g. `/ready`).
 */
export async function startProcess(
  entry: string,
  {
    env,
    readyLine,
    timeoutMs = 60_000,
    nodeArgs = ["--import", "tsx"],
    args = [],
    cwd,
  }: {
    env: Record<string, string>;
    readyLine?: RegExp;
    timeoutMs?: number;
    nodeArgs?: string[];
    args?: string[];
    cwd?: string;
  },
): Promise<Service> {
  const child = spawn(process.execPath, [...nodeArgs, entry, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(cwd ? { cwd } : {}),
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`${entry} not ready after ${timeoutMs} ms:\n${output}`),
        ),
      timeoutMs,
    );
    const check = () => {
      if (!readyLine || readyLine.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", check);
    if (!readyLine) check();
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${entry} exited with ${code} before it was ready:\n${output}`,
        ),
      );
    });
  }).catch((error: unknown) => {
    child.kill("SIGKILL");
    throw error;
  });
  return {
    child,
    output: () => output,
    async stop(signal = "SIGTERM", stopTimeoutMs = 20_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), stopTimeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
