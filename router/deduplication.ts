import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import type { Principal } from '../platform/principal.ts';
import type { RouterContext } from './context.ts';

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
 *
 * Only work that has not finished is shared: nothing is cached, and the entry goes the moment the
 * leader settles (with its result or its failure, which joiners then see too).
 */
export class InFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

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
  if (!principal) return 'anonymous';
  return `user:${principal.id}:${principal.role}:${[...principal.scopes].sort().join(' ')}`;
}

/**
 * Wraps a gateway so identical in-flight **query** operations of the same caller execute once.
 * Keyed by document text, operation name, variables and caller; mutations and subscriptions always
 * execute. The shared result is never mutated by Apollo Server (it formats errors and serialises
 * per response), so joiners get the leader's result object as is.
 */
export function deduplicateInbound(gateway: GatewayInterface, { onJoin }: { onJoin: () => void }): GatewayInterface {
  const inFlight = new InFlight<Awaited<ReturnType<GatewayExecutor>>>();
  const wrap = (executor: GatewayExecutor): GatewayExecutor => (requestContext) => {
    if (requestContext.operation.operation !== 'query') return executor(requestContext);
    const context = requestContext.context as Partial<RouterContext>;
    const key = `${callerKey(context.principal ?? null)}\u0000${requestContext.operationName ?? ''}\u0000${JSON.stringify(requestContext.request.variables ?? {})}\u0000${requestContext.source}`;
    return inFlight.run(key, () => executor(requestContext), onJoin);
  };
  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    async load(options) {
      const loaded = await gateway.load(options);
      return { ...loaded, executor: loaded.executor && wrap(loaded.executor) };
    },
    stop: () => gateway.stop(),
  };
}
