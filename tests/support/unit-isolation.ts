import { afterAll, vi } from "vitest";

/**
 * setupFiles of the unit project, which runs without isolation (vitest.config.ts): a worker runs
 * its files one after another in the same process and module graph, so what one file leaves
 * behind, the next one sees. Vitest runs this module before every test file; after the file's
 * last test it puts back what a file most easily forgets, whatever the file's own hooks did:
 * real timers, mocks and stubs, and process.env as it was when the file began.
 *
 * It is a safety net, not a licence: a unit file still restores what it changes itself, and closes
 * its servers, PGlite databases and intervals (nothing here can close those for it).
 */
const envAtStart = { ...process.env };

afterAll(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
  for (const name of Object.keys(process.env))
    if (!(name in envAtStart)) delete process.env[name];
  Object.assign(process.env, envAtStart);
});
