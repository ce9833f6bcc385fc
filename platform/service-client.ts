import CircuitBreaker from "opossum";
import { Agent } from "undici";
import { currentCorrelationId, REQUEST_ID_HEADER } from "./correlation.ts";
import { InfrastructureError } from "./errors.ts";
import { inSpan, SpanKind, traceHeaders } from "./tracing.ts";
import { backoffDelayMs, parseRetryAfterMs } from "./retry.ts";
import type { Logger } from "./logger.ts";
import { signServiceRequest } from "./service-auth.ts";

export type UnavailableReason =
  "timeout" | "network" | "status" | "breaker-open";

/** A dependency could not answer: `retriable` says whether trying again later may help. */
export class ServiceUnavailableError extends InfrastructureError {
  readonly service: string;
  readonly reason: UnavailableReason;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  /**
   * Whether any attempt may have reached the server (and so may have had an effect). False only
   * when every attempt was refused before sending: breaker open, or connection refused.
   */
  mayHaveReached: boolean;
  constructor(
    service: string,
    reason: UnavailableReason,
    {
      status,
      retryAfterMs,
      cause,
      mayHaveReached = true,
    }: {
      status?: number;
      retryAfterMs?: number;
      cause?: unknown;
      mayHaveReached?: boolean;
    } = {},
  ) {
    super(`${service} unavailable (${reason}${status ? ` ${status}` : ""})`, {
      retriable: reason !== "breaker-open",
      cause,
    });
    this.name = "ServiceUnavailableError";
    this.service = service;
    this.reason = reason;
    this.status = status;
    this.retryAfterMs = retryAfterMs;
    this.mayHaveReached = mayHaveReached;
  }
}

/**
 * A dependency answered, and said no for good: a 4xx (other than 408/429) the caller has no
 * domain meaning for, such as a 400 for a request its validation refuses. Sending the same request
 * again gets the same answer, so callers undo what they started instead of retrying.
 */
export class ServiceRefusedError extends InfrastructureError {
  readonly service: string;
  readonly path: string;
  readonly status: number;
  /** The `code` of the answer's body, when it had one (e.g. `BAD_REQUEST`). */
  readonly code: string | undefined;
  constructor(service: string, path: string, status: number, body: unknown) {
    const code =
      typeof body === "object" &&
      body !== null &&
      typeof (body as { code?: unknown }).code === "string"
        ? (body as { code: string }).code
        : undefined;
    super(
      `${service} ${path} refused the request (${status}${code ? ` ${code}` : ""})`,
      { retriable: false },
    );
    this.name = "ServiceRefusedError";
    this.service = service;
    this.path = path;
    this.status = status;
    this.code = code;
  }
}

/**
 * The error for an answer a caller did not expect: a 4xx is a definitive refusal
 * (ServiceRefusedError); anything else (a 3xx, an odd 2xx) is treated as the service misbehaving
 * for now, retriable like a 5xx.
 */
export function unexpectedAnswer(
  service: string,
  path: string,
  { status, body }: ServiceResponse,
): ServiceRefusedError | ServiceUnavailableError {
  if (status >= 400 && status < 500)
    return new ServiceRefusedError(service, path, status, body);
  return new ServiceUnavailableError(service, "status", { status });
}

export interface ServiceResponse<Body = unknown> {
  status: number;
  body: Body;
}

export interface ServiceClientOptions {
  /** Name of the service called (errors and logs name it). */
  service: string;
  /** Name this caller signs requests with. */
  caller: string;
  baseUrl: string;
  secret: string;
  logger: Logger;
  /** Per-attempt timeout; each attempt gets its own AbortSignal. @default 2000 */
  timeoutMs?: number;
  /** Further attempts after the first, for calls marked retriable. @default 2 */
  retries?: number;
  /** First backoff step; retry n waits a random time in [0, min(maxDelayMs, baseDelayMs · 2^(n-1))] (full jitter). @default 50 */
  baseDelayMs?: number;
  /** Longest backoff between two attempts (a `Retry-After` may ask for more, up to 5 s). @default 1000 */
  maxDelayMs?: number;
  /** Breaker: failure percentage that opens it, over `windowMs`, once `volumeThreshold` calls were seen. */
  breaker?: {
    errorThresholdPercentage?: number;
    resetTimeoutMs?: number;
    windowMs?: number;
    volumeThreshold?: number;
  };
  /** For tests: replaces the timer used between retries. */
  sleep?: (ms: number) => Promise<void>;
}

const FAILURE_STATUSES = new Set([408, 429]);
const MAX_RETRY_AFTER_MS = 5000;
/** Statuses that count against the breaker and may be retried; other 4xx are answers, not failures. */
export const isFailureStatus = (status: number) =>
  status >= 500 || FAILURE_STATUSES.has(status);

/**
 * The one resilient HTTP client for service-to-service REST calls: a circuit breaker per target,
 * a timeout per attempt, and retries with exponential backoff and full jitter only for calls the
 * caller marks safe to repeat (idempotent, or carrying an idempotency key the server honours).
 */
export function createServiceClient(options: ServiceClientOptions) {
  const {
    service,
    caller,
    baseUrl,
    secret,
    logger,
    timeoutMs = 2000,
    retries = 2,
    baseDelayMs = 50,
    maxDelayMs = 1000,
  } = options;
  const sleep =
    options.sleep ??
    ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  // Keep-alive connections per target, reused across calls. `agent.request` rather than `fetch`:
  // fetch's WHATWG Request/Response/stream machinery cost more CPU than the saga's own work per call.
  const agent = new Agent({ connections: 32, keepAliveTimeout: 30_000 });
  const origin = new URL(baseUrl).origin;

  async function attempt(
    method: string,
    path: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<ServiceResponse> {
    let response;
    let text: string;
    try {
      response = await agent.request({
        origin,
        path,
        method: method as "GET" | "POST",
        body: method === "GET" ? null : body,
        headers: {
          "content-type": "application/json",
          ...headers,
          ...signServiceRequest({
            secret,
            service: caller,
            method,
            path,
            body,
          }),
        },
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.body.text();
    } catch (error) {
      const failure = error as Error & {
        code?: string;
        cause?: { code?: string };
      };
      const timedOut =
        failure.name === "TimeoutError" ||
        failure.name === "AbortError" ||
        failure.code === "UND_ERR_ABORTED";
      const refused =
        failure.code === "ECONNREFUSED" ||
        failure.cause?.code === "ECONNREFUSED";
      throw new ServiceUnavailableError(
        service,
        timedOut ? "timeout" : "network",
        { cause: error, mayHaveReached: !refused },
      );
    }
    const status = response.statusCode;
    if (isFailureStatus(status)) {
      const retryAfter = response.headers["retry-after"];
      throw new ServiceUnavailableError(service, "status", {
        status,
        retryAfterMs: parseRetryAfterMs(
          (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null,
        ),
      });
    }
    let parsed: unknown = null;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new ServiceUnavailableError(service, "status", {
          status,
          cause: error,
        });
      }
    }
    return { status, body: parsed };
  }

  const breaker = new CircuitBreaker(attempt, {
    // Timeouts are enforced per attempt by AbortSignal above; opossum's own timer would leave the
    // request running after giving up on it.
    timeout: false,
    errorThresholdPercentage: options.breaker?.errorThresholdPercentage ?? 50,
    resetTimeout: options.breaker?.resetTimeoutMs ?? 5000,
    rollingCountTimeout: options.breaker?.windowMs ?? 10_000,
    rollingCountBuckets: 10,
    volumeThreshold: options.breaker?.volumeThreshold ?? 5,
  });
  breaker.on("open", () =>
    logger.warn({ target: service, breaker: "open" }, "breaker transition"),
  );
  breaker.on("halfOpen", () =>
    logger.info(
      { target: service, breaker: "half-open" },
      "breaker transition",
    ),
  );
  breaker.on("close", () =>
    logger.info({ target: service, breaker: "closed" }, "breaker transition"),
  );

  return {
    get breakerState(): "open" | "half-open" | "closed" {
      return breaker.opened
        ? "open"
        : breaker.halfOpen
          ? "half-open"
          : "closed";
    },
    /**
     * Sends one request. Resolves with any 2xx/4xx answer (4xx other than 408/429 are answers the
     * caller interprets); rejects with ServiceUnavailableError once retries, if allowed, are spent.
     */
    async call<Body = unknown>({
      method,
      path,
      body,
      headers = {},
      retry,
    }: {
      method: "GET" | "POST";
      path: string;
      body?: unknown;
      headers?: Record<string, string>;
      retry: boolean;
    }): Promise<ServiceResponse<Body>> {
      const payload = body === undefined ? "" : JSON.stringify(body);
      // One client span per call (its retries included); the callee continues the trace and the
      // correlation id from these headers.
      return inSpan(
        `${service} ${method} ${path}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            service: caller,
            "peer.service": service,
            "http.request.method": method,
            "url.path": path,
          },
        },
        async () => {
          const correlationId = currentCorrelationId();
          const outgoing = {
            ...headers,
            ...traceHeaders(),
            ...(correlationId ? { [REQUEST_ID_HEADER]: correlationId } : {}),
          };
          let reached = false;
          for (let attemptNumber = 0; ; attemptNumber += 1) {
            try {
              return (await breaker.fire(
                method,
                path,
                payload,
                outgoing,
              )) as ServiceResponse<Body>;
            } catch (error) {
              const failure =
                (error as { code?: string }).code === "EOPENBREAKER"
                  ? new ServiceUnavailableError(service, "breaker-open", {
                      cause: error,
                      mayHaveReached: false,
                    })
                  : error;
              if (!(failure instanceof ServiceUnavailableError)) throw failure;
              reached ||= failure.mayHaveReached;
              failure.mayHaveReached = reached;
              if (!retry || !failure.retriable || attemptNumber >= retries)
                throw failure;
              // A server asking for more patience than a request can afford gets the failure instead.
              if ((failure.retryAfterMs ?? 0) > MAX_RETRY_AFTER_MS)
                throw failure;
              const backoff = backoffDelayMs(attemptNumber + 1, {
                baseDelayMs,
                maxDelayMs,
              });
              await sleep(Math.max(backoff, failure.retryAfterMs ?? 0));
            }
          }
        },
      );
    },
    async close() {
      breaker.shutdown();
      await agent.close();
    },
  };
}

export type ServiceClient = ReturnType<typeof createServiceClient>;
