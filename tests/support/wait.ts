import { randomBytes } from "node:crypto";

/** A name no other test (or earlier run) uses: topics, groups and queues are never shared. */
export const unique = (prefix: string) =>
  `${prefix}.${Date.now().toString(36)}.${randomBytes(4).toString("hex")}`;

/** Polls `probe` until it returns a value other than undefined; always gives up after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  { timeoutMs = 20_000, intervalMs = 50, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, intervalMs));
  }
}
