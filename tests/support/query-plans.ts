import { readFileSync } from "node:fs";
import {
  operationFromDocument,
  Supergraph,
} from "@apollo/federation-internals";
import {
  isPlanNode,
  QueryPlanner,
  type FetchNode,
  type PlanNode,
  type QueryPlan,
} from "@apollo/query-planner";
import { parse } from "graphql";
import { expect } from "vitest";
import {
  buildFixedPlan,
  planFixesFor,
} from "../../router/query-plan/post-process.ts";

/**
 * The planner on a federation-audit suite's own supergraph (tests/fixtures/federation-audit/):
 * `plans(query)` gives the planner's plan alone and with our fixes (router/query-plan/).
 */
export function auditPlanner(suite: string): {
  sdl: string;
  plans: (query: string) => { plain: QueryPlan; fixed: QueryPlan };
} {
  const sdl = readFileSync(
    new URL(`../fixtures/federation-audit/${suite}.graphql`, import.meta.url),
    "utf8",
  );
  const supergraph = Supergraph.build(sdl);
  const planner = new QueryPlanner(supergraph);
  const fixes = planFixesFor(sdl);
  return {
    sdl,
    plans(query) {
      const operation = operationFromDocument(supergraph.schema, parse(query), {
        validate: true,
      });
      return {
        plain: planner.buildQueryPlan(operation),
        fixed: buildFixedPlan(
          (op) => planner.buildQueryPlan(op),
          operation,
          fixes,
        ),
      };
    },
  };
}

/** Asserts our fixes leave the plan of each of `queries` exactly as the planner made it. */
export function expectPlansUnchanged(
  plans: (query: string) => { plain: QueryPlan; fixed: QueryPlan },
  queries: readonly string[],
): void {
  for (const query of queries) {
    const { plain, fixed } = plans(query);
    expect(fixed, query).toEqual(plain);
  }
}

/** Every fetch of a plan with the path it merges at (`products.@`; empty at the root). */
export function planFetches(
  plan: QueryPlan,
): { path: string; fetch: FetchNode }[] {
  return fetches(isPlanNode(plan.node) ? plan.node : undefined, []);
}

function fetches(
  node: PlanNode | undefined,
  path: (string | number)[],
): { path: string; fetch: FetchNode }[] {
  if (!node) return [];
  switch (node.kind) {
    case "Fetch":
      return [{ path: path.join("."), fetch: node }];
    case "Flatten":
      return fetches(node.node, node.path);
    case "Sequence":
    case "Parallel":
      return node.nodes.flatMap((child) => fetches(child, path));
    case "Condition":
      return [
        ...fetches(node.ifClause, path),
        ...fetches(node.elseClause, path),
      ];
    case "Defer":
      return [node.primary.node, ...node.deferred.map((d) => d.node)].flatMap(
        (child) => fetches(child, path),
      );
  }
}
