import { spawn } from "node:child_process";

/** What a process printed (stdout and stderr interleaved as they arrived) and how it ended. */
export interface Exited {
  code: number | null;
  output: string;
}

/**
 * Runs `node <args>` to its end with only PATH and `env` in its environment (what a container
 * gives it: nothing of the test runner's own variables leaks in); resolves with its exit code and
 * output, never rejects on a non-zero exit, so a test can assert on a refusal.
 */
export function runNodeToExit(
  args: string[],
  { cwd, env }: { cwd: string; env: Record<string, string> },
): Promise<Exited> {
  return new Promise((done) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => done({ code, output }));
  });
}
