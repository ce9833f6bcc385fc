import type { ApolloGateway, GraphQLDataSource } from "@apollo/gateway";
import type { Schema } from "@apollo/federation-internals";
import type { QueryPlan, QueryPlanner } from "@apollo/query-planner";
import type {
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
} from "@apollo/server-gateway-interface";
import { getVariableValues, GraphQLError, type GraphQLSchema } from "graphql";
import { wrapGatewayExecutor } from "../wrap-gateway-executor.ts";
import type { Logger } from "../../platform/logger.ts";
import { inSpan } from "../../platform/tracing.ts";
import { executePlanNode, type PlanRun } from "./execute-plan.ts";
import {
  createPlanCache,
  type PlanCache,
  type PlanSource,
} from "./plan-cache.ts";

/**
 * Which executor runs query plans (ROUTER_EXECUTOR): `switchyard` is this folder's (cached plan and
 * compiled shaper, router/executor/), `gateway` is @apollo/gateway's own `executeQueryPlan`.
 */
export type ExecutorKind = "switchyard" | "gateway";

/**
 * What this executor reads of an ApolloGateway. These members are private in its TypeScript types
 * (2.14.4) but are the gateway's live state, replaced as a whole on every supergraph update; the
 * unit test checks they exist so an upgrade that renames one fails there, and if one is missing at
 * run time every request goes to the gateway's executor instead.
 */
interface GatewayState {
  readonly queryPlanner?: QueryPlanner;
  readonly apiSchema?: Schema;
  readonly schema?: GraphQLSchema;
  readonly supergraphSchema?: GraphQLSchema;
  readonly serviceMap?: Readonly<
    Record<string, { readonly dataSource: GraphQLDataSource }>
  >;
  readonly recursiveSelectionsLimitDisabled?: boolean;
  readonly nonLocalSelectionsLimitDisabled?: boolean;
}

/** Why a request went to the gateway's executor (metrics label; `plan` = the plan's own reason). */
export type DelegationReason =
  | "not-loaded"
  | "no-operation"
  | "subscription"
  | "trace-capture"
  | "query-plan-header"
  | "introspection"
  | "unsafe-response-name"
  | "defer"
  | "planning-failed";

export interface PlanExecutor {
  readonly gateway: GatewayInterface;
  readonly plans: PlanCache;
}

/**
 * Wraps `gateway` so its executor is ours: plans come from the gateway's planner (cached with their
 * shapers), fetches go through the gateway's data sources, and what ours does not run — subscriptions,
 * @defer, introspection, usage-trace capture, the query-plan debug header — goes to the gateway's own
 * executor unchanged. Everything else Apollo Server asks of the gateway passes through.
 */
export function withPlanExecutor(
  gateway: ApolloGateway,
  {
    logger,
    onDelegate,
    planVariant = () => "",
    onPlan,
  }: {
    logger: Logger;
    onDelegate?: (reason: DelegationReason) => void;
    /**
     * What else a request's plan depends on besides its document and operation name (the active
     * progressive-override labels, router/progressive-override.ts); part of the plan cache key.
     * @default every request plans alike
     */
    planVariant?: (requestContext: GatewayGraphQLRequestContext) => string;
    /** Called with the plan each request runs (the plan-debug view records it). */
    onPlan?: (plan: QueryPlan, context: object) => void;
  },
): PlanExecutor {
  const state = gateway as unknown as GatewayState;
  const plans = createPlanCache();
  gateway.onSchemaLoadOrUpdate(() => plans.clear());
  const wrap =
    (delegate: GatewayExecutor): GatewayExecutor =>
    (requestContext) => {
      const reason = delegation(requestContext);
      if (reason) {
        onDelegate?.(reason);
        return delegate(requestContext);
      }
      return inSpan("gateway.request", {}, () =>
        execute(requestContext, delegate),
      );
    };

  function delegation(
    requestContext: GatewayGraphQLRequestContext,
  ): DelegationReason | undefined {
    if (
      !state.queryPlanner ||
      !state.apiSchema ||
      !state.schema ||
      !state.supergraphSchema ||
      !state.serviceMap
    )
      return "not-loaded";
    if (!requestContext.operation) return "no-operation";
    if (requestContext.operation.operation === "subscription")
      return "subscription";
    if (requestContext.metrics.captureTraces) return "trace-capture";
    if (
      requestContext.request.http?.headers.get("apollo-query-plan-experimental")
    )
      return "query-plan-header";
    return undefined;
  }

  async function execute(
    requestContext: GatewayGraphQLRequestContext,
    delegate: GatewayExecutor,
  ) {
    const { request, operation } = requestContext;
    const schema = state.schema!;
    // The gateway coerces variables only to report errors; subgraphs get them as sent.
    if (operation.variableDefinitions?.length) {
      const { errors } = getVariableValues(
        schema,
        operation.variableDefinitions,
        request.variables ?? {},
      );
      if (errors) return { errors };
    }
    const source: PlanSource = {
      planner: state.queryPlanner!,
      apiSchema: state.apiSchema!,
      recursiveSelectionsLimitDisabled:
        state.recursiveSelectionsLimitDisabled ?? false,
      nonLocalSelectionsLimitDisabled:
        state.nonLocalSelectionsLimitDisabled ?? false,
    };
    const entry = plans.planFor(source, {
      queryHash: requestContext.queryHash,
      operationName: request.operationName ?? undefined,
      document: requestContext.document,
      variant: planVariant(requestContext),
    });
    if (entry.kind === "delegated") {
      onDelegate?.(entry.reason);
      return delegate(requestContext);
    }
    onPlan?.(entry.plan, requestContext.context as object);
    const run: PlanRun = {
      requestContext,
      serviceFor: (name) => state.serviceMap?.[name]?.dataSource,
      supergraphSchema: state.supergraphSchema!,
      variableDefinitions: entry.operation.variableDefinitions,
      errors: [],
    };
    const data: Record<string, unknown> = {};
    if (entry.node) await executePlanNode(run, entry.node, data);
    let shaped;
    try {
      shaped = entry.shaper.shape(data, request.variables);
    } catch (error) {
      // As the gateway's post-processing: a broken answer becomes one error, no data.
      if (error instanceof GraphQLError) return { errors: [error] };
      if (error instanceof Error)
        return {
          errors: [new GraphQLError(error.message, { originalError: error })],
        };
      logger.error(
        { err: error },
        "Unexpected error during query plan execution",
      );
      return {
        errors: [
          new GraphQLError("Unexpected error during query plan execution"),
        ],
      };
    }
    if (run.errors.length > 0)
      return {
        // Apollo Server wraps a plain Error the same way before formatting it.
        errors: run.errors.map((error) =>
          error instanceof GraphQLError
            ? error
            : new GraphQLError(error.message, { originalError: error }),
        ),
        data: shaped.data,
      };
    if (shaped.errors.length > 0)
      return {
        extensions: { valueCompletion: shaped.errors },
        data: shaped.data,
      };
    return { data: shaped.data };
  }

  return {
    plans,
    gateway: wrapGatewayExecutor(gateway, wrap),
  };
}
