import type {
  GraphQLDataSource,
  GraphQLDataSourceProcessOptions,
} from "@apollo/gateway";
import { GraphQLDataSourceRequestKind } from "@apollo/gateway/dist/datasources/types.js";
import {
  ERRORS,
  errorCodeDef,
  type VariableDefinitions,
} from "@apollo/federation-internals";
import {
  evaluateCondition,
  type FetchNode,
  type PlanNode,
  type QueryPlanSelectionNode,
} from "@apollo/query-planner";
import type { GatewayGraphQLRequestContext } from "@apollo/server-gateway-interface";
import {
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from "graphql";
import { inSpan } from "../../platform/tracing.ts";
import { applyRewrites, defineOwn, isObjectOfType } from "./rewrites.ts";
import { own } from "./shaper.ts";

/**
 * Runs a query plan of @apollo/query-planner: fetches through the gateway's own data sources (ours:
 * router/resilient-data-source.ts, so breaker, retry, deduplication, tracing and masking are the
 * same), builds entity representations, and merges every answer in place into one result tree that
 * the compiled shaper (shaper.ts) then turns into the response.
 *
 * The semantics are those of @apollo/gateway 2.14.4 dist/executeQueryPlan.js (executeNode,
 * executeFetch, representation building, error paths of `_entities` errors, deepMerge); what differs
 * is cost: no usage-reporting trace nodes, no span per plan node beyond the `gateway.fetch` one the
 * observability tests read, and the type tests memoised. Subscription and Defer nodes are not run
 * here: the caller leaves those operations to the gateway's executor (router/executor/index.ts).
 */

type Json = Record<string, unknown>;
type Path = (string | number)[];
type SubgraphResponse = Awaited<ReturnType<GraphQLDataSource["process"]>>;

export interface PlanRun {
  readonly requestContext: GatewayGraphQLRequestContext;
  /** The gateway's data source for a subgraph now (a reloaded supergraph may have replaced it). */
  readonly serviceFor: (name: string) => GraphQLDataSource | undefined;
  readonly supergraphSchema: GraphQLSchema;
  readonly variableDefinitions: VariableDefinitions;
  /** Fetch and subgraph errors, in the order they happened (the response's `errors`). */
  readonly errors: Error[];
}

interface Cursor {
  readonly path: Path;
  readonly data: unknown;
  readonly fullResult: Json;
}

/** Executes `node` against `data` (the result tree, filled in place). */
export async function executePlanNode(
  run: PlanRun,
  node: PlanNode,
  data: Json,
): Promise<void> {
  await executeNode(run, node, { path: [], data, fullResult: data });
}

async function executeNode(
  run: PlanRun,
  node: PlanNode,
  cursor: Cursor | undefined,
): Promise<void> {
  if (!cursor) return;
  switch (node.kind) {
    case "Sequence":
      for (const child of node.nodes) await executeNode(run, child, cursor);
      return;
    case "Parallel":
      await Promise.all(
        node.nodes.map((child) => executeNode(run, child, cursor)),
      );
      return;
    case "Flatten":
      return executeNode(run, node.node, moveIntoCursor(cursor, node.path));
    case "Fetch":
      try {
        await inSpan(
          "gateway.fetch",
          { attributes: { service: node.serviceName } },
          () => executeFetch(run, node, cursor),
        );
      } catch (error) {
        run.errors.push(
          error instanceof Error ? error : new Error(String(error)),
        );
      }
      return;
    case "Condition": {
      const branch = evaluateCondition(
        node,
        run.variableDefinitions,
        run.requestContext.request.variables,
      )
        ? node.ifClause
        : node.elseClause;
      if (branch) await executeNode(run, branch, cursor);
      return;
    }
    case "Defer":
      throw new Error("@defer support is not available in the gateway");
    default:
      return unreachable(node);
  }
}

async function executeFetch(
  run: PlanRun,
  fetch: FetchNode,
  cursor: Cursor,
): Promise<void> {
  const service = run.serviceFor(fetch.serviceName);
  if (!service)
    throw new Error(`Couldn't find service with name "${fetch.serviceName}"`);
  const entities: Json[] = [];
  if (Array.isArray(cursor.data)) {
    for (const entity of cursor.data as unknown[])
      if (entity !== null && entity !== undefined)
        entities.push(entity as Json);
  } else entities.push(cursor.data as Json);
  if (entities.length < 1) return;

  const variables: Json = {};
  const provided = run.requestContext.request.variables;
  if (fetch.variableUsages && provided)
    for (const name of fetch.variableUsages)
      if (
        Object.prototype.hasOwnProperty.call(provided, name) &&
        provided[name] !== undefined
      )
        variables[name] = provided[name];

  if (!fetch.requires) {
    const received = await send(run, service, fetch, cursor, variables);
    if (received)
      applyRewrites(run.supergraphSchema, fetch.outputRewrites, received);
    for (const entity of entities) deepMerge(entity, received);
    return;
  }

  const representations: Json[] = [];
  const representationToEntity: number[] = [];
  for (let index = 0; index < entities.length; index++) {
    const representation = selectionOf(
      run.supergraphSchema,
      entities[index]!,
      fetch.requires,
    );
    if (representation && representation.__typename) {
      applyRewrites(run.supergraphSchema, fetch.inputRewrites, representation);
      representations.push(representation);
      representationToEntity.push(index);
    }
  }
  if (representations.length < 1) return;
  if ("representations" in variables)
    throw new Error(`Variables cannot contain key "representations"`);
  variables.representations = representations;
  const received = await send(run, service, fetch, cursor, variables);
  if (!received) return;
  const receivedEntities = received._entities;
  if (!Array.isArray(receivedEntities))
    throw new Error(`Expected "data._entities" in response to be an array`);
  if (receivedEntities.length !== representations.length)
    throw new Error(
      `Expected "data._entities" to contain ${representations.length} elements`,
    );
  for (let index = 0; index < representations.length; index++) {
    const receivedEntity = receivedEntities[index] as Json | null | undefined;
    const existing = entities[representationToEntity[index]!]!;
    if (receivedEntity && !receivedEntity.__typename)
      receivedEntity.__typename = existing.__typename;
    applyRewrites(run.supergraphSchema, fetch.outputRewrites, receivedEntity);
    deepMerge(existing, receivedEntity);
  }
}

/** One fetch through the subgraph's data source; its errors are recorded with response paths. */
async function send(
  run: PlanRun,
  service: GraphQLDataSource,
  fetch: FetchNode,
  cursor: Cursor,
  variables: Json,
): Promise<Json | null | undefined> {
  const { requestContext } = run;
  const options: GraphQLDataSourceProcessOptions = {
    kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
    request: {
      query: fetch.operation,
      variables,
      operationName: fetch.operationName,
    },
    incomingRequestContext: requestContext,
    context: requestContext.context,
    document: fetch.operationDocumentNode,
    pathInIncomingRequest: cursor.path,
  };
  const response: SubgraphResponse = await service.process(options);
  if (response.errors) {
    const pathOf = lazyErrorPath(fetch, cursor);
    for (const error of response.errors)
      run.errors.push(downstreamServiceError(error, fetch.serviceName, pathOf));
    if (!response.extensions?.ftv1) {
      const paths = response.errors.map((error) => ({
        subgraph: fetch.serviceName,
        path: error.path,
      }));
      const { metrics } = requestContext;
      if (metrics.nonFtv1ErrorPaths) metrics.nonFtv1ErrorPaths.push(...paths);
      else metrics.nonFtv1ErrorPaths = paths;
    }
  }
  return response.data as Json | null | undefined;
}

/**
 * Where a subgraph error lands in the client's response. An `_entities` error (`["_entities", i,
 * ...]`) is mapped to the i-th entity under the fetch's path, found by walking the full result the
 * way the gateway does (generateHydratedPaths); any other path is appended to the fetch's path.
 */
function lazyErrorPath(
  fetch: FetchNode,
  cursor: Cursor,
): (errorPath: readonly (string | number)[] | undefined) => Path | undefined {
  let hydrated: Path[] | undefined;
  return (errorPath) => {
    if (fetch.requires && typeof errorPath?.[1] === "number") {
      if (!hydrated) {
        hydrated = [];
        generateHydratedPaths([], cursor.path, 0, cursor.fullResult, hydrated);
      }
      return [...(hydrated[errorPath[1]] ?? []), ...errorPath.slice(2)];
    }
    return errorPath ? [...cursor.path, ...errorPath] : undefined;
  };
}

export function generateHydratedPaths(
  parent: Path,
  path: readonly (string | number)[],
  index: number,
  data: unknown,
  result: Path[],
): void {
  if (data === null || data === undefined) return;
  const head = path[index];
  if (head === undefined) {
    result.push(parent.slice());
  } else if (head === "@") {
    if (!Array.isArray(data))
      throw new Error("expected array when encountering `@`");
    for (let i = 0; i < data.length; i++) {
      parent.push(i);
      generateHydratedPaths(parent, path, index + 1, data[i], result);
      parent.pop();
    }
  } else if (typeof head === "string") {
    if (Array.isArray(data)) {
      for (let i = 0; i < data.length; i++) {
        parent.push(i);
        generateHydratedPaths(parent, path, index, data[i], result);
        parent.pop();
      }
    } else if (Object.prototype.hasOwnProperty.call(data, head)) {
      parent.push(head);
      generateHydratedPaths(
        parent,
        path,
        index + 1,
        (data as Json)[head],
        result,
      );
      parent.pop();
    }
  } else throw new Error(`unknown path part "${String(head)}"`);
}

/** downstreamServiceError of the gateway: the subgraph's message and extensions, plus `serviceName`. */
function downstreamServiceError(
  original: GraphQLFormattedError,
  serviceName: string,
  pathOf: (path: readonly (string | number)[] | undefined) => Path | undefined,
): GraphQLError {
  const message =
    original.message ||
    `Error while fetching subquery from service "${serviceName}"`;
  const { extensions } = original;
  const options = {
    // The gateway passes the subgraph's error object as is; formatError and masking read it.
    originalError: original as unknown as Error,
    path: pathOf(original.path),
    extensions: { ...extensions, serviceName },
  };
  const codeDef = errorCodeDef(original);
  // A subgraph's error has no router stack worth keeping: capturing one costs a stack walk per
  // error and would show the router's source paths in development responses.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    if (!codeDef && extensions?.code) return new GraphQLError(message, options);
    return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * executeSelectionSet of the gateway: the representation of one entity for `requires` (its key and
 * required fields), or null when the entity lacks one of them.
 */
function selectionOf(
  schema: GraphQLSchema,
  source: Json | null,
  selections: readonly QueryPlanSelectionNode[],
): Json | null {
  if (source === null) return null;
  const result: Json = {};
  for (const selection of selections) {
    if (selection.kind === "Field") {
      const responseName = selection.alias ?? selection.name;
      const value = own(source, responseName);
      if (value === undefined) return null;
      const sub = selection.selections;
      if (Array.isArray(value))
        result[responseName] = value.map((element: unknown) =>
          sub ? selectionOf(schema, element as Json | null, sub) : element,
        );
      else if (sub)
        result[responseName] = selectionOf(schema, value as Json | null, sub);
      else result[responseName] = value;
    } else {
      if (!selection.typeCondition) continue;
      if (isObjectOfType(schema, source, selection.typeCondition))
        deepMerge(result, selectionOf(schema, source, selection.selections));
    }
  }
  return result;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** deepMerge of the gateway: `source` into `target`, in place; equal-length lists element by element. */
export function deepMerge(target: Json, source: Json | null | undefined): Json {
  if (source === undefined || source === null) return target;
  // for…in with an own-property test visits what Object.keys lists, in its order, without
  // allocating the list (one per merged object, the largest allocation of the merge).
  for (const key in source) {
    if (!Object.prototype.hasOwnProperty.call(source, key)) continue;
    const value = source[key];
    if (value === undefined) continue;
    if (key === "__proto__") defineOwn(target, key);
    // Inherited names read as functions (JSON holds none): treat them as absent.
    let existing = target[key];
    if (typeof existing === "function") existing = undefined;
    if (existing && isObject(value)) deepMerge(existing as Json, value);
    else if (
      Array.isArray(value) &&
      Array.isArray(existing) &&
      value.length === existing.length
    ) {
      for (let i = 0; i < value.length; i++) {
        const into: unknown = existing[i];
        const from: unknown = value[i];
        if (isObject(into) && isObject(from)) deepMerge(into, from);
        else existing[i] = from;
      }
    } else target[key] = value;
  }
  return target;
}

function moveIntoCursor(
  cursor: Cursor,
  path: readonly (string | number)[],
): Cursor | undefined {
  const data = flattenResultsAtPath(cursor.data, path, 0);
  return data
    ? { path: cursor.path.concat(path), data, fullResult: cursor.fullResult }
    : undefined;
}

/**
 * The values at `path` below `value` (flattenResultsAtPath of the gateway): one value, or for a path
 * through `@` the flat list of what every element holds there, collected into one array as it goes
 * (the gateway's flatMap allocates a list per level and element).
 */
function flattenResultsAtPath(
  value: unknown,
  path: readonly (string | number)[],
  index: number,
): unknown {
  return walkPath(value, path, index, undefined);
}

/**
 * Follows `path` from `index`. With `into` (below an `@`), appends what flatMap would have for this
 * element: a list's items, or the value itself; without it, returns the value (or a new flat list).
 */
function walkPath(
  value: unknown,
  path: readonly (string | number)[],
  index: number,
  into: unknown[] | undefined,
): unknown {
  for (; index < path.length; index++) {
    if (value === undefined || value === null) break;
    const current = path[index];
    if (current === "@") {
      if (!Array.isArray(value))
        throw new TypeError("value.flatMap is not a function");
      const list = into ?? [];
      for (const element of value as unknown[])
        walkPath(element, path, index + 1, list);
      return list;
    }
    if (typeof current !== "string")
      throw new Error(`Unexpected ${typeof current} found in path`);
    if (Array.isArray(value))
      throw new Error(`Unexpected array in result for path element ${current}`);
    value = own(value as Json, current);
  }
  if (!into) return value;
  if (Array.isArray(value)) for (const item of value) into.push(item);
  else into.push(value);
  return into;
}

function unreachable(value: never): never {
  throw new Error(`unexpected plan node ${JSON.stringify(value)}`);
}
