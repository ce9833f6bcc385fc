import type { Experimental_DidResolveQueryPlanCallback } from "@apollo/gateway";
import { prettyFormatQueryPlan } from "@apollo/query-planner";
import { debugRecorder } from "./recorder.ts";

/**
 * The gateway's `experimental_didResolveQueryPlan` hook: records the plan the request runs (built or
 * taken from the plan cache) into its debug view — the gateway's pretty-printed form to read, and the
 * plan's node tree as JSON for tools. A no-op for requests without debug.
 */
export const recordQueryPlan: Experimental_DidResolveQueryPlanCallback = ({
  queryPlan,
  requestContext,
}) => {
  const recorder = debugRecorder(requestContext.context);
  if (!recorder) return;
  recorder.record("plan", {
    text: prettyFormatQueryPlan(queryPlan),
    node: queryPlan.node ?? null,
  });
};
