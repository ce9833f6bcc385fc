import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { LATENCY_BUCKETS_SECONDS } from "../platform/metrics.ts";

export type BreakerState = "closed" | "half-open" | "open";

/** Gauge values for `router_breaker_state`; a dashboard maps them back to names. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = {
  closed: 0,
  "half-open": 1,
  open: 2,
};

export interface ResilienceMetrics {
  readonly fetches: Counter<"subgraph">;
  readonly fetchDuration: Histogram<"subgraph" | "outcome">;
  readonly breakerState: Gauge<"subgraph" | "instance">;
  readonly breakerTransitions: Counter<"subgraph" | "instance" | "to">;
  readonly retries: Counter<"subgraph">;
  readonly retryBudgetRefusals: Counter<"subgraph">;
  readonly bulkheadRejections: Counter<"subgraph">;
  readonly failures: Counter<"subgraph" | "code">;
  /** Subgraph fetches that joined an identical one in flight instead of being sent. */
  readonly fetchesDeduplicated: Counter<"subgraph">;
  /** Client operations that joined an identical one in flight instead of executing. */
  readonly operationsDeduplicated: Counter<"stage">;
  readonly rateLimitRejections: Counter<"field">;
}

/** The router's resilience series, registered in the router's own registry. */
export function createResilienceMetrics(registry: Registry): ResilienceMetrics {
  const registers = [registry];
  return {
    fetches: new Counter({
      name: "router_subgraph_fetches_total",
      help: "Fetches the router sent to each subgraph (retries not counted)",
      labelNames: ["subgraph"],
      registers,
    }),
    fetchDuration: new Histogram({
      name: "router_subgraph_fetch_duration_seconds",
      help: "Subgraph fetch latency (retries and bulkhead wait included), by outcome: ok, SUBGRAPH_UNAVAILABLE or SUBGRAPH_TIMEOUT",
      labelNames: ["subgraph", "outcome"],
      buckets: [...LATENCY_BUCKETS_SECONDS],
      registers,
    }),
    breakerState: new Gauge({
      name: "router_breaker_state",
      help: "Breaker state per subgraph instance: 0 closed, 1 half-open, 2 open",
      labelNames: ["subgraph", "instance"],
      registers,
    }),
    breakerTransitions: new Counter({
      name: "router_breaker_transitions_total",
      help: "Breaker state changes per subgraph instance, by the state entered",
      labelNames: ["subgraph", "instance", "to"],
      registers,
    }),
    retries: new Counter({
      name: "router_subgraph_retries_total",
      help: "Query fetches the router sent again after a retriable failure",
      labelNames: ["subgraph"],
      registers,
    }),
    retryBudgetRefusals: new Counter({
      name: "router_retry_budget_refusals_total",
      help: "Retries not sent because the retry budget was spent",
      labelNames: ["subgraph"],
      registers,
    }),
    bulkheadRejections: new Counter({
      name: "router_bulkhead_rejections_total",
      help: "Fetches failed fast because the subgraph bulkhead and its queue were full",
      labelNames: ["subgraph"],
      registers,
    }),
    failures: new Counter({
      name: "router_subgraph_failures_total",
      help: "Fetches that ended in an error for the client, by code",
      labelNames: ["subgraph", "code"],
      registers,
    }),
    fetchesDeduplicated: new Counter({
      name: "router_subgraph_fetches_deduplicated_total",
      help: "Subgraph fetches answered by an identical fetch already in flight (not sent)",
      labelNames: ["subgraph"],
      registers,
    }),
    operationsDeduplicated: new Counter({
      name: "router_operations_deduplicated_total",
      help: "Query operations answered by an identical operation of the same caller in flight, by stage: edge (shared encoded response) or execution (shared result)",
      labelNames: ["stage"],
      registers,
    }),
    rateLimitRejections: new Counter({
      name: "router_rate_limit_rejections_total",
      help: "Root-field calls refused by the rate limiter (RATE_LIMITED), by field",
      labelNames: ["field"],
      registers,
    }),
  };
}
