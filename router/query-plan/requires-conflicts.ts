import {
  isPlanNode,
  type FetchDataRewrite,
  type FetchNode,
  type FlattenNode,
  type PlanNode,
  type QueryPlan,
  type QueryPlanSelectionNode,
} from "@apollo/query-planner";
import {
  Kind,
  parse,
  print,
  stripIgnoredCharacters,
  visit,
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from "graphql";

/**
 * federation-gateway-audit requires-with-argument-conflict_0: in subgraph `a`,
 * `Product.shippingEstimate @requires(fields: "price(currency: \"USD\") weight")` and
 * `Product.shippingEstimateEUR @requires(fields: "price(currency: \"EUR\") weight")`. The planner
 * keys required fields by response name: it fetches one `price` (the last variant it met) and sends
 * one representation for both fields, so one of them is computed from the wrong currency.
 *
 * The fix, on the planner's plan: the fetch that provides the required field upstream also fetches
 * every variant under an alias of its own (`price__sy_requires_<n>`), and the entity fetch is split
 * into one fetch per variant (run in parallel at the same path), each sending its variant under the
 * field's real name (an input `KeyRenamer`). Fields of the entity fetch that need no variant stay in
 * the first fetch. Only top-level fields of a `@requires` are handled, as in requires-arguments.ts;
 * a plan the fix cannot rewrite whole (no upstream fetch found, fragments in the way) is left as is.
 */

/** One `@requires`' arguments for a required field: printed (the key) and as written. */
interface Variant {
  key: string;
  arguments: readonly ArgumentNode[];
}

/**
 * Subgraph name → type name → requiring field → required field → the variant it requires, only
 * for required fields that two fields of one subgraph and type require with different arguments.
 */
export type RequiresConflicts = Map<
  string,
  Map<string, Map<string, Map<string, Variant>>>
>;

const ALIAS_INFIX = "__sy_requires_";

const printArguments = (args: readonly ArgumentNode[]): string =>
  args
    .map((arg) => `${arg.name.value}:${print(arg.value)}`)
    .sort()
    .join(",");

const argumentValue = (
  args: readonly ArgumentNode[] | undefined,
  name: string,
): string | undefined => {
  const value = args?.find((arg) => arg.name.value === name)?.value;
  return value?.kind === Kind.STRING || value?.kind === Kind.ENUM
    ? value.value
    : undefined;
};

/** Reads, from a supergraph, the required fields that one subgraph requires with clashing arguments. */
export function requiresConflictsOf(supergraphSdl: string): RequiresConflicts {
  const document = parse(supergraphSdl);
  const graphNames = new Map<string, string>();
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.ENUM_TYPE_DEFINITION ||
      definition.name.value !== "join__Graph"
    ) {
      continue;
    }
    for (const value of definition.values ?? []) {
      const graph = value.directives?.find(
        (directive) => directive.name.value === "join__graph",
      );
      const name = argumentValue(graph?.arguments, "name");
      if (name) graphNames.set(value.name.value, name);
    }
  }
  const found: RequiresConflicts = new Map();
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION
    ) {
      continue;
    }
    // Subgraph → requiring field → required field → variant.
    const bySubgraph = new Map<string, Map<string, Map<string, Variant>>>();
    for (const field of definition.fields ?? []) {
      for (const directive of field.directives ?? []) {
        if (directive.name.value !== "join__field") continue;
        const requires = argumentValue(directive.arguments, "requires");
        const graph = argumentValue(directive.arguments, "graph");
        const subgraph = graph && graphNames.get(graph);
        if (!requires || !subgraph) continue;
        const root = parse(`{${requires}}`).definitions[0];
        if (root?.kind !== Kind.OPERATION_DEFINITION) continue;
        const byField = bySubgraph.get(subgraph) ?? new Map();
        bySubgraph.set(subgraph, byField);
        const required = new Map<string, Variant>();
        byField.set(field.name.value, required);
        for (const selection of root.selectionSet.selections) {
          if (selection.kind !== Kind.FIELD || !selection.arguments?.length) {
            continue;
          }
          required.set(selection.name.value, {
            key: printArguments(selection.arguments),
            arguments: selection.arguments,
          });
        }
      }
    }
    for (const [subgraph, byField] of bySubgraph) {
      const keys = new Map<string, Set<string>>();
      for (const required of byField.values()) {
        for (const [name, variant] of required) {
          keys.set(name, (keys.get(name) ?? new Set()).add(variant.key));
        }
      }
      const clashing = new Map<string, Map<string, Variant>>();
      for (const [requiring, required] of byField) {
        const kept = new Map(
          [...required].filter(([name]) => keys.get(name)!.size > 1),
        );
        if (kept.size) clashing.set(requiring, kept);
      }
      if (clashing.size === 0) continue;
      const byType = found.get(subgraph) ?? new Map();
      found.set(subgraph, byType);
      byType.set(definition.name.value, clashing);
    }
  }
  return found;
}

/** A variant the split fetches read: `alias` must be fetched as `name(arguments)` at `parentPath`. */
interface Need {
  parentPath: string[];
  typeName: string;
  name: string;
  alias: string;
  variant: Variant;
  /** The selections the @requires reads under the field, if any. */
  selections: QueryPlanSelectionNode[] | undefined;
}

interface Split {
  fetches: FetchNode[];
  needs: Need[];
}

/** Response names of a path, without list markers and type conditions. */
const fieldNames = (path: readonly (string | number)[]): string[] =>
  path.filter(
    (s): s is string =>
      typeof s === "string" && s !== "@" && !s.startsWith("... on "),
  );

/** Rewrites a plan so that each entity fetch sends every required variant as asked. */
export function splitConflictingRequires(
  plan: QueryPlan,
  conflicts: RequiresConflicts,
): QueryPlan {
  if (conflicts.size === 0 || !isPlanNode(plan.node)) return plan;
  const splits = new Map<FetchNode, Split>();
  forEachFetch(plan.node, [], (fetch, mergeAt) => {
    const split = splitFetch(fetch, mergeAt, conflicts);
    if (split) splits.set(fetch, split);
  });
  if (splits.size === 0) return plan;
  const needs = [...splits.values()].flatMap((split) => split.needs);
  const provided = new Set<Need>();
  const node = mapNode(plan.node, [], (fetch, mergeAt) =>
    splits.has(fetch)
      ? fetch
      : provideVariants(fetch, mergeAt, needs, provided),
  );
  // A variant no fetch provides: the split fetches would send nothing; keep the planner's plan.
  if (needs.some((need) => !provided.has(need))) return plan;
  return { ...plan, node: replaceSplitFetches(node, splits) };
}

function forEachFetch(
  node: PlanNode | undefined,
  mergeAt: (string | number)[],
  each: (fetch: FetchNode, mergeAt: (string | number)[]) => void,
): void {
  mapNode(node, mergeAt, (fetch, at) => {
    each(fetch, at);
    return fetch;
  });
}

function mapNode<T extends PlanNode | undefined>(
  node: T,
  mergeAt: (string | number)[],
  map: (fetch: FetchNode, mergeAt: (string | number)[]) => FetchNode,
): T;
function mapNode(
  node: PlanNode | undefined,
  mergeAt: (string | number)[],
  map: (fetch: FetchNode, mergeAt: (string | number)[]) => FetchNode,
): PlanNode | undefined {
  if (!node) return node;
  switch (node.kind) {
    case "Fetch":
      return map(node, mergeAt);
    case "Flatten":
      return { ...node, node: mapNode(node.node, node.path, map) };
    case "Sequence":
    case "Parallel":
      return {
        ...node,
        nodes: node.nodes.map((child) => mapNode(child, mergeAt, map)),
      };
    case "Condition":
      return {
        ...node,
        ifClause: mapNode(node.ifClause, mergeAt, map),
        elseClause: mapNode(node.elseClause, mergeAt, map),
      };
    case "Defer":
      return {
        ...node,
        primary: {
          ...node.primary,
          node: mapNode(node.primary.node, mergeAt, map),
        },
        deferred: node.deferred.map((deferred) => ({
          ...deferred,
          node: mapNode(deferred.node, mergeAt, map),
        })),
      };
  }
}

/** `Flatten { split fetch }` becomes `Parallel { Flatten { part } … }` at the same path. */
function replaceSplitFetches(
  node: PlanNode,
  splits: Map<FetchNode, Split>,
): PlanNode {
  switch (node.kind) {
    case "Fetch":
      return node;
    case "Flatten": {
      const split = node.node.kind === "Fetch" && splits.get(node.node);
      if (split) {
        return {
          kind: "Parallel",
          nodes: split.fetches.map((fetch): FlattenNode => ({
            ...node,
            node: fetch,
          })),
        };
      }
      return { ...node, node: replaceSplitFetches(node.node, splits) };
    }
    case "Sequence":
    case "Parallel":
      return {
        ...node,
        nodes: node.nodes.map((child) => replaceSplitFetches(child, splits)),
      };
    case "Condition":
      return {
        ...node,
        ifClause: node.ifClause && replaceSplitFetches(node.ifClause, splits),
        elseClause:
          node.elseClause && replaceSplitFetches(node.elseClause, splits),
      };
    case "Defer":
      return {
        ...node,
        primary: {
          ...node.primary,
          node:
            node.primary.node && replaceSplitFetches(node.primary.node, splits),
        },
        deferred: node.deferred.map((deferred) => ({
          ...deferred,
          node: deferred.node && replaceSplitFetches(deferred.node, splits),
        })),
      };
  }
}

const operationOf = (
  document: DocumentNode,
): OperationDefinitionNode | undefined =>
  document.definitions.find(
    (definition): definition is OperationDefinitionNode =>
      definition.kind === Kind.OPERATION_DEFINITION,
  );

const aliasOf = (typeName: string, name: string, variant: Variant): string =>
  `${name}${ALIAS_INFIX}${typeName}_${variant.key.replace(/\W+/g, "_")}`;

/** The entity fetch split per variant, or undefined when it needs no split (or cannot be split). */
function splitFetch(
  fetch: FetchNode,
  mergeAt: (string | number)[],
  conflicts: RequiresConflicts,
): Split | undefined {
  const byType = conflicts.get(fetch.serviceName);
  if (!byType || !fetch.requires) return undefined;
  const document = parse(fetch.operation);
  const operation = operationOf(document);
  const entities = operation?.selectionSet.selections.find(
    (selection): selection is FieldNode =>
      selection.kind === Kind.FIELD && selection.name.value === "_entities",
  );
  if (!operation || !entities?.selectionSet) return undefined;
  const fragment = entities.selectionSet.selections.find(
    (selection): selection is InlineFragmentNode =>
      selection.kind === Kind.INLINE_FRAGMENT &&
      byType.has(selection.typeCondition?.name.value ?? ""),
  );
  if (!fragment?.typeCondition) return undefined;
  const typeName = fragment.typeCondition.name.value;
  const clashing = byType.get(typeName)!;
  const fields = fragment.selectionSet.selections;
  if (fields.some((selection) => selection.kind !== Kind.FIELD)) {
    return undefined;
  }
  // Required field → the variants the fields of this fetch require.
  const asked = new Map<string, Set<string>>();
  for (const field of fields as FieldNode[]) {
    for (const [name, variant] of clashing.get(field.name.value) ?? []) {
      asked.set(name, (asked.get(name) ?? new Set()).add(variant.key));
    }
  }
  const clash = new Set(
    [...asked].filter(([, keys]) => keys.size > 1).map(([name]) => name),
  );
  if (clash.size === 0) return undefined;

  // Fields grouped so that no group needs two variants of one field.
  const groups: { variants: Map<string, Variant>; fields: FieldNode[] }[] = [];
  for (const field of fields as FieldNode[]) {
    const wanted = [...(clashing.get(field.name.value) ?? [])].filter(
      ([name]) => clash.has(name),
    );
    let group = groups.find((candidate) =>
      wanted.every(
        ([name, variant]) =>
          candidate.variants.get(name)?.key === undefined ||
          candidate.variants.get(name)?.key === variant.key,
      ),
    );
    if (!group) {
      group = { variants: new Map(), fields: [] };
      groups.push(group);
    }
    for (const [name, variant] of wanted) group.variants.set(name, variant);
    group.fields.push(field);
  }

  const parentPath = fieldNames(mergeAt);
  const needs: Need[] = [];
  const parts = groups.map((group, index) => {
    const inputRewrites: FetchDataRewrite[] = [...(fetch.inputRewrites ?? [])];
    const requires = fetch.requires!.map((node) => {
      if (node.kind !== "InlineFragment" || node.typeCondition !== typeName) {
        return node;
      }
      return {
        ...node,
        selections: node.selections.map((selection) => {
          const variant =
            selection.kind === "Field"
              ? group.variants.get(selection.name)
              : undefined;
          if (selection.kind !== "Field" || !variant) return selection;
          const alias = aliasOf(typeName, selection.name, variant);
          needs.push({
            parentPath,
            typeName,
            name: selection.name,
            alias,
            variant,
            selections: selection.selections,
          });
          inputRewrites.push({
            kind: "KeyRenamer",
            path: [`... on ${typeName}`, alias],
            renameKeyTo: selection.name,
          });
          return { ...selection, name: alias };
        }),
      };
    });
    // Selections of other types stay in the first part.
    const selections = entities.selectionSet!.selections.flatMap(
      (selection): SelectionNode[] =>
        selection === fragment
          ? [
              {
                ...fragment,
                selectionSet: {
                  ...fragment.selectionSet,
                  selections: group.fields,
                },
              },
            ]
          : index === 0
            ? [selection]
            : [],
    );
    const partDocument = withoutUnused({
      ...document,
      definitions: document.definitions.map((definition) =>
        definition === operation
          ? {
              ...operation,
              selectionSet: {
                ...operation.selectionSet,
                selections: operation.selectionSet.selections.map(
                  (selection) =>
                    selection === entities
                      ? {
                          ...entities,
                          selectionSet: {
                            ...entities.selectionSet!,
                            selections,
                          },
                        }
                      : selection,
                ),
              },
            }
          : definition,
      ),
    });
    const used = usedVariables(partDocument);
    const part: FetchNode = {
      ...fetch,
      id: index === 0 ? fetch.id : undefined,
      operation: stripIgnoredCharacters(print(partDocument)),
      operationDocumentNode: fetch.operationDocumentNode && partDocument,
      variableUsages: fetch.variableUsages?.filter((name) => used.has(name)),
      requires,
      inputRewrites,
    };
    return part;
  });
  return { fetches: parts, needs };
}

function usedVariables(document: DocumentNode): Set<string> {
  const used = new Set<string>();
  visit(document, {
    VariableDefinition: () => false,
    Variable(node) {
      used.add(node.name.value);
    },
  });
  return used;
}

/** Drops the variable definitions and fragments a part of a split fetch no longer uses. */
function withoutUnused(document: DocumentNode): DocumentNode {
  const used = usedVariables(document);
  const spread = new Set<string>();
  visit(document, {
    FragmentSpread(node) {
      spread.add(node.name.value);
    },
  });
  return {
    ...document,
    definitions: document.definitions
      .filter(
        (definition) =>
          definition.kind !== Kind.FRAGMENT_DEFINITION ||
          spread.has(definition.name.value),
      )
      .map((definition) =>
        definition.kind === Kind.OPERATION_DEFINITION
          ? {
              ...definition,
              variableDefinitions: definition.variableDefinitions?.filter(
                (variable) => used.has(variable.variable.name.value),
              ),
            }
          : definition,
      ),
  };
}

const same = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** True when `set` selects (by name) everything `wanted` reads. */
function covers(
  set: SelectionSetNode | undefined,
  wanted: readonly QueryPlanSelectionNode[] | undefined,
): boolean {
  if (!wanted?.length) return true;
  if (!set) return false;
  return wanted.every((node) => {
    if (node.kind === "InlineFragment") {
      return set.selections.some(
        (selection) =>
          selection.kind === Kind.INLINE_FRAGMENT &&
          selection.typeCondition?.name.value === node.typeCondition &&
          covers(selection.selectionSet, node.selections),
      );
    }
    return set.selections.some(
      (selection) =>
        selection.kind === Kind.FIELD &&
        (selection.alias ?? selection.name).value ===
          (node.alias ?? node.name) &&
        covers(selection.selectionSet, node.selections),
    );
  });
}

/**
 * Adds to `fetch`, next to each selection of a required field that a split fetch needs, that
 * field again under the alias of each variant. Records in `provided` the needs it met.
 */
function provideVariants(
  fetch: FetchNode,
  mergeAt: (string | number)[],
  needs: readonly Need[],
  provided: Set<Need>,
): FetchNode {
  const base = fieldNames(mergeAt);
  const entities = fetch.requires !== undefined;
  let changed = false;
  const provide = (
    set: SelectionSetNode,
    path: string[],
    typeName: string | undefined,
  ): SelectionSetNode => {
    const added: FieldNode[] = [];
    const selections = set.selections.map((selection): SelectionNode => {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        return {
          ...selection,
          selectionSet: provide(
            selection.selectionSet,
            path,
            selection.typeCondition?.name.value ?? typeName,
          ),
        };
      }
      if (selection.kind !== Kind.FIELD) return selection;
      const responseName = (selection.alias ?? selection.name).value;
      if (
        entities &&
        path.length === base.length &&
        responseName === "_entities"
      ) {
        return selection.selectionSet
          ? {
              ...selection,
              selectionSet: provide(selection.selectionSet, path, undefined),
            }
          : selection;
      }
      for (const need of needs) {
        if (
          responseName !== need.name ||
          !same(path, need.parentPath) ||
          (typeName !== undefined && typeName !== need.typeName) ||
          !covers(selection.selectionSet, need.selections)
        ) {
          continue;
        }
        provided.add(need);
        const present =
          added.some((field) => field.alias?.value === need.alias) ||
          set.selections.some(
            (other) =>
              other.kind === Kind.FIELD && other.alias?.value === need.alias,
          );
        if (present) continue;
        added.push({
          ...selection,
          alias: { kind: Kind.NAME, value: need.alias },
          arguments: need.variant.arguments,
        });
      }
      return selection.selectionSet
        ? {
            ...selection,
            selectionSet: provide(
              selection.selectionSet,
              [...path, responseName],
              undefined,
            ),
          }
        : selection;
    });
    if (added.length) changed = true;
    return { ...set, selections: [...selections, ...added] };
  };
  const document = parse(fetch.operation);
  const rewritten: DocumentNode = {
    ...document,
    definitions: document.definitions.map((definition) =>
      definition.kind === Kind.OPERATION_DEFINITION
        ? {
            ...definition,
            selectionSet: provide(definition.selectionSet, base, undefined),
          }
        : definition,
    ),
  };
  if (!changed) return fetch;
  return {
    ...fetch,
    operation: stripIgnoredCharacters(print(rewritten)),
    operationDocumentNode: fetch.operationDocumentNode && rewritten,
  };
}
