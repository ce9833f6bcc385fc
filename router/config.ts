import { ConfigError, readCommonConfig, readInt, readOptional, readPort, readString, readUrl, type Env, type LogLevel } from '../platform/config.ts';
import type { OperationLimits } from './operation-limits-plugin.ts';
import type { RateLimit, RateLimitConfig } from './rate-limit-plugin.ts';

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
  /** Edge security: token verification, router token, rate limits, operation limits. */
  readonly security: RouterSecurityConfig;
}

/** Subgraphs whose URL may be overridden; a supergraph may name others, which keep their routing URL. */
export const KNOWN_SUBGRAPHS = ['users', 'products', 'orders', 'payments'] as const;

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
    security: loadRouterSecurityConfig(env, { internalTokenSecret: common.internalTokenSecret, usersUrl: subgraphUrls.users }),
  });
}

export interface RouterSecurityConfig {
  /** Users' public keys. @default derived from USERS_URL, else "http://localhost:4001/.well-known/jwks.json" */
  readonly jwksUrl: string;
  /** Required `iss` of access tokens. @default "switchyard-users" */
  readonly jwtIssuer: string;
  /** Required `aud` of access tokens. @default "switchyard" */
  readonly jwtAudience: string;
  /** Minimum time between JWKS refetches triggered by an unknown `kid`. @default 30000 */
  readonly jwksCooldownMs: number;
  /** Secret of the router → subgraph token (platform/internal-token.ts). */
  readonly internalTokenSecret: string;
  readonly rateLimit: RateLimitConfig;
  readonly operationLimits: OperationLimits;
}

const WINDOW_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseWindow(variable: string, raw: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(raw.trim());
  if (!match || Number(match[1]) === 0) throw new ConfigError(variable, `must be a duration like 500ms, 10s, 1m or 1h, got ${JSON.stringify(raw)}`);
  return Number(match[1]) * WINDOW_UNITS[match[2]!]!;
}

function parseLimit(variable: string, raw: string): RateLimit {
  const [max, window] = raw.split('/');
  if (!max || !/^\d+$/.test(max) || Number(max) < 1 || window === undefined) throw new ConfigError(variable, `must look like 100/1m, got ${JSON.stringify(raw)}`);
  return { max: Number(max), windowMs: parseWindow(variable, window) };
}

/**
 * `ROUTER_RATE_LIMIT` (default `300/1m`) applies to every root field per client;
 * `ROUTER_RATE_LIMIT_FIELDS` overrides some (default `Mutation.logIn=30/1m,Mutation.signUp=10/1m`;
 * setting it replaces that list).
 */
function readRateLimits(env: Env): Pick<RateLimitConfig, 'default' | 'fields'> {
  const fields: Record<string, RateLimit> = {};
  // Sign-in and sign-up are the brute-force targets: tighter than the rest unless configured.
  for (const entry of (readOptional(env, 'ROUTER_RATE_LIMIT_FIELDS') ?? 'Mutation.logIn=30/1m,Mutation.signUp=10/1m').split(',').filter((item) => item.trim() !== '')) {
    const [field, limit] = entry.split('=');
    if (!field || !/^(Query|Mutation)\.[_A-Za-z][_0-9A-Za-z]*$/.test(field.trim()) || !limit) {
      throw new ConfigError('ROUTER_RATE_LIMIT_FIELDS', `entries must look like Mutation.logIn=10/1m, got ${JSON.stringify(entry)}`);
    }
    fields[field.trim()] = parseLimit('ROUTER_RATE_LIMIT_FIELDS', limit);
  }
  return { default: parseLimit('ROUTER_RATE_LIMIT', readString(env, 'ROUTER_RATE_LIMIT', '300/1m')), fields };
}

export function loadRouterSecurityConfig(env: Env, { internalTokenSecret, usersUrl }: { internalTokenSecret: string; usersUrl: string | undefined }): RouterSecurityConfig {
  const derivedJwks = new URL('/.well-known/jwks.json', usersUrl ?? 'http://localhost:4001').toString();
  return Object.freeze({
    jwksUrl: readUrl(env, 'JWKS_URL', derivedJwks)!,
    jwtIssuer: readString(env, 'JWT_ISSUER', 'switchyard-users'),
    jwtAudience: readString(env, 'JWT_AUDIENCE', 'switchyard'),
    jwksCooldownMs: readInt(env, 'JWKS_COOLDOWN_MS', 30_000, { min: 0, max: 3_600_000 }),
    internalTokenSecret,
    rateLimit: Object.freeze({
      ...readRateLimits(env),
      redisUrl: readUrl(env, 'REDIS_URL'),
      redisKeyPrefix: readString(env, 'ROUTER_RATE_LIMIT_PREFIX', 'switchyard:rate-limit:'),
    }),
    operationLimits: Object.freeze({
      maxDepth: readInt(env, 'ROUTER_MAX_DEPTH', 12, { min: 1, max: 100 }),
      maxAliases: readInt(env, 'ROUTER_MAX_ALIASES', 30, { min: 0, max: 10_000 }),
      maxRootFields: readInt(env, 'ROUTER_MAX_ROOT_FIELDS', 20, { min: 1, max: 1000 }),
      maxCost: readInt(env, 'ROUTER_MAX_COST', 20_000, { min: 1, max: 100_000_000 }),
    }),
  });
}
