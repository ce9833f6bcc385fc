import type {
  Operation,
  SelectionSet as OperationSelectionSet,
} from "@apollo/federation-internals";
import type { ApolloGateway } from "@apollo/gateway";
import {
  isPlanNode,
  type FetchNode,
  type PlanNode,
  type QueryPlan,
  type QueryPlanner,
} from "@apollo/query-planner";
import {
  Kind,
  parse,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import { codedError } from "../../platform/errors.ts";
import {
  aliasClientFields,
  requiredArgumentsOf,
  swapClientAliases,
  type RequiredArguments,
} from "./requires-arguments.ts";
import {
  requiresConflictsOf,
  splitConflictingRequires,
  type RequiresConflicts,
} from "./requires-conflicts.ts";

/**
 * Our layer over `@apollo/query-planner`'s plans: every plan the router executes goes through
 * `postProcessPlan` once, when it is built (plans are cached after it). It checks, and may later
 * rewrite, what the planner produced; docs/conformance.md lists what it fixes and why. The
 * gateway's executor gets it through `installPlanPostProcessing`; another executor calls
 * `postProcessPlan` itself on each plan it builds.
 *
 * Throws a `QUERY_PLAN_FAILED` GraphQL error when the plan cannot answer the operation.
 */
export function postProcessPlan(
  plan: QueryPlan,
  operation: Operation,
): QueryPlan {
  assertRootFieldsFetched(plan, operation);
  return plan;
}

/** What the fixes need to know of a supergraph, computed once per supergraph. */
export interface PlanFixes {
  required: RequiredArguments;
  conflicts: RequiresConflicts;
}

export function planFixesFor(supergraphSdl: string): PlanFixes {
  return {
    required: requiredArgumentsOf(supergraphSdl),
    conflicts: requiresConflictsOf(supergraphSdl),
  };
}

/**
 * Builds the plan of `operation` with `build` (the planner) and our fixes around it: the
 * operation the planner sees may differ from the client's (requires-arguments.ts), entity fetches
 * that need one required field with clashing arguments are split (requires-conflicts.ts); the plan
 * returned always answers the client's.
 */
export function buildFixedPlan(
  build: (operation: Operation) => QueryPlan,
  operation: Operation,
  fixes: PlanFixes,
): QueryPlan {
  const { operation: planned, renames } = aliasClientFields(
    operation,
    fixes.required,
  );
  const split = splitConflictingRequires(build(planned), fixes.conflicts);
  return postProcessPlan(swapClientAliases(split, renames), operation);
}

/**
 * Wraps the gateway's query planner so that each plan it builds goes through `buildFixedPlan`.
 * The planner is private to `ApolloGateway` and replaced on every supergraph load, so the wrap is
 * redone from `onSchemaLoadOrUpdate`, which the gateway calls right after creating the planner.
 */
export function installPlanPostProcessing(gateway: ApolloGateway): void {
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    const planner = (gateway as unknown as { queryPlanner?: QueryPlanner })
      .queryPlanner;
    if (!planner) return;
    const fixes = planFixesFor(coreSupergraphSdl);
    const build = planner.buildQueryPlan.bind(planner);
    planner.buildQueryPlan = (operation, options) =>
      buildFixedPlan((planned) => build(planned, options), operation, fixes);
  });
}

const META_FIELDS = new Set(["__typename", "__schema", "__type"]);

/**
 * federation-gateway-audit non-resolvable-interface-object_1: `{ a { field } }` where `a` returns
 * an interface with no implementation in the supergraph and `field` lives only on an
 * `@interfaceObject` copy whose key is not resolvable. The planner finds no runtime type that could
 * need `field`, drops the selection, then drops `a` with it: the plan is empty and the client gets
 * `{ a: null }` with no error, as if the subgraph had answered null. A root field always costs a
 * fetch (only meta fields are answered by the router), so a root field that no top-level fetch
 * asks for was lost by the planner: the operation is refused instead of answered wrongly.
 */
function assertRootFieldsFetched(plan: QueryPlan, operation: Operation): void {
  // Subscriptions are not served by the gateway.
  if (!isPlanNode(plan.node) && plan.node) return;
  const wanted = rootResponseNames(operation.selectionSet);
  if (wanted.size === 0) return;
  const fetched = new Set<string>();
  for (const fetch of topLevelFetches(
    isPlanNode(plan.node) ? plan.node : undefined,
  )) {
    for (const name of fetchRootResponseNames(fetch)) fetched.add(name);
  }
  for (const [responseName, fieldName] of wanted) {
    if (!fetched.has(responseName)) {
      throw codedError(
        "QUERY_PLAN_FAILED",
        `Cannot plan field "${operation.rootKind}.${fieldName}": no subgraph can resolve what is selected under it`,
        { field: responseName },
      );
    }
  }
}

/** Response name → field name of the operation's root fields, meta fields and `@skip(if: true)` aside. */
function rootResponseNames(
  selectionSet: OperationSelectionSet,
  into = new Map<string, string>(),
): Map<string, string> {
  for (const selection of selectionSet.selections()) {
    if (excludedByConstant(selection.element.appliedDirectives)) continue;
    if (selection.kind === "FieldSelection") {
      const field = selection.element;
      if (!META_FIELDS.has(field.name)) {
        into.set(field.responseName(), field.name);
      }
    } else {
      rootResponseNames(selection.selectionSet, into);
    }
  }
  return into;
}

/** True for `@skip(if: true)` or `@include(if: false)` with a literal: the planner drops those. */
function excludedByConstant(
  directives: readonly {
    name: string;
    arguments(): Record<string, unknown>;
  }[],
): boolean {
  return directives.some((directive) => {
    const condition = directive.arguments().if;
    return (
      (directive.name === "skip" && condition === true) ||
      (directive.name === "include" && condition === false)
    );
  });
}

/** Fetches that start at the root of the response (not under a `Flatten`), in every branch. */
function* topLevelFetches(node: PlanNode | undefined): Generator<FetchNode> {
  if (!node) return;
  switch (node.kind) {
    case "Fetch":
      yield node;
      return;
    case "Sequence":
    case "Parallel":
      for (const child of node.nodes) yield* topLevelFetches(child);
      return;
    case "Condition":
      yield* topLevelFetches(node.ifClause);
      yield* topLevelFetches(node.elseClause);
      return;
    case "Defer":
      yield* topLevelFetches(node.primary.node);
      for (const deferred of node.deferred)
        yield* topLevelFetches(deferred.node);
      return;
    case "Flatten":
      return;
  }
}

/** Response names a fetch's operation selects at its root, as the merged response will see them. */
function fetchRootResponseNames(fetch: FetchNode): Set<string> {
  const document = parse(fetch.operation);
  const fragments = new Map<string, FragmentDefinitionNode>();
  let root: SelectionSetNode | undefined;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    } else if (definition.kind === Kind.OPERATION_DEFINITION) {
      root ??= definition.selectionSet;
    }
  }
  const names = new Set<string>();
  const visit = (set: SelectionSetNode): void => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        names.add((selection.alias ?? selection.name).value);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment) visit(fragment.selectionSet);
      }
    }
  };
  if (root) visit(root);
  // The planner aliases fields that cannot merge and renames them back in the response.
  for (const rewrite of fetch.outputRewrites ?? []) {
    if (rewrite.kind === "KeyRenamer" && rewrite.path.length === 1) {
      names.add(rewrite.renameKeyTo);
    }
  }
  return names;
}
