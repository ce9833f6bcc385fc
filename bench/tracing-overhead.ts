/**
 * `npm run bench:tracing [-- --quick]`: the router's throughput with tracing off and on (OTLP/HTTP
 * export to a local receiver that accepts and discards, parent-based sampling at 10% unless
 * OTEL_TRACES_SAMPLER_ARG says otherwise), on the same subgraphs and the same deep signed-in query,
 * each router in its own child process, rounds alternating. Prints requests/s, p50/p99 latency and
 * router CPU per request for both, and the relative throughput cost. Loopback only.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import autocannon from "autocannon";
import { demoOrders, demoUsers, DEMO_PASSWORD } from "../platform/demo-data.ts";

const quick = process.argv.includes("--quick");
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? (quick ? 3 : 10));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 3));
const CONNECTIONS = 16;
const SAMPLE_RATIO = process.env.OTEL_TRACES_SAMPLER_ARG ?? "0.1";
const SECRETS = {
  INTERNAL_TOKEN_SECRET: randomBytes(32).toString("base64url"),
  INTERNAL_SERVICE_SECRET: randomBytes(32).toString("base64url"),
};
const customer = demoOrders[0]!.userId;
const customerEmail = demoUsers.find((user) => user.id === customer)!.email;
const DEEP_QUERY = {
  query: `query Deep($id: ID!) { user(id: $id) { name email orders(first: 10) { totalCount edges { node { id status total items { quantity unitPrice product { name price inStock } } payment { status amount } } } } } }`,
  variables: { id: customer },
};

/** The collector stand-in: accepts every export, counts spans' bytes, answers 200 at once. */
const received = { requests: 0, bytes: 0 };
const receiver = createServer((req, res) => {
  req.on("data", (chunk: Buffer) => (received.bytes += chunk.length));
  req.on("end", () => {
    received.requests += 1;
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const otlpEndpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

function forkReporting<T>(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ child: ChildProcess; first: T }> {
  const child = fork(new URL(script, import.meta.url).pathname, args, {
    execArgv: ["--import", "tsx"],
    env: {
      ...process.env,
      ...SECRETS,
      NODE_ENV: "production",
      APOLLO_TELEMETRY_DISABLED: "true",
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("message", (message) => resolve({ child, first: message as T }));
    child.once("exit", (code) =>
      reject(new Error(`${script} exited with ${code}`)),
    );
  });
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.send("stop");
  });
const cpuOf = (child: ChildProcess) =>
  new Promise<number>((resolve) => {
    child.once("message", (message) => {
      const { cpu } = message as { cpu: NodeJS.CpuUsage };
      resolve(cpu.user + cpu.system);
    });
    child.send("cpu");
  });

const {
  child: subgraphs,
  first: { urls },
} = await forkReporting<{ urls: Record<string, string> }>(
  "./subgraphs-process.ts",
  [],
  {},
);
const routerEnv = (tracing: boolean): Record<string, string> => ({
  BENCH_SUBGRAPH_URLS: JSON.stringify(urls),
  JWKS_URL: urls.users!.replace(/\/graphql$/, "/.well-known/jwks.json"),
  ROUTER_RATE_LIMIT: "1000000000/1m",
  ...(tracing
    ? {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
        OTEL_TRACES_SAMPLER_ARG: SAMPLE_RATIO,
        OTEL_SERVICE_NAME: "router-bench",
      }
    : { OTEL_SDK_DISABLED: "true" }),
});
const routers = {
  off: await forkReporting<{ port: number }>(
    "./router-process.ts",
    ["resilient"],
    routerEnv(false),
  ),
  on: await forkReporting<{ port: number }>(
    "./router-process.ts",
    ["resilient"],
    routerEnv(true),
  ),
};
const urlOf = (kind: "off" | "on") =>
  `http://127.0.0.1:${routers[kind].first.port}/graphql`;

const login = await fetch(urlOf("off"), {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    query:
      "mutation($email: String!, $password: String!) { logIn(email: $email, password: $password) { token } }",
    variables: { email: customerEmail, password: DEMO_PASSWORD },
  }),
}).then(
  (response) =>
    response.json() as Promise<{ data: { logIn: { token: string } } }>,
);
const headers = {
  "content-type": "application/json",
  authorization: `Bearer ${login.data.logIn.token}`,
};
for (const kind of ["off", "on"] as const) {
  const check = (await fetch(urlOf(kind), {
    method: "POST",
    headers,
    body: JSON.stringify(DEEP_QUERY),
  }).then((response) => response.json())) as { errors?: unknown };
  if (check.errors)
    throw new Error(
      `the deep query fails on the ${kind} router: ${JSON.stringify(check.errors)}`,
    );
}

interface Round {
  requests: number;
  errors: number;
  p50: number;
  p99: number;
  cpuMicros: number;
}
async function measure(kind: "off" | "on", durationS: number): Promise<Round> {
  const cpuBefore = await cpuOf(routers[kind].child);
  const result = await new Promise<autocannon.Result>((resolve, reject) =>
    autocannon(
      {
        url: urlOf(kind),
        method: "POST",
        headers,
        body: JSON.stringify(DEEP_QUERY),
        connections: CONNECTIONS,
        duration: durationS,
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    ),
  );
  const cpuMicros = (await cpuOf(routers[kind].child)) - cpuBefore;
  return {
    requests: result.requests.total,
    errors: result.errors + result.non2xx,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuMicros,
  };
}

console.log(
  `bench:tracing — ${ROUNDS} alternating round(s) of ${DURATION_S}s per router, ${CONNECTIONS} connections, deep query; tracing on = OTLP/HTTP to a local receiver, sampling ${SAMPLE_RATIO}`,
);
for (const kind of ["off", "on"] as const) await measure(kind, 1); // warm-up: JIT, pools, plan cache
const totals = { off: [] as Round[], on: [] as Round[] };
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which goes first, so a machine that speeds up or slows down over time favours neither.
  const order =
    round % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const);
  for (const kind of order) totals[kind].push(await measure(kind, DURATION_S));
}
const summary = (kind: "off" | "on") => {
  const rounds = totals[kind];
  const requests = rounds.reduce((sum, round) => sum + round.requests, 0);
  return {
    rps: requests / (DURATION_S * rounds.length),
    p50: Math.max(...rounds.map((round) => round.p50)),
    p99: Math.max(...rounds.map((round) => round.p99)),
    cpuPerRequest:
      rounds.reduce((sum, round) => sum + round.cpuMicros, 0) /
      Math.max(1, requests),
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
  };
};
const off = summary("off");
const on = summary("on");
const row = (name: string, s: typeof off) =>
  `${name.padEnd(12)} ${s.rps.toFixed(0).padStart(8)} ${s.p50.toFixed(1).padStart(8)} ${s.p99.toFixed(1).padStart(8)} ${s.cpuPerRequest.toFixed(0).padStart(12)} ${String(s.errors).padStart(7)}`;
console.log(
  `${"tracing".padEnd(12)} ${"req/s".padStart(8)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"CPU µs/req".padStart(12)} ${"errors".padStart(7)}`,
);
console.log(row("off", off));
console.log(row(`on (${SAMPLE_RATIO})`, on));
console.log(
  `throughput cost of tracing: ${(((off.rps - on.rps) / off.rps) * 100).toFixed(1)}% (CPU per request ${(((on.cpuPerRequest - off.cpuPerRequest) / off.cpuPerRequest) * 100).toFixed(1)}%); the receiver got ${received.requests} OTLP exports, ${(received.bytes / 1024).toFixed(0)} KiB`,
);

await Promise.all([
  stop(routers.off.child),
  stop(routers.on.child),
  stop(subgraphs),
]);
receiver.close();
