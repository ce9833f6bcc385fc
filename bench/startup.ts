/**
 * `npm run bench:startup [-- --postgres] [-- --healthcheck-only]`: what the production build saves, per deployable and for the all-in-one
 * `main`, source through tsx (`node --import tsx <entry>.ts`) against the bundle (`node
 * --enable-source-maps dist/<name>.js`): time from spawn to the first 200 from `/health` (the HTTP
 * server listens once config, storage, migrations and the service's own start are done; `/ready`
 * of a deployable alone can depend on others: the relay's on the subgraphs' outbox tables) — for
 * `main`, the router's `/ready` — and resident memory (VmRSS) after `IDLE_MS` idle. Then the image's health check, old (`node --import tsx
 * deploy/healthcheck.ts`) against new (`node dist/healthcheck.js`), run `CHECKS` times against a
 * ready server: wall time and peak RSS per run (GNU time). Embedded defaults (PGlite in a scratch
 * folder), or with `--postgres` a fresh database per start on BENCH_ADMIN_URL's server (the
 * containers' path); free ports; one process at a time, Linux only (/proc, /usr/bin/time). Prints
 * Markdown tables for docs/deployment.md.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { DEPLOYABLES } from "../deploy/deployables.ts";
import { buildAll, ROOT } from "../scripts/build.ts";
import { createThrowawayDatabase } from "../tests/support/throwaway-postgres.ts";

const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 5000);
const CHECKS = Number(process.env.BENCH_CHECKS ?? 10);
const READY_TIMEOUT_MS = 180_000;
const ADMIN_URL = process.argv.includes("--postgres")
  ? (process.env.BENCH_ADMIN_URL ??
    "postgres://postgres@127.0.0.1:5432/postgres")
  : undefined;

/** A fresh database for one start (a second start on the first one's would skip its migrations and seed). */
async function freshDatabase(): Promise<
  { url: string; drop(): Promise<void> } | undefined
> {
  if (!ADMIN_URL) return undefined;
  return createThrowawayDatabase(ADMIN_URL, "switchyard_bench");
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const rssMb = (pid: number) =>
  Number(
    /VmRSS:\s+(\d+) kB/.exec(
      readFileSync(`/proc/${pid}/status`, "utf8"),
    )?.[1] ?? NaN,
  ) / 1024;

async function untilAnswering(child: ChildProcess, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`exited with ${child.exitCode} before ${url} answered`);
    const response = await fetch(url).catch(() => undefined);
    if (response?.ok) return;
    if (Date.now() > deadline)
      throw new Error(`not ready after ${READY_TIMEOUT_MS} ms`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  await exited;
  clearTimeout(timer);
}

mkdirSync(join(ROOT, ".cache"), { recursive: true });
const scratch = mkdtempSync(join(ROOT, ".cache", "bench-startup-"));
const built = await buildAll({ outdir: join(scratch, "dist") });

interface Sample {
  readonly readyMs: number;
  readonly rssMb: number;
}

/** One start: spawn → `path` answers 200 → idle → RSS → stop. Ports: `portVariable` (and, for main, every service's). */
async function measure(
  name: string,
  args: string[],
  portVariables: string[],
  readyVariable: string,
  path: string,
): Promise<Sample> {
  const ports = Object.fromEntries(
    await Promise.all(
      portVariables.map(
        async (variable) => [variable, String(await freePort())] as const,
      ),
    ),
  );
  const cwd = mkdtempSync(join(scratch, `${name}-`));
  const database = await freshDatabase();
  const env = {
    ...process.env,
    ...ports,
    DATA_DIR: join(cwd, "pglite"),
    ...(database ? { DATABASE_URL: database.url } : {}),
    SUPERGRAPH_PATH: join(ROOT, "supergraph.graphql"),
    APOLLO_TELEMETRY_DISABLED: "true",
    NODE_ENV: "development",
  };
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd, env, stdio: "ignore" });
  try {
    await untilAnswering(
      child,
      `http://127.0.0.1:${ports[readyVariable]}${path}`,
    );
    const readyMs = performance.now() - started;
    await new Promise((done) => setTimeout(done, IDLE_MS));
    return { readyMs, rssMb: rssMb(child.pid!) };
  } finally {
    await stop(child);
    await database?.drop();
  }
}

const SERVICE_PORTS = DEPLOYABLES.filter(
  (deployable) =>
    deployable.entry.startsWith("subgraphs/") || deployable.name === "router",
).map((deployable) => deployable.portVariable);
const rows: string[] = [];
const targets = [
  ...DEPLOYABLES.map((deployable) => ({
    name: deployable.name,
    entry: deployable.entry,
    ports: [deployable.portVariable],
    ready: deployable.portVariable,
    path: "/health",
  })),
  {
    name: "main",
    entry: "main.ts",
    ports: SERVICE_PORTS,
    ready: "ROUTER_PORT",
    path: "/ready",
  },
];
for (const target of process.argv.includes("--healthcheck-only")
  ? []
  : targets) {
  const source = await measure(
    target.name,
    ["--import", "tsx", join(ROOT, target.entry)],
    target.ports,
    target.ready,
    target.path,
  );
  const bundle = await measure(
    target.name,
    ["--enable-source-maps", built.bundles[target.name]!],
    target.ports,
    target.ready,
    target.path,
  );
  const row = `| ${target.name} | ${(source.readyMs / 1000).toFixed(2)} s | ${(bundle.readyMs / 1000).toFixed(2)} s | ${source.rssMb.toFixed(0)} MB | ${bundle.rssMb.toFixed(0)} MB |`;
  console.log(row);
  rows.push(row);
}

/** The health check against a server that answers /ready 200, `CHECKS` times: median wall time and peak RSS. */
async function healthcheckCost(
  args: string[],
): Promise<{ seconds: number; rssMb: number }> {
  const port = await freePort();
  const server = (await import("node:http"))
    .createServer((_req, res) => res.writeHead(200).end())
    .listen(port, "127.0.0.1");
  const times: number[] = [];
  const peaks: number[] = [];
  try {
    for (let run = 0; run < CHECKS; run++) {
      // GNU time prints "<elapsed s> <max RSS kB>" on stderr.
      const { stderr } = await promisify(execFile)(
        "/usr/bin/time",
        ["-f", "%e %M", process.execPath, ...args],
        {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH ?? "",
            SERVICE: "worker",
            WORKER_PORT: String(port),
          },
        },
      );
      const [elapsed, kb] = stderr
        .trim()
        .split("\n")
        .at(-1)!
        .split(" ")
        .map(Number);
      times.push(elapsed!);
      peaks.push(kb! / 1024);
    }
  } finally {
    server.close();
  }
  return { seconds: median(times), rssMb: median(peaks) };
}

const before = await healthcheckCost([
  "--import",
  "tsx",
  "deploy/healthcheck.ts",
]);
const after = await healthcheckCost([built.bundles.healthcheck!]);
const bare = await healthcheckCost(["-e", "0"]);
rmSync(scratch, { recursive: true, force: true });

console.log(
  `\nDatabase: ${ADMIN_URL ? "PostgreSQL, a fresh database per start" : "PGlite, a fresh folder per start"}.`,
);
console.log(
  `\n| deployable | start to /health (main: /ready), tsx | built | idle RSS, tsx | built |\n| --- | --- | --- | --- | --- |\n${rows.join("\n")}`,
);
console.log(
  `\n| health check (median of ${CHECKS}) | wall time | peak RSS |\n| --- | --- | --- |`,
);
console.log(
  `| \`node --import tsx deploy/healthcheck.ts\` (before) | ${before.seconds.toFixed(2)} s | ${before.rssMb.toFixed(0)} MB |`,
);
console.log(
  `| \`node dist/healthcheck.js\` (now) | ${after.seconds.toFixed(2)} s | ${after.rssMb.toFixed(0)} MB |`,
);
console.log(
  `| \`node -e 0\` (a bare Node start, for scale) | ${bare.seconds.toFixed(2)} s | ${bare.rssMb.toFixed(0)} MB |`,
);
