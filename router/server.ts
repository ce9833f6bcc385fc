import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { Gauge } from "prom-client";
import {
  createHttpHandler,
  graphqlHandler,
  type Handler,
} from "../platform/http-server.ts";
import type { Logger } from "../platform/logger.ts";
import {
  createServiceMetrics,
  type ServiceMetrics,
} from "../platform/metrics.ts";
import { createInputGuardPlugin } from "../platform/input-guard.ts";
import { createOperationObserver } from "../platform/operation-observer.ts";
import {
  createInternalTokenSigner,
  INTERNAL_TOKEN_HEADER,
} from "../platform/internal-token.ts";
import { formatErrorFor } from "../platform/subgraph-server.ts";
import { withSubgraphEnforcedSecurity } from "./auth/security-features.ts";
import { createJwtVerifier } from "./auth/verify-jwt.ts";
import { createBulkhead, type Bulkhead } from "./bulkhead.ts";
import { subgraphSettings, type RouterConfig } from "./config.ts";
import { createResilienceMetrics } from "./resilience-metrics.ts";
import { createClientAddressResolver } from "./client-address.ts";
import { createContextFactory, type RouterContext } from "./context.ts";
import { costFiguresOf, createDemandControl } from "./demand-control/plugin.ts";
import {
  createOperationCatalog,
  deduplicateInbound,
  sharingGraphqlHandler,
} from "./deduplication.ts";
import { createLandingPage } from "./landing-page.ts";
import { withPlanExecutor } from "./executor/index.ts";
import {
  createLiveService,
  type LiveService,
  type LiveSource,
} from "./live/live-service.ts";
import {
  createSseHandler,
  createWsTransport,
  SSE_PATH,
  type WsTransport,
} from "./live/transports.ts";
import { createOperationLimitsPlugin } from "./operation-limits-plugin.ts";
import { recordPlan, recordQueryPlan } from "./plan-debug/plan.ts";
import {
  createPlanDebugPlugin,
  DEBUG_HEADER,
  isDebugging,
} from "./plan-debug/recorder.ts";
import { createProgressiveOverride } from "./progressive-override.ts";
import { createRateLimitPlugin } from "./rate-limit-plugin.ts";
import { createResilientDataSource } from "./resilient-data-source.ts";
import { createRetryBudget, type RetryBudget } from "./retry-policy.ts";
import { createDiscovery, createStaticDiscovery } from "./service-discovery.ts";
import { createSubgraphPool, type SubgraphPool } from "./subgraph-pool.ts";
import { supergraphFromFile } from "./supergraph-file.ts";
import { headerShareKey } from "./headers/propagation.ts";
import { createResponseHeadersPlugin } from "./headers/plugin.ts";
import { policyFor } from "./error-policy/policy.ts";
import {
  createErrorStatusPlugin,
  withErrorPolicy,
} from "./error-policy/plugin.ts";
import { copyNotes, peekNotes } from "./request-notes.ts";
import { warnUnknownSubgraphs } from "./configured-subgraphs.ts";
import { installPlanPostProcessing } from "./query-plan/post-process.ts";
import { createTrustedDocuments } from "./trusted-documents/index.ts";

/** Everything the router keeps per subgraph, built once when the supergraph first names it. */
export interface SubgraphRuntime {
  /** The supergraph's routing URL this runtime was built for (ignored when discovery is configured). */
  readonly routingUrl: string | undefined;
  readonly pool: SubgraphPool;
  readonly bulkhead: Bulkhead;
  readonly budget: RetryBudget;
}

export interface Router {
  /** The public port: `/graphql`, `/health`, `/ready` (status only in production), `/metrics` outside production. */
  readonly handler: Handler;
  /** The admin port (config `adminPort`): `/health`, `/ready` with details, `/metrics`. */
  readonly adminHandler: Handler;
  readonly metrics: ServiceMetrics;
  readonly gateway: ApolloGateway;
  /** Per-subgraph runtime state, by subgraph name (tests and `/ready`). */
  readonly subgraphs: ReadonlyMap<string, SubgraphRuntime>;
  /** Takes the HTTP upgrades of the public port: WebSocket subscriptions on `/graphql`. */
  readonly upgrade: WsTransport["upgrade"];
  /** Live updates: subscriptions held and events fanned out (router/live/). */
  readonly live: LiveService;
  start(): Promise<void>;
  /** Ends every subscription with a last SUBSCRIPTION_CLOSED message; call before closing the port. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export function createRouter({
  config,
  logger,
  liveSource,
}: {
  config: RouterConfig;
  logger: Logger;
  /** The event stream behind subscriptions (events/live-change-feed.ts); none: SUBSCRIPTIONS_UNAVAILABLE. */
  liveSource?: LiveSource;
}): Router {
  // The gateway otherwise reports usage to Apollo and probes cloud metadata addresses on start.
  process.env.APOLLO_TELEMETRY_DISABLED = "true";
  const metrics = createServiceMetrics("router");
  const resilience = createResilienceMetrics(metrics.registry);
  const subgraphs = new Map<string, SubgraphRuntime>();
  const { security } = config;
  const signer = createInternalTokenSigner({
    secret: security.internalTokenSecret,
  });
  const verifier = createJwtVerifier({
    jwksUrl: security.jwksUrl,
    issuer: security.jwtIssuer,
    audience: security.jwtAudience,
    cooldownMs: security.jwksCooldownMs,
    cacheMaxAgeMs: 600_000,
    timeoutMs: 2000,
  });
  const rateLimit = createRateLimitPlugin({
    config: security.rateLimit,
    logger,
    rejections: resilience.rateLimitRejections,
  });
  const catalog = createOperationCatalog();
  // Sandbox (and an offline GraphiQL, docs) outside production: router/landing-page.ts.
  const landingPage = createLandingPage({ production: config.production });
  /**
   * The only identity a subgraph accepts: the router's token for this request's caller. The data
   * source builds a fresh header set per fetch, so a client-sent internal header never gets through.
   */
  const identityHeaders = async (
    context: Partial<RouterContext> | undefined,
  ) => ({
    [INTERNAL_TOKEN_HEADER]: await (context?.internalToken?.() ??
      signer.sign(null)),
  });

  function runtimeFor(
    name: string,
    routingUrl: string | undefined,
  ): SubgraphRuntime {
    const settings = subgraphSettings(config, name);
    const existing = subgraphs.get(name);
    if (existing && (settings.discovery || existing.routingUrl === routingUrl))
      return existing;
    // A reloaded supergraph moved this subgraph: new instances. Requests planned on the previous
    // schema may still use the old pool, so it closes only once their deadline has passed.
    if (existing)
      setTimeout(
        () => void existing.pool.close(),
        config.requestDeadlineMs,
      ).unref();
    let discovery;
    if (settings.discovery)
      discovery = createDiscovery(settings.discovery, { logger });
    else if (routingUrl) discovery = createStaticDiscovery([routingUrl]);
    else
      throw new Error(
        `subgraph ${name} has no routing URL; set ${name.toUpperCase()}_URL`,
      );
    const pool = createSubgraphPool({
      name,
      settings,
      discovery,
      loadBalancer: config.loadBalancer,
      metrics: resilience,
      logger,
    });
    pool
      .start()
      .catch((error: unknown) =>
        logger.error(
          { err: error, subgraph: name },
          "service discovery failed to start",
        ),
      );
    const runtime = {
      routingUrl,
      pool,
      bulkhead: createBulkhead(settings),
      budget: createRetryBudget(config.retry),
    };
    subgraphs.set(name, runtime);
    return runtime;
  }

  const gateway = new ApolloGateway({
    supergraphSdl: withSubgraphEnforcedSecurity(
      supergraphFromFile(config.supergraphPath, { logger }),
    ),
    logger,
    // The plan goes to admins who ask (router/plan-debug/), never to anyone sending Apollo's header.
    __exposeQueryPlanExperimental: false,
    experimental_didResolveQueryPlan: recordQueryPlan,
    buildService({ name, url }) {
      const { pool, bulkhead, budget } = runtimeFor(name, url);
      return createResilientDataSource({
        name,
        pool,
        bulkhead,
        budget,
        settings: subgraphSettings(config, name),
        retry: config.retry,
        requestDeadlineMs: config.requestDeadlineMs,
        metrics: resilience,
        logger,
        identityHeaders,
        deduplicate: config.deduplication.subgraphFetches,
        headerRules: config.headers,
        errorPolicy: policyFor(config.subgraphErrors, name),
      });
    },
  });
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    catalog.clear();
    warnUnknownSubgraphs(logger, coreSupergraphSdl, config);
  });
  // Requests share work only when the headers rules forward are equal (router/headers/).
  const headerKey = (headers: Parameters<typeof headerShareKey>[1]) =>
    headerShareKey(config.headers, headers);
  // Labels are resolved outside dedup, so requests with different labels on never share a result.
  const override = createProgressiveOverride({
    settings: config.progressiveOverride,
  });
  override.install(gateway);
  // Query plans run by ours (router/executor/) or by the gateway's executeQueryPlan; either way the
  // plans come from the gateway's planner and the fetches from the data sources built above.
  const executing =
    config.executor === "switchyard"
      ? withPlanExecutor(gateway, {
          logger,
          // The planner is the one override.install hooked: labels reach planning through it.
          planVariant: ({ context }) => override.labelsFor(context).key,
          onPlan: (plan, context) => recordPlan(context, plan),
        }).gateway
      : gateway;
  // The federation audit's planner fixes (router/query-plan/, docs/conformance.md).
  installPlanPostProcessing(gateway);
  // Cost directives live in the supergraph text (the API schema drops directive applications).
  const demandControl = createDemandControl({
    settings: config.demandControl,
    registry: metrics.registry,
  });
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) =>
    demandControl.useSupergraph(coreSupergraphSdl),
  );
  const trustedDocuments = createTrustedDocuments({
    settings: config.trustedDocuments,
    logger,
    registry: metrics.registry,
  });
  const server = new ApolloServer<RouterContext>({
    gateway: override.wrap(
      config.deduplication.inbound
        ? deduplicateInbound(executing, {
            onJoin: () =>
              resilience.operationsDeduplicated.inc({ stage: "execution" }),
            headerKey,
            onShare: copyNotes,
            partition: ({ context }) =>
              isDebugging(context)
                ? undefined
                : override.labelsFor(context).key,
          })
        : executing,
    ),
    // Both are Apollo Server's defaults, stated because the security tests rely on them: a JSON
    // array body is refused (one request, one operation, one rate-limit check), and a request that
    // a browser could send cross-site without a preflight (GET, or a simple content type) needs
    // `apollo-require-preflight` or a JSON content type.
    allowBatchedHttpRequests: false,
    // Signals are ours (platform/shutdown.ts stops the HTTP server first, then this). Apollo's own
    // handlers would stop the server mid-drain and re-raise the signal, and the stop never finishes.
    stopOnTerminationSignals: false,
    csrfPrevention: true,
    introspection: !config.production,
    // With introspection off, no "Did you mean …" hints either (formatErrorFor strips the rest).
    hideSchemaDetailsFromClientErrors: config.production,
    includeStacktraceInErrorResponses: !config.production,
    formatError: withErrorPolicy(
      formatErrorFor({ production: config.production, logger }),
    ),
    plugins: [
      // Per-operation rate, latency and errors, and the operation's name on the request's span.
      createOperationObserver<RouterContext>(metrics),
      // A NUL in any string input is refused here, before limits, rate limits and any subgraph.
      createInputGuardPlugin<RouterContext>(),
      // Safelisting first: a document the router will not run is not measured or counted.
      ...trustedDocuments.plugins,
      // Limits before rate limiting: an operation refused for its shape does not spend budget.
      createOperationLimitsPlugin(security.operationLimits),
      demandControl.plugin,
      rateLimit,
      catalog.plugin,
      landingPage.plugin,
      // Subgraph response headers and error statuses onto the client response (docs/headers.md, docs/error-policy.md).
      createResponseHeadersPlugin(config.headers),
      createErrorStatusPlugin(),
      // Last: the plugins above have settled response headers and cost by the time it reads them.
      createPlanDebugPlugin<RouterContext>({
        mode: config.planDebug,
        collect: (context) => {
          const notes = peekNotes(context);
          return {
            headers: notes?.headers,
            responseHeaders: notes?.responseHeaders,
            maskedErrors: notes?.errors,
            cost: costFiguresOf(context),
          };
        },
      }),
    ],
  });

  const clientAddressOf = createClientAddressResolver(security.clientAddress);
  const context = createContextFactory({
    verifier,
    signer,
    requestDeadlineMs: config.requestDeadlineMs,
    clientAddressOf,
  });
  const live = createLiveService({
    server,
    schema: () => gateway.schema,
    signer,
    requestDeadlineMs: config.requestDeadlineMs,
    source: liveSource,
    limits: config.subscriptions,
    maxConcurrentResolutions: config.subscriptions.maxConcurrentResolutions,
    logger,
  });
  // Read at scrape time from the fan-out itself, so the figure cannot drift from what is held.
  new Gauge({
    name: "router_subscriptions",
    help: "Subscriptions this router holds now (WebSocket and SSE)",
    registers: [metrics.registry],
    collect() {
      this.set(live.fanOut.size);
    },
  });
  const liveTransport = { live, verifier, clientAddressOf };
  const ws = createWsTransport({
    ...liveTransport,
    keepAliveMs: config.subscriptions.keepAliveMs,
    logger,
  });
  const handler = createHttpHandler({
    routes: {
      [SSE_PATH]: createSseHandler(liveTransport),
      "/graphql": config.deduplication.inbound
        ? sharingGraphqlHandler({
            server,
            context,
            maxBodyBytes: config.maxBodyBytes,
            catalog,
            admit: rateLimit.admit,
            onJoin: () =>
              resilience.operationsDeduplicated.inc({ stage: "edge" }),
            headerKey,
            unshareable: ({ headers }) =>
              headers.has(DEBUG_HEADER) ||
              headers.has(config.progressiveOverride.header),
          })
        : graphqlHandler(server, {
            context,
            maxBodyBytes: config.maxBodyBytes,
          }),
      ...landingPage.routes,
    },
    ready,
    metrics,
    logger,
    clientAddress: clientAddressOf,
    // Instance addresses and breaker states are for operators: the admin port in production.
    diagnostics: !config.production,
  });
  const adminHandler = createHttpHandler({
    routes: {},
    ready,
    metrics,
    logger,
  });

  /** Ready when every subgraph has an instance that answers and whose breaker lets traffic through (details: per instance). */
  async function ready(): Promise<{ ready: boolean; details: unknown }> {
    if (subgraphs.size === 0)
      return { ready: false, details: { supergraph: "not loaded" } };
    const report = await Promise.all(
      [...subgraphs].map(async ([name, { pool, bulkhead, budget }]) => {
        const instances = await pool.probe(
          config.readinessTimeoutMs,
          await identityHeaders(undefined),
        );
        // Serving needs one instance that answers and whose breaker lets traffic through.
        const reachable = instances.some(
          (instance) => instance.reachable && instance.breaker !== "open",
        );
        return {
          name,
          reachable,
          instances,
          inFlight: bulkhead.inFlight,
          queued: bulkhead.queued,
          retryBudget: budget.available(),
        };
      }),
    );
    return {
      ready: report.every((subgraph) => subgraph.reachable),
      details: { supergraph: "loaded", subgraphs: report },
    };
  }

  let draining: Promise<void> | undefined;
  const drain = () =>
    (draining ??= (async () => {
      await live.drain();
      await ws.close();
    })());

  return {
    handler,
    adminHandler,
    metrics,
    gateway,
    subgraphs,
    upgrade: ws.upgrade,
    live,
    async start() {
      await server.start();
      await live.start();
    },
    drain,
    async stop() {
      await drain();
      await server.stop();
      await Promise.all(
        [...subgraphs.values()].map(({ pool }) => pool.close()),
      );
      await rateLimit.close();
      trustedDocuments.close();
    },
  };
}
