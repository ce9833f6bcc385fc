import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { trace } from "@opentelemetry/api";
import type { ServiceMetrics } from "./metrics.ts";

/** Distinct operation names kept as label values; later ones are counted as `other`. */
const MAX_OPERATION_LABELS = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * A label for the operation name with bounded cardinality: clients choose operation names, and a
 * series per name would let one client grow every service's /metrics without limit.
 */
export function operationLabeller(
  max = MAX_OPERATION_LABELS,
): (name: string | null | undefined) => string {
  const seen = new Set<string>();
  return (name) => {
    if (!name) return "anonymous";
    if (seen.has(name)) return name;
    if (!OPERATION_NAME.test(name) || seen.size >= max) return "other";
    seen.add(name);
    return name;
  };
}

/**
 * Per-operation rate, latency and errors (`graphql_operations_total`,
 * `graphql_operation_duration_seconds`), and the operation's name and type on the request's span.
 * Router and subgraphs use the same plugin, so a dashboard reads them the same way.
 */
export function createOperationObserver<Ctx extends BaseContext>(
  metrics: ServiceMetrics,
): ApolloServerPlugin<Ctx> {
  const label = operationLabeller();
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      const span = trace.getActiveSpan();
      return {
        async didResolveOperation({ operationName, operation }) {
          if (!span || !operation) return;
          span.updateName(
            `${operation.operation} ${operationName ?? "anonymous"}`,
          );
          span.setAttributes({
            "graphql.operation.type": operation.operation,
            "graphql.operation.name": operationName ?? "anonymous",
          });
        },
        async willSendResponse({ operationName, errors, response }) {
          const failed =
            (errors?.length ?? 0) > 0 ||
            (response.body.kind === "single" &&
              (response.body.singleResult.errors?.length ?? 0) > 0);
          const labels = {
            operation: label(operationName),
            outcome: failed ? "error" : "ok",
          };
          metrics.graphqlOperations.inc(labels);
          metrics.graphqlDuration.observe(
            labels,
            Number(process.hrtime.bigint() - started) / 1e9,
          );
        },
      };
    },
  };
}
