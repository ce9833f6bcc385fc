import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { skipReason } from "./ci.ts";

/**
 * A real browser for tests/e2e: Debian's Chromium (`apt-get install chromium`; `.ci/run` installs
 * it), driven by playwright-core, which downloads no browser of its own. Outside CI a missing
 * Chromium skips the browser tests with the reason printed; with CI=true it fails the run.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const chromiumReason = skipReason(
  "Chromium for the browser tests",
  existsSync(CHROMIUM_PATH)
    ? undefined
    : `no Chromium at ${CHROMIUM_PATH}; install it with: apt-get update && apt-get install -y chromium (or set CHROMIUM_PATH)`,
);

/**
 * No network of its own (updates, sync, component downloads, QUIC probes): every request the
 * browser makes is one a page asked for, so the test sees what a person's browser would load.
 */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Where screenshots go: test artifacts, gitignored. */
export const SCREENSHOT_DIR = ".artifacts/browser";

export interface TestBrowser {
  readonly context: BrowserContext;
  /** Saves a full-page PNG as `<SCREENSHOT_DIR>/<name>.png` and returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

/** Chromium on a fresh, throw-away profile (no cache, storage or cookies from an earlier run). */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "switchyard-chromium-"));
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 800 },
    timeout: 60_000,
  });
  return {
    context,
    async screenshot(page, name) {
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
