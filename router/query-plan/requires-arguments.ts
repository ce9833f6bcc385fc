import {
  operationFromDocument,
  operationToDocument,
  type Operation,
} from "@apollo/federation-internals";
import {
  isPlanNode,
  type FetchDataRewrite,
  type FetchNode,
  type PlanNode,
  type QueryPlan,
  type QueryPlanSelectionNode,
} from "@apollo/query-planner";
import {
  getNamedType,
  Kind,
  parse,
  print,
  stripIgnoredCharacters,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from "graphql";

/**
 * federation-gateway-audit requires-with-argument_2, _3, _4: `Post.author @requires(fields:
 * "comments(limit: 3) { authorId }")` while the client asks `comments(limit: 1) { id }` on the same
 * post. The planner keys selections by response name, so both become one `comments` field, with the
 * @requires' arguments: the client gets three comments instead of one.
 *
 * The fix, around the planner: the client's conflicting field is planned under an alias (so the
 * planner keeps both), then the plan is rewritten so that the client's field holds the response
 * name the client asked for and the @requires' copy moves to an alias of its own
 * (`<name>__requires`), which the fetch needing it reads back under its real name (an input
 * rewrite). Fields whose arguments equal the @requires' ones are left alone: they merge correctly.
 */

/** Type name → field name → the printed arguments of every `@requires` that selects that field. */
export type RequiredArguments = Map<string, Map<string, Set<string>>>;

const ALIAS_PREFIX = "__sy_client_";
const REQUIRES_SUFFIX = "__requires";

const printArguments = (args: readonly ArgumentNode[] | undefined): string =>
  (args ?? [])
    .map((arg) => `${arg.name.value}:${print(arg.value)}`)
    .sort()
    .join(",");

/** Reads the top-level fields with arguments of every `@join__field(requires:)` in a supergraph. */
export function requiredArgumentsOf(supergraphSdl: string): RequiredArguments {
  const found: RequiredArguments = new Map();
  for (const definition of parse(supergraphSdl).definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION
    ) {
      continue;
    }
    for (const field of definition.fields ?? []) {
      for (const directive of field.directives ?? []) {
        if (directive.name.value !== "join__field") continue;
        const requires = directive.arguments?.find(
          (arg) => arg.name.value === "requires",
        );
        if (requires?.value.kind !== Kind.STRING) continue;
        const fieldSet = parse(`{${requires.value.value}}`);
        const root = fieldSet.definitions[0];
        if (root?.kind !== Kind.OPERATION_DEFINITION) continue;
        for (const selection of root.selectionSet.selections) {
          if (selection.kind !== Kind.FIELD || !selection.arguments?.length) {
            continue;
          }
          const byField =
            found.get(definition.name.value) ?? new Map<string, Set<string>>();
          found.set(definition.name.value, byField);
          const variants = byField.get(selection.name.value) ?? new Set();
          byField.set(selection.name.value, variants);
          variants.add(printArguments(selection.arguments));
        }
      }
    }
  }
  return found;
}

/** A client field planned under an alias: at `parentPath` (response names), `alias` stands for `name`. */
export interface ClientRename {
  parentPath: string[];
  name: string;
  alias: string;
}

const graphqlSchemas = new WeakMap<object, GraphQLSchema>();

/**
 * Aliases the client's fields that share a response name with a `@requires`d field of different
 * arguments. Returns the operation unchanged (and no renames) when there is none.
 */
export function aliasClientFields(
  operation: Operation,
  required: RequiredArguments,
): { operation: Operation; renames: ClientRename[] } {
  if (required.size === 0) return { operation, renames: [] };
  const schema = operation.schema();
  let graphqlSchema = graphqlSchemas.get(schema);
  if (!graphqlSchema) {
    graphqlSchema = schema.toGraphQLJSSchema();
    graphqlSchemas.set(schema, graphqlSchema);
  }
  const expanded = operation.expandAllFragments();
  const document = operationToDocument(expanded);
  const typeInfo = new TypeInfo(graphqlSchema);
  const renames: ClientRename[] = [];
  const path: string[] = [];
  const rewritten = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: {
        enter(node: FieldNode) {
          const responseName = (node.alias ?? node.name).value;
          const parent = typeInfo.getParentType();
          const variants = parent
            ? required.get(getNamedType(parent).name)?.get(node.name.value)
            : undefined;
          let replacement: FieldNode | undefined;
          if (
            variants &&
            !node.alias &&
            [...variants].some((v) => v !== printArguments(node.arguments))
          ) {
            const alias = `${node.name.value}${ALIAS_PREFIX}${renames.length}`;
            renames.push({
              parentPath: [...path],
              name: node.name.value,
              alias,
            });
            replacement = { ...node, alias: { kind: Kind.NAME, value: alias } };
          }
          path.push(responseName);
          return replacement;
        },
        leave() {
          path.pop();
        },
      },
    }),
  ) as DocumentNode;
  if (renames.length === 0) return { operation, renames };
  return {
    operation: operationFromDocument(schema, rewritten, {
      operationName: operation.name,
    }),
    renames,
  };
}

const same = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** The new response name for `name` under `parentPath`, or undefined to keep it. */
function renamed(
  renames: readonly ClientRename[],
  parentPath: readonly string[],
  responseName: string,
): string | undefined {
  for (const rename of renames) {
    if (!same(rename.parentPath, parentPath)) continue;
    if (responseName === rename.alias) return rename.name;
    if (responseName === rename.name) return `${rename.name}${REQUIRES_SUFFIX}`;
  }
  return undefined;
}

/** Rewrites a plan built from `aliasClientFields`' operation back to the client's response names. */
export function swapClientAliases(
  plan: QueryPlan,
  renames: readonly ClientRename[],
): QueryPlan {
  if (renames.length === 0 || !isPlanNode(plan.node)) return plan;
  return { ...plan, node: swapNode(plan.node, [], renames) };
}

function swapNode(
  node: PlanNode,
  mergeAt: (string | number)[],
  renames: readonly ClientRename[],
): PlanNode {
  switch (node.kind) {
    case "Fetch":
      return swapFetch(node, mergeAt, renames);
    case "Flatten":
      return {
        ...node,
        path: swapPath(node.path, renames),
        node: swapNode(node.node, node.path, renames),
      };
    case "Sequence":
    case "Parallel":
      return {
        ...node,
        nodes: node.nodes.map((child) => swapNode(child, mergeAt, renames)),
      };
    case "Condition":
      return {
        ...node,
        ifClause: node.ifClause && swapNode(node.ifClause, mergeAt, renames),
        elseClause:
          node.elseClause && swapNode(node.elseClause, mergeAt, renames),
      };
    case "Defer":
      return {
        ...node,
        primary: {
          ...node.primary,
          node:
            node.primary.node && swapNode(node.primary.node, mergeAt, renames),
        },
        deferred: node.deferred.map((deferred) => ({
          ...deferred,
          node: deferred.node && swapNode(deferred.node, mergeAt, renames),
        })),
      };
  }
}

/** Response names of a path, without list markers and type conditions. */
const fieldNames = (path: readonly (string | number)[]): string[] =>
  path.filter(
    (s): s is string =>
      typeof s === "string" && s !== "@" && !s.startsWith("... on "),
  );

function swapPath(
  path: (string | number)[],
  renames: readonly ClientRename[],
): (string | number)[] {
  const names: string[] = [];
  return path.map((segment) => {
    if (
      typeof segment !== "string" ||
      segment === "@" ||
      segment.startsWith("... on ")
    ) {
      return segment;
    }
    const next = renamed(renames, names, segment);
    names.push(segment);
    return next ?? segment;
  });
}

function swapFetch(
  fetch: FetchNode,
  mergeAt: (string | number)[],
  renames: readonly ClientRename[],
): FetchNode {
  const base = fieldNames(mergeAt);
  const document = parse(fetch.operation);
  const entities = fetch.requires !== undefined;
  let changed = false;
  const swapSet = (
    set: SelectionSetNode,
    path: string[],
  ): SelectionSetNode => ({
    ...set,
    selections: set.selections.map((selection) => {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        return {
          ...selection,
          selectionSet: swapSet(selection.selectionSet, path),
        };
      }
      if (selection.kind !== Kind.FIELD) return selection;
      const responseName = (selection.alias ?? selection.name).value;
      // `_entities` is the transport of an entity fetch, not a response name.
      if (
        entities &&
        path.length === base.length &&
        responseName === "_entities"
      ) {
        return selection.selectionSet
          ? {
              ...selection,
              selectionSet: swapSet(selection.selectionSet, path),
            }
          : selection;
      }
      const next = renamed(renames, path, responseName);
      const inner = [...path, responseName];
      const field: FieldNode = selection.selectionSet
        ? { ...selection, selectionSet: swapSet(selection.selectionSet, inner) }
        : selection;
      if (next === undefined) return field;
      changed = true;
      return {
        ...field,
        alias:
          next === selection.name.value
            ? undefined
            : { kind: Kind.NAME, value: next },
      };
    }),
  });
  const operation = {
    ...document,
    definitions: document.definitions.map((definition) =>
      definition.kind === Kind.OPERATION_DEFINITION
        ? {
            ...definition,
            selectionSet: swapSet(definition.selectionSet, base),
          }
        : definition,
    ),
  };
  const inputRewrites: FetchDataRewrite[] = [...(fetch.inputRewrites ?? [])];
  const swapRequires = (
    nodes: QueryPlanSelectionNode[],
    path: string[],
    relative: string[],
  ): QueryPlanSelectionNode[] =>
    nodes.map((node) => {
      if (node.kind === "InlineFragment") {
        return {
          ...node,
          selections: swapRequires(node.selections, path, [
            ...relative,
            `... on ${node.typeCondition}`,
          ]),
        };
      }
      const responseName = node.alias ?? node.name;
      const next = renamed(renames, path, responseName);
      const selections =
        node.selections &&
        swapRequires(
          node.selections,
          [...path, responseName],
          [...relative, responseName],
        );
      if (next === undefined || next === node.name) {
        return { ...node, selections };
      }
      // The merged data holds the field under `next`; the subgraph expects its real name.
      inputRewrites.push({
        kind: "KeyRenamer",
        path: [...relative, next],
        renameKeyTo: node.name,
      });
      return { ...node, name: next, selections };
    });
  const requires = fetch.requires && swapRequires(fetch.requires, base, []);
  if (!changed && inputRewrites.length === (fetch.inputRewrites ?? []).length) {
    return fetch;
  }
  return {
    ...fetch,
    operation: stripIgnoredCharacters(print(operation)),
    requires,
    inputRewrites: inputRewrites.length ? inputRewrites : undefined,
  };
}
