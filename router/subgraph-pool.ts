import CircuitBreaker from "opossum";
import { Agent } from "undici";
import { InfrastructureError } from "../platform/errors.ts";
import type { Logger } from "../platform/logger.ts";
import type { LoadBalancer, SubgraphSettings } from "./config.ts";
import {
  BREAKER_STATE_VALUE,
  type BreakerState,
  type ResilienceMetrics,
} from "./resilience-metrics.ts";
import { parseRetryAfterMs } from "../platform/retry.ts";
import type { ServiceDiscovery } from "./service-discovery.ts";
import {
  postToSubgraph,
  SubgraphHttpTimeout,
  type SubgraphHttpResponse,
} from "./subgraph-http.ts";

/** One HTTP exchange with one instance. */
export interface Attempt {
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
}

/** What came back when the exchange did not count as a failure (2xx, and 4xx other than 408/429). */
export interface SubgraphReply {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly text: string;
  /** The response headers header rules may pass back to the client (router/headers/). */
  readonly cacheControl: string | undefined;
  readonly setCookie: readonly string[];
}

export type FailureKind = "network" | "timeout" | "http" | "open";

/**
 * A fetch the breaker counts as failed (or refused because it is open). `retriable` says whether a
 * query may be sent again: timeouts are not, so a hanging subgraph costs one timeout, not several.
 */
export class SubgraphFailure extends InfrastructureError {
  constructor(
    readonly kind: FailureKind,
    message: string,
    {
      status,
      retryAfterMs,
      cause,
    }: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, {
      retriable: kind === "network" || kind === "http" || kind === "open",
      cause,
    });
    this.name = "SubgraphFailure";
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
}

/** 5xx, 408 and 429 mean "this instance cannot serve now"; every other status is an answer. */
export function isFailureStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

export interface Instance {
  readonly url: string;
  readonly label: string;
  outstanding: number;
  readonly breaker: CircuitBreaker<[Attempt], SubgraphReply>;
}

export interface InstanceSnapshot {
  readonly instance: string;
  readonly breaker: BreakerState;
  readonly outstanding: number;
}

export interface SubgraphPool {
  readonly name: string;
  /**
   * The instance to send the next attempt to, skipping open breakers (and a half-open one whose
   * probe is already in flight); `avoid` is passed over when another instance is available.
   * Undefined when every breaker is open: the caller fails fast without opening a socket.
   */
  pick(avoid?: Instance): Instance | undefined;
  /** Sends through the instance's breaker; rejects with a `SubgraphFailure`. */
  send(instance: Instance, attempt: Attempt): Promise<SubgraphReply>;
  /** Posts `{ __typename }` to every instance, bypassing the breakers (readiness). */
  probe(
    timeoutMs: number,
    headers?: Record<string, string>,
  ): Promise<Array<InstanceSnapshot & { reachable: boolean }>>;
  snapshot(): InstanceSnapshot[];
  start(): Promise<void>;
  close(): Promise<void>;
}

export function breakerState(
  breaker: CircuitBreaker<[Attempt], SubgraphReply>,
): BreakerState {
  if (breaker.opened) return "open";
  return breaker.halfOpen ? "half-open" : "closed";
}

/**
 * The instances of one subgraph, each with its own keep-alive connection pool and breaker
 * (created when the instance appears, never per request), behind a load balancer.
 */
export function createSubgraphPool({
  name,
  settings,
  discovery,
  loadBalancer,
  metrics,
  logger,
  connectionsPerInstance = 64,
  keepAliveTimeoutMs = 30_000,
}: {
  name: string;
  settings: SubgraphSettings;
  discovery: ServiceDiscovery;
  loadBalancer: LoadBalancer;
  metrics: ResilienceMetrics;
  logger: Logger;
  connectionsPerInstance?: number;
  keepAliveTimeoutMs?: number;
}): SubgraphPool {
  let instances: Instance[] = [];
  const agents = new Map<Instance, Agent>();
  let cursor = 0;

  function createInstance(url: string): Instance {
    const parsed = new URL(url);
    const origin = parsed.origin;
    const path = parsed.pathname + parsed.search;
    const agent = new Agent({
      connections: connectionsPerInstance,
      keepAliveTimeout: keepAliveTimeoutMs,
      pipelining: 1,
    });
    const label = parsed.host;

    async function exchange(attempt: Attempt): Promise<SubgraphReply> {
      let response: SubgraphHttpResponse;
      try {
        response = await postToSubgraph(agent, {
          origin,
          path,
          headers: attempt.headers,
          body: attempt.body,
          timeoutMs: attempt.timeoutMs,
        });
      } catch (error) {
        if (error instanceof SubgraphHttpTimeout)
          throw new SubgraphFailure(
            "timeout",
            `${name} did not answer within ${attempt.timeoutMs}ms`,
            { cause: error },
          );
        throw new SubgraphFailure("network", `${name} could not be reached`, {
          cause: error,
        });
      }
      const { contentType, cacheControl, setCookie, retryAfter } =
        response.headers;
      if (isFailureStatus(response.status))
        throw new SubgraphFailure(
          "http",
          `${name} answered HTTP ${response.status}`,
          {
            status: response.status,
            retryAfterMs: parseRetryAfterMs(retryAfter?.[0]),
          },
        );
      return {
        status: response.status,
        contentType: contentType?.[0],
        text: response.text,
        cacheControl: cacheControl?.join(", "),
        setCookie: setCookie ?? [],
      };
    }

    const breaker = new CircuitBreaker<[Attempt], SubgraphReply>(exchange, {
      // Timeouts are ours (per attempt, deadline-bounded, and they abort the socket); opossum's
      // own timeout only stops waiting and leaves the request running.
      timeout: false,
      errorThresholdPercentage: settings.breaker.errorThresholdPercentage,
      volumeThreshold: settings.breaker.volumeThreshold,
      resetTimeout: settings.breaker.resetTimeoutMs,
      rollingCountTimeout: settings.breaker.rollingWindowMs,
      rollingCountBuckets: 10,
      enableSnapshots: false,
    });
    const instance: Instance = { url, label, outstanding: 0, breaker };
    let consecutiveFailures = 0;
    const transition = (to: BreakerState, reason?: string) => {
      metrics.breakerState.set(
        { subgraph: name, instance: label },
        BREAKER_STATE_VALUE[to],
      );
      metrics.breakerTransitions.inc({ subgraph: name, instance: label, to });
      const fields = {
        subgraph: name,
        instance: label,
        breaker: to,
        ...(reason ? { reason } : {}),
      };
      if (to === "closed") logger.info(fields, "breaker closed");
      else
        logger.warn(
          fields,
          to === "open" ? "breaker opened" : "breaker half-open",
        );
    };
    breaker.on("open", () =>
      transition(
        "open",
        consecutiveFailures >= settings.outlierConsecutiveFailures
          ? "outlier"
          : "error rate",
      ),
    );
    breaker.on("halfOpen", () => transition("half-open"));
    breaker.on("close", () => transition("closed"));
    breaker.on("success", () => {
      consecutiveFailures = 0;
    });
    breaker.on("failure", () => {
      consecutiveFailures += 1;
      // Outlier ejection: an instance failing every call is taken out before the error rate over
      // the whole window says so; its breaker's half-open probe brings it back.
      if (
        consecutiveFailures >= settings.outlierConsecutiveFailures &&
        breaker.closed
      )
        breaker.open();
    });
    metrics.breakerState.set(
      { subgraph: name, instance: label },
      BREAKER_STATE_VALUE.closed,
    );
    agents.set(instance, agent);
    return instance;
  }

  function removeInstance(instance: Instance) {
    instance.breaker.shutdown();
    metrics.breakerState.remove({ subgraph: name, instance: instance.label });
    const agent = agents.get(instance);
    agents.delete(instance);
    // close() lets requests in flight finish; new ones never reach a removed instance.
    void agent?.close().catch(() => undefined);
  }

  function reconcile(urls: readonly string[]) {
    const known = new Map(
      instances.map((instance) => [instance.url, instance]),
    );
    const next = urls.map((url) => known.get(url) ?? createInstance(url));
    for (const instance of instances)
      if (!urls.includes(instance.url)) removeInstance(instance);
    instances = next;
    logger.info(
      {
        subgraph: name,
        instances: instances.map((instance) => instance.label),
      },
      "subgraph instances",
    );
  }

  const available = (instance: Instance) =>
    instance.breaker.closed || instance.breaker.pendingClose;

  return {
    name,
    pick(avoid) {
      const count = instances.length;
      let best: Instance | undefined;
      // Start where the last pick left off, so ties (and round robin) rotate over the instances.
      for (let step = 0; step < count; step++) {
        const candidate = instances[(cursor + step) % count]!;
        if (!available(candidate)) continue;
        if (candidate === avoid && count > 1) continue;
        if (loadBalancer === "round-robin") {
          best = candidate;
          break;
        }
        if (best === undefined || candidate.outstanding < best.outstanding)
          best = candidate;
      }
      if (best === undefined && avoid !== undefined && available(avoid))
        best = avoid;
      cursor = (cursor + 1) % Math.max(1, count);
      return best;
    },
    async send(instance, attempt) {
      instance.outstanding += 1;
      try {
        return await instance.breaker.fire(attempt);
      } catch (error) {
        if (error instanceof SubgraphFailure) throw error;
        if ((error as { code?: string }).code === "EOPENBREAKER")
          throw new SubgraphFailure("open", `${name} breaker is open`, {
            cause: error,
          });
        throw new SubgraphFailure("network", `${name} fetch failed`, {
          cause: error,
        });
      } finally {
        instance.outstanding -= 1;
      }
    },
    async probe(timeoutMs, headers = {}) {
      return Promise.all(
        instances.map(async (instance) => {
          const agent = agents.get(instance)!;
          const url = new URL(instance.url);
          let reachable: boolean;
          try {
            const response = await agent.request({
              origin: url.origin,
              path: url.pathname + url.search,
              method: "POST",
              headers: {
                "content-type": "application/json",
                "apollo-require-preflight": "true",
                ...headers,
              },
              body: '{"query":"{ __typename }"}',
              signal: AbortSignal.timeout(timeoutMs),
            });
            await response.body.dump();
            reachable = response.statusCode === 200;
          } catch {
            reachable = false;
          }
          return {
            instance: instance.label,
            breaker: breakerState(instance.breaker),
            outstanding: instance.outstanding,
            reachable,
          };
        }),
      );
    },
    snapshot: () =>
      instances.map((instance) => ({
        instance: instance.label,
        breaker: breakerState(instance.breaker),
        outstanding: instance.outstanding,
      })),
    async start() {
      discovery.onChange(reconcile);
      // A static list is known at once; DNS fills the pool (through onChange) when it resolves.
      reconcile(discovery.instances());
      await discovery.start();
    },
    async close() {
      discovery.stop();
      for (const instance of instances) instance.breaker.shutdown();
      await Promise.all(
        [...agents.values()].map((agent) =>
          agent.close().catch(() => undefined),
        ),
      );
      agents.clear();
      instances = [];
    },
  };
}
