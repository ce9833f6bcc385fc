import {
  operationFromDocument,
  type Operation,
  type Schema,
} from "@apollo/federation-internals";
import type {
  PlanNode,
  QueryPlan,
  QueryPlanner,
  SubscriptionNode,
} from "@apollo/query-planner";
import type { DocumentNode } from "graphql";
import { compileShaper, type ResponseShaper } from "./shaper.ts";

/**
 * Query plans and their compiled response shapers, built once per (document, operation name) and
 * kept together: a cache hit costs one Map lookup where the gateway's executor parses the operation
 * into federation objects again on every request.
 *
 * Plans come from the gateway's own QueryPlanner (`buildQueryPlan` with the gateway's options), so
 * anything that adjusts planning there (a patched planner, plan post-processing) applies to this
 * executor too. All building and caching is in `planFor`: a later input of planning (a per-request
 * set of progressive-override labels) joins the key there and nowhere else.
 */

/** A plan this executor runs, with what it needs per request. */
export interface CompiledPlan {
  readonly kind: "compiled";
  readonly plan: QueryPlan;
  readonly node: PlanNode | undefined;
  /** The federation operation the plan was built for (Condition nodes read its variable defaults). */
  readonly operation: Operation;
  readonly shaper: ResponseShaper;
}

/** An operation left to the gateway's executor, and why (kept so the decision is made once). */
export interface DelegatedPlan {
  readonly kind: "delegated";
  readonly reason:
    | "introspection"
    | "unsafe-response-name"
    | "subscription"
    | "defer"
    | "planning-failed";
}

export type PlanEntry = CompiledPlan | DelegatedPlan;

export interface PlanSource {
  readonly planner: QueryPlanner;
  /** The API schema (federation form): what operations are read against. */
  readonly apiSchema: Schema;
  readonly recursiveSelectionsLimitDisabled: boolean;
  readonly nonLocalSelectionsLimitDisabled: boolean;
}

export interface PlanRequest {
  readonly queryHash: string;
  readonly operationName: string | undefined;
  readonly document: DocumentNode;
  /** What else planning depends on (active override labels); "" = nothing. */
  readonly variant?: string;
}

export interface PlanCache {
  /** The plan of this request's operation, built on first use. */
  planFor(source: PlanSource, request: PlanRequest): PlanEntry;
  clear(): void;
  readonly size: number;
}

/** @param maxEntries plans kept; the oldest goes first (a plan is small next to building one). */
export function createPlanCache({
  maxEntries = 2000,
}: { maxEntries?: number } = {}): PlanCache {
  const entries = new Map<string, PlanEntry>();
  let plannedBy: QueryPlanner | undefined;

  function build(source: PlanSource, request: PlanRequest): PlanEntry {
    let planned: Operation;
    let shaped: Operation;
    let plan: QueryPlan;
    try {
      const options = { operationName: request.operationName };
      planned = operationFromDocument(
        source.apiSchema,
        request.document,
        options,
      );
      // The planner may keep references into the operation it plans; the shaper reads its own.
      shaped = operationFromDocument(source.apiSchema, request.document, {
        ...options,
        validate: false,
      });
      plan = source.planner.buildQueryPlan(planned, {
        recursiveSelectionsLimitDisabled:
          source.recursiveSelectionsLimitDisabled,
        nonLocalSelectionsLimitDisabled: source.nonLocalSelectionsLimitDisabled,
      });
    } catch {
      // The gateway's executor raises the same error in its own words: leave the request to it.
      return { kind: "delegated", reason: "planning-failed" };
    }
    const node = plan.node;
    if (node?.kind === "Subscription")
      return { kind: "delegated", reason: "subscription" };
    if (node && hasDefer(node)) return { kind: "delegated", reason: "defer" };
    const shaper = compileShaper(shaped);
    if (typeof shaper === "string")
      return { kind: "delegated", reason: shaper };
    return { kind: "compiled", plan, node, operation: shaped, shaper };
  }

  return {
    planFor(source, request) {
      // A new supergraph brings a new planner: plans of the old one must not be reused.
      if (plannedBy !== source.planner) {
        entries.clear();
        plannedBy = source.planner;
      }
      const named =
        request.operationName === undefined
          ? request.queryHash
          : `${request.queryHash}\u0000${request.operationName}`;
      const key = request.variant ? `${named}\u0000${request.variant}` : named;
      let entry = entries.get(key);
      if (!entry) {
        entry = build(source, request);
        if (entries.size >= maxEntries) {
          const oldest = entries.keys().next();
          if (!oldest.done) entries.delete(oldest.value);
        }
        entries.set(key, entry);
      }
      return entry;
    },
    clear: () => entries.clear(),
    get size() {
      return entries.size;
    },
  };
}

function hasDefer(node: PlanNode | SubscriptionNode): boolean {
  switch (node.kind) {
    case "Defer":
      return true;
    case "Sequence":
    case "Parallel":
      return node.nodes.some(hasDefer);
    case "Flatten":
      return hasDefer(node.node);
    case "Condition":
      return (
        (node.ifClause !== undefined && hasDefer(node.ifClause)) ||
        (node.elseClause !== undefined && hasDefer(node.elseClause))
      );
    case "Subscription":
      return true;
    case "Fetch":
      return false;
    default:
      return unreachable(node);
  }
}

function unreachable(value: never): never {
  throw new Error(`unexpected plan node ${JSON.stringify(value)}`);
}
