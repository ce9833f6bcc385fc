/**
 * The gateways a benchmark compares, each in a child process of its own so its CPU time is its own.
 * Every runner speaks the same IPC protocol: `{ port }` once listening, `cpu` → process.cpuUsage(),
 * `stop` → exit.
 */
import { fork, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ROUTER_NODE_FLAGS } from "../deploy/deployables.ts";
import { ensureHiveGateway } from "./peers.ts";

const routerNodeFlags = (): readonly string[] => {
  const override = process.env.BENCH_ROUTER_NODE_FLAGS;
  return override === undefined
    ? ROUTER_NODE_FLAGS
    : override.split(" ").filter(Boolean);
};

export type RunnerName =
  | "switchyard"
  | "switchyard-gateway-executor"
  | "switchyard-outbound"
  | "switchyard-dedup"
  | "switchyard-baseline"
  | "apollo-gateway"
  | "hive"
  | "hive-dedup";

export interface RunnerInfo {
  readonly name: RunnerName;
  readonly label: string;
  /** What is on: the row a report prints next to the figures. */
  readonly description: string;
}

const NO_DEDUP = {
  ROUTER_DEDUP_INBOUND: "false",
  ROUTER_DEDUP_SUBGRAPH_FETCHES: "false",
};
/** Query plans run by router/executor/ (stated, whatever the setting's default). */
const OWN_EXECUTOR = { ROUTER_EXECUTOR: "switchyard" };

export const RUNNERS: Readonly<
  Record<
    RunnerName,
    RunnerInfo & {
      readonly kind: "resilient" | "plain" | "hive";
      readonly env: Record<string, string>;
      readonly arg?: string;
    }
  >
> = {
  switchyard: {
    name: "switchyard",
    label: "Switchyard",
    description:
      "every resilience feature on (breakers, timeouts, retries, bulkheads, JWT, rate limits, operation limits); Switchyard's plan executor (router/executor/); deduplication off",
    kind: "resilient",
    env: { ...NO_DEDUP, ...OWN_EXECUTOR },
  },
  "switchyard-gateway-executor": {
    name: "switchyard-gateway-executor",
    label: "Switchyard, gateway executor",
    description:
      "as Switchyard, with @apollo/gateway's executeQueryPlan running the plans (ROUTER_EXECUTOR=gateway); deduplication off",
    kind: "resilient",
    env: { ...NO_DEDUP, ROUTER_EXECUTOR: "gateway" },
  },
  "switchyard-outbound": {
    name: "switchyard-outbound",
    label: "Switchyard + fetch dedup",
    description:
      "as Switchyard, plus in-flight deduplication of identical subgraph fetches (what Hive Gateway does by default)",
    kind: "resilient",
    env: { ROUTER_DEDUP_INBOUND: "false", ...OWN_EXECUTOR },
  },
  "switchyard-dedup": {
    name: "switchyard-dedup",
    label: "Switchyard + full dedup",
    description:
      "as Switchyard with its defaults: inbound (identical operations of one caller) and outbound deduplication",
    kind: "resilient",
    env: OWN_EXECUTOR,
  },
  "switchyard-baseline": {
    name: "switchyard-baseline",
    label: "Switchyard, baseline tree",
    description:
      "as Switchyard, run from another checkout (`--baseline <dir>`: the code before a change), for A/B rounds in one run",
    kind: "resilient",
    env: { ...NO_DEDUP, ...OWN_EXECUTOR },
  },
  "apollo-gateway": {
    name: "apollo-gateway",
    label: "plain @apollo/gateway",
    description:
      "@apollo/gateway 2.14 + @apollo/server 5 with the default RemoteGraphQLDataSource and fetcher",
    kind: "plain",
    env: {},
  },
  hive: {
    name: "hive",
    label: "Hive Gateway",
    description:
      "@graphql-hive/gateway-runtime defaults (outbound fetch deduplication on, inbound off), Node 22",
    kind: "hive",
    arg: "defaults",
    env: {},
  },
  "hive-dedup": {
    name: "hive-dedup",
    label: "Hive Gateway + inbound dedup",
    description:
      "Hive Gateway with inboundInflightRequestDeduplication (the Guild benchmark's configuration), Node 22",
    kind: "hive",
    arg: "dedup",
    env: {},
  },
};

export interface Runner {
  readonly name: RunnerName;
  readonly url: string;
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

export interface RunnerOptions {
  /** Subgraph URLs by name, replacing the supergraph's routing URLs (Switchyard and plain gateway). */
  readonly urls?: Record<string, string>;
  readonly supergraphPath?: string;
  /** Environment shared with the subgraphs (secrets) and anything a section adds. */
  readonly env?: Record<string, string>;
  /** Checkout the `switchyard-baseline` runner is forked from (`--baseline <dir>`). */
  readonly baselineRoot?: string;
}

export async function startRunner(
  name: RunnerName,
  { urls = {}, supergraphPath, env = {}, baselineRoot }: RunnerOptions,
): Promise<Runner> {
  const runner = RUNNERS[name];
  const common = {
    ...process.env,
    ...env,
    ...runner.env,
    NODE_ENV: "production",
    APOLLO_TELEMETRY_DISABLED: "true",
    ...(supergraphPath ? { SUPERGRAPH_PATH: supergraphPath } : {}),
  };
  let child: ChildProcess;
  if (runner.kind === "hive") {
    const hive = ensureHiveGateway();
    child = fork(hive.serve, [runner.arg!], {
      execPath: hive.node,
      execArgv: [],
      env: common,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
  } else {
    if (name === "switchyard-baseline" && !baselineRoot)
      throw new Error("switchyard-baseline needs --baseline <dir>");
    const root =
      name === "switchyard-baseline"
        ? resolve(baselineRoot!)
        : fileURLToPath(new URL("..", import.meta.url));
    child = fork(join(root, "bench", "router-process.ts"), [runner.kind], {
      cwd: root,
      // Switchyard runs with the deployable's Node flags (deploy/deployables.ts), the baseline tree
      // too so that an A/B compares code; BENCH_ROUTER_NODE_FLAGS (space-separated, may be empty)
      // replaces them. BENCH_CPU_PROF=1 writes a V8 CPU profile per router process.
      execArgv: [
        ...(runner.kind === "resilient" ? routerNodeFlags() : []),
        "--import",
        "tsx",
        ...(process.env.BENCH_CPU_PROF
          ? ["--cpu-prof", `--cpu-prof-dir=${resolve(".cache/profiles")}`]
          : []),
      ],
      env: {
        ...common,
        BENCH_SUBGRAPH_URLS: JSON.stringify(urls),
        ...(urls.users
          ? {
              JWKS_URL: urls.users.replace(
                /\/graphql$/,
                "/.well-known/jwks.json",
              ),
            }
          : {}),
        // Rate limiting stays on, with a budget the load generator cannot exhaust. graphql-rate-limit
        // keeps a sliding log of a client's calls in the window and walks it on every check; the
        // bench is one client making thousands of calls a second, so a long window would make each
        // check walk ~100k entries, a cost no real client mix produces. A 100 ms window keeps the
        // log near 100 entries, as a real client under the default 300/1m keeps at most 300.
        ROUTER_RATE_LIMIT: "1000000/100ms",
      },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
  }
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (message) =>
      resolve((message as { port: number }).port),
    );
    child.once("exit", (code) =>
      reject(new Error(`${name} exited with ${code} before listening`)),
    );
  });
  return {
    name,
    url: `http://127.0.0.1:${port}/graphql`,
    cpuMicros: () =>
      new Promise((resolve) => {
        child.once("message", (message) => {
          const { cpu } = message as { cpu: NodeJS.CpuUsage };
          resolve(cpu.user + cpu.system);
        });
        child.send("cpu");
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.send("stop");
      }),
  };
}
