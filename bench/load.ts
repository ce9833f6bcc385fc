/**
 * Constant-concurrency load with autocannon, loopback only, and the figures a report keeps from it.
 * Latency percentiles come from every response's own time (not autocannon's histogram buckets).
 */
import autocannon from "autocannon";
import { Pool } from "undici";
import { postGraphQLBody } from "../tests/support/graphql.ts";
import type { Runner } from "./runners.ts";

export interface Measured {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  /** Router CPU (user + system) per request, when the runner reports its CPU. */
  readonly cpuMicrosPerRequest: number | null;
  /** Non-2xx responses plus socket errors and timeouts. */
  readonly errors: number;
  /**
   * 2xx responses whose GraphQL body holds `errors`, by `extensions.code` (counted for `bodyFor`
   * loads, whose mutations answer 200 with errors when, e.g., a breaker is open).
   */
  readonly graphqlErrors?: Readonly<Record<string, number>>;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[
    Math.min(
      sorted.length - 1,
      Math.max(0, Math.ceil((p / 100) * sorted.length) - 1),
    )
  ]!;
}

export interface LoadOptions {
  readonly url: string;
  readonly body?: object;
  /** A fresh body per request (e.g. a new idempotency key); overrides `body`. */
  readonly bodyFor?: () => object;
  readonly headers?: Record<string, string>;
  readonly durationS: number;
  readonly connections: number;
  /** Requests per second across all connections; unset = as fast as answers come. */
  readonly overallRate?: number;
  /** Whose CPU to charge per request. */
  readonly runner?: Pick<Runner, "cpuMicros">;
}

export async function load({
  url,
  body,
  bodyFor,
  headers = {},
  durationS,
  connections,
  overallRate,
  runner,
}: LoadOptions): Promise<Measured> {
  const latencies: number[] = [];
  const graphqlErrors: Record<string, number> = {};
  const noteBody = (status: number, body: string) => {
    if (status < 200 || status >= 300 || !body.includes('"errors"')) return;
    const code = /"code":"([A-Z_]+)"/.exec(body)?.[1] ?? "UNKNOWN";
    graphqlErrors[code] = (graphqlErrors[code] ?? 0) + 1;
  };
  const cpuBefore = runner ? await runner.cpuMicros() : 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: "POST",
        connections,
        duration: durationS,
        ...(overallRate ? { overallRate } : {}),
        headers: { "content-type": "application/json", ...headers },
        ...(bodyFor
          ? {
              requests: [
                {
                  method: "POST" as const,
                  setupRequest: (request: autocannon.Request) => ({
                    ...request,
                    body: JSON.stringify(bodyFor()),
                  }),
                  onResponse: (status: number, body: string) =>
                    noteBody(status, body),
                },
              ],
            }
          : { body: JSON.stringify(body) }),
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on("response", (_client, _status, _bytes, responseTime) =>
      latencies.push(responseTime),
    );
  });
  const cpuAfter = runner ? await runner.cpuMicros() : 0;
  latencies.sort((a, b) => a - b);
  return {
    requests: result.requests.total,
    rps: result.requests.total / durationS,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
    cpuMicrosPerRequest: runner
      ? (cpuAfter - cpuBefore) / Math.max(1, result.requests.total)
      : null,
    errors: result.errors + result.non2xx + result.timeouts,
    ...(bodyFor ? { graphqlErrors } : {}),
  };
}

/**
 * Open-loop load at a steady rate: request i is due at start + i/rate, whatever the answers before it
 * did, and its latency counts from that due time, so time spent waiting for a free connection is
 * latency too (no coordinated omission). autocannon's `overallRate` is not this: each connection
 * sends its share of a second's quota as soon as the second starts, so 100/s arrives as one burst
 * of 100 per second and p99 measures the burst.
 */
export async function paced({
  url,
  bodyFor,
  headers = {},
  durationS,
  rate,
  connections,
}: {
  url: string;
  bodyFor: () => object;
  headers?: Record<string, string>;
  durationS: number;
  rate: number;
  connections: number;
}): Promise<Measured> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections });
  const latencies: number[] = [];
  const graphqlErrors: Record<string, number> = {};
  let errors = 0;
  const total = Math.round(durationS * rate);
  const started = performance.now();
  const send = async (due: number) => {
    try {
      const response = await pool.request({
        path: target.pathname + target.search,
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(bodyFor()),
      });
      const text = await response.body.text();
      latencies.push(performance.now() - due);
      if (response.statusCode < 200 || response.statusCode >= 300) {
        errors += 1;
      } else if (text.includes('"errors"')) {
        const code = /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? "UNKNOWN";
        graphqlErrors[code] = (graphqlErrors[code] ?? 0) + 1;
      }
    } catch {
      errors += 1;
    }
  };
  const inFlight: Promise<void>[] = [];
  for (let index = 0; index < total; index += 1) {
    const due = started + (index * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(send(due));
  }
  await Promise.all(inFlight);
  const elapsedS = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: latencies.length / Math.max(durationS, elapsedS),
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
    cpuMicrosPerRequest: null,
    errors,
    graphqlErrors,
  };
}

export async function post(
  url: string,
  body: object,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const { status, body: json } = await postGraphQLBody(url, body, headers);
  return { status, json };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.floor(sorted.length / 2)]!;
};

/** The median of each figure over rounds (rounds alternate runners, so one noisy moment moves one round). */
export function medianOf(rounds: readonly Measured[]): Measured {
  const cpu = rounds
    .map((round) => round.cpuMicrosPerRequest)
    .filter((value): value is number => value !== null);
  return {
    requests: rounds.reduce((sum, round) => sum + round.requests, 0),
    rps: median(rounds.map((round) => round.rps)),
    p50: median(rounds.map((round) => round.p50)),
    p90: median(rounds.map((round) => round.p90)),
    p99: median(rounds.map((round) => round.p99)),
    max: Math.max(...rounds.map((round) => round.max)),
    cpuMicrosPerRequest: cpu.length > 0 ? median(cpu) : null,
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
  };
}
