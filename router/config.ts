import {
  COMMON_SETTINGS,
  COMMON_SETTINGS_READ,
  ConfigError,
  KAFKA_SETTINGS,
  readCommonConfig,
  readKafkaConfig,
  TOKEN_SETTINGS,
  type KafkaConfig,
  type Env,
  type LogFormat,
  type LogLevel,
} from "../platform/config.ts";
import {
  custom,
  define,
  flattenSettings,
  list,
  readSetting,
  requiredDefault,
  setting,
  structured,
  text,
  url,
  type Setting,
  type SettingType,
} from "../platform/settings.ts";
import {
  InvalidProxyError,
  parseTrustedProxies,
  type ClientAddressSettings,
  type ForwardedHeader,
} from "./client-address.ts";
import {
  DEMAND_CONTROL_SETTINGS,
  readDemandControlSettings,
} from "./demand-control/config.ts";
import type { DemandControlSettings } from "./demand-control/plugin.ts";
import { SUBGRAPH_NAMES } from "../platform/services.ts";
import type { OperationLimits } from "./operation-limits-plugin.ts";
import {
  HEADER_RULES_SCHEMA,
  NO_HEADER_RULES,
  parseHeaderRules,
  type HeaderRules,
} from "./headers/rules.ts";
import {
  ERROR_POLICIES_SCHEMA,
  NO_ERROR_POLICIES,
  parseErrorPolicies,
  type ErrorPolicies,
} from "./error-policy/policy.ts";
import type { PlanDebugMode } from "./plan-debug/recorder.ts";
import type { ProgressiveOverrideSettings } from "./progressive-override.ts";
import {
  readTrustedDocumentsSettings,
  TRUSTED_DOCUMENTS_SETTINGS,
  type TrustedDocumentsSettings,
} from "./trusted-documents/config.ts";
import type { RateLimit, RateLimitConfig } from "./rate-limit-plugin.ts";

/** Circuit-breaker settings, applied to every instance of a subgraph separately. */
export interface BreakerSettings {
  /** Error percentage over the rolling window above which the breaker opens. */
  readonly errorThresholdPercentage: number;
  /** Calls the window must hold before the error percentage counts (a breaker never opens on 1 failure of 1). */
  readonly volumeThreshold: number;
  /** How long an open breaker fails fast before letting one probe through (half-open). */
  readonly resetTimeoutMs: number;
  /** Length of the rolling window the error percentage is computed over (10 buckets). */
  readonly rollingWindowMs: number;
}

/** How the router finds the instances behind a subgraph's routing URL. */
export type DiscoverySettings =
  /** A fixed list of instance URLs (`PRODUCTS_URL=http://a:4002/graphql,http://b:4002/graphql`). */
  | { readonly kind: "static"; readonly urls: readonly string[] }
  /** Every address the URL's host name resolves to, re-resolved every `refreshMs`. */
  | { readonly kind: "dns"; readonly url: string; readonly refreshMs: number };

export interface SubgraphSettings {
  /** Per-attempt timeout; the request deadline shortens it when less time is left. */
  readonly timeoutMs: number;
  readonly breaker: BreakerSettings;
  /** Requests in flight to this subgraph (all instances) before new ones queue. */
  readonly maxConcurrent: number;
  /** Requests that may wait for a slot; beyond that a fetch fails fast with SUBGRAPH_UNAVAILABLE. */
  readonly maxQueue: number;
  /** Consecutive failures after which an instance is ejected (its breaker forced open). */
  readonly outlierConsecutiveFailures: number;
  /** Undefined: the routing URL from the supergraph, as a one-instance static list. */
  readonly discovery: DiscoverySettings | undefined;
}

export interface RetrySettings {
  /** Attempts per query fetch, the first included (1 disables retries). Mutations always get 1. */
  readonly maxAttempts: number;
  /** Backoff base: attempt n waits a random time in [0, min(max, base·2^(n-1))] (full jitter). */
  readonly baseDelayMs: number;
  /** Backoff cap (a `Retry-After` from the subgraph may ask for longer; the deadline still bounds it). */
  readonly maxDelayMs: number;
  /** Retries allowed per 100 fetches to a subgraph, earned as traffic flows. */
  readonly budgetPercent: number;
  /** Retries allowed before any traffic has earned them; also the most the budget can bank. */
  readonly budgetReserve: number;
}

export type LoadBalancer = "least-outstanding" | "round-robin";

/** The router's settings; each field's variable, file key and default are declared once in ROUTER_SETTINGS. */
export interface RouterConfig {
  readonly production: boolean;
  readonly logLevel: LogLevel;
  /** Also append the log to this file (LOG_FILE, see CommonConfig). */
  readonly logFile: string | undefined;
  readonly logFormat: LogFormat;
  /** ROUTER_SETTINGS.port */
  readonly port: number;
  /** COMMON_SETTINGS.host */
  readonly host: string;
  /**
   * Port of the admin listener: `/health`, `/ready` with per-instance details, `/metrics`. Undefined:
   * none. 0: any free port. Development has none by default: the public port serves the details and
   * `/metrics` too (ROUTER_SETTINGS.adminPort).
   */
  readonly adminPort: number | undefined;
  /** Address the admin listener binds. */
  readonly adminHost: string;
  /** Composed supergraph to serve; watched and hot-reloaded. */
  readonly supergraphPath: string;
  /** Largest request body accepted. */
  readonly maxBodyBytes: number;
  /** How long `/ready` waits for each subgraph instance. */
  readonly readinessTimeoutMs: number;
  /** Edge security: token verification, router token, rate limits, operation limits. */
  readonly security: RouterSecurityConfig;
  /** Whole-request budget: every subgraph fetch, retry and bulkhead wait ends by then. */
  readonly requestDeadlineMs: number;
  readonly retry: RetrySettings;
  /** How an instance is picked (ROUTER_SETTINGS.loadBalancer). */
  readonly loadBalancer: LoadBalancer;
  /** Settings per known subgraph (`<NAME>_TIMEOUT_MS`, ... override the `ROUTER_*` defaults). */
  readonly subgraphs: Readonly<Record<string, SubgraphSettings>>;
  /** Settings for a subgraph the supergraph names but this config does not know. */
  readonly subgraphDefaults: SubgraphSettings;
  readonly deduplication: DeduplicationSettings;
  /** Header rules toward subgraphs and back to the client (router/headers/, docs/headers.md). */
  readonly headers: HeaderRules;
  /** How subgraph errors reach the client (router/error-policy/, docs/error-policy.md). */
  readonly subgraphErrors: ErrorPolicies;
  /** Progressive `@override` labels (router/progressive-override.ts). */
  readonly progressiveOverride: ProgressiveOverrideSettings;
  /** Who may ask for the plan-debug view (router/plan-debug/recorder.ts). */
  readonly planDebug: PlanDebugMode;
  /** Who runs query plans (ROUTER_SETTINGS.executor; router/executor/). */
  readonly executor: "switchyard" | "gateway";
  /** Operation cost by the IBM cost spec (router/demand-control/). */
  readonly demandControl: DemandControlSettings;
  /** Persisted-operation safelisting (router/trusted-documents/). */
  readonly trustedDocuments: TrustedDocumentsSettings;
  /** Live updates: GraphQL subscriptions over WebSocket and SSE (router/live/). */
  readonly subscriptions: SubscriptionSettings;
}

/** Limits and keep-alive of GraphQL subscriptions (router/live/). */
export interface SubscriptionSettings {
  /** Subscriptions one client (`user:<id>` or `ip:<address>`) may hold, over all its connections. */
  readonly maxPerClient: number;
  /** Subscriptions one WebSocket connection may hold. */
  readonly maxPerConnection: number;
  /** Events queued for one subscriber before it is dropped with SUBSCRIBER_TOO_SLOW. */
  readonly maxQueuedEvents: number;
  /**
   * Per-event resolutions (queries through the gateway) running at once over all subscribers; the
   * others wait their turn in the subscribers' own bounded queues.
   */
  readonly maxConcurrentResolutions: number;
  /** WebSocket ping interval (SSE streams get graphql-sse's fixed 12 s comment). */
  readonly keepAliveMs: number;
  /**
   * Where the router deployed alone (router/main.ts) reads order events: KAFKA_BROKERS and
   * KAFKA_TOPIC_PREFIX. Undefined: no event stream, subscribing answers SUBSCRIPTIONS_UNAVAILABLE.
   * `npm start` ignores it: its router follows the pipeline's own event log (stack.ts).
   */
  readonly kafka: KafkaConfig | undefined;
}

/** In-flight deduplication (router/deduplication.ts); neither caches anything past the work itself. */
export interface DeduplicationSettings {
  /** Identical query operations of the same caller, in flight together, execute once. */
  readonly inbound: boolean;
  /** Identical subgraph query fetches carrying the same router token, in flight together, are sent once. */
  readonly subgraphFetches: boolean;
}

/** Subgraphs whose settings may be overridden; a supergraph may name others, which get the defaults. */
export const KNOWN_SUBGRAPHS = SUBGRAPH_NAMES;

const WINDOW_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

function parseWindow(raw: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(raw.trim());
  if (!match || Number(match[1]) === 0)
    throw new Error(
      `must be a duration like 500ms, 10s, 1m or 1h, got ${JSON.stringify(raw)}`,
    );
  return Number(match[1]) * WINDOW_UNITS[match[2]!]!;
}

function parseLimit(raw: string): RateLimit {
  const [max, window] = raw.split("/");
  if (!max || !/^\d+$/.test(max) || Number(max) < 1 || window === undefined)
    throw new Error(`must look like 100/1m, got ${JSON.stringify(raw)}`);
  return { max: Number(max), windowMs: parseWindow(window) };
}

const rateLimit: SettingType<RateLimit> = custom(
  { type: "string", pattern: "^\\d+/\\d+(ms|s|m|h)$" },
  parseLimit,
);

const rateLimitFields: SettingType<Readonly<Record<string, RateLimit>>> =
  custom(
    {
      anyOf: [
        {
          type: "array",
          items: {
            type: "string",
            pattern:
              "^(Query|Mutation)\\.[_A-Za-z][_0-9A-Za-z]*=\\d+/\\d+(ms|s|m|h)$",
          },
        },
        { type: "string" },
      ],
    },
    (raw) => {
      const fields: Record<string, RateLimit> = {};
      for (const entry of raw.split(",").filter((item) => item.trim() !== "")) {
        const [field, limit] = entry.split("=");
        if (
          !field ||
          !/^(Query|Mutation)\.[_A-Za-z][_0-9A-Za-z]*$/.test(field.trim()) ||
          !limit
        )
          throw new Error(
            `entries must look like Mutation.logIn=10/1m, got ${JSON.stringify(entry)}`,
          );
        fields[field.trim()] = parseLimit(limit);
      }
      return fields;
    },
  );

const urlList: SettingType<readonly string[]> = custom(
  {
    anyOf: [
      { type: "array", items: { type: "string", format: "uri" }, minItems: 1 },
      { type: "string", format: "uri" },
    ],
  },
  (raw, context) => {
    const urls = list(url).parse(raw, context);
    if (urls.length === 0) throw new Error("must list at least one URL");
    return urls;
  },
);

/** `TRUSTED_PROXIES`: validated here, so a typo fails the start, not every request. */
const trustedProxies: SettingType<readonly string[]> = custom(
  { anyOf: [{ type: "array", items: { type: "string" } }, { type: "string" }] },
  (raw, context) => {
    const entries = list(text).parse(raw, context);
    try {
      parseTrustedProxies(entries);
    } catch (error) {
      if (error instanceof InvalidProxyError)
        throw new Error(
          `entries must be IP addresses or CIDRs (10.0.0.0/8, fd00::/8): ${error.message}`,
          { cause: error },
        );
      throw error;
    }
    return Object.freeze(entries);
  },
);

const forwardedHeader: SettingType<ForwardedHeader> = custom(
  { type: "string", enum: ["x-forwarded-for", "forwarded"] },
  (raw) => {
    const header = raw.toLowerCase();
    if (header !== "x-forwarded-for" && header !== "forwarded")
      throw new Error(
        `must be x-forwarded-for or forwarded, got ${JSON.stringify(header)}`,
      );
    return header;
  },
);

/**
 * The settings a subgraph's traffic runs with: `ROUTER_<SUFFIX>` for every subgraph
 * (`router.subgraph_defaults.<key>` in the file), overridden per subgraph by `<NAME>_<SUFFIX>`
 * (`router.subgraphs.<name>.<key>`).
 */
const TRAFFIC = {
  timeoutMs: {
    suffix: "SUBGRAPH_TIMEOUT_MS",
    subgraphSuffix: "TIMEOUT_MS",
    key: "timeout_ms",
    min: 10,
    max: 600_000,
    default: 3000,
    description:
      "per-attempt subgraph timeout; the request deadline shortens it when less time is left",
  },
  errorThresholdPercentage: {
    suffix: "BREAKER_ERROR_PERCENT",
    key: "breaker.error_percent",
    min: 1,
    max: 100,
    default: 50,
    description:
      "breaker opens above this error percentage over the rolling window",
  },
  volumeThreshold: {
    suffix: "BREAKER_VOLUME_THRESHOLD",
    key: "breaker.volume_threshold",
    min: 1,
    max: 1_000_000,
    default: 5,
    description:
      "calls in the window before the percentage counts (a breaker never opens on 1 failure of 1)",
  },
  resetTimeoutMs: {
    suffix: "BREAKER_RESET_MS",
    key: "breaker.reset_ms",
    min: 10,
    max: 3_600_000,
    default: 5000,
    description:
      "how long an open breaker fails fast before letting one probe through (half-open)",
  },
  rollingWindowMs: {
    suffix: "BREAKER_WINDOW_MS",
    key: "breaker.window_ms",
    min: 100,
    max: 3_600_000,
    default: 10_000,
    description:
      "rolling window the error percentage is computed over (10 buckets)",
  },
  maxConcurrent: {
    suffix: "BULKHEAD_MAX_CONCURRENT",
    key: "bulkhead.max_concurrent",
    min: 1,
    max: 100_000,
    default: 64,
    description:
      "requests in flight per subgraph (all instances) before new ones queue",
  },
  maxQueue: {
    suffix: "BULKHEAD_MAX_QUEUE",
    key: "bulkhead.max_queue",
    min: 0,
    max: 1_000_000,
    default: 128,
    description:
      "requests waiting per subgraph; beyond that a fetch fails fast with SUBGRAPH_UNAVAILABLE",
  },
  outlierConsecutiveFailures: {
    suffix: "OUTLIER_CONSECUTIVE_FAILURES",
    key: "outlier_consecutive_failures",
    min: 1,
    max: 1_000_000,
    default: 5,
    description:
      "consecutive failures that eject an instance (its breaker forced open)",
  },
} as const satisfies Record<
  string,
  {
    suffix: string;
    subgraphSuffix?: string;
    key: string;
    min: number;
    max: number;
    default: number;
    description: string;
  }
>;

type TrafficField = keyof typeof TRAFFIC;

function trafficSettings(
  name: string | undefined,
): Readonly<Record<TrafficField, Setting<number | undefined>>> {
  const entries = Object.entries(TRAFFIC).map(([field, spec]) => {
    const range = [spec.min, spec.max] as const;
    const declared = name
      ? define.int<number | undefined>(range, {
          env: `${name.toUpperCase()}_${"subgraphSuffix" in spec ? spec.subgraphSuffix : spec.suffix}`,
          key: `router.subgraphs.${name}.${spec.key}`,
          default: undefined,
          defaultText: `the \`ROUTER_${spec.suffix}\` value`,
          description: `per-subgraph override: ${spec.description}`,
        })
      : define.int<number | undefined>(range, {
          env: `ROUTER_${spec.suffix}`,
          key: `router.subgraph_defaults.${spec.key}`,
          default: spec.default,
          description: spec.description,
        });
    return [field, declared];
  });
  return Object.freeze(
    Object.fromEntries(entries) as Record<
      TrafficField,
      Setting<number | undefined>
    >,
  );
}

function discoverySettings(name: string) {
  const NAME = name.toUpperCase();
  return Object.freeze({
    url: setting<readonly string[] | undefined>({
      env: `${NAME}_URL`,
      key: `router.subgraphs.${name}.url`,
      type: urlList,
      default: undefined,
      defaultText: "the supergraph routing URL",
      description:
        "instance URL; a list (comma-separated in the environment) = several instances",
    }),
    discovery: define.oneOf(["static", "dns"], {
      env: `${NAME}_DISCOVERY`,
      key: `router.subgraphs.${name}.discovery`,
      default: "static",
      description:
        "`dns` re-resolves the one URL’s host and uses every address",
    }),
    ...trafficSettings(name),
  });
}

/** Every router setting, declared once: readers, docs, the file's schema and the all-in-one wiring use these. */
export const ROUTER_SETTINGS = Object.freeze({
  port: define.port({
    env: "ROUTER_PORT",
    key: "router.port",
    default: 4000,
    description: "router HTTP port",
  }),
  // Production keeps diagnostics off the public port, so they get a port of their own by default.
  adminPort: define.port<number | undefined>({
    env: "ROUTER_ADMIN_PORT",
    key: "router.admin.port",
    default: { development: undefined, production: 4090 },
    defaultText: "`4090` in production; none in development",
    description:
      "router admin listener: `/health`, `/ready` with instance details, `/metrics` (`0` = any free port). In production the public port serves `/ready` as a bare status and no `/metrics`",
  }),
  adminHost: define.text({
    env: "ROUTER_ADMIN_HOST",
    key: "router.admin.host",
    default: "127.0.0.1",
    description:
      "address the admin listener binds (loopback: scrapers run beside the router)",
  }),
  supergraphPath: define.text({
    env: "SUPERGRAPH_PATH",
    key: "router.supergraph_path",
    default: "./supergraph.graphql",
    description: "composed supergraph (watched, hot-reloaded)",
  }),
  maxBodyBytes: define.int([1024, 100_000_000], {
    env: "ROUTER_MAX_BODY_BYTES",
    key: "router.limits.max_body_bytes",
    default: 1_000_000,
    description: "largest request body (413 beyond)",
  }),
  readinessTimeoutMs: define.int([100, 60_000], {
    env: "ROUTER_READINESS_TIMEOUT_MS",
    key: "router.readiness_timeout_ms",
    default: 2000,
    description: "`/ready` probe per subgraph instance",
  }),
  requestDeadlineMs: define.int([10, 600_000], {
    env: "ROUTER_REQUEST_DEADLINE_MS",
    key: "router.request_deadline_ms",
    default: 10_000,
    description:
      "whole-request budget: every subgraph fetch, retry and bulkhead wait ends by then",
  }),
  loadBalancer: define.oneOf(["least-outstanding", "round-robin"], {
    env: "ROUTER_LOAD_BALANCER",
    key: "router.load_balancer",
    default: "least-outstanding",
    description:
      "how an instance is picked: `least-outstanding` or `round-robin`",
  }),
  dnsRefreshMs: define.int([100, 3_600_000], {
    env: "ROUTER_DNS_REFRESH_MS",
    key: "router.dns_refresh_ms",
    default: 10_000,
    description: "how often `<NAME>_DISCOVERY=dns` re-resolves",
  }),
  retryMaxAttempts: define.int([1, 10], {
    env: "ROUTER_RETRY_MAX_ATTEMPTS",
    key: "router.retry.max_attempts",
    default: 3,
    description:
      "attempts per query fetch, the first included (1 disables retries); mutations always get 1",
  }),
  retryBaseDelayMs: define.int([0, 60_000], {
    env: "ROUTER_RETRY_BASE_DELAY_MS",
    key: "router.retry.base_delay_ms",
    default: 25,
    description:
      "full-jitter backoff base: attempt n waits a random time in [0, min(max, base·2^(n-1))]",
  }),
  retryMaxDelayMs: define.int([0, 600_000], {
    env: "ROUTER_RETRY_MAX_DELAY_MS",
    key: "router.retry.max_delay_ms",
    default: 1000,
    description:
      "backoff cap (a subgraph’s `Retry-After` may ask for longer; the deadline still bounds it)",
  }),
  retryBudgetPercent: define.int([0, 100], {
    env: "ROUTER_RETRY_BUDGET_PERCENT",
    key: "router.retry.budget_percent",
    default: 20,
    description:
      "retries allowed per 100 fetches to a subgraph, earned as traffic flows",
  }),
  retryBudgetReserve: define.int([0, 1_000_000], {
    env: "ROUTER_RETRY_BUDGET_RESERVE",
    key: "router.retry.budget_reserve",
    default: 10,
    description:
      "retries allowed before traffic earned any; also the most the budget can bank",
  }),
  dedupInbound: define.boolean({
    env: "ROUTER_DEDUP_INBOUND",
    key: "router.deduplication.inbound",
    default: true,
    description:
      "identical in-flight queries of one caller share one execution / response",
  }),
  dedupSubgraphFetches: define.boolean({
    env: "ROUTER_DEDUP_SUBGRAPH_FETCHES",
    key: "router.deduplication.subgraph_fetches",
    default: true,
    description:
      "identical in-flight subgraph query fetches (same router token) are sent once",
  }),
  // Trees, not scalars: YAML in the file, JSON in the environment (platform/settings.ts `structured`).
  headers: setting<HeaderRules>({
    env: "ROUTER_HEADERS",
    key: "router.headers",
    type: structured(HEADER_RULES_SCHEMA, parseHeaderRules),
    default: NO_HEADER_RULES,
    defaultText:
      "none: no client header reaches a subgraph, no subgraph response header reaches the client",
    description:
      "header rules (docs/headers.md): `all` and `subgraphs.<name>` hold `request` lists of `propagate` (`named` or `matching`, `rename`, `default`), `insert`, `remove`; `response` has `cache_control: most-restrictive` and `set_cookie_from: <subgraph>`. A rule that would send `authorization` or the router token is refused (HEADER_RULE_RESERVED)",
  }),
  subgraphErrors: setting<ErrorPolicies>({
    env: "ROUTER_SUBGRAPH_ERRORS",
    key: "router.subgraph_errors",
    type: structured(ERROR_POLICIES_SCHEMA, parseErrorPolicies),
    default: NO_ERROR_POLICIES,
    defaultText:
      "none: coded subgraph errors pass, others are masked in production",
    description:
      "subgraph error policy (docs/error-policy.md): `all` and `subgraphs.<name>` with `mode` (`mask`, `pass-through`, `wrap`), `extensions` (keys that survive), `status` (HTTP status of a response with errors, or `subgraph`), `on_4xx` (`answer`, `client-error`, `unavailable`)",
  }),
  overrideLabels: setting<readonly string[]>({
    env: "ROUTER_OVERRIDE_LABELS",
    key: "router.progressive_override.labels",
    type: list(text),
    default: [],
    defaultText: "none",
    description:
      "progressive `@override` labels switched on for every request (feature flags); `percent(N)` labels need nothing: each request draws",
  }),
  overrideHeader: define.text({
    env: "ROUTER_OVERRIDE_HEADER",
    key: "router.progressive_override.header",
    default: "x-switchyard-override",
    description:
      "request header listing `@override` labels to switch on for that request (comma-separated); only labels in `ROUTER_OVERRIDE_HEADER_LABELS` count",
  }),
  overrideHeaderLabels: setting<readonly string[]>({
    env: "ROUTER_OVERRIDE_HEADER_LABELS",
    key: "router.progressive_override.header_labels",
    type: list(text),
    default: [],
    defaultText: "none (the header does nothing)",
    description:
      "`@override` labels a request header may switch on; any other label it names is ignored",
  }),
  planDebug: define.oneOf(["off", "admin"], {
    env: "ROUTER_PLAN_DEBUG",
    key: "router.plan_debug",
    default: "admin",
    description:
      "`admin`: a request from an ADMIN token with `x-switchyard-debug: plan` gets the query plan, fetch outcomes and more in `extensions.planDebug`; `off`: nobody does",
  }),
  executor: define.oneOf(["switchyard", "gateway"], {
    env: "ROUTER_EXECUTOR",
    key: "router.executor",
    default: "switchyard",
    description:
      "who runs query plans: `switchyard` (router/executor/: cached plan and compiled response shaper) or `gateway` (@apollo/gateway's executeQueryPlan)",
  }),
  subgraphDefaults: trafficSettings(undefined),
  subgraphs: Object.freeze(
    Object.fromEntries(
      KNOWN_SUBGRAPHS.map((name) => [name, discoverySettings(name)]),
    ) as Record<
      (typeof KNOWN_SUBGRAPHS)[number],
      ReturnType<typeof discoverySettings>
    >,
  ),
  jwksUrl: define.url<string | undefined>({
    env: "JWKS_URL",
    key: "router.jwt.jwks_url",
    default: undefined,
    defaultText:
      "from USERS_URL, else `http://localhost:4001/.well-known/jwks.json`",
    description: "users’ public keys",
  }),
  jwtIssuer: TOKEN_SETTINGS.jwtIssuer,
  jwtAudience: TOKEN_SETTINGS.jwtAudience,
  jwksCooldownMs: define.int([0, 3_600_000], {
    env: "JWKS_COOLDOWN_MS",
    key: "router.jwt.jwks_cooldown_ms",
    default: 30_000,
    description: "least time between JWKS refetches on an unknown `kid`",
  }),
  rateLimit: setting<RateLimit>({
    env: "ROUTER_RATE_LIMIT",
    key: "router.rate_limit.default",
    type: rateLimit,
    default: { max: 300, windowMs: 60_000 },
    defaultText: "`300/1m`",
    description: "per client, per root field",
  }),
  // Sign-in and sign-up are the brute-force targets: tighter than the rest unless configured.
  rateLimitFields: setting<Readonly<Record<string, RateLimit>>>({
    env: "ROUTER_RATE_LIMIT_FIELDS",
    key: "router.rate_limit.fields",
    type: rateLimitFields,
    default: {
      "Mutation.logIn": { max: 30, windowMs: 60_000 },
      "Mutation.signUp": { max: 10, windowMs: 60_000 },
    },
    defaultText: "`Mutation.logIn=30/1m,Mutation.signUp=10/1m`",
    description:
      "per-field overrides (replaces the list); credential mutations (logIn, signUp) count per client address and per target email, never per token",
  }),
  redisUrl: define.url<string | undefined>({
    env: "REDIS_URL",
    key: "router.rate_limit.redis_url",
    default: undefined,
    defaultText: "unset = in-memory",
    description: "shared rate-limit store",
    secret: true,
  }),
  rateLimitPrefix: define.text({
    env: "ROUTER_RATE_LIMIT_PREFIX",
    key: "router.rate_limit.redis_key_prefix",
    default: "switchyard:rate-limit:",
    description: "Redis key prefix",
  }),
  maxDepth: define.int([1, 100], {
    env: "ROUTER_MAX_DEPTH",
    key: "router.limits.max_depth",
    default: 12,
    description: "operation depth limit",
  }),
  maxAliases: define.int([0, 10_000], {
    env: "ROUTER_MAX_ALIASES",
    key: "router.limits.max_aliases",
    default: 30,
    description: "alias limit",
  }),
  maxRootFields: define.int([1, 1000], {
    env: "ROUTER_MAX_ROOT_FIELDS",
    key: "router.limits.max_root_fields",
    default: 20,
    description: "root-field limit",
  }),
  ...DEMAND_CONTROL_SETTINGS,
  ...TRUSTED_DOCUMENTS_SETTINGS,
  trustedProxies: setting<readonly string[]>({
    env: "TRUSTED_PROXIES",
    key: "router.trusted_proxies",
    type: trustedProxies,
    default: [],
    defaultText: "none",
    description:
      "CIDRs or addresses (IPv4/IPv6, comma-separated) of proxies whose forwarding header gives the client address (rate limits, logs); other peers’ headers are ignored",
  }),
  subscriptionsPerClient: define.int([1, 100_000], {
    env: "ROUTER_SUBSCRIPTIONS_PER_CLIENT",
    key: "router.subscriptions.max_per_client",
    default: 20,
    description:
      "subscriptions one client (user, else address) may hold at once (SUBSCRIPTION_LIMIT_EXCEEDED beyond)",
  }),
  subscriptionsPerConnection: define.int([1, 100_000], {
    env: "ROUTER_SUBSCRIPTIONS_PER_CONNECTION",
    key: "router.subscriptions.max_per_connection",
    default: 10,
    description: "subscriptions one WebSocket connection may hold at once",
  }),
  subscriptionMaxQueuedEvents: define.int([1, 100_000], {
    env: "ROUTER_SUBSCRIPTION_MAX_QUEUED_EVENTS",
    key: "router.subscriptions.max_queued_events",
    default: 100,
    description:
      "events waiting for one subscriber before it is dropped with SUBSCRIBER_TOO_SLOW",
  }),
  subscriptionMaxConcurrentResolutions: define.int([1, 10_000], {
    env: "ROUTER_SUBSCRIPTION_MAX_CONCURRENT_RESOLUTIONS",
    key: "router.subscriptions.max_concurrent_resolutions",
    default: 32,
    description:
      "per-event resolutions running at once over all subscribers; a burst of events waits in the subscribers' queues instead of overflowing the subgraph bulkheads",
  }),
  subscriptionKeepAliveMs: define.int([1000, 600_000], {
    env: "ROUTER_SUBSCRIPTION_KEEPALIVE_MS",
    key: "router.subscriptions.keepalive_ms",
    default: 12_000,
    description:
      "WebSocket ping interval of subscription connections (SSE: a comment every 12 s)",
  }),
  // Shared with the pipeline (platform/config.ts): the live source of the router deployed alone.
  kafkaBrokers: KAFKA_SETTINGS.brokers,
  kafkaTopicPrefix: KAFKA_SETTINGS.topicPrefix,
  trustedProxyHeader: setting<ForwardedHeader>({
    env: "TRUSTED_PROXY_HEADER",
    key: "router.trusted_proxy_header",
    type: forwardedHeader,
    default: "x-forwarded-for",
    description:
      "or `forwarded` (RFC 7239): the one header those proxies write",
  }),
});

/** The router's admin port in production when ROUTER_ADMIN_PORT is unset. */
export const DEFAULT_ADMIN_PORT = requiredDefault(ROUTER_SETTINGS.adminPort, {
  production: true,
});

/** Every declaration the router reads (flattened), for start-up checks and docs. */
export const ROUTER_SETTINGS_READ: readonly Setting<unknown>[] = [
  ...COMMON_SETTINGS_READ,
  ...flattenSettings(ROUTER_SETTINGS),
];

function readSubgraphSettings(
  env: Env,
  name: (typeof KNOWN_SUBGRAPHS)[number] | undefined,
  fallback: SubgraphSettings | undefined,
  dnsRefreshMs: number,
): SubgraphSettings {
  const own = name
    ? ROUTER_SETTINGS.subgraphs[name]
    : ROUTER_SETTINGS.subgraphDefaults;
  // `<NAME>_X` overrides the router-wide value; without a name only the router-wide value is read.
  const value = (field: TrafficField): number => {
    // The router-wide declarations all have defaults, so only a subgraph's own value is ever missing.
    const found =
      readSetting(env, own[field]) ??
      (fallback ? trafficValue(fallback, field) : undefined);
    if (found === undefined)
      throw new Error(`${own[field].env} declares no default`);
    return found;
  };
  let discovery: DiscoverySettings | undefined;
  if (name) {
    const settings = ROUTER_SETTINGS.subgraphs[name];
    const urls = readSetting(env, settings.url);
    if (readSetting(env, settings.discovery) === "dns") {
      if (urls?.length !== 1)
        throw new ConfigError(
          settings.url.env,
          `must be exactly one URL when ${settings.discovery.env}=dns`,
        );
      discovery = { kind: "dns", url: urls[0]!, refreshMs: dnsRefreshMs };
    } else if (urls) {
      discovery = { kind: "static", urls };
    }
  }
  return Object.freeze({
    timeoutMs: value("timeoutMs"),
    breaker: Object.freeze({
      errorThresholdPercentage: value("errorThresholdPercentage"),
      volumeThreshold: value("volumeThreshold"),
      resetTimeoutMs: value("resetTimeoutMs"),
      rollingWindowMs: value("rollingWindowMs"),
    }),
    maxConcurrent: value("maxConcurrent"),
    maxQueue: value("maxQueue"),
    outlierConsecutiveFailures: value("outlierConsecutiveFailures"),
    discovery,
  });
}

function trafficValue(settings: SubgraphSettings, field: TrafficField): number {
  switch (field) {
    case "errorThresholdPercentage":
    case "volumeThreshold":
    case "resetTimeoutMs":
    case "rollingWindowMs":
      return settings.breaker[field];
    case "timeoutMs":
    case "maxConcurrent":
    case "maxQueue":
    case "outlierConsecutiveFailures":
      return settings[field];
    default: {
      const unknown: never = field;
      throw new Error(`unknown traffic setting ${String(unknown)}`);
    }
  }
}

function firstUrl(
  discovery: DiscoverySettings | undefined,
): string | undefined {
  if (!discovery) return undefined;
  return discovery.kind === "static" ? discovery.urls[0] : discovery.url;
}

export function loadRouterConfig(env: Env): RouterConfig {
  const common = readCommonConfig(env);
  const read = <T>(declared: Setting<T>) => readSetting(env, declared);
  const dnsRefreshMs = read(ROUTER_SETTINGS.dnsRefreshMs);
  const subgraphDefaults = readSubgraphSettings(
    env,
    undefined,
    undefined,
    dnsRefreshMs,
  );
  const subgraphs: Record<string, SubgraphSettings> = {};
  for (const name of KNOWN_SUBGRAPHS)
    subgraphs[name] = readSubgraphSettings(
      env,
      name,
      subgraphDefaults,
      dnsRefreshMs,
    );
  const retry: RetrySettings = Object.freeze({
    maxAttempts: read(ROUTER_SETTINGS.retryMaxAttempts),
    baseDelayMs: read(ROUTER_SETTINGS.retryBaseDelayMs),
    maxDelayMs: read(ROUTER_SETTINGS.retryMaxDelayMs),
    budgetPercent: read(ROUTER_SETTINGS.retryBudgetPercent),
    budgetReserve: read(ROUTER_SETTINGS.retryBudgetReserve),
  });
  if (retry.maxDelayMs < retry.baseDelayMs)
    throw new ConfigError(
      "ROUTER_RETRY_MAX_DELAY_MS",
      `must be at least ROUTER_RETRY_BASE_DELAY_MS (${retry.baseDelayMs})`,
    );
  return Object.freeze({
    production: common.production,
    logLevel: common.logLevel,
    logFile: common.logFile,
    logFormat: common.logFormat,
    port: read(ROUTER_SETTINGS.port),
    host: read(COMMON_SETTINGS.host),
    adminPort: read(ROUTER_SETTINGS.adminPort),
    adminHost: read(ROUTER_SETTINGS.adminHost),
    supergraphPath: read(ROUTER_SETTINGS.supergraphPath),
    maxBodyBytes: read(ROUTER_SETTINGS.maxBodyBytes),
    readinessTimeoutMs: read(ROUTER_SETTINGS.readinessTimeoutMs),
    requestDeadlineMs: read(ROUTER_SETTINGS.requestDeadlineMs),
    retry,
    loadBalancer: read(ROUTER_SETTINGS.loadBalancer),
    subgraphs: Object.freeze(subgraphs),
    subgraphDefaults,
    deduplication: Object.freeze({
      inbound: read(ROUTER_SETTINGS.dedupInbound),
      subgraphFetches: read(ROUTER_SETTINGS.dedupSubgraphFetches),
    }),
    headers: read(ROUTER_SETTINGS.headers),
    subgraphErrors: read(ROUTER_SETTINGS.subgraphErrors),
    progressiveOverride: Object.freeze({
      labels: Object.freeze([...read(ROUTER_SETTINGS.overrideLabels)]),
      header: read(ROUTER_SETTINGS.overrideHeader).toLowerCase(),
      headerLabels: Object.freeze([
        ...read(ROUTER_SETTINGS.overrideHeaderLabels),
      ]),
    }),
    planDebug: read(ROUTER_SETTINGS.planDebug),
    executor: read(ROUTER_SETTINGS.executor),
    demandControl: readDemandControlSettings(env),
    trustedDocuments: readTrustedDocumentsSettings(env),
    subscriptions: Object.freeze({
      maxPerClient: read(ROUTER_SETTINGS.subscriptionsPerClient),
      maxPerConnection: read(ROUTER_SETTINGS.subscriptionsPerConnection),
      maxQueuedEvents: read(ROUTER_SETTINGS.subscriptionMaxQueuedEvents),
      maxConcurrentResolutions: read(
        ROUTER_SETTINGS.subscriptionMaxConcurrentResolutions,
      ),
      keepAliveMs: read(ROUTER_SETTINGS.subscriptionKeepAliveMs),
      kafka: readKafkaConfig(env),
    }),
    security: loadRouterSecurityConfig(env, {
      internalTokenSecret: common.internalTokenSecret,
      usersUrl: firstUrl(subgraphs.users?.discovery),
    }),
  });
}

export interface RouterSecurityConfig {
  /** Users' public keys. */
  readonly jwksUrl: string;
  /** Required `iss` of access tokens. */
  readonly jwtIssuer: string;
  /** Required `aud` of access tokens. */
  readonly jwtAudience: string;
  /** Minimum time between JWKS refetches triggered by an unknown `kid`. */
  readonly jwksCooldownMs: number;
  /** Secret of the router → subgraph token (platform/internal-token.ts). */
  readonly internalTokenSecret: string;
  readonly rateLimit: RateLimitConfig;
  readonly operationLimits: OperationLimits;
  /** Where the client's address comes from (rate limits, logs): router/client-address.ts. */
  readonly clientAddress: ClientAddressSettings;
}

export function loadRouterSecurityConfig(
  env: Env,
  {
    internalTokenSecret,
    usersUrl,
  }: { internalTokenSecret: string; usersUrl: string | undefined },
): RouterSecurityConfig {
  const read = <T>(declared: Setting<T>) => readSetting(env, declared);
  const derivedJwks = new URL(
    "/.well-known/jwks.json",
    usersUrl ?? "http://localhost:4001",
  ).toString();
  return Object.freeze({
    jwksUrl: read(ROUTER_SETTINGS.jwksUrl) ?? derivedJwks,
    jwtIssuer: read(ROUTER_SETTINGS.jwtIssuer),
    jwtAudience: read(ROUTER_SETTINGS.jwtAudience),
    jwksCooldownMs: read(ROUTER_SETTINGS.jwksCooldownMs),
    internalTokenSecret,
    rateLimit: Object.freeze({
      default: read(ROUTER_SETTINGS.rateLimit),
      fields: { ...read(ROUTER_SETTINGS.rateLimitFields) },
      redisUrl: read(ROUTER_SETTINGS.redisUrl),
      redisKeyPrefix: read(ROUTER_SETTINGS.rateLimitPrefix),
    }),
    operationLimits: Object.freeze({
      maxDepth: read(ROUTER_SETTINGS.maxDepth),
      maxAliases: read(ROUTER_SETTINGS.maxAliases),
      maxRootFields: read(ROUTER_SETTINGS.maxRootFields),
    }),
    clientAddress: Object.freeze({
      trustedProxies: read(ROUTER_SETTINGS.trustedProxies),
      header: read(ROUTER_SETTINGS.trustedProxyHeader),
    }),
  });
}

/** The settings a subgraph runs with: its own when known, the defaults otherwise. */
export function subgraphSettings(
  config: RouterConfig,
  name: string,
): SubgraphSettings {
  return config.subgraphs[name] ?? config.subgraphDefaults;
}

/** A copy of `config` with some subgraphs' settings changed (tests and the embedded stack). */
export function withSubgraphSettings(
  config: RouterConfig,
  changes: Readonly<Record<string, Partial<SubgraphSettings>>>,
): RouterConfig {
  const subgraphs: Record<string, SubgraphSettings> = { ...config.subgraphs };
  for (const [name, change] of Object.entries(changes))
    subgraphs[name] = Object.freeze({
      ...subgraphSettings(config, name),
      ...change,
    });
  return Object.freeze({ ...config, subgraphs: Object.freeze(subgraphs) });
}
