/**
 * One router in its own process, so its CPU time is its own: `resilient` is this repository's
 * router with every resilience feature on; `plain` is @apollo/gateway + @apollo/server with the
 * gateway's default data source and fetcher, served by the same HTTP handler. Reports its port over
 * IPC once listening, and answers `cpu` messages with process.cpuUsage().
 */
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { readFileSync } from "node:fs";
import { pino } from "pino";
import {
  createHttpHandler,
  graphqlHandler,
  listen,
  type Handler,
} from "../platform/http-server.ts";
import {
  createInternalTokenSigner,
  INTERNAL_TOKEN_HEADER,
} from "../platform/internal-token.ts";
import { createServiceMetrics } from "../platform/metrics.ts";
import type { Principal } from "../platform/principal.ts";
import {
  loadRouterConfig,
  withSubgraphSettings,
  type SubgraphSettings,
} from "../router/config.ts";
import { acknowledgeSubgraphEnforcedSecurity } from "../router/auth/security-features.ts";
import { createRouter } from "../router/server.ts";
import { loadTracingConfig, startTracing } from "../platform/tracing.ts";

process.env.APOLLO_TELEMETRY_DISABLED = "true";
// Off unless the parent sets OTEL_EXPORTER_OTLP_ENDPOINT (bench:tracing), as in a deployment.
const tracing = startTracing(loadTracingConfig(process.env, "router"));
const kind = process.argv[2];
const urls = JSON.parse(process.env.BENCH_SUBGRAPH_URLS ?? "{}") as Record<
  string,
  string
>;
const breaker = JSON.parse(process.env.BENCH_BREAKER ?? "null") as Partial<
  SubgraphSettings["breaker"]
> | null;
const logger = pino({ level: "silent" });
const signer = createInternalTokenSigner({
  secret: process.env.INTERNAL_TOKEN_SECRET ?? "",
});
const principal = JSON.parse(
  process.env.BENCH_PRINCIPAL ?? "null",
) as Principal | null;

let handler: Handler;
let start: () => Promise<void>;
if (kind === "resilient") {
  const base = loadRouterConfig({ ...process.env, LOG_LEVEL: "silent" });
  const changes = Object.fromEntries(
    Object.entries(urls).map(([name, url]) => [
      name,
      {
        discovery: { kind: "static" as const, urls: [url] },
        ...(breaker
          ? { breaker: { ...base.subgraphDefaults.breaker, ...breaker } }
          : {}),
      },
    ]),
  );
  const router = createRouter({
    config: withSubgraphSettings(base, changes),
    logger,
  });
  handler = router.handler;
  start = () => router.start();
} else if (kind === "plain") {
  const gateway = new ApolloGateway({
    // Any @apollo/gateway needs this to load a supergraph that declares @authenticated (see the helper).
    supergraphSdl: acknowledgeSubgraphEnforcedSecurity(
      readFileSync(process.env.SUPERGRAPH_PATH ?? "supergraph.graphql", "utf8"),
    ),
    logger,
    // Subgraphs answer only router-signed requests, so the baseline signs one per fetch for the
    // bench's caller, as the resilient router does; it skips verifying the client's JWT, which
    // flatters the baseline if anything.
    // On the Guild workload (no subgraph URLs given) nothing checks a token, so none is signed.
    buildService: ({ name, url }) =>
      Object.keys(urls).length === 0
        ? new RemoteGraphQLDataSource({ url })
        : new RemoteGraphQLDataSource({
            url: urls[name] ?? url,
            async willSendRequest({ request }) {
              request.http?.headers.set(
                INTERNAL_TOKEN_HEADER,
                await signer.sign(principal),
              );
            },
          }),
  });
  const server = new ApolloServer({ gateway });
  handler = createHttpHandler({
    routes: {
      "/graphql": graphqlHandler(server, { context: async () => ({}) }),
    },
    ready: async () => ({ ready: true }),
    metrics: createServiceMetrics("router"),
    logger,
  });
  start = () => server.start();
} else {
  throw new Error(
    `usage: router-process.ts resilient|plain (got ${String(kind)})`,
  );
}

await start();
const running = await listen(handler, { port: 0 });
process.on("message", (message) => {
  if (message === "cpu") process.send?.({ cpu: process.cpuUsage() });
  if (message === "stop")
    void running
      .close(1000)
      .then(() => tracing.shutdown())
      .then(() => process.exit(0));
});
process.send?.({ port: running.port });
