import type {
  ApolloServer,
  ApolloServerPlugin,
  HeaderMap,
} from "@apollo/server";
import type {
  GatewayExecutor,
  GatewayInterface,
} from "@apollo/server-gateway-interface";
import { GraphQLError, type OperationTypeNode } from "graphql";
import { wrapGatewayExecutor } from "./wrap-gateway-executor.ts";
import type { IncomingMessage } from "node:http";
import {
  executeGraphQL,
  readGraphQLRequest,
  sendGraphQLResponse,
  type GraphQLHttpRequest,
  type GraphQLHttpResponse,
  type Handler,
} from "../platform/http-server.ts";
import type { Principal } from "../platform/principal.ts";
import type { RouterContext } from "./context.ts";
import { operationShape } from "./operation-limits-plugin.ts";

/**
 * In-flight deduplication: identical work that is already running is joined instead of started
 * again. Used twice by the router:
 *
 * - inbound, around the gateway's executor: identical query operations from callers with the same
 *   identity share one execution (plan run, subgraph fetches). It sits after parsing, validation,
 *   operation limits and rate limiting, so every joined request is still checked and counted as its
 *   own; only the execution is shared.
 * - outbound, in the data source: identical subgraph fetches (same body, same router token) share one
 *   HTTP exchange; each joiner parses the reply itself, so no two requests hold the same objects.
 * - at the HTTP edge, for documents the router has already validated: a request identical to one in
 *   flight (same caller, document, operation, variables, Accept) is counted against its rate limits
 *   and then answered with the same encoded response, without going through Apollo Server at all.
 *
 * Only work that has not finished is shared: nothing is cached, and the entry goes the moment the
 * leader settles (with its result or its failure, which joiners then see too).
 */
export class InFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  /** The run going under `key`, if any. */
  current(key: string): Promise<T> | undefined {
    return this.running.get(key);
  }

  /** Joins the run already going under `key`, or starts `run` as the leader. */
  run(key: string, run: () => Promise<T>, onJoin?: () => void): Promise<T> {
    const existing = this.running.get(key);
    if (existing) {
      onJoin?.();
      return existing;
    }
    const started = run().finally(() => this.running.delete(key));
    this.running.set(key, started);
    return started;
  }

  /** Keys currently running (metrics, tests). */
  get size(): number {
    return this.running.size;
  }
}

/**
 * Who is asking, for the purpose of sharing results: requests whose subgraph fetches would carry
 * the same router token may share one execution; nobody else may. Scopes are sorted so their order
 * in the token doesn't split otherwise identical callers.
 */
export function callerKey(principal: Principal | null): string {
  if (!principal) return "anonymous";
  return `user:${principal.id}:${principal.role}:${[...principal.scopes].sort().join(" ")}`;
}

/** graphql-js's words for an operation name the document does not resolve. */
function unresolvedOperation(operationName: string | undefined): GraphQLError {
  return new GraphQLError(
    operationName
      ? `Unknown operation named "${operationName}".`
      : "Must provide operation name if query contains multiple operations.",
  );
}

/**
 * Wraps a gateway so identical in-flight **query** operations of the same caller execute once.
 * Keyed by document text, operation name, variables and caller; mutations and subscriptions always
 * execute. The shared result is never mutated by Apollo Server (it formats errors and serialises
 * per response), so joiners get the leader's result object as is.
 */
export function deduplicateInbound(
  gateway: GatewayInterface,
  {
    onJoin,
    headerKey = () => "",
    onShare,
    partition = () => "",
  }: {
    onJoin: () => void;
    /**
     * The request headers that header rules forward to subgraphs (router/headers/): requests share
     * only when it is equal; undefined = this request never shares.
     */
    headerKey?: (headers: HeaderMap | undefined) => string | undefined;
    /** Called for each joiner once the shared execution ended (copies the leader's request notes). */
    onShare?: (leader: object, joiner: object) => void;
    /**
     * What else the result depends on besides document, variables, caller and forwarded headers (the
     * request's active override labels); undefined = this request never shares (a plan-debug request
     * records its own fetches). @default every request in one partition
     */
    partition?: (
      requestContext: Parameters<GatewayExecutor>[0],
    ) => string | undefined;
  },
): GatewayInterface {
  const inFlight = new InFlight<{
    result: Awaited<ReturnType<GatewayExecutor>>;
    context: object;
  }>();
  const wrap =
    (executor: GatewayExecutor): GatewayExecutor =>
    (requestContext) => {
      // No operation: the document has none by the requested name (GraphiQL sends a stale name when
      // run right after an edit). Apollo Server expects an error result here, which it answers as
      // 400 OPERATION_RESOLUTION_FAILURE; the gateway's executor would throw instead (a 500).
      if (!requestContext.operation)
        return Promise.resolve({
          errors: [unresolvedOperation(requestContext.request.operationName)],
        });
      if (requestContext.operation.operation !== "query")
        return executor(requestContext);
      const part = partition(requestContext);
      if (part === undefined) return executor(requestContext);
      const context = requestContext.context as Partial<RouterContext>;
      const headers = headerKey(
        requestContext.request.http?.headers as HeaderMap | undefined,
      );
      if (headers === undefined) return executor(requestContext);
      const key = `${callerKey(context.principal ?? null)}\u0000${part}\u0000${headers}\u0000${requestContext.operationName ?? ""}\u0000${JSON.stringify(requestContext.request.variables ?? {})}\u0000${requestContext.source}`;
      return inFlight
        .run(
          key,
          // `.then`, not an async function: an async frame of ours would join the stack of every
          // error the execution raises, and development responses carry that stack (a .ts path).
          () =>
            executor(requestContext).then((result) => ({
              result,
              context: requestContext.context,
            })),
          onJoin,
        )
        .then(({ result, context: leader }) => {
          if (leader !== requestContext.context)
            onShare?.(leader, requestContext.context);
          return result;
        });
    };
  return wrapGatewayExecutor(gateway, wrap);
}

interface KnownOperation {
  readonly kind: OperationTypeNode;
  readonly rootFields: readonly string[];
}

/**
 * What the router has learnt about documents it validated: per document text and requested
 * operation name, the operation's kind and root fields. Bounded (cleared when full), so documents
 * an attacker makes up cannot grow it without limit.
 */
export function createOperationCatalog({
  maxDocuments = 1000,
}: { maxDocuments?: number } = {}) {
  const documents = new Map<string, Map<string, KnownOperation>>();
  const plugin: ApolloServerPlugin<RouterContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ source, request, document, operation }) {
          if (!operation) return;
          let operations = documents.get(source);
          if (!operations) {
            if (documents.size >= maxDocuments) documents.clear();
            operations = new Map();
            documents.set(source, operations);
          }
          operations.set(request.operationName ?? "", {
            kind: operation.operation,
            rootFields: operationShape(document, operation).rootFields,
          });
        },
      };
    },
  };
  return {
    plugin,
    lookup: (
      query: string,
      operationName: string | undefined,
    ): KnownOperation | undefined =>
      documents.get(query)?.get(operationName ?? ""),
    /** Forgets everything (a new schema may make a known document invalid or change its root fields). */
    clear: () => documents.clear(),
  };
}

export type OperationCatalog = ReturnType<typeof createOperationCatalog>;

interface ShareableRequest {
  readonly operation: KnownOperation;
  readonly keyWithoutCaller: string;
}

/**
 * A POST with an `application/json` body naming a query the router has validated before. Anything
 * else (GET, other content types that CSRF prevention must see, persisted-query hashes, mutations,
 * documents never seen) goes through Apollo Server as usual.
 */
function shareable(
  request: GraphQLHttpRequest,
  catalog: OperationCatalog,
  headerKey: (headers: HeaderMap) => string | undefined,
  unshareable: (request: GraphQLHttpRequest) => boolean,
): ShareableRequest | undefined {
  if (request.method !== "POST" || unshareable(request)) return undefined;
  const forwarded = headerKey(request.headers);
  if (forwarded === undefined) return undefined;
  if (
    (request.headers.get("content-type") ?? "")
      .split(";")[0]!
      .trim()
      .toLowerCase() !== "application/json"
  )
    return undefined;
  const body = request.body as {
    query?: unknown;
    operationName?: unknown;
    variables?: unknown;
    extensions?: unknown;
  } | null;
  if (
    typeof body !== "object" ||
    body === null ||
    Array.isArray(body) ||
    typeof body.query !== "string"
  )
    return undefined;
  if (
    body.operationName !== undefined &&
    body.operationName !== null &&
    typeof body.operationName !== "string"
  )
    return undefined;
  const operationName =
    (body.operationName as string | null | undefined) ?? undefined;
  const operation = catalog.lookup(body.query, operationName);
  if (operation?.kind !== "query") return undefined;
  const keyWithoutCaller = [
    forwarded,
    request.headers.get("accept") ?? "",
    operationName ?? "",
    JSON.stringify(body.variables ?? {}),
    JSON.stringify(body.extensions ?? {}),
    body.query,
  ].join("\u0000");
  return { operation, keyWithoutCaller };
}

/**
 * The router's `/graphql` handler with response sharing (see the top of this file). A joiner is
 * admitted by the rate limiter like any request; one over its limit goes through Apollo Server and
 * gets its own 429. Only a 200 is shared: when the leader's answer is anything else, each joiner
 * runs on its own (already counted, so not counted twice).
 */
export function sharingGraphqlHandler({
  server,
  context,
  maxBodyBytes,
  catalog,
  admit,
  onJoin,
  headerKey = () => "",
  unshareable = () => false,
}: {
  /** As for deduplicateInbound: the forwarded request headers, undefined = never share. */
  headerKey?: (headers: HeaderMap) => string | undefined;
  server: ApolloServer<RouterContext>;
  context: (req: IncomingMessage) => Promise<RouterContext>;
  maxBodyBytes: number;
  catalog: OperationCatalog;
  admit: (
    context: RouterContext,
    kind: OperationTypeNode,
    rootFields: readonly string[],
    options: { countRejection: boolean },
  ) => Promise<void>;
  onJoin: () => void;
  /**
   * Requests whose answer depends on more than the key here (a header switching override labels
   * on, a plan-debug request): they go through Apollo Server. @default none
   */
  unshareable?: (request: GraphQLHttpRequest) => boolean;
}): Handler {
  const inFlight = new InFlight<GraphQLHttpResponse>();
  return async (req, res) => {
    const request = await readGraphQLRequest(req, res, maxBodyBytes);
    if (!request) return;
    const candidate = shareable(request, catalog, headerKey, unshareable);
    let contextValue: RouterContext | undefined;
    if (candidate) contextValue = await context(req).catch(() => undefined);
    // Not shareable, or a context that fails (a bad token): Apollo Server answers, as it always does.
    if (!candidate || !contextValue)
      return sendGraphQLResponse(
        res,
        await executeGraphQL(server, request, () => context(req)),
      );
    const ready = contextValue;
    const key = `${callerKey(ready.principal)}\u0000${candidate.keyWithoutCaller}`;
    const leading = inFlight.current(key);
    if (!leading)
      return sendGraphQLResponse(
        res,
        await inFlight.run(key, () =>
          executeGraphQL(server, request, async () => ready),
        ),
      );
    try {
      await admit(
        ready,
        candidate.operation.kind,
        candidate.operation.rootFields,
        { countRejection: false },
      );
    } catch {
      // Over its limit: Apollo Server runs the same check (not counting the rejection) and answers 429.
      return sendGraphQLResponse(
        res,
        await executeGraphQL(server, request, async () => ready),
      );
    }
    onJoin();
    const shared = await leading.catch(() => undefined);
    if (shared && "payload" in shared && shared.status === 200)
      return sendGraphQLResponse(res, shared);
    return sendGraphQLResponse(
      res,
      await executeGraphQL(server, request, async () => ({
        ...ready,
        rateLimitAdmitted: true,
      })),
    );
  };
}
