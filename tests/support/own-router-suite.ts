import { randomBytes } from "node:crypto";
import { afterEach } from "vitest";
import { stackForFile } from "./stack.ts";
import type { Backend } from "./storage.ts";

/**
 * For a `describe` whose tests start routers of their own (./own-router.ts) in front of one stack:
 * the file's stack (`stackForFile`), booted with a fresh internal token secret that those routers
 * share, and the cleanups each test pushes, run last-first after every test. Call inside a `describe`.
 */
export function ownRouterSuite(
  backend: Backend,
  options: Omit<
    NonNullable<Parameters<typeof stackForFile>[1]>,
    "internalTokenSecret"
  > = {},
) {
  const internalTokenSecret = randomBytes(32).toString("base64url");
  const stack = stackForFile(backend, { ...options, internalTokenSecret });
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return { stack, internalTokenSecret, cleanups };
}
