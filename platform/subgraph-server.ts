import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { IncomingMessage } from "node:http";
import { ApolloServer, type BaseContext } from "@apollo/server";
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from "@apollo/server/plugin/disabled";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { GraphQLError, parse, type GraphQLFormattedError } from "graphql";
import type { Database, Sql } from "./database.ts";
import { ERROR_CODES } from "./errors.ts";
import type { SubgraphName } from "./services.ts";
import { enforceAuthDirectives } from "./authorization.ts";
import {
  createHttpHandler,
  graphqlHandler,
  sendJson,
  type Handler,
} from "./http-server.ts";
import {
  createInternalTokenVerifier,
  INTERNAL_TOKEN_HEADER,
  InternalTokenError,
} from "./internal-token.ts";
import type { Principal } from "./principal.ts";
import type { Logger } from "./logger.ts";
import type { BackgroundTask } from "./background.ts";
import { migrate, seedOnce } from "./migrate.ts";
import {
  createServiceMetrics,
  createSqlQueryCounter,
  type BatchObserver,
  type ServiceMetrics,
} from "./metrics.ts";
import { createInputGuardPlugin } from "./input-guard.ts";
import { createOperationObserver } from "./operation-observer.ts";

export interface SubgraphDeps {
  readonly db: Database;
  readonly logger: Logger;
  /** Production masks unexpected errors and turns introspection off. */
  readonly production: boolean;
  /** Verifies the router's identity token on every request (platform/internal-token.ts). */
  readonly internalTokenSecret: string;
}

export interface SubgraphServer {
  readonly name: string;
  readonly handler: Handler;
  readonly metrics: ServiceMetrics;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What one subgraph folder provides; the runner and `npm start` need nothing else. */
export interface SubgraphModule {
  /** Service name: also its SQL schema and its name in supergraph.yaml. */
  readonly name: SubgraphName;
  readonly migrationsDir: string;
  /** Inserts the demo data set; runs once per database. */
  readonly seed: (tx: Sql) => Promise<void>;
  readonly create: (deps: SubgraphDeps) => SubgraphServer;
}

export function loadSchemaFile(url: URL) {
  return parse(readFileSync(url, "utf8"));
}

/**
 * What every subgraph folder holds: its name, its schema.graphql, its resolvers and, unless
 * another deployable migrates its schema, its migrations/. The subgraph's own server.ts gives each
 * file as a URL built from a string literal and its own import.meta.url: that literal form is what
 * `npm run build` (scripts/build.ts) finds and copies beside the bundles, so a path computed here
 * from the caller's URL would be missing from a build.
 */
export function subgraphFolder<Resolvers extends object>(
  name: SubgraphName,
  files: { readonly schema: URL; readonly migrations?: URL },
  resolvers: Resolvers,
) {
  const typeDefs = loadSchemaFile(files.schema);
  const migrationsDir = files.migrations && fileURLToPath(files.migrations);
  return {
    name,
    typeDefs,
    resolvers,
    /** This subgraph's server over `deps`; see createSubgraphServer for the parts. */
    server: <Ctx extends BaseContext>(
      deps: SubgraphDeps,
      parts: Pick<SubgraphServerParts<Ctx>, "context" | "routes" | "tasks">,
    ) =>
      createSubgraphServer<Ctx>({ name, typeDefs, resolvers, deps, ...parts }),
    /** Its SubgraphModule, for the runner and `npm start`. */
    module: (
      parts: Pick<SubgraphModule, "seed" | "create"> &
        Partial<Pick<SubgraphModule, "migrationsDir">>,
    ): SubgraphModule => {
      const dir = parts.migrationsDir ?? migrationsDir;
      if (!dir)
        throw new Error(
          `subgraph ${name}: no migrations folder given (subgraphFolder's files.migrations or the module's migrationsDir)`,
        );
      return { name, ...parts, migrationsDir: dir };
    },
  };
}

/**
 * The per-request context every subgraph builds: its long-lived services, DataLoaders built fresh
 * over its repository (so nothing cached outlives the request) and the principal the router vouched for.
 */
export function contextWithLoaders<Repo, Loaders, Services extends object>(
  repo: Repo,
  createLoaders: (repo: Repo, observeBatch: BatchObserver) => Loaders,
  services: Services,
) {
  return (
    _req: IncomingMessage,
    principal: Principal | null,
    observeBatch: BatchObserver,
  ) => ({ ...services, loaders: createLoaders(repo, observeBatch), principal });
}

export async function prepareDatabase(
  module: SubgraphModule,
  db: Database,
  { seed, logger }: { seed: boolean; logger: Logger },
): Promise<void> {
  const applied = await migrate(db, {
    schema: module.name,
    dir: module.migrationsDir,
  });
  if (applied.length > 0) logger.info({ applied }, "migrations applied");
  if (
    seed &&
    (await seedOnce(db, {
      schema: module.name,
      name: "demo",
      seed: module.seed,
    }))
  )
    logger.info({ schema: module.name }, "demo data seeded");
}

const KNOWN_CODES = new Set<string>(Object.keys(ERROR_CODES));

/** graphql-js's "Did you mean …?" hints, wherever they sit in a message (validation or variable coercion). */
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/**
 * Where introspection is off (production), graphql's suggestions would hand out the schema one
 * guess at a time: `{ prodcts }` answers `Did you mean "products"?`, a misspelt input field names the
 * real one. Apollo Server's `hideSchemaDetailsFromClientErrors` strips them from validation errors
 * only, and only at the end of a message; this covers variable coercion errors too.
 */
function withoutSuggestions(
  formatted: GraphQLFormattedError,
): GraphQLFormattedError {
  const message = formatted.message.replace(SUGGESTION, "");
  return message === formatted.message ? formatted : { ...formatted, message };
}

/**
 * Keeps coded errors as they are and masks the rest in production: an error without one of our
 * codes is a bug or an infrastructure failure, whose message may name tables, hosts or SQL.
 */
export function formatErrorFor({
  production,
  logger,
}: {
  production: boolean;
  logger: Logger;
}) {
  return (
    formatted: GraphQLFormattedError,
    error: unknown,
  ): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (
      typeof code === "string" &&
      KNOWN_CODES.has(code) &&
      code !== "INTERNAL_SERVER_ERROR"
    )
      return production ? withoutSuggestions(formatted) : formatted;
    const original =
      error instanceof GraphQLError ? (error.originalError ?? error) : error;
    logger.error({ err: original, path: formatted.path }, "unexpected error");
    if (!production)
      return {
        ...formatted,
        extensions: { ...formatted.extensions, code: "INTERNAL_SERVER_ERROR" },
      };
    return {
      message: "Internal server error",
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    };
  };
}

/** buildSubgraphSchema's resolver map, whose type @apollo/subgraph exports only under `dist/`. */
type SubgraphResolverMap = Extract<
  Parameters<typeof buildSubgraphSchema>[0],
  readonly unknown[]
>[number] extends infer Module
  ? Module extends { resolvers?: infer Map }
    ? NonNullable<Map>
    : never
  : never;

export interface SubgraphServerParts<Ctx extends BaseContext> {
  name: string;
  typeDefs: ReturnType<typeof parse>;
  /**
   * The subgraph's `Resolvers<Ctx>`, generated from its schema (subgraphs/<name>/generated/
   * resolvers-types.ts) and checked where it is written: its `__resolveReference(reference,
   * context)` signature is federation's, which buildSubgraphSchema's own map type cannot express.
   */
  resolvers: object;
  deps: SubgraphDeps;
  /**
   * Builds the per-request context from the principal the router vouched for (null = anonymous);
   * `observeBatch` goes to the request's DataLoaders (the `dataloader_batch_size` series).
   */
  context: (
    req: IncomingMessage,
    principal: Principal | null,
    observeBatch: BatchObserver,
  ) => Ctx;
  routes?: Record<string, Handler>;
  /** Periodic jobs (sweepers, saga resumers) started with the server and stopped before it. */
  tasks?: BackgroundTask[];
}

export function createSubgraphServer<Ctx extends BaseContext>({
  name,
  typeDefs,
  resolvers,
  deps,
  context,
  routes = {},
  tasks = [],
}: SubgraphServerParts<Ctx>): SubgraphServer {
  const { db, logger, production } = deps;
  const internalTokens = createInternalTokenVerifier({
    secret: deps.internalTokenSecret,
  });
  const metrics = createServiceMetrics(name);
  const sqlQueries = createSqlQueryCounter(metrics);
  db.onQuery(() => sqlQueries.inc());
  const server = new ApolloServer<Ctx>({
    schema: enforceAuthDirectives(
      buildSubgraphSchema([
        { typeDefs, resolvers: resolvers as SubgraphResolverMap },
      ]),
    ),
    introspection: !production,
    // With introspection off, no "Did you mean …" hints either (formatErrorFor strips the rest).
    hideSchemaDetailsFromClientErrors: production,
    includeStacktraceInErrorResponses: !production,
    // Signals are handled by the deployable (platform/shutdown.ts), which stops things in order.
    stopOnTerminationSignals: false,
    formatError: formatErrorFor({ production, logger }),
    // Inline traces (ftv1) are for Apollo's usage reporting, which is off: computing them is pure cost.
    // The input guard again here: the router refuses NUL bytes at the edge, but a subgraph is reachable
    // on the internal network by anything holding a router token, and its SQL must never see one.
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      createOperationObserver<Ctx>(metrics),
      createInputGuardPlugin<Ctx>(),
    ],
  });
  const observeBatch: BatchObserver = (loader, size) =>
    metrics.loaderBatchSize.observe({ loader }, size);
  const graphql = graphqlHandler(server, {
    context: async (req) =>
      context(req, principals.get(req) ?? null, observeBatch),
  });
  // Principals verified for in-flight requests; weak, so a finished request leaves nothing behind.
  const principals = new WeakMap<IncomingMessage, Principal | null>();
  const handler = createHttpHandler({
    routes: {
      // Only the router may call a subgraph: anything without a valid router token is refused
      // before its body is read, whatever identity headers it carries.
      "/graphql": async (req, res) => {
        const header = req.headers[INTERNAL_TOKEN_HEADER];
        try {
          principals.set(
            req,
            await internalTokens.verify(
              Array.isArray(header) ? header[0] : header,
            ),
          );
        } catch (error) {
          if (!(error instanceof InternalTokenError)) throw error;
          logger.warn(
            { reason: error.message, remoteAddress: req.socket.remoteAddress },
            "subgraph request without a valid router token",
          );
          req.resume();
          sendJson(res, 401, {
            errors: [
              {
                message: "subgraphs accept requests from the router only",
                extensions: { code: "UNAUTHENTICATED" },
              },
            ],
          });
          return;
        }
        await graphql(req, res);
      },
      ...routes,
    },
    ready: async () => {
      await db.query("SELECT 1");
      return { ready: true };
    },
    metrics,
    logger,
  });
  return {
    name,
    handler,
    metrics,
    async start() {
      await server.start();
      for (const task of tasks) task.start();
    },
    async stop() {
      await Promise.all(tasks.map((task) => task.stop()));
      await server.stop();
    },
  };
}
