import type { ApolloServerPlugin } from "@apollo/server";
import {
  getArgumentValues,
  getVariableValues,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type GraphQLType,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import { codedError } from "../platform/errors.ts";
import { MAX_PAGE_SIZE } from "../platform/pagination.ts";
import { debugRecorder } from "./plan-debug/recorder.ts";

export interface OperationLimits {
  /** Deepest field nesting (a root field is depth 1). @default 12 */
  readonly maxDepth: number;
  /** Aliased fields per operation, fragments expanded. @default 30 */
  readonly maxAliases: number;
  /** Root fields per operation. @default 20 */
  readonly maxRootFields: number;
  /** Estimated cost (see measure()). @default 20000 */
  readonly maxCost: number;
  /**
   * The page size assumed for a `first` the router cannot know (an explicit null, or variables that
   * do not coerce): the largest page a subgraph serves, so an unknown size is never cheaper than any
   * size a client could have asked for. @default 1000 (platform/pagination.ts MAX_PAGE_SIZE)
   */
  readonly maxPageSize?: number;
}

interface Measure {
  depth: number;
  aliases: number;
  cost: number;
}

/** What measure() reads besides the selection set; `variables` are the operation's coerced values. */
interface MeasureContext {
  readonly schema: GraphQLSchema;
  readonly fragments: Record<string, FragmentDefinitionNode>;
  /** Coerced variable values (defaults applied), or undefined when they did not coerce. */
  readonly variables: Record<string, unknown> | undefined;
  readonly maxPageSize: number;
}

/**
 * Walks the operation once, fragments expanded. Cost: every field costs 1 per time it may be
 * resolved, and a field with a `first` argument multiplies everything below it by that value, so
 * `products(first: 100) { edges { node { name } } }` costs 1 + 100 × 3 and nested lists multiply.
 * `first` is read as execution will see it: the literal, else the variable's coerced value (the
 * request's value, else the variable definition's default), else the field's default. Where none
 * of those gives a size (null, or variables that do not coerce) the maximum page size is assumed:
 * reading only `variables[name]` let `query($f: Int = 1000) { products(first: $f) … }` pass as size 1.
 * Introspection fields (`__schema`, `__type`) are not counted: Sandbox's own introspection query is
 * deep, and it is off in production anyway.
 */
function measure(
  selectionSet: SelectionSetNode,
  parent: GraphQLNamedType | undefined,
  context: MeasureContext,
  depth: number,
  multiplier: number,
  into: Measure,
): void {
  const { schema, fragments } = context;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const typed = selection.typeCondition
        ? schema.getType(selection.typeCondition.name.value)
        : parent;
      measure(
        selection.selectionSet,
        typed ?? parent,
        context,
        depth,
        multiplier,
        into,
      );
      continue;
    }
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = fragments[selection.name.value];
      if (fragment)
        measure(
          fragment.selectionSet,
          schema.getType(fragment.typeCondition.name.value) ?? parent,
          context,
          depth,
          multiplier,
          into,
        );
      continue;
    }
    if (selection.name.value.startsWith("__")) continue;
    if (selection.alias) into.aliases += 1;
    into.depth = Math.max(into.depth, depth);
    into.cost += multiplier;
    if (!selection.selectionSet) continue;
    const definition = fieldsOf(parent)?.[selection.name.value];
    let size = 1;
    if (definition?.args.some((arg) => arg.name === "first"))
      size = pageSize(definition, selection, context);
    measure(
      selection.selectionSet,
      definition ? namedType(definition.type) : undefined,
      context,
      depth + 1,
      multiplier * size,
      into,
    );
  }
}

/** The operation's variables as execution will coerce them, or undefined when they do not coerce. */
export function coercedVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  inputs: Record<string, unknown>,
): Record<string, unknown> | undefined {
  try {
    const coerced = getVariableValues(
      schema,
      operation.variableDefinitions ?? [],
      inputs,
      { maxErrors: 1 },
    );
    return "coerced" in coerced ? coerced.coerced : undefined;
  } catch {
    return undefined;
  }
}

/** The `first` the field will execute with, or the maximum page size when it cannot be known. */
function pageSize(
  definition: GraphQLField<unknown, unknown>,
  node: Parameters<typeof getArgumentValues>[1],
  { variables, maxPageSize }: MeasureContext,
): number {
  if (!variables) return maxPageSize;
  let first: unknown;
  try {
    first = getArgumentValues(definition, node, variables).first;
  } catch {
    // An argument that does not coerce fails execution anyway; until then it is of unknown size.
    return maxPageSize;
  }
  if (typeof first !== "number" || !Number.isFinite(first)) return maxPageSize;
  return first > 0 ? first : 1;
}

function fragmentsOf(
  document: DocumentNode,
): Record<string, FragmentDefinitionNode> {
  return Object.fromEntries(
    document.definitions
      .filter(
        (definition): definition is FragmentDefinitionNode =>
          definition.kind === Kind.FRAGMENT_DEFINITION,
      )
      .map((fragment) => [fragment.name.value, fragment]),
  );
}

/** Root field selections of an operation, fragments expanded, one entry per use (introspection excluded). */
function rootFieldNodes(
  selectionSet: SelectionSetNode,
  fragments: Record<string, FragmentDefinitionNode>,
): FieldNode[] {
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD)
      return selection.name.value.startsWith("__") ? [] : [selection];
    if (selection.kind === Kind.INLINE_FRAGMENT)
      return rootFieldNodes(selection.selectionSet, fragments);
    const fragment = fragments[selection.name.value];
    return fragment ? rootFieldNodes(fragment.selectionSet, fragments) : [];
  });
}

// Kept structural (no instanceof-based helpers such as isObjectType): they work whichever graphql
// build created the schema. graphql resolves to its CommonJS build both under Node and in tests (the
// vitest alias), so the coercion helpers above can run on the gateway's schema; should that ever
// change, they throw and the size counts as unknown (the maximum), never as small.
function fieldsOf(
  type: GraphQLNamedType | undefined,
): Record<string, GraphQLField<unknown, unknown>> | undefined {
  return type && "getFields" in type && !("getValues" in type)
    ? (type.getFields() as Record<string, GraphQLField<unknown, unknown>>)
    : undefined;
}

function namedType(type: GraphQLType): GraphQLNamedType {
  let current: GraphQLType = type;
  while ("ofType" in current && current.ofType) current = current.ofType;
  return current as GraphQLNamedType;
}

/** What the router's plugins need to know about an operation, computed once per parsed document. */
export interface OperationShape {
  readonly fragments: Record<string, FragmentDefinitionNode>;
  /** Root field names, fragments expanded, one entry per use. */
  readonly rootFields: readonly string[];
  /** The same uses as selections (their arguments, for the rate limits that key on one). */
  readonly rootFieldNodes: readonly FieldNode[];
  /** The whole measurement, when it cannot depend on variables; kept with the schema it was taken on. */
  measured?: { schema: GraphQLSchema; measure: Measure };
}

/**
 * Apollo Server caches the parsed DocumentNode of each query string, so the same object comes back
 * for every request with that text: keying on it makes the shape of a repeated operation free (the
 * rate-limit and operation-limit plugins both read it). Weak, so a document dropped from Apollo's
 * cache takes its shape with it.
 */
const shapes = new WeakMap<DocumentNode, Map<string, OperationShape>>();

export function operationShape(
  document: DocumentNode,
  operation: OperationDefinitionNode,
): OperationShape {
  let perDocument = shapes.get(document);
  if (!perDocument) {
    perDocument = new Map();
    shapes.set(document, perDocument);
  }
  const key = operation.name?.value ?? "";
  let shape = perDocument.get(key);
  if (!shape) {
    const fragments = fragmentsOf(document);
    const nodes = rootFieldNodes(operation.selectionSet, fragments);
    shape = {
      fragments,
      rootFields: nodes.map((node) => node.name.value),
      rootFieldNodes: nodes,
    };
    perDocument.set(key, shape);
  }
  return shape;
}

function tooComplex(limit: string, max: number, actual: number) {
  return codedError(
    "QUERY_TOO_COMPLEX",
    `operation ${limit} ${actual} exceeds the limit of ${max}`,
    { limit, max, actual, http: { status: 400 } },
  );
}

/**
 * Rejects operations that are too deep, too aliased, too wide or too expensive before the gateway
 * plans them, so no subgraph is called. Runs after validation (fragments are known to be acyclic).
 */
export function createOperationLimitsPlugin(
  limits: OperationLimits,
): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({
          operation,
          document,
          schema,
          request,
          contextValue,
        }) {
          if (!operation) return;
          const shape = operationShape(document, operation);
          const rootCount = shape.rootFields.length;
          let found =
            shape.measured?.schema === schema
              ? shape.measured.measure
              : undefined;
          if (!found) {
            const root =
              operation.operation === "query"
                ? schema.getQueryType()
                : operation.operation === "mutation"
                  ? schema.getMutationType()
                  : schema.getSubscriptionType();
            found = { depth: 0, aliases: 0, cost: 0 };
            // Coerced as execution will coerce them (defaults applied); errors mean execution will refuse them.
            const variables = coercedVariables(
              schema,
              operation,
              request.variables ?? {},
            );
            measure(
              operation.selectionSet,
              root ?? undefined,
              {
                schema,
                fragments: shape.fragments,
                variables,
                maxPageSize: limits.maxPageSize ?? MAX_PAGE_SIZE,
              },
              1,
              1,
              found,
            );
            // Only variables (their values or defaults) make the cost depend on the request.
            if ((operation.variableDefinitions?.length ?? 0) === 0)
              shape.measured = { schema, measure: found };
          }
          // Before the checks, so the view explains a refusal too.
          debugRecorder(contextValue)?.record("limits", {
            measured: { ...found, rootFields: rootCount },
            limits,
          });
          if (found.depth > limits.maxDepth)
            throw tooComplex("depth", limits.maxDepth, found.depth);
          if (found.aliases > limits.maxAliases)
            throw tooComplex("aliases", limits.maxAliases, found.aliases);
          if (rootCount > limits.maxRootFields)
            throw tooComplex("root fields", limits.maxRootFields, rootCount);
          if (found.cost > limits.maxCost)
            throw tooComplex("cost", limits.maxCost, found.cost);
        },
      };
    },
  };
}
