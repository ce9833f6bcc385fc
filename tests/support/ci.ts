/**
 * One reading of "are we in CI" for every test. CI providers set `CI` to `true`, `1`, `yes` or their
 * own name; only an unset or empty `CI`, `false` or `0` means a developer's machine. Reading it any
 * other way (say, `=== 'true'`) lets a run with `CI=1` skip real-broker tests silently.
 */
export function inCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? "").trim().toLowerCase();
  return value !== "" && value !== "false" && value !== "0";
}

/**
 * Turns "why this cannot run here" into a skip reason for `describe.skipIf(reason)`: printed outside
 * CI (so a skip is visible), an error in CI (where the service is mandatory and a skip would hide a
 * broken setup). Returns `undefined` when nothing is missing.
 */
export function skipReason(
  what: string,
  reason: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (reason === undefined) return undefined;
  if (inCI(env)) throw new Error(`CI requires ${what}: ${reason}`);
  console.error(`[tests] skipping ${what} runs: ${reason}`);
  return reason;
}
