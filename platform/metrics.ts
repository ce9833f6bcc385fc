import {
  Counter,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type LabelValues,
} from "prom-client";

export interface ServiceMetrics {
  /** The service these series are labelled with. */
  readonly service: string;
  readonly registry: Registry;
  readonly httpDuration: Histogram<"route" | "method" | "status">;
  readonly graphqlOperations: Counter<"operation" | "outcome">;
  readonly graphqlDuration: Histogram<"operation" | "outcome">;
  readonly loaderBatchSize: Histogram<"loader">;
}

/** Told the size of every batch a DataLoader sends (metrics; tests count batches through it). */
export type BatchObserver = (loader: string, size: number) => void;

export const ignoreBatches: BatchObserver = () => undefined;

/** A DataLoader batch function that reports each batch's size under `loader` before loading it. */
export function observedBatch<K, V>(
  loader: string,
  observe: BatchObserver,
  load: (keys: readonly K[]) => Promise<V[]>,
): (keys: readonly K[]) => Promise<V[]> {
  return (keys) => {
    observe(loader, keys.length);
    return load(keys);
  };
}

/** Histogram buckets of every latency series (seconds): 1 ms to 10 s, about ×2.5 a step. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** One registry per service, so services sharing a process still report only their own series. */
export function createServiceMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    service,
    registry,
    httpDuration: new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP requests served, by route, method and status",
      labelNames: ["route", "method", "status"],
      buckets: [...LATENCY_BUCKETS_SECONDS],
      registers: [registry],
    }),
    graphqlOperations: new Counter({
      name: "graphql_operations_total",
      help: 'GraphQL operations executed, by operation name (or "anonymous") and outcome',
      labelNames: ["operation", "outcome"],
      registers: [registry],
    }),
    graphqlDuration: new Histogram({
      name: "graphql_operation_duration_seconds",
      help: 'GraphQL operation latency, by operation name (bounded set; "other" beyond it) and outcome',
      labelNames: ["operation", "outcome"],
      buckets: [...LATENCY_BUCKETS_SECONDS],
      registers: [registry],
    }),
    loaderBatchSize: new Histogram({
      name: "dataloader_batch_size",
      help: "Keys per DataLoader batch (one SQL query each), by loader",
      labelNames: ["loader"],
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers: [registry],
    }),
  };
}

/**
 * `sql_queries_total`, registered only by services whose queries are counted (the subgraphs): a
 * series that never moves (the router has no database) would read as "no queries", not "not counted".
 */
export function createSqlQueryCounter(metrics: ServiceMetrics): Counter {
  return new Counter({
    name: "sql_queries_total",
    help: "SQL statements sent to the database",
    registers: [metrics.registry],
  });
}

/**
 * A Counter read at scrape time from running totals the code already keeps (a worker's `stats`):
 * each scrape adds what each label set's total grew by since the last one, so the series is typed
 * `counter` and `rate()`/`increase()` apply — not a gauge holding "since start". A label set is
 * exposed (at 0) from the first scrape that sees it.
 */
export function counterOfTotals<L extends string>({
  name,
  help,
  labelNames,
  registry,
  totals,
}: {
  name: string;
  help: string;
  labelNames: readonly L[];
  registry: Registry;
  totals: () => Iterable<readonly [LabelValues<L>, number]>;
}): Counter<L> {
  const counted = new Map<string, number>();
  return new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const [labels, total] of totals()) {
        const key = JSON.stringify(labels);
        const before = counted.get(key);
        if (before !== undefined && total <= before) continue;
        this.inc(labels, total - (before ?? 0));
        counted.set(key, total);
      }
    },
  });
}
