import type { Experimental_DidResolveQueryPlanCallback } from "@apollo/gateway";
import { prettyFormatQueryPlan, type QueryPlan } from "@apollo/query-planner";
import { debugRecorder } from "./recorder.ts";

/**
 * The gateway's `experimental_didResolveQueryPlan` hook: records the plan the request runs (built or
 * taken from the plan cache) into its debug view — the gateway's pretty-printed form to read, and the
 * plan's node tree as JSON for tools. A no-op for requests without debug.
 */
export const recordQueryPlan: Experimental_DidResolveQueryPlanCallback = ({
  queryPlan,
  requestContext,
}) => recordPlan(requestContext.context, queryPlan);

/** The same, for our executor (router/executor/), which plans without the gateway's hook. */
export function recordPlan(context: object, queryPlan: QueryPlan): void {
  const recorder = debugRecorder(context);
  if (!recorder) return;
  recorder.record("plan", {
    text: prettyFormatQueryPlan(queryPlan),
    node: queryPlan.node ?? null,
  });
}
