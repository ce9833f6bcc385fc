import { readCommonConfig, readInt, readPort, readString, readUrl, type Env, type LogLevel } from '../platform/config.ts';

export interface RouterConfig {
  readonly production: boolean;
  readonly logLevel: LogLevel;
  /** @default 4000 */
  readonly port: number;
  /** @default "127.0.0.1" */
  readonly host: string;
  /** Composed supergraph to serve; watched and hot-reloaded. @default "./supergraph.graphql" */
  readonly supergraphPath: string;
  /**
   * Per-subgraph routing URL overrides, from `<NAME>_URL` (e.g. `ORDERS_URL`); a subgraph not
   * listed uses the routing URL in the supergraph.
   */
  readonly subgraphUrls: Readonly<Record<string, string>>;
  /** Largest request body accepted. @default 1000000 */
  readonly maxBodyBytes: number;
  /** How long `/ready` waits for each subgraph. @default 2000 */
  readonly readinessTimeoutMs: number;
}

/** Subgraphs whose URL may be overridden; a supergraph may name others, which keep their routing URL. */
export const KNOWN_SUBGRAPHS = ['users', 'products', 'orders', 'payments', 'notifications'] as const;

export function loadRouterConfig(env: Env): RouterConfig {
  const common = readCommonConfig(env);
  const subgraphUrls: Record<string, string> = {};
  for (const name of KNOWN_SUBGRAPHS) {
    const url = readUrl(env, `${name.toUpperCase()}_URL`);
    if (url) subgraphUrls[name] = url;
  }
  return Object.freeze({
    production: common.production,
    logLevel: common.logLevel,
    port: readPort(env, 'ROUTER_PORT', 4000),
    host: readString(env, 'HOST', '127.0.0.1'),
    supergraphPath: readString(env, 'SUPERGRAPH_PATH', './supergraph.graphql'),
    subgraphUrls: Object.freeze(subgraphUrls),
    maxBodyBytes: readInt(env, 'ROUTER_MAX_BODY_BYTES', 1_000_000, { min: 1024, max: 100_000_000 }),
    readinessTimeoutMs: readInt(env, 'ROUTER_READINESS_TIMEOUT_MS', 2000, { min: 100, max: 60_000 }),
  });
}
