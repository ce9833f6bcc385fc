import { randomUUID } from "node:crypto";
import type { ApolloServer } from "@apollo/server";
import {
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from "graphql";
import { codedError } from "../../platform/errors.ts";
import type { InternalTokenSigner } from "../../platform/internal-token.ts";
import type { Logger } from "../../platform/logger.ts";
import type { Principal } from "../../platform/principal.ts";
import type { RouterContext } from "../context.ts";
import { createBulkhead } from "../bulkhead.ts";
import { entityQueryFor, LIVE_ID_VARIABLE } from "./entity-query.ts";
import {
  createFanOut,
  entityIdOf,
  type FanOut,
  type FanOutLimits,
  type LiveChange,
  type LiveStream,
  tokenExpired,
} from "./fan-out.ts";
import {
  createSharedResolution,
  sharedResolutionKey,
  type SharedResolutionStats,
} from "./shared-resolution.ts";

/** What every single (non-streamed) answer of the live transports looks like. */
export type LiveResult = FormattedExecutionResult & { data: unknown };

/**
 * The event stream the router follows: ONE consumer per router instance (a consumer group of its
 * own on Kafka, so every instance sees every event), started with the router, stopped on drain.
 * It feeds every live field (order changes and delivered notifications alike).
 * events/live-change-feed.ts adapts the event log to it; the router imports nothing of events/.
 */
export interface LiveSource {
  start(
    onChange: (change: LiveChange) => void,
  ): Promise<{ stop(): Promise<void> }>;
}

/** Who sends an operation over a live transport, after JWT verification. */
export interface LiveCaller {
  readonly principal: Principal | null;
  readonly clientId: string;
  readonly clientAddress: string;
  /** The WebSocket connection or SSE stream (per-connection limit). */
  readonly connectionId: string;
  /**
   * When the caller's token expires (ms since the epoch; undefined for anonymous callers): their
   * subscriptions end then with UNAUTHENTICATED, and the connection takes no operation after it.
   */
  readonly expiresAt?: number;
}

export interface LiveRequest {
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>> | null;
  readonly operationName?: string | null;
}

export interface LiveService {
  /**
   * Runs one operation for a transport: a subscription becomes a stream fed by the event stream; a
   * query or mutation runs once through Apollo Server (so GraphiQL can use the socket for all three).
   */
  operation(
    request: LiveRequest,
    caller: LiveCaller,
  ): Promise<LiveStream | LiveResult>;
  readonly fanOut: FanOut;
  /** Per-event resolutions run, and deliveries that joined one (router/live/shared-resolution.ts). */
  readonly sharing: SharedResolutionStats;
  /** Starts the event consumer (no-op without a source). */
  start(): Promise<void>;
  /** Ends every stream with a SUBSCRIPTION_CLOSED message, then stops the consumer. */
  drain(): Promise<void>;
}

/** Errors that refuse a subscription when the check query meets them (the others are transient). */
const REFUSING = new Set([
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "BAD_USER_INPUT",
  "QUERY_TOO_COMPLEX",
  "RATE_LIMITED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
]);
/** Errors under which an event is not for this subscriber: skipped, not reported. */
const NOT_VISIBLE = new Set(["UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND"]);

const codeOf = (error: GraphQLFormattedError) =>
  typeof error.extensions?.code === "string" ? error.extensions.code : "";
const failed = (...errors: GraphQLError[]): LiveResult => ({
  data: null,
  errors: errors.map((error) => error.toJSON()),
});

export function createLiveService({
  server,
  schema,
  signer,
  requestDeadlineMs,
  source,
  limits,
  maxConcurrentResolutions,
  drainGraceMs = 2000,
  logger,
}: {
  server: ApolloServer<RouterContext>;
  /** The API schema the gateway serves now (undefined before the supergraph loaded). */
  schema: () => GraphQLSchema | undefined;
  signer: InternalTokenSigner;
  requestDeadlineMs: number;
  /** Undefined: no event stream here; subscribing answers SUBSCRIPTIONS_UNAVAILABLE. */
  source: LiveSource | undefined;
  limits: FanOutLimits;
  /**
   * Per-event resolutions running at once over all subscribers. Each is a query through the
   * gateway, whose fetches pass the subgraphs' bulkheads: a burst of events for many subscribers
   * would otherwise overflow those queues and be shed (SUBGRAPH_UNAVAILABLE). Waiting here, an
   * event stays in its subscribers' bounded queues, where a subscriber that falls too far behind is
   * dropped with SUBSCRIBER_TOO_SLOW as before.
   */
  maxConcurrentResolutions: number;
  /** How long a drain waits for transports to send the last message. @default 2000 */
  drainGraceMs?: number;
  logger: Logger;
}): LiveService {
  const fanOut = createFanOut(limits);
  const shared = createSharedResolution<LiveResult>();
  // No wait bound of its own: the subscribers' queue limit is the bound (see above).
  const resolutions = createBulkhead({
    maxConcurrent: maxConcurrentResolutions,
    maxQueue: Number.MAX_SAFE_INTEGER,
  });
  let consumer: { stop(): Promise<void> } | undefined;

  /**
   * A router context like the HTTP layer's, for a caller verified when they connected. Each event
   * gets a fresh deadline; events are not client requests, so they skip the rate limits.
   */
  const contextFor = (
    { principal, clientId, clientAddress }: LiveCaller,
    rateLimitAdmitted: boolean,
  ): RouterContext => {
    let token: Promise<string> | undefined;
    return {
      principal,
      clientId,
      clientAddress,
      internalToken: () => (token ??= signer.sign(principal)),
      deadlineAt: Date.now() + requestDeadlineMs,
      ...(rateLimitAdmitted ? { rateLimitAdmitted } : {}),
    };
  };

  async function run(
    request: {
      query: string;
      variables: Record<string, unknown>;
      operationName: string | undefined;
    },
    context: RouterContext,
  ): Promise<LiveResult> {
    const response = await server.executeOperation(request, {
      contextValue: context,
    });
    if (response.body.kind !== "single")
      return failed(
        codedError(
          "BAD_REQUEST",
          "incremental delivery is not served on live transports",
        ),
      );
    const { data, errors } = response.body.singleResult;
    return { data: data ?? null, ...(errors ? { errors } : {}) };
  }

  async function subscribe(
    document: DocumentNode,
    request: LiveRequest,
    caller: LiveCaller,
  ): Promise<LiveStream | LiveResult> {
    if (!caller.principal)
      return failed(
        codedError("UNAUTHENTICATED", "subscriptions need a signed-in caller"),
      );
    if (!source)
      return failed(
        codedError(
          "SUBSCRIPTIONS_UNAVAILABLE",
          "this router has no event stream to feed subscriptions",
        ),
      );
    const variables = request.variables ?? {};
    const plan = entityQueryFor(
      document,
      request.operationName ?? undefined,
      variables,
    );
    if (plan instanceof GraphQLError) return failed(plan);
    const operationName = /query (\w+)/.exec(plan.query)?.[1];
    const runFor = (entityId: string, rateLimitAdmitted: boolean) =>
      run(
        {
          query: plan.query,
          variables: { ...plan.variables, [LIVE_ID_VARIABLE]: entityId },
          operationName,
        },
        contextFor(caller, rateLimitAdmitted),
      );
    // Subscribers with this key resolve each event once between them (router/live/shared-resolution.ts).
    const group = sharedResolutionKey(
      { query: plan.query, operationName, variables: plan.variables },
      contextFor(caller, true),
    );
    // Checked when subscribing as for every event: one order must be visible to the caller now; a
    // selection over a router limit (or a field the caller may not read: @authenticated) is refused
    // before any event. Counts as one request (rate limit). With no id, a fresh random id: the
    // selection is planned and run, and finds nothing.
    const check = await runFor(plan.entityId ?? randomUUID(), false);
    const refusing = (check.errors ?? []).filter((error) => {
      const code = codeOf(error);
      return (
        REFUSING.has(code) &&
        (code !== "NOT_FOUND" || plan.entityId !== undefined)
      );
    });
    if (refusing.length > 0) return { data: null, errors: refusing };
    const { principal } = caller;
    return fanOut.add(
      {
        clientId: caller.clientId,
        connectionId: caller.connectionId,
        userId: principal.id,
        kind: plan.kind,
        // Admins may follow every order; myNotifications is the caller's own, admins included.
        admin: plan.kind === "order" && principal.role === "ADMIN",
        entityId: plan.entityId,
        ...(caller.expiresAt !== undefined
          ? { expiresAt: caller.expiresAt }
          : {}),
      },
      async (change) => {
        const result = await shared.run(change, group, async () => {
          const release = await resolutions.acquire();
          // The context, and so the deadline, starts once the resolution has its turn.
          try {
            return await runFor(entityIdOf(change), true);
          } finally {
            release();
          }
        });
        const entity = (result.data as Record<string, unknown> | null)?.[
          plan.lookup
        ];
        const errors = result.errors?.map((error) =>
          error.path?.[0] === plan.lookup
            ? { ...error, path: [plan.responseKey, ...error.path.slice(1)] }
            : error,
        );
        if (entity && typeof entity === "object") {
          // The event is the truth about this transition; a read may already see a later state.
          const payload: Record<string, unknown> = { ...entity };
          if (change.kind === "order")
            for (const key of plan.statusKeys) payload[key] = change.status;
          return {
            data: { [plan.responseKey]: payload },
            ...(errors ? { errors } : {}),
          };
        }
        if ((errors ?? []).some((error) => NOT_VISIBLE.has(codeOf(error))))
          return null;
        // The entity itself could not be read (its subgraph down): the subscriber hears why.
        return { data: null, errors: errors ?? [] };
      },
    );
  }

  return {
    fanOut,
    sharing: shared.stats,
    async operation(request, caller) {
      // A WebSocket outlives its token: past `exp`, the connection's identity is no longer vouched for.
      if (caller.expiresAt !== undefined && caller.expiresAt <= Date.now())
        return failed(tokenExpired());
      const current = schema();
      if (!current)
        return failed(
          codedError(
            "SUBGRAPH_UNAVAILABLE",
            "the supergraph is not loaded yet",
          ),
        );
      let document: DocumentNode;
      try {
        document = parse(request.query);
      } catch (error) {
        return failed(
          codedError(
            "GRAPHQL_PARSE_FAILED",
            error instanceof Error ? error.message : "syntax error",
          ),
        );
      }
      const invalid = validate(current, document);
      if (invalid.length > 0)
        return failed(
          ...invalid.map((error) =>
            codedError("GRAPHQL_VALIDATION_FAILED", error.message),
          ),
        );
      const isSubscription = document.definitions.some(
        (definition) =>
          definition.kind === "OperationDefinition" &&
          definition.operation === "subscription" &&
          (!request.operationName ||
            definition.name?.value === request.operationName),
      );
      try {
        if (isSubscription) return await subscribe(document, request, caller);
        return await run(
          {
            query: request.query,
            variables: { ...request.variables },
            operationName: request.operationName ?? undefined,
          },
          contextFor(caller, false),
        );
      } catch (error) {
        if (error instanceof GraphQLError) return failed(error);
        logger.error({ err: error }, "live operation failed");
        return failed(codedError("INTERNAL_SERVER_ERROR", "unexpected error"));
      }
    },
    async start() {
      if (!source || consumer) return;
      consumer = await source.start((change) => fanOut.publish(change));
      logger.info("live updates consumer started");
    },
    async drain() {
      await fanOut.drain(
        failed(
          codedError(
            "SUBSCRIPTION_CLOSED",
            "the router is shutting down; subscribe again",
          ),
        ),
        drainGraceMs,
      );
      await consumer?.stop();
      consumer = undefined;
    },
  };
}
