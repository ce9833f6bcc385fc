import { ConfigError, readBoolean, readCommonConfig, readInt, readOptional, readPort, readString, readUrl, type Env, type LogFormat, type LogLevel } from '../platform/config.ts';
import { InvalidProxyError, parseTrustedProxies, type ClientAddressSettings } from './client-address.ts';
import type { OperationLimits } from './operation-limits-plugin.ts';
import type { RateLimit, RateLimitConfig } from './rate-limit-plugin.ts';

/** Circuit-breaker settings, applied to every instance of a subgraph separately. */
export interface BreakerSettings {
  /** Error percentage over the rolling window above which the breaker opens. @default 50 */
  readonly errorThresholdPercentage: number;
  /** Calls the window must hold before the error percentage counts (a breaker never opens on 1 failure of 1). @default 5 */
  readonly volumeThreshold: number;
  /** How long an open breaker fails fast before letting one probe through (half-open). @default 5000 */
  readonly resetTimeoutMs: number;
  /** Length of the rolling window the error percentage is computed over (10 buckets). @default 10000 */
  readonly rollingWindowMs: number;
}

/** How the router finds the instances behind a subgraph's routing URL. */
export type DiscoverySettings =
  /** A fixed list of instance URLs (`PRODUCTS_URL=http://a:4002/graphql,http://b:4002/graphql`). */
  | { readonly kind: 'static'; readonly urls: readonly string[] }
  /** Every address the URL's host name resolves to, re-resolved every `refreshMs`. */
  | { readonly kind: 'dns'; readonly url: string; readonly refreshMs: number };

export interface SubgraphSettings {
  /** Per-attempt timeout; the request deadline shortens it when less time is left. @default 3000 */
  readonly timeoutMs: number;
  readonly breaker: BreakerSettings;
  /** Requests in flight to this subgraph (all instances) before new ones queue. @default 64 */
  readonly maxConcurrent: number;
  /** Requests that may wait for a slot; beyond that a fetch fails fast with SUBGRAPH_UNAVAILABLE. @default 128 */
  readonly maxQueue: number;
  /** Consecutive failures after which an instance is ejected (its breaker forced open). @default 5 */
  readonly outlierConsecutiveFailures: number;
  /** Undefined: the routing URL from the supergraph, as a one-instance static list. */
  readonly discovery: DiscoverySettings | undefined;
}

export interface RetrySettings {
  /** Attempts per query fetch, the first included (1 disables retries). Mutations always get 1. @default 3 */
  readonly maxAttempts: number;
  /** Backoff base: attempt n waits a random time in [0, min(max, base·2^(n-1))] (full jitter). @default 25 */
  readonly baseDelayMs: number;
  /** Backoff cap (a `Retry-After` from the subgraph may ask for longer; the deadline still bounds it). @default 1000 */
  readonly maxDelayMs: number;
  /** Retries allowed per 100 fetches to a subgraph, earned as traffic flows. @default 20 */
  readonly budgetPercent: number;
  /** Retries allowed before any traffic has earned them; also the most the budget can bank. @default 10 */
  readonly budgetReserve: number;
}

export type LoadBalancer = 'least-outstanding' | 'round-robin';

export interface RouterConfig {
  readonly production: boolean;
  readonly logLevel: LogLevel;
  /** Also append the log to this file (LOG_FILE, see CommonConfig). */
  readonly logFile: string | undefined;
  readonly logFormat: LogFormat;
  /** @default 4000 */
  readonly port: number;
  /** @default "127.0.0.1" */
  readonly host: string;
  /**
   * Port of the admin listener: `/health`, `/ready` with per-instance details, `/metrics`. Undefined:
   * none. 0: any free port. @default 4090 in production, undefined in development (where the public
   * port serves the details and `/metrics` too)
   */
  readonly adminPort: number | undefined;
  /** Address the admin listener binds. @default "127.0.0.1" (loopback: scrapers run beside the router) */
  readonly adminHost: string;
  /** Composed supergraph to serve; watched and hot-reloaded. @default "./supergraph.graphql" */
  readonly supergraphPath: string;
  /** Largest request body accepted. @default 1000000 */
  readonly maxBodyBytes: number;
  /** How long `/ready` waits for each subgraph instance. @default 2000 */
  readonly readinessTimeoutMs: number;
  /** Edge security: token verification, router token, rate limits, operation limits. */
  readonly security: RouterSecurityConfig;
  /** Whole-request budget: every subgraph fetch, retry and bulkhead wait ends by then. @default 10000 */
  readonly requestDeadlineMs: number;
  readonly retry: RetrySettings;
  /** @default "least-outstanding" */
  readonly loadBalancer: LoadBalancer;
  /** Settings per known subgraph (`<NAME>_TIMEOUT_MS`, ... override the `ROUTER_*` defaults). */
  readonly subgraphs: Readonly<Record<string, SubgraphSettings>>;
  /** Settings for a subgraph the supergraph names but this config does not know. */
  readonly subgraphDefaults: SubgraphSettings;
  readonly deduplication: DeduplicationSettings;
}

/** In-flight deduplication (router/deduplication.ts); neither caches anything past the work itself. */
export interface DeduplicationSettings {
  /** Identical query operations of the same caller, in flight together, execute once. @default true */
  readonly inbound: boolean;
  /** Identical subgraph query fetches carrying the same router token, in flight together, are sent once. @default true */
  readonly subgraphFetches: boolean;
}

/** The router's admin port in production when ROUTER_ADMIN_PORT is unset. */
export const DEFAULT_ADMIN_PORT = 4090;

/** Subgraphs whose settings may be overridden; a supergraph may name others, which get the defaults. */
export const KNOWN_SUBGRAPHS = ['users', 'products', 'orders', 'payments', 'notifications'] as const;

function readUrlList(env: Env, name: string): string[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const urls = raw.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (urls.length === 0) throw new ConfigError(name, 'must list at least one URL');
  for (const url of urls) readUrl({ [name]: url }, name);
  return urls;
}

function readSubgraphSettings(env: Env, prefix: string | undefined, fallback: SubgraphSettings | undefined, dnsRefreshMs: number): SubgraphSettings {
  // `<NAME>_X` overrides `ROUTER_X`; without a prefix only the router-wide value is read.
  const int = (suffix: string, base: number, bounds: { min: number; max: number }, subgraphSuffix = suffix) => {
    const routerWide = readInt(env, `ROUTER_${suffix}`, base, bounds);
    return prefix ? readInt(env, `${prefix}_${subgraphSuffix}`, routerWide, bounds) : routerWide;
  };
  const d = fallback;
  let discovery: DiscoverySettings | undefined;
  if (prefix) {
    const urls = readUrlList(env, `${prefix}_URL`);
    const kind = readString(env, `${prefix}_DISCOVERY`, 'static');
    if (kind !== 'static' && kind !== 'dns') throw new ConfigError(`${prefix}_DISCOVERY`, `must be static or dns, got ${JSON.stringify(kind)}`);
    if (kind === 'dns') {
      if (urls?.length !== 1) throw new ConfigError(`${prefix}_URL`, `must be exactly one URL when ${prefix}_DISCOVERY=dns`);
      discovery = { kind: 'dns', url: urls[0]!, refreshMs: dnsRefreshMs };
    } else if (urls) {
      discovery = { kind: 'static', urls };
    }
  }
  return Object.freeze({
    timeoutMs: int('SUBGRAPH_TIMEOUT_MS', d?.timeoutMs ?? 3000, { min: 10, max: 600_000 }, 'TIMEOUT_MS'),
    breaker: Object.freeze({
      errorThresholdPercentage: int('BREAKER_ERROR_PERCENT', d?.breaker.errorThresholdPercentage ?? 50, { min: 1, max: 100 }),
      volumeThreshold: int('BREAKER_VOLUME_THRESHOLD', d?.breaker.volumeThreshold ?? 5, { min: 1, max: 1_000_000 }),
      resetTimeoutMs: int('BREAKER_RESET_MS', d?.breaker.resetTimeoutMs ?? 5000, { min: 10, max: 3_600_000 }),
      rollingWindowMs: int('BREAKER_WINDOW_MS', d?.breaker.rollingWindowMs ?? 10_000, { min: 100, max: 3_600_000 }),
    }),
    maxConcurrent: int('BULKHEAD_MAX_CONCURRENT', d?.maxConcurrent ?? 64, { min: 1, max: 100_000 }),
    maxQueue: int('BULKHEAD_MAX_QUEUE', d?.maxQueue ?? 128, { min: 0, max: 1_000_000 }),
    outlierConsecutiveFailures: int('OUTLIER_CONSECUTIVE_FAILURES', d?.outlierConsecutiveFailures ?? 5, { min: 1, max: 1_000_000 }),
    discovery,
  });
}

function firstUrl(discovery: DiscoverySettings | undefined): string | undefined {
  if (!discovery) return undefined;
  return discovery.kind === 'static' ? discovery.urls[0] : discovery.url;
}

export function loadRouterConfig(env: Env): RouterConfig {
  const common = readCommonConfig(env);
  const dnsRefreshMs = readInt(env, 'ROUTER_DNS_REFRESH_MS', 10_000, { min: 100, max: 3_600_000 });
  const subgraphDefaults = readSubgraphSettings(env, undefined, undefined, dnsRefreshMs);
  const subgraphs: Record<string, SubgraphSettings> = {};
  for (const name of KNOWN_SUBGRAPHS) subgraphs[name] = readSubgraphSettings(env, name.toUpperCase(), subgraphDefaults, dnsRefreshMs);
  const loadBalancer = readString(env, 'ROUTER_LOAD_BALANCER', 'least-outstanding');
  if (loadBalancer !== 'least-outstanding' && loadBalancer !== 'round-robin') {
    throw new ConfigError('ROUTER_LOAD_BALANCER', `must be least-outstanding or round-robin, got ${JSON.stringify(loadBalancer)}`);
  }
  const retry: RetrySettings = Object.freeze({
    maxAttempts: readInt(env, 'ROUTER_RETRY_MAX_ATTEMPTS', 3, { min: 1, max: 10 }),
    baseDelayMs: readInt(env, 'ROUTER_RETRY_BASE_DELAY_MS', 25, { min: 0, max: 60_000 }),
    maxDelayMs: readInt(env, 'ROUTER_RETRY_MAX_DELAY_MS', 1000, { min: 0, max: 600_000 }),
    budgetPercent: readInt(env, 'ROUTER_RETRY_BUDGET_PERCENT', 20, { min: 0, max: 100 }),
    budgetReserve: readInt(env, 'ROUTER_RETRY_BUDGET_RESERVE', 10, { min: 0, max: 1_000_000 }),
  });
  if (retry.maxDelayMs < retry.baseDelayMs) throw new ConfigError('ROUTER_RETRY_MAX_DELAY_MS', `must be at least ROUTER_RETRY_BASE_DELAY_MS (${retry.baseDelayMs})`);
  return Object.freeze({
    production: common.production,
    logLevel: common.logLevel,
    logFile: common.logFile,
    logFormat: common.logFormat,
    port: readPort(env, 'ROUTER_PORT', 4000),
    host: readString(env, 'HOST', '127.0.0.1'),
    // Production keeps diagnostics off the public port, so they get a port of their own by default.
    adminPort: readOptional(env, 'ROUTER_ADMIN_PORT') === undefined ? (common.production ? DEFAULT_ADMIN_PORT : undefined) : readPort(env, 'ROUTER_ADMIN_PORT', DEFAULT_ADMIN_PORT),
    adminHost: readString(env, 'ROUTER_ADMIN_HOST', '127.0.0.1'),
    supergraphPath: readString(env, 'SUPERGRAPH_PATH', './supergraph.graphql'),
    maxBodyBytes: readInt(env, 'ROUTER_MAX_BODY_BYTES', 1_000_000, { min: 1024, max: 100_000_000 }),
    readinessTimeoutMs: readInt(env, 'ROUTER_READINESS_TIMEOUT_MS', 2000, { min: 100, max: 60_000 }),
    requestDeadlineMs: readInt(env, 'ROUTER_REQUEST_DEADLINE_MS', 10_000, { min: 10, max: 600_000 }),
    retry,
    loadBalancer,
    subgraphs: Object.freeze(subgraphs),
    subgraphDefaults,
    deduplication: Object.freeze({
      inbound: readBoolean(env, 'ROUTER_DEDUP_INBOUND', true),
      subgraphFetches: readBoolean(env, 'ROUTER_DEDUP_SUBGRAPH_FETCHES', true),
    }),
    security: loadRouterSecurityConfig(env, { internalTokenSecret: common.internalTokenSecret, usersUrl: firstUrl(subgraphs.users?.discovery) }),
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
  /** Where the client's address comes from (rate limits, logs): router/client-address.ts. */
  readonly clientAddress: ClientAddressSettings;
}

/**
 * `TRUSTED_PROXIES` (comma-separated CIDRs or addresses; default none) and `TRUSTED_PROXY_HEADER`
 * (`x-forwarded-for` or `forwarded`). Validated here, so a typo fails the start, not every request.
 */
function readClientAddress(env: Env): ClientAddressSettings {
  const trustedProxies = (readOptional(env, 'TRUSTED_PROXIES') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  try {
    parseTrustedProxies(trustedProxies);
  } catch (error) {
    if (error instanceof InvalidProxyError) throw new ConfigError('TRUSTED_PROXIES', `entries must be IP addresses or CIDRs (10.0.0.0/8, fd00::/8): ${error.message}`);
    throw error;
  }
  const header = readString(env, 'TRUSTED_PROXY_HEADER', 'x-forwarded-for').toLowerCase();
  if (header !== 'x-forwarded-for' && header !== 'forwarded') throw new ConfigError('TRUSTED_PROXY_HEADER', `must be x-forwarded-for or forwarded, got ${JSON.stringify(header)}`);
  return Object.freeze({ trustedProxies: Object.freeze(trustedProxies), header });
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
    clientAddress: readClientAddress(env),
  });
}

/** The settings a subgraph runs with: its own when known, the defaults otherwise. */
export function subgraphSettings(config: RouterConfig, name: string): SubgraphSettings {
  return config.subgraphs[name] ?? config.subgraphDefaults;
}

/** A copy of `config` with some subgraphs' settings changed (tests and the embedded stack). */
export function withSubgraphSettings(config: RouterConfig, changes: Readonly<Record<string, Partial<SubgraphSettings>>>): RouterConfig {
  const subgraphs: Record<string, SubgraphSettings> = { ...config.subgraphs };
  for (const [name, change] of Object.entries(changes)) subgraphs[name] = Object.freeze({ ...subgraphSettings(config, name), ...change });
  return Object.freeze({ ...config, subgraphs: Object.freeze(subgraphs) });
}
