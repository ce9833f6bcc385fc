/**
 * The benchmark's peers that are not this project's dependencies, fetched from the npm registry on
 * first use and cached under .cache/peers/ (never committed, never in package.json):
 *
 * - Hive Gateway (`@graphql-hive/gateway-runtime`, versions pinned by bench/peers/hive/package-lock.json);
 * - the Node it needs: some of its dependencies require Node ≥ 22.15, so it runs on the official
 *   Node 22 build published to npm as `node-<platform>-<arch>` (a plain tarball; no install script).
 *
 * Each cache entry is keyed by what defines it (the lock file's hash, the Node version), so a change
 * to either installs afresh and an interrupted install is never mistaken for a finished one.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

export const PEER_NODE_VERSION = "22.23.3";
const ROOT = new URL("../", import.meta.url).pathname;
const CACHE = join(ROOT, ".cache", "peers");
const HIVE_SOURCE = join(ROOT, "bench", "peers", "hive");

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** Runs `install` into a temporary directory and renames it into place only once it succeeded. */
function cached(target: string, install: (staging: string) => void): string {
  if (existsSync(join(target, ".complete"))) return target;
  mkdirSync(CACHE, { recursive: true });
  const staging = mkdtempSync(`${target}.staging-`);
  try {
    install(staging);
    writeFileSync(join(staging, ".complete"), new Date().toISOString());
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return target;
}

/** The path of a Node `PEER_NODE_VERSION` binary for this platform. */
export function ensurePeerNode(
  log: (line: string) => void = console.log,
): string {
  const dir = cached(
    join(
      CACHE,
      `node-${PEER_NODE_VERSION}-${process.platform}-${process.arch}`,
    ),
    (staging) => {
      const pkg = `node-${process.platform}-${process.arch}@${PEER_NODE_VERSION}`;
      log(
        `bench: fetching ${pkg} from the npm registry (Hive Gateway's dependencies need Node 22)`,
      );
      const tarball = execFileSync(
        npm,
        ["pack", pkg, "--silent", "--pack-destination", staging],
        { encoding: "utf8" },
      )
        .trim()
        .split("\n")
        .pop()!;
      execFileSync("tar", [
        "xzf",
        join(staging, tarball),
        "-C",
        staging,
        "--strip-components=1",
      ]);
      rmSync(join(staging, tarball));
    },
  );
  const node = join(dir, "bin", "node");
  const version = execFileSync(node, ["--version"], {
    encoding: "utf8",
  }).trim();
  if (version !== `v${PEER_NODE_VERSION}`)
    throw new Error(
      `peer Node at ${node} reports ${version}, expected v${PEER_NODE_VERSION}`,
    );
  return node;
}

/** Hive Gateway installed from the committed lock file, plus the runner script beside it. */
export function ensureHiveGateway(log: (line: string) => void = console.log): {
  node: string;
  serve: string;
} {
  const node = ensurePeerNode(log);
  const lock = readFileSync(join(HIVE_SOURCE, "package-lock.json"));
  const key = createHash("sha256").update(lock).digest("hex").slice(0, 12);
  const dir = cached(join(CACHE, `hive-${key}`), (staging) => {
    log(
      "bench: installing Hive Gateway from the npm registry into .cache/peers (once; about a minute)",
    );
    copyFileSync(
      join(HIVE_SOURCE, "package.json"),
      join(staging, "package.json"),
    );
    copyFileSync(
      join(HIVE_SOURCE, "package-lock.json"),
      join(staging, "package-lock.json"),
    );
    // Its engines ask for Node 22, which is what runs it; npm itself runs on this Node.
    execFileSync(
      npm,
      [
        "ci",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        "--engine-strict=false",
      ],
      { cwd: staging, stdio: ["ignore", "ignore", "inherit"] },
    );
  });
  // The runner is copied on every run (it is ours and may change without the lock changing), so
  // that its imports resolve against the cached node_modules.
  const serve = join(dir, "serve.mjs");
  copyFileSync(join(HIVE_SOURCE, "serve.mjs"), serve);
  return { node, serve };
}
