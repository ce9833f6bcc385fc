import type { LiveBenchResult } from "./live.ts";
/**
 * The shape of `bench/results/<date>.json`: everything a report is drawn from, with the machine it
 * ran on. Figures are per run; ratios between runners of the same run are what carries across
 * machines. `checkResults` is what the smoke test holds a run to (form, never speed).
 */
import type { TrustedDocumentsResult } from "./trusted-documents.ts";
import type { Measured } from "./load.ts";
import type { RunnerInfo, RunnerName } from "./runners.ts";

export const RESULTS_VERSION = 1;

export interface WorkloadResult {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly connections: number;
  readonly results: ReadonlyArray<{
    readonly runner: RunnerName;
    readonly rounds: readonly Measured[];
    readonly median: Measured;
    /** Requests the subgraphs served per client request during the timed rounds, when counted. */
    readonly subgraphRequestsPerOperation: number | null;
  }>;
}

export interface ConcurrencyCurve {
  readonly workload: string;
  readonly levels: readonly number[];
  readonly series: ReadonlyArray<{
    readonly runner: RunnerName;
    readonly points: ReadonlyArray<{ readonly connections: number } & Measured>;
  }>;
}

export interface ListSizeRow {
  readonly size: number;
  /** Subgraph requests the router sent for one operation, by subgraph. */
  readonly subgraphRequests: Readonly<Record<string, number>>;
  /** SQL statements each subgraph ran for that operation (one subgraph per entity type family). */
  readonly sqlQueries: Readonly<Record<string, number>>;
}

export interface FailFastResult {
  readonly description: string;
  readonly rows: ReadonlyArray<
    {
      readonly scenario: string;
      readonly connections: number;
      readonly errorCodes: readonly string[];
    } & Measured
  >;
}

export interface PlaceOrderRow {
  readonly backend: string;
  readonly connections: number;
  /** Set for a run at a fixed request rate (orders/s) instead of as fast as it goes. */
  readonly rate?: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly placed: number;
  readonly confirmed: number;
  readonly captured: number;
  readonly errors: number;
  /** Orders of the run still PENDING after it settled (must be 0). */
  readonly pending?: number;
  /** Orders with more than one CAPTURED payment (must be 0). */
  readonly doubleCharged?: number;
  /** Units of stock unaccounted for by confirmed orders (must be 0). */
  readonly oversold?: number;
  /** CPU of the bench process (router, subgraphs, PGlite when used, the load generator) per order. */
  readonly cpuMsPerOrder?: number;
  /** CPU of the run's PostgreSQL backends per order (PostgreSQL only). */
  readonly postgresCpuMsPerOrder?: number;
  /** SQL statements and transactions per order, per service: deterministic. */
  readonly perOrder?: Readonly<
    Record<string, { statements: number; transactions: number }>
  >;
}

export interface Target {
  readonly name: string;
  readonly value: number;
  readonly target: string;
  readonly met: boolean;
}

export interface BenchResults {
  readonly version: typeof RESULTS_VERSION;
  readonly date: string;
  readonly mode: "quick" | "full";
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryGiB: number;
    readonly node: string;
    readonly platform: string;
  };
  readonly settings: {
    readonly durationS: number;
    readonly warmupS: number;
    readonly rounds: number;
  };
  readonly runners: Readonly<Partial<Record<RunnerName, RunnerInfo>>>;
  readonly workloads: readonly WorkloadResult[];
  readonly concurrency: ConcurrencyCurve | null;
  readonly failFast: FailFastResult | null;
  readonly listSize: {
    readonly query: string;
    readonly rows: readonly ListSizeRow[];
  } | null;
  /** Trusted documents by id against full text (bench/trusted-documents.ts); absent in older results. */
  readonly trustedDocuments?: TrustedDocumentsResult | null;
  readonly placeOrder: readonly PlaceOrderRow[];
  /** Live updates (bench/live.ts); absent in results recorded before subscriptions existed. */
  readonly live?: LiveBenchResult | null;
  readonly targets: readonly Target[];
}

const isMeasured = (value: Measured) =>
  Number.isFinite(value.rps) &&
  value.rps >= 0 &&
  Number.isFinite(value.requests) &&
  [value.p50, value.p90, value.p99].every(
    (p) => Number.isFinite(p) && p >= 0,
  ) &&
  value.p50 <= value.p90 &&
  value.p90 <= value.p99;

/** Every problem with a results object's form, empty when it is well formed. */
export function checkResults(results: BenchResults): string[] {
  const problems: string[] = [];
  if (results.version !== RESULTS_VERSION)
    problems.push(
      `version ${String(results.version)} is not ${RESULTS_VERSION}`,
    );
  if (Number.isNaN(Date.parse(results.date)))
    problems.push("date is not a date");
  if (!(results.machine.cpus > 0)) problems.push("machine.cpus is missing");
  if (results.workloads.length === 0) problems.push("no workload was measured");
  for (const workload of results.workloads) {
    if (workload.results.length === 0)
      problems.push(`${workload.id}: no runner measured`);
    for (const entry of workload.results) {
      if (!results.runners[entry.runner])
        problems.push(
          `${workload.id}: runner ${entry.runner} is not described`,
        );
      if (entry.rounds.length === 0)
        problems.push(`${workload.id}/${entry.runner}: no rounds`);
      for (const round of [...entry.rounds, entry.median])
        if (!isMeasured(round))
          problems.push(
            `${workload.id}/${entry.runner}: malformed figures ${JSON.stringify(round)}`,
          );
      if (entry.median.requests === 0)
        problems.push(`${workload.id}/${entry.runner}: no request completed`);
    }
  }
  for (const series of results.concurrency?.series ?? []) {
    if (series.points.length !== results.concurrency!.levels.length)
      problems.push(
        `concurrency/${series.runner}: ${series.points.length} points for ${results.concurrency!.levels.length} levels`,
      );
    for (const point of series.points)
      if (!isMeasured(point))
        problems.push(
          `concurrency/${series.runner}@${point.connections}: malformed figures`,
        );
  }
  for (const row of results.listSize?.rows ?? []) {
    for (const [name, count] of [
      ...Object.entries(row.subgraphRequests),
      ...Object.entries(row.sqlQueries),
    ]) {
      if (!Number.isInteger(count) || count < 0)
        problems.push(`listSize ${row.size}/${name}: ${count} is not a count`);
    }
  }
  for (const target of results.targets)
    if (!Number.isFinite(target.value))
      problems.push(`target ${target.name}: value ${target.value}`);
  return problems;
}
