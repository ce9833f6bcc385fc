import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { Counter } from 'prom-client';
import { fetch } from 'undici';
import { createHttpHandler, graphqlHandler, type Handler } from '../platform/http-server.ts';
import type { Logger } from '../platform/logger.ts';
import { createServiceMetrics, type ServiceMetrics } from '../platform/metrics.ts';
import { formatErrorFor } from '../platform/subgraph-server.ts';
import { createInternalTokenSigner, INTERNAL_TOKEN_HEADER } from '../platform/internal-token.ts';
import { withSubgraphEnforcedSecurity } from './auth/security-features.ts';
import { createJwtVerifier } from './auth/verify-jwt.ts';
import type { RouterConfig } from './config.ts';
import { createContextFactory, type RouterContext } from './context.ts';
import { createOperationLimitsPlugin } from './operation-limits-plugin.ts';
import { createRateLimitPlugin } from './rate-limit-plugin.ts';
import { createSubgraphFetcher } from './subgraph-fetcher.ts';
import { supergraphFromFile } from './supergraph-file.ts';

/** The query the Sandbox opens with in development, and the README's first query. */
export const FIRST_QUERY = `query FirstLook {
  products(first: 5) {
    totalCount
    edges { node { id name price currency inStock } }
  }
}
`;

export interface Router {
  readonly handler: Handler;
  readonly metrics: ServiceMetrics;
  readonly gateway: ApolloGateway;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createRouter({ config, logger }: { config: RouterConfig; logger: Logger }): Router {
  // The gateway otherwise reports usage to Apollo and probes cloud metadata addresses on start.
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const metrics = createServiceMetrics('router');
  const subgraphFetches = new Counter({
    name: 'router_subgraph_fetches_total',
    help: 'Fetches the router sent to each subgraph',
    labelNames: ['subgraph'],
    registers: [metrics.registry],
  });
  const { fetcher, close: closeFetcher } = createSubgraphFetcher();
  const { security } = config;
  const signer = createInternalTokenSigner({ secret: security.internalTokenSecret });
  const verifier = createJwtVerifier({ jwksUrl: security.jwksUrl, issuer: security.jwtIssuer, audience: security.jwtAudience, cooldownMs: security.jwksCooldownMs, cacheMaxAgeMs: 600_000, timeoutMs: 2000 });
  const rateLimit = createRateLimitPlugin({ config: security.rateLimit, logger });
  const routingUrls = new Map<string, string>();
  const gateway = new ApolloGateway({
    supergraphSdl: withSubgraphEnforcedSecurity(supergraphFromFile(config.supergraphPath, { logger })),
    logger,
    buildService({ name, url }) {
      const target = config.subgraphUrls[name] ?? url;
      if (!target) throw new Error(`subgraph ${name} has no routing URL; set ${name.toUpperCase()}_URL`);
      routingUrls.set(name, target);
      return new RemoteGraphQLDataSource<RouterContext>({
        url: target,
        fetcher,
        async willSendRequest({ request, context }) {
          subgraphFetches.inc({ subgraph: name });
          // The only identity a subgraph accepts. Client headers are never forwarded (the data
          // source builds a fresh header set), so a client-sent internal header cannot get through.
          request.http?.headers.set(INTERNAL_TOKEN_HEADER, await (context.internalToken?.() ?? signer.sign(null)));
        },
      });
    },
  });
  const server = new ApolloServer<RouterContext>({
    gateway,
    // Both are Apollo Server's defaults, stated because the security tests rely on them: a JSON
    // array body is refused (one request, one operation, one rate-limit check), and a request that
    // a browser could send cross-site without a preflight (GET, or a simple content type) needs
    // `apollo-require-preflight` or a JSON content type.
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    introspection: !config.production,
    includeStacktraceInErrorResponses: !config.production,
    formatError: formatErrorFor({ production: config.production, logger }),
    plugins: [
      // Limits before rate limiting: an operation refused for its shape does not spend budget.
      createOperationLimitsPlugin(security.operationLimits),
      rateLimit,
      config.production
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, document: FIRST_QUERY, includeCookies: false }),
    ],
  });

  async function subgraphReachable(name: string, url: string): Promise<{ name: string; reachable: boolean; error?: string }> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true', [INTERNAL_TOKEN_HEADER]: await signer.sign(null) },
        body: JSON.stringify({ query: '{ __typename }' }),
        signal: AbortSignal.timeout(config.readinessTimeoutMs),
      });
      await response.body?.cancel();
      return response.ok ? { name, reachable: true } : { name, reachable: false, error: `HTTP ${response.status}` };
    } catch (error) {
      return { name, reachable: false, error: (error as Error).name === 'TimeoutError' ? 'timeout' : (error as Error).message };
    }
  }

  const handler = createHttpHandler({
    routes: { '/graphql': graphqlHandler(server, { context: createContextFactory({ verifier, signer }), maxBodyBytes: config.maxBodyBytes }) },
    async ready() {
      if (routingUrls.size === 0) return { ready: false, details: { supergraph: 'not loaded' } };
      const subgraphs = await Promise.all([...routingUrls].map(([name, url]) => subgraphReachable(name, url)));
      return { ready: subgraphs.every((subgraph) => subgraph.reachable), details: { supergraph: 'loaded', subgraphs } };
    },
    metrics,
    logger,
  });

  return {
    handler,
    metrics,
    gateway,
    start: () => server.start(),
    async stop() {
      await server.stop();
      await closeFetcher();
      await rateLimit.close();
    },
  };
}
