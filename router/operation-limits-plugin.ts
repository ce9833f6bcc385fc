import type { ApolloServerPlugin } from "@apollo/server";
import {
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
import { debugRecorder } from "./plan-debug/recorder.ts";

export interface OperationLimits {
  /** Deepest field nesting (a root field is depth 1). @default 12 */
  readonly maxDepth: number;
  /** Aliased fields per operation, fragments expanded. @default 30 */
  readonly maxAliases: number;
  /** Root fields per operation. @default 20 */
  readonly maxRootFields: number;
}

interface Measure {
  depth: number;
  aliases: number;
}

/** What measure() reads besides the selection set. */
interface MeasureContext {
  readonly schema: GraphQLSchema;
  readonly fragments: Record<string, FragmentDefinitionNode>;
}

/**
 * Walks the operation once, fragments expanded, for its depth and aliases; the cost is demand
 * control's (router/demand-control/, IBM cost spec). Introspection fields (`__schema`, `__type`)
 * are not counted: Sandbox's own introspection query is deep, and it is off in production anyway.
 */
function measure(
  selectionSet: SelectionSetNode,
  parent: GraphQLNamedType | undefined,
  context: MeasureContext,
  depth: number,
  into: Measure,
): void {
  const { schema, fragments } = context;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const typed = selection.typeCondition
        ? schema.getType(selection.typeCondition.name.value)
        : parent;
      measure(selection.selectionSet, typed ?? parent, context, depth, into);
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
          into,
        );
      continue;
    }
    if (selection.name.value.startsWith("__")) continue;
    if (selection.alias) into.aliases += 1;
    into.depth = Math.max(into.depth, depth);
    if (!selection.selectionSet) continue;
    const definition = fieldsOf(parent)?.[selection.name.value];
    measure(
      selection.selectionSet,
      definition ? namedType(definition.type) : undefined,
      context,
      depth + 1,
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
export function fieldsOf(
  type: GraphQLNamedType | undefined,
): Record<string, GraphQLField<unknown, unknown>> | undefined {
  return type && "getFields" in type && !("getValues" in type)
    ? (type.getFields() as Record<string, GraphQLField<unknown, unknown>>)
    : undefined;
}

export function namedType(type: GraphQLType): GraphQLNamedType {
  let current: GraphQLType = type;
  while ("ofType" in current && current.ofType) current = current.ofType;
  return current as GraphQLNamedType;
}

/** The root type an operation starts from. */
export function rootTypeOf(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
): GraphQLNamedType | undefined {
  const root =
    operation.operation === "query"
      ? schema.getQueryType()
      : operation.operation === "mutation"
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  return root ?? undefined;
}

/** What the router's plugins need to know about an operation, computed once per parsed document. */
export interface OperationShape {
  readonly fragments: Record<string, FragmentDefinitionNode>;
  /** Root field names, fragments expanded, one entry per use. */
  readonly rootFields: readonly string[];
  /** The same uses as selections (their arguments, for the rate limits that key on one). */
  readonly rootFieldNodes: readonly FieldNode[];
  /** Depth and aliases, kept with the schema they were measured on. */
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
 * Rejects operations that are too deep, too aliased or too wide before the gateway plans them, so
 * no subgraph is called (the too expensive: router/demand-control/). Runs after validation (fragments are known to be acyclic).
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
            const root = rootTypeOf(schema, operation);
            found = { depth: 0, aliases: 0 };
            measure(
              operation.selectionSet,
              root,
              { schema, fragments: shape.fragments },
              1,
              found,
            );
            // Depth and aliases do not depend on variables: one measurement per document and schema.
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
        },
      };
    },
  };
}
