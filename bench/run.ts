/**
 * `npm run bench [-- --quick]`: the resilient router against plain @apollo/gateway + @apollo/server
 * on the same subgraphs (one child process; PGlite in memory) (PGlite in memory, demo data) and the same deep query, each
 * router in its own child process, runs alternating. Prints requests/s, p50/p95/p99 latency and
 * router CPU per request, then the latency of failing fast while a breaker is open. Loopback only.
 */
import { fork, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { demoOrders, demoPayments, demoUsers, DEMO_PASSWORD } from '../platform/demo-data.ts';
import { listen } from '../platform/http-server.ts';

const quick = process.argv.includes('--quick');
const DURATION_S = quick ? 3 : 10;
const WARMUP_S = quick ? 1 : 3;
const ROUNDS = quick ? 1 : 3;
const CONNECTIONS = 16;

const customer = demoOrders[0]!.userId;
const customerEmail = demoUsers.find((user) => user.id === customer)!.email;
// Every service of the bench shares these, as a deployment would through its environment.
const SECRETS = { INTERNAL_TOKEN_SECRET: randomBytes(32).toString('base64url'), INTERNAL_SERVICE_SECRET: randomBytes(32).toString('base64url') };
/** The caller's bearer token (set once the first router is up); every measured request is signed in. */
const auth: Record<string, string> = {};
const DEEP_QUERY = {
  query: `query Deep($id: ID!) { user(id: $id) { name email orders(first: 10) { totalCount edges { node { id status total items { quantity unitPrice product { name price inStock } } payment { status amount } } } } } }`,
  variables: { id: customer },
};
const ORDER_QUERY = {
  query: `query Order($id: ID!) { order(id: $id) { id user { name email } items { product { name price } quantity } payment { status } } }`,
  variables: { id: demoOrders[0]!.id },
};

/** Touches only payments: while its breaker is open this measures the router's fail-fast path alone. */
const PAYMENT_QUERY = { query: `query Payment($id: ID!) { payment(id: $id) { id status } }`, variables: { id: demoPayments[0]!.id } };

interface Child {
  readonly url: string;
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

async function startRouter(kind: 'resilient' | 'plain', urls: Record<string, string>, extraEnv: Record<string, string> = {}): Promise<Child> {
  const child: ChildProcess = fork(new URL('./router-process.ts', import.meta.url).pathname, [kind], {
    // BENCH_CPU_PROF=1 writes a V8 CPU profile per router process (for `--cpu-prof` analysis).
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=.cache/profiles'] : [])],
    env: {
      ...process.env,
      ...SECRETS,
      NODE_ENV: 'production',
      APOLLO_TELEMETRY_DISABLED: 'true',
      BENCH_SUBGRAPH_URLS: JSON.stringify(urls),
      ...(urls.users ? { JWKS_URL: urls.users.replace(/\/graphql$/, '/.well-known/jwks.json') } : {}),
      // Rate limiting stays on, with a budget the load generator (one client) cannot exhaust.
      ROUTER_RATE_LIMIT: '1000000000/1m',
      BENCH_PRINCIPAL: JSON.stringify({ id: customer, role: 'CUSTOMER', scopes: ['customer'] }),
      ...extraEnv,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`${kind} router exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    cpuMicros: () =>
      new Promise((resolve) => {
        child.once('message', (message) => {
          const { cpu } = message as { cpu: NodeJS.CpuUsage };
          resolve(cpu.user + cpu.system);
        });
        child.send('cpu');
      }),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}

interface Measured {
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  cpuMicrosPerRequest: number;
  errors: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function load(url: string, body: object, durationS: number, child?: Child, connections = CONNECTIONS): Promise<Measured> {
  const latencies: number[] = [];
  const cpuBefore = child ? await child.cpuMicros() : 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url, method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body), connections, duration: durationS },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  const cpuAfter = child ? await child.cpuMicros() : 0;
  latencies.sort((a, b) => a - b);
  return {
    requests: result.requests.total,
    rps: result.requests.total / durationS,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    cpuMicrosPerRequest: child ? (cpuAfter - cpuBefore) / Math.max(1, result.requests.total) : Number.NaN,
    errors: result.errors + result.non2xx,
  };
}

async function check(url: string, body: object): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) });
  return (await response.json()) as Record<string, unknown>;
}

const fmt = (value: number, digits = 1) => value.toFixed(digits).padStart(9);

const subgraphsChild = fork(new URL('./subgraphs-process.ts', import.meta.url).pathname, [], {
  execArgv: ['--import', 'tsx'],
  env: { ...process.env, ...SECRETS, NODE_ENV: 'production', APOLLO_TELEMETRY_DISABLED: 'true' },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const urls = await new Promise<Record<string, string>>((resolve, reject) => {
  subgraphsChild.once('message', (message) => resolve((message as { urls: Record<string, string> }).urls));
  subgraphsChild.once('exit', (code) => reject(new Error(`subgraphs exited with ${code}`)));
});

console.log(`bench: ${quick ? 'quick' : 'full'} — ${ROUNDS} alternating round(s) of ${DURATION_S}s per router, ${CONNECTIONS} connections, deep query over 4 subgraphs`);
const routers = { resilient: await startRouter('resilient', urls), plain: await startRouter('plain', urls) };
const login = await check(routers.resilient.url, {
  query: 'mutation($email: String!, $password: String!) { logIn(email: $email, password: $password) { token } }',
  variables: { email: customerEmail, password: DEMO_PASSWORD },
});
auth.authorization = `Bearer ${(login.data as { logIn: { token: string } }).logIn.token}`;
for (const [name, child] of Object.entries(routers)) {
  const answer = await check(child.url, DEEP_QUERY);
  if (answer.errors || !answer.data) throw new Error(`${name} router answered the deep query with ${JSON.stringify(answer).slice(0, 300)}`);
  await load(child.url, DEEP_QUERY, WARMUP_S);
}

const results: Record<'resilient' | 'plain', Measured[]> = { resilient: [], plain: [] };
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which goes first, so neither always runs on a warmer (or noisier) machine.
  const order = round % 2 === 0 ? (['resilient', 'plain'] as const) : (['plain', 'resilient'] as const);
  for (const name of order) {
    const measured = await load(routers[name].url, DEEP_QUERY, DURATION_S, routers[name]);
    results[name].push(measured);
    console.log(`round ${round + 1} ${name.padEnd(9)} ${fmt(measured.rps)} req/s  p50 ${fmt(measured.p50, 2)} ms  p95 ${fmt(measured.p95, 2)} ms  p99 ${fmt(measured.p99, 2)} ms  cpu ${fmt(measured.cpuMicrosPerRequest, 0)} µs/req  errors ${measured.errors}`);
  }
}
await routers.resilient.stop();
await routers.plain.stop();

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const summary = (name: 'resilient' | 'plain') => ({
  rps: median(results[name].map((r) => r.rps)),
  p50: median(results[name].map((r) => r.p50)),
  p95: median(results[name].map((r) => r.p95)),
  p99: median(results[name].map((r) => r.p99)),
  cpu: median(results[name].map((r) => r.cpuMicrosPerRequest)),
});
const resilient = summary('resilient');
const plain = summary('plain');
console.log('\nmedian over rounds           req/s    p50 ms    p95 ms    p99 ms  cpu µs/req');
for (const [name, s] of [['resilient router', resilient], ['plain gateway', plain]] as const) {
  console.log(`${name.padEnd(22)} ${fmt(s.rps)} ${fmt(s.p50, 2)} ${fmt(s.p95, 2)} ${fmt(s.p99, 2)} ${fmt(s.cpu, 0)}`);
}
console.log(`throughput ratio resilient/plain: ${(resilient.rps / plain.rps).toFixed(2)}x; p99 ratio: ${(resilient.p99 / plain.p99).toFixed(2)}x; cpu/req ratio: ${(resilient.cpu / plain.cpu).toFixed(2)}x`);
// On a small machine the subgraphs and the load generator share the cores with the router, so
// measured req/s is often bound by them; router CPU per request is what the router itself costs.
console.log(`router-bound capacity (1 core / cpu per request): resilient ${(1e6 / resilient.cpu).toFixed(0)} req/s, plain ${(1e6 / plain.cpu).toFixed(0)} req/s (${(plain.cpu / resilient.cpu).toFixed(2)}x)`);

// Fail fast: payments routed to a port nothing listens on; once its breaker is open, the order
// query answers with payment null and one SUBGRAPH_UNAVAILABLE error without touching a socket.
const deadPort = await (async () => {
  const probe = await listen(() => undefined, { port: 0 });
  await probe.close();
  return probe.port;
})();
const failing = await startRouter('resilient', { ...urls, payments: `http://127.0.0.1:${deadPort}/graphql` }, { BENCH_BREAKER: JSON.stringify({ volumeThreshold: 5, resetTimeoutMs: 600_000 }) });
for (let request = 0; request < 20; request++) await check(failing.url, ORDER_QUERY);
const sample = await check(failing.url, ORDER_QUERY);
const codes = (sample.errors as Array<{ extensions?: { code?: string } }> | undefined)?.map((error) => error.extensions?.code);
await load(failing.url, ORDER_QUERY, WARMUP_S);
const openBreaker = await load(failing.url, ORDER_QUERY, DURATION_S, failing);
await load(failing.url, PAYMENT_QUERY, WARMUP_S);
const failFast = await load(failing.url, PAYMENT_QUERY, DURATION_S, failing);
// One connection: the latency of the fail-fast path itself, without queueing behind other requests.
const failFastAlone = await load(failing.url, PAYMENT_QUERY, DURATION_S, failing, 1);
await failing.stop();
const healthyRouter = await startRouter('resilient', urls);
await load(healthyRouter.url, ORDER_QUERY, WARMUP_S);
const healthy = await load(healthyRouter.url, ORDER_QUERY, DURATION_S, healthyRouter);
await healthyRouter.stop();
console.log(`\norder query, payments healthy:        ${fmt(healthy.rps)} req/s  p50 ${fmt(healthy.p50, 2)} ms  p95 ${fmt(healthy.p95, 2)} ms  p99 ${fmt(healthy.p99, 2)} ms  cpu ${fmt(healthy.cpuMicrosPerRequest, 0)} µs/req`);
console.log(`order query, payments breaker open:   ${fmt(openBreaker.rps)} req/s  p50 ${fmt(openBreaker.p50, 2)} ms  p95 ${fmt(openBreaker.p95, 2)} ms  p99 ${fmt(openBreaker.p99, 2)} ms  cpu ${fmt(openBreaker.cpuMicrosPerRequest, 0)} µs/req  (errors: ${JSON.stringify(codes)})`);
console.log(`payments-only query, breaker open:    ${fmt(failFast.rps)} req/s  p50 ${fmt(failFast.p50, 2)} ms  p95 ${fmt(failFast.p95, 2)} ms  p99 ${fmt(failFast.p99, 2)} ms  cpu ${fmt(failFast.cpuMicrosPerRequest, 0)} µs/req  (the fail-fast path alone)`);
console.log(`payments-only query, breaker open, 1 connection: p50 ${fmt(failFastAlone.p50, 2)} ms  p95 ${fmt(failFastAlone.p95, 2)} ms  p99 ${fmt(failFastAlone.p99, 2)} ms  (${fmt(failFastAlone.rps)} req/s)`);

await new Promise<void>((resolve) => {
  subgraphsChild.once('exit', () => resolve());
  subgraphsChild.send('stop');
});

// The Guild federation benchmark's deep query (16 subgraph fetches per request) on its own cheap
// subgraphs: here the routers, not the subgraphs, are what saturates first.
{
  const { expectedResponse, testQuery } = await import('./guild/subgraphs.ts');
  // The Guild workload is anonymous: no bearer (the routers would try to verify it).
  delete auth.authorization;
  const guildChild = fork(new URL('./guild-process.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'], env: { ...process.env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { supergraphPath } = await new Promise<{ supergraphPath: string }>((resolve) => guildChild.once('message', (message) => resolve(message as { supergraphPath: string })));
  const guildRouters = {
    resilient: await startRouter('resilient', {}, { SUPERGRAPH_PATH: supergraphPath }),
    plain: await startRouter('plain', {}, { SUPERGRAPH_PATH: supergraphPath }),
  };
  const body = { query: testQuery };
  for (const [name, child] of Object.entries(guildRouters)) {
    const answer = await check(child.url, body);
    if (JSON.stringify({ data: answer.data }) !== JSON.stringify(expectedResponse) || answer.errors) throw new Error(`${name} router answered the Guild TestQuery wrongly: ${JSON.stringify(answer).slice(0, 300)}`);
    await load(child.url, body, WARMUP_S);
  }
  const guild: Record<'resilient' | 'plain', Measured[]> = { resilient: [], plain: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['resilient', 'plain'] as const) : (['plain', 'resilient'] as const);
    for (const name of order) guild[name].push(await load(guildRouters[name].url, body, DURATION_S, guildRouters[name]));
  }
  const pick = (name: 'resilient' | 'plain') => ({
    rps: median(guild[name].map((r) => r.rps)),
    p99: median(guild[name].map((r) => r.p99)),
    cpu: median(guild[name].map((r) => r.cpuMicrosPerRequest)),
    errors: guild[name].reduce((sum, r) => sum + r.errors, 0),
  });
  const [r, p] = [pick('resilient'), pick('plain')];
  console.log(`
Guild TestQuery (exact expected response checked first), median of ${ROUNDS} round(s):`);
  console.log(`resilient router ${fmt(r.rps)} req/s  p99 ${fmt(r.p99, 2)} ms  cpu ${fmt(r.cpu, 0)} µs/req  errors ${r.errors}`);
  console.log(`plain gateway    ${fmt(p.rps)} req/s  p99 ${fmt(p.p99, 2)} ms  cpu ${fmt(p.cpu, 0)} µs/req  errors ${p.errors}`);
  console.log(`throughput ratio resilient/plain: ${(r.rps / p.rps).toFixed(2)}x; p99 ratio: ${(r.p99 / p.p99).toFixed(2)}x; cpu/req ratio: ${(r.cpu / p.cpu).toFixed(2)}x`);
  await guildRouters.resilient.stop();
  await guildRouters.plain.stop();
  await new Promise<void>((resolve) => {
    guildChild.once('exit', () => resolve());
    guildChild.send('stop');
  });
}

const { benchPlaceOrder } = await import('./place-order.ts');
await benchPlaceOrder({ quick });
