import type {
  GraphQLDataSource,
  GraphQLDataSourceProcessOptions,
} from "@apollo/gateway";
import {
  currentCorrelationId,
  REQUEST_ID_HEADER,
} from "../platform/correlation.ts";
import type { ErrorCode } from "../platform/errors.ts";
import { INTERNAL_TOKEN_HEADER } from "../platform/internal-token.ts";
import {
  failSpan,
  inSpan,
  SpanKind,
  traceHeaders,
} from "../platform/tracing.ts";
import type { Logger } from "../platform/logger.ts";
import { BulkheadFullError, type Bulkhead } from "./bulkhead.ts";
import type { RetrySettings, SubgraphSettings } from "./config.ts";
import type { ResilienceMetrics } from "./resilience-metrics.ts";
import { backoffDelayMs } from "../platform/retry.ts";
import type { RetryBudget } from "./retry-policy.ts";
import { debugRecorder } from "./plan-debug/recorder.ts";
import {
  breakerState,
  SubgraphFailure,
  type Instance,
  type SubgraphPool,
  type SubgraphReply,
} from "./subgraph-pool.ts";
import type { RouterContext } from "./context.ts";
import { InFlight } from "./deduplication.ts";
import {
  fetchedHeaders,
  outboundHeaders,
  type ClientHeaders,
} from "./headers/propagation.ts";
import { NO_HEADER_RULES, type HeaderRules } from "./headers/rules.ts";
import { errorKindOf, settleErrors } from "./error-policy/subgraph-errors.ts";
import {
  NO_ERROR_POLICIES,
  type SubgraphErrorPolicy,
} from "./error-policy/policy.ts";
import { notesFor } from "./request-notes.ts";

type SubgraphResponse = Awaited<ReturnType<GraphQLDataSource["process"]>>;

/**
 * How one exchange ended: a reply to interpret, or a coded failure. A reply stays text until each
 * caller parses it, so callers sharing one exchange never share the objects the gateway merges into.
 */
type Outcome =
  | { readonly reply: SubgraphReply; readonly instance: Instance }
  | { readonly failure: SubgraphResponse; readonly cause?: unknown };

/** The code of a fetch the router failed itself (unavailable, timeout), undefined for a subgraph's answer. */
function failureCodeOf(
  response: SubgraphResponse,
): "SUBGRAPH_UNAVAILABLE" | "SUBGRAPH_TIMEOUT" | undefined {
  const code =
    response.errors?.length === 1
      ? response.errors[0]?.extensions?.code
      : undefined;
  return code === "SUBGRAPH_UNAVAILABLE" || code === "SUBGRAPH_TIMEOUT"
    ? code
    : undefined;
}

/**
 * The gateway plans every fetch as a document of its own, and a fetch is a mutation exactly when
 * that document's operation is (the `_entities` fetches that follow a mutation are queries and may
 * be retried). The query planner prints documents starting with the operation keyword
 * (`mutation Op__users__0`) or with `{` for anonymous queries, so a prefix test is exact for them.
 */
export function isMutationDocument(query: string): boolean {
  return /^\s*mutation\b/.test(query);
}

/**
 * What one fetch went through, for the plan-debug view: built only when the request is debugged, and
 * written by the code that knows (the attempt loop, the bulkhead, the dedup join).
 */
interface FetchTrace {
  readonly attempts: {
    instance: string;
    /** The breaker before the attempt and after it (an attempt's failure may open it). */
    breaker: string;
    outcome: string;
    ms: number;
  }[];
  /** Why no attempt (or no further one) was made. */
  stopped?: string;
  /** This fetch joined an identical one in flight: the attempts were the leader's, not listed here. */
  deduplicated?: boolean;
}

/** One fetch to this subgraph as the bulkhead, the attempt loop and deduplication see it. */
interface OutboundFetch {
  readonly body: string;
  readonly headers: Record<string, string>;
  /** When the whole request's budget ends: no wait or attempt goes past it. */
  readonly deadlineAt: number;
  /** Mutations are never retried (the subgraph may have applied one before failing). */
  readonly mutation: boolean;
  readonly trace: FetchTrace | undefined;
}

const sinceMs = (started: number) =>
  Math.round((performance.now() - started) * 1000) / 1000;

const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The gateway's data source for one subgraph, in place of RemoteGraphQLDataSource: bulkhead →
 * deadline-bounded attempts through per-instance breakers → retries for queries only.
 *
 * A failed fetch is returned as a response holding one coded error (SUBGRAPH_UNAVAILABLE or
 * SUBGRAPH_TIMEOUT, `service` naming the subgraph) instead of being thrown: the gateway then
 * attaches the fetch's path and keeps every field the other fetches delivered. The error names no
 * URL, status or stack; those go to the log.
 */
export function createResilientDataSource({
  name,
  pool,
  settings,
  retry,
  budget,
  bulkhead,
  requestDeadlineMs,
  metrics,
  logger,
  random = Math.random,
  identityHeaders,
  deduplicate = false,
  headerRules = NO_HEADER_RULES,
  errorPolicy = NO_ERROR_POLICIES.all,
}: {
  /** What client headers this subgraph's fetches carry and which response headers are kept (router/headers/). @default none */
  headerRules?: HeaderRules;
  /** How this subgraph's errors reach the client (router/error-policy/). @default today's behaviour */
  errorPolicy?: SubgraphErrorPolicy;
  /** Identical query fetches in flight with the same router token share one exchange. @default false */
  deduplicate?: boolean;
  /** Headers that tell the subgraph who is calling (the router token); undefined context = the gateway's own fetches. */
  identityHeaders: (
    context: Partial<RouterContext> | undefined,
  ) => Promise<Record<string, string>>;
  name: string;
  pool: SubgraphPool;
  settings: SubgraphSettings;
  retry: RetrySettings;
  budget: RetryBudget;
  bulkhead: Bulkhead;
  requestDeadlineMs: number;
  metrics: ResilienceMetrics;
  logger: Logger;
  random?: () => number;
}): GraphQLDataSource {
  // Built once: while every breaker is open this is the whole fetch path, and an Error per refusal
  // (stack capture included) would be most of its cost.
  const noInstance = new SubgraphFailure(
    "open",
    "no instance available: every breaker is open",
  );

  /** Responses `failed` built: the error policy tells them from a subgraph's own errors. */
  const madeByRouter = new WeakSet<object>();

  function failed(
    code: Extract<ErrorCode, "SUBGRAPH_UNAVAILABLE" | "SUBGRAPH_TIMEOUT">,
    cause: unknown,
    instance?: Instance,
  ): SubgraphResponse {
    metrics.failures.inc({ subgraph: name, code });
    // Refusals (breaker open, bulkhead full) repeat for every request while they last and are
    // counted in metrics; logging each at warn would flood the log exactly when it matters.
    const refused =
      (cause instanceof SubgraphFailure && cause.kind === "open") ||
      cause instanceof BulkheadFullError;
    if (!refused)
      logger.warn(
        { subgraph: name, code, instance: instance?.label, err: cause },
        "subgraph fetch failed",
      );
    else if (logger.isLevelEnabled("debug"))
      logger.debug(
        { subgraph: name, code, instance: instance?.label, err: cause },
        "subgraph fetch refused",
      );
    const message =
      code === "SUBGRAPH_TIMEOUT"
        ? `The ${name} service did not answer in time`
        : `The ${name} service is unavailable`;
    const response = {
      errors: [{ message, extensions: { code, service: name } }],
    };
    madeByRouter.add(response);
    return response;
  }

  function answer(reply: SubgraphReply, instance: Instance): SubgraphResponse {
    let body: unknown;
    try {
      body = JSON.parse(reply.text);
    } catch (error) {
      return failed(
        "SUBGRAPH_UNAVAILABLE",
        new Error(
          `unparseable body (HTTP ${reply.status}, ${reply.contentType ?? "no content type"})`,
          { cause: error },
        ),
        instance,
      );
    }
    if (
      typeof body === "object" &&
      body !== null &&
      ("data" in body || "errors" in body)
    )
      return body as SubgraphResponse;
    return failed(
      "SUBGRAPH_UNAVAILABLE",
      new Error(`HTTP ${reply.status} without a GraphQL body`),
      instance,
    );
  }

  async function attempts({
    body,
    headers,
    deadlineAt,
    mutation,
    trace,
  }: OutboundFetch): Promise<Outcome> {
    let previous: Instance | undefined;
    for (let attempt = 1; ; attempt++) {
      const remaining = deadlineAt - Date.now();
      if (remaining <= 0)
        return {
          failure: failed(
            "SUBGRAPH_TIMEOUT",
            new Error("request deadline passed before the fetch"),
            previous,
          ),
        };
      const instance = pool.pick(previous);
      if (!instance) {
        if (trace) trace.stopped = "every breaker open";
        return {
          failure: failed("SUBGRAPH_UNAVAILABLE", noInstance),
          cause: noInstance,
        };
      }
      const before = trace && breakerState(instance.breaker);
      const sent = performance.now();
      try {
        const reply = await pool.send(instance, {
          body,
          headers,
          timeoutMs: Math.min(settings.timeoutMs, remaining),
        });
        trace?.attempts.push({
          instance: instance.label,
          breaker: `${before} → ${breakerState(instance.breaker)}`,
          outcome: `HTTP ${reply.status}`,
          ms: sinceMs(sent),
        });
        return { reply, instance };
      } catch (error) {
        const failure =
          error instanceof SubgraphFailure
            ? error
            : new SubgraphFailure("network", "fetch failed", { cause: error });
        trace?.attempts.push({
          instance: instance.label,
          breaker: `${before} → ${breakerState(instance.breaker)}`,
          outcome:
            failure.status === undefined
              ? failure.kind
              : `${failure.kind} (HTTP ${failure.status})`,
          ms: sinceMs(sent),
        });
        const code =
          failure.kind === "timeout"
            ? "SUBGRAPH_TIMEOUT"
            : "SUBGRAPH_UNAVAILABLE";
        // A mutation is never sent twice: the subgraph may have applied it before failing.
        if (mutation || !failure.retriable || attempt >= retry.maxAttempts) {
          if (trace)
            trace.stopped = mutation
              ? "mutation: never retried"
              : !failure.retriable
                ? "not retriable"
                : "attempts exhausted";
          return { failure: failed(code, failure, instance), cause: failure };
        }
        const delay = Math.max(
          backoffDelayMs(attempt, retry, random),
          failure.retryAfterMs ?? 0,
        );
        if (Date.now() + delay >= deadlineAt) {
          if (trace) trace.stopped = "deadline before the next retry";
          return { failure: failed(code, failure, instance), cause: failure };
        }
        if (!budget.tryRetry()) {
          if (trace) trace.stopped = "retry budget spent";
          metrics.retryBudgetRefusals.inc({ subgraph: name });
          return { failure: failed(code, failure, instance), cause: failure };
        }
        metrics.retries.inc({ subgraph: name });
        if (delay > 0) await sleep(delay);
        previous = instance;
      }
    }
  }

  /** One exchange from bulkhead slot to outcome: what joiners of a deduplicated fetch share. */
  async function exchange(fetch: OutboundFetch): Promise<Outcome> {
    const { deadlineAt, trace } = fetch;
    metrics.fetches.inc({ subgraph: name });
    budget.recordRequest();
    let release: () => void;
    try {
      release = await bulkhead.acquire(deadlineAt);
    } catch (error) {
      if (!(error instanceof BulkheadFullError)) throw error;
      metrics.bulkheadRejections.inc({ subgraph: name });
      if (trace) trace.stopped = "bulkhead full";
      return { failure: failed("SUBGRAPH_UNAVAILABLE", error), cause: error };
    }
    try {
      return await attempts(fetch);
    } finally {
      release();
    }
  }

  const inFlight = new InFlight<Outcome>();
  const joined = () => metrics.fetchesDeduplicated.inc({ subgraph: name });

  return {
    async process(
      options: GraphQLDataSourceProcessOptions,
    ): Promise<SubgraphResponse> {
      const { request } = options;
      if (!request.query) throw new Error("Missing query");
      // The request-kind enum is not exported by @apollo/gateway; only incoming operations carry this.
      const incoming =
        "incomingRequestContext" in options
          ? (options.incomingRequestContext.context as Partial<RouterContext>)
          : undefined;
      const deadlineAt = incoming?.deadlineAt ?? Date.now() + requestDeadlineMs;
      const headers: Record<string, string> = {};
      if (request.http?.headers)
        for (const [key, value] of request.http.headers) headers[key] = value;
      // Rules first: everything below is the router's own and overwrites what a rule set.
      const forwarded = outboundHeaders(
        headerRules,
        name,
        "incomingRequestContext" in options
          ? (options.incomingRequestContext.request.http?.headers as
              ClientHeaders | undefined)
          : undefined,
      );
      Object.assign(headers, forwarded.headers);
      if (incoming && forwarded.decisions.length > 0)
        notesFor(incoming).headers.push(...forwarded.decisions);
      headers["content-type"] = "application/json";
      Object.assign(headers, await identityHeaders(incoming));
      const correlationId = currentCorrelationId();
      if (correlationId) headers[REQUEST_ID_HEADER] = correlationId;
      const body = JSON.stringify({
        query: request.query,
        variables: request.variables,
        operationName: request.operationName,
        extensions: request.extensions,
      });
      const mutation = isMutationDocument(request.query);
      const recorder = debugRecorder(incoming);
      const trace: FetchTrace | undefined = recorder && { attempts: [] };
      const started = process.hrtime.bigint();
      // One span per fetch (retries included), child of the gateway's `gateway.fetch` span; the
      // subgraph continues the trace from the traceparent it carries.
      const response = await inSpan(
        `subgraph ${name}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            service: "router",
            "subgraph.name": name,
            "graphql.operation.type": mutation ? "mutation" : "query",
          },
        },
        async (span) => {
          Object.assign(headers, traceHeaders());
          // The key is what the subgraph's answer depends on: the document and variables (the body),
          // who asks (the router token) and every header a rule forwards. Per-request headers (trace
          // context, request id) are not part of it: a joiner's fetch is the leader's, sent with the
          // leader's. A subgraph whose cookies reach the client is never shared (one browser's cookie).
          const outcome =
            deduplicate &&
            !mutation &&
            headerRules.response.setCookieFrom !== name
              ? await inFlight.run(
                  `${headers[INTERNAL_TOKEN_HEADER] ?? ""}\u0000${JSON.stringify(Object.entries(forwarded.headers).sort())}\u0000${body}`,
                  () =>
                    exchange({
                      body,
                      headers,
                      deadlineAt,
                      mutation: false,
                      trace,
                    }),
                  () => {
                    joined();
                    if (trace) trace.deduplicated = true;
                  },
                )
              : await exchange({ body, headers, deadlineAt, mutation, trace });
          if (incoming) {
            const fetched = fetchedHeaders(
              headerRules,
              name,
              "reply" in outcome ? outcome.reply : undefined,
            );
            if (fetched) notesFor(incoming).fetched.push(fetched);
          }
          const answered =
            "failure" in outcome
              ? {
                  errors: outcome.failure.errors?.map((error) => ({
                    ...error,
                  })),
                }
              : answer(outcome.reply, outcome.instance);
          const result = settleErrors({
            policy: errorPolicy,
            subgraph: name,
            response: answered,
            // A reply the router could not use became a failure of its own (no GraphQL body).
            routerMade: "failure" in outcome || madeByRouter.has(answered),
            ...errorKindOf(outcome),
            unavailable: (cause) =>
              failed(
                "SUBGRAPH_UNAVAILABLE",
                cause,
                "reply" in outcome ? outcome.instance : undefined,
              ),
            notes: incoming ? notesFor(incoming) : undefined,
            logger,
          });
          const code = failureCodeOf(result);
          if (code) failSpan(span, code);
          return result;
        },
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.fetchDuration.observe(
        { subgraph: name, outcome: failureCodeOf(response) ?? "ok" },
        seconds,
      );
      recorder?.append("fetches", {
        subgraph: name,
        operationName: request.operationName ?? null,
        kind: mutation ? "mutation" : "query",
        ms: Math.round(seconds * 1e6) / 1e3,
        outcome:
          failureCodeOf(response) ??
          (response.errors?.length ? "answered with errors" : "ok"),
        ...trace,
      });
      return response;
    },
  };
}
