import { COMMON_SETTINGS, SUBGRAPH_PORT_SETTINGS } from "./platform/config.ts";
import type { Database, Storage } from "./platform/database.ts";
import { listen, type RunningServer } from "./platform/http-server.ts";
import { DEMO_PASSWORD, demoUsers } from "./platform/demo-data.ts";
import type { BannerRows } from "./platform/log-lines.ts";
import { SUBGRAPH_NAMES, type SubgraphName } from "./platform/services.ts";
import { forService, type Logger } from "./platform/logger.ts";
import { requiredDefault, settingName } from "./platform/settings.ts";
import {
  prepareDatabase,
  type SubgraphModule,
  type SubgraphServer,
} from "./platform/subgraph-server.ts";
import {
  ROUTER_SETTINGS,
  withSubgraphSettings,
  type RouterConfig,
} from "./router/config.ts";
import { EXPLORER_PATH, GRAPHIQL_PATH } from "./router/landing-page.ts";
import { createRouter, type Router } from "./router/server.ts";
import { randomBytes } from "node:crypto";
import { createLiveChangeFeed } from "./events/live-change-feed.ts";
import {
  startPipeline,
  type Pipeline,
  type PipelineOptions,
} from "./events/pipeline.ts";
import { registerPipelineMetrics } from "./events/pipeline-metrics.ts";
import {
  createUsersSubgraphDirectory,
  type RecipientDirectory,
} from "./events/recipients.ts";
import { notificationsModule } from "./subgraphs/notifications/server.ts";
import { ORDERS_SETTINGS } from "./subgraphs/orders/config.ts";
import { ordersModule, type OrdersOptions } from "./subgraphs/orders/server.ts";
import { PAYMENTS_SETTINGS } from "./subgraphs/payments/config.ts";
import {
  createSimulatedProvider,
  type PaymentProvider,
} from "./subgraphs/payments/provider.ts";
import { paymentsModule } from "./subgraphs/payments/server.ts";
import { PRODUCTS_SETTINGS } from "./subgraphs/products/config.ts";
import {
  productsModule,
  type ProductsOptions,
} from "./subgraphs/products/server.ts";
import {
  DEFAULT_USERS_OPTIONS,
  usersModule,
  type UsersOptions,
} from "./subgraphs/users/server.ts";

export type { SubgraphName };

export interface StackOptions {
  storage: Storage;
  logger: Logger;
  production?: boolean;
  seed?: boolean;
  host?: string;
  /** Port per subgraph; 0 picks a free one. @default 0 for every subgraph (tests, benchmarks) */
  ports?: Record<SubgraphName, number>;
  /** Router settings; each subgraph's instances are replaced by the one this stack starts. */
  router: RouterConfig;
  users?: UsersOptions;
  /** Signs service-to-service calls; a random one per stack when omitted (all services share the process). */
  internalServiceSecret?: string;
  products?: Partial<Omit<ProductsOptions, "internalServiceSecret">>;
  payments?: { provider?: PaymentProvider; providerTimeoutMs?: number };
  orders?: Partial<
    Omit<
      OrdersOptions,
      "internalServiceSecret" | "productsInternalUrl" | "paymentsInternalUrl"
    >
  >;
  /**
   * Router → subgraph token secret shared by every service of the process. In-process stacks pass a
   * fresh random one (main.ts does unless INTERNAL_TOKEN_SECRET is set); it overrides the router's.
   */
  internalTokenSecret: string;
  /**
   * The event pipeline (outbox relays, notification worker, dispatchers) in this process, on the
   * given event log and job queue. Omitted: no pipeline (most tests); `npm start` always passes it.
   * Recipients default to asking this stack's users subgraph.
   */
  events?: Omit<PipelineOptions, "storage" | "logger" | "recipients"> & {
    recipients?: RecipientDirectory;
  };
}

export interface Stack {
  readonly routerUrl: string;
  /** The router's admin listener (`/ready` details, `/metrics`), when its config names a port. */
  readonly routerAdminUrl: string | undefined;
  readonly router: Router;
  readonly subgraphs: Record<
    SubgraphName,
    {
      server: SubgraphServer;
      running: RunningServer;
      url: string;
      db: Database;
    }
  >;
  readonly pipeline: Pipeline | undefined;
  stop(): Promise<void>;
}

export type SubgraphsOptions = Omit<StackOptions, "router" | "events">;

export interface Subgraphs {
  readonly subgraphs: Stack["subgraphs"];
  stop(): Promise<void>;
}

/**
 * Every subgraph (platform/services.ts), each listening on its own port, sharing one storage engine.
 * Orders starts last: its saga calls products and payments, whose URLs exist once they listen.
 */
export async function startSubgraphs(
  options: SubgraphsOptions,
): Promise<Subgraphs> {
  const {
    storage,
    logger,
    production = false,
    seed = requiredDefault(COMMON_SETTINGS.seedDemoData),
    host = requiredDefault(COMMON_SETTINGS.host),
  } = options;
  const internalServiceSecret =
    options.internalServiceSecret ?? randomBytes(32).toString("base64url");
  const subgraphs = {} as Stack["subgraphs"];
  const base = (name: SubgraphName) =>
    subgraphs[name].url.replace(/\/graphql$/, "");
  // Keyed by name, so a subgraph added to platform/services.ts fails to typecheck until it is here.
  const modules: Record<SubgraphName, () => SubgraphModule> = {
    users: () => usersModule(options.users ?? DEFAULT_USERS_OPTIONS),
    products: () =>
      productsModule({
        internalServiceSecret,
        reservationTtlSeconds: requiredDefault(
          PRODUCTS_SETTINGS.reservationTtlSeconds,
        ),
        reservationSweepIntervalMs: requiredDefault(
          PRODUCTS_SETTINGS.reservationSweepIntervalMs,
        ),
        ...options.products,
      }),
    payments: () =>
      paymentsModule({
        internalServiceSecret,
        provider:
          options.payments?.provider ??
          createSimulatedProvider({
            timeoutMs:
              options.payments?.providerTimeoutMs ??
              requiredDefault(PAYMENTS_SETTINGS.providerTimeoutMs),
          }),
      }),
    orders: () =>
      ordersModule({
        internalServiceSecret,
        productsInternalUrl: base("products"),
        paymentsInternalUrl: base("payments"),
        serviceTimeoutMs: requiredDefault(ORDERS_SETTINGS.serviceTimeoutMs),
        placeOrderWaitMs: requiredDefault(ORDERS_SETTINGS.placeOrderWaitMs),
        sagaResumeIntervalMs: requiredDefault(
          ORDERS_SETTINGS.sagaResumeIntervalMs,
        ),
        sagaLeaseMs: requiredDefault(ORDERS_SETTINGS.sagaLeaseMs),
        ...options.orders,
      }),
    notifications: () => notificationsModule(),
  };
  const started: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const stopOne of started.reverse()) await stopOne();
    started.length = 0;
  };
  try {
    const startOrder = [
      ...SUBGRAPH_NAMES.filter((name) => name !== "orders"),
      "orders" as const,
    ];
    for (const name of startOrder) {
      const module = modules[name]();
      const serviceLogger = forService(logger, module.name);
      const db = storage.forService(module.name);
      await prepareDatabase(module, db, { seed, logger: serviceLogger });
      const server = module.create({
        db,
        logger: serviceLogger,
        production,
        internalTokenSecret: options.internalTokenSecret,
      });
      await server.start();
      const running = await listen(server.handler, {
        port: options.ports?.[module.name] ?? 0,
        host,
        setting: settingName(SUBGRAPH_PORT_SETTINGS[module.name]),
      });
      started.push(async () => {
        await running.close();
        await server.stop();
      });
      subgraphs[module.name] = {
        server,
        running,
        url: `${running.url}/graphql`,
        db,
      };
    }
    return { subgraphs, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/**
 * Every service in one process, still talking HTTP to each other: what `npm start` runs and what
 * end-to-end tests boot. Subgraphs start first, so the router's first plan finds them listening.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const {
    logger,
    storage,
    host = requiredDefault(COMMON_SETTINGS.host),
  } = options;
  const { subgraphs, stop: stopSubgraphs } = await startSubgraphs(options);
  let pipeline: Pipeline | undefined;
  try {
    if (options.events) {
      const { recipients, ...events } = options.events;
      pipeline = await startPipeline({
        ...events,
        storage,
        logger,
        recipients:
          recipients ??
          createUsersSubgraphDirectory({
            usersGraphqlUrl: subgraphs.users.url,
            internalTokenSecret: options.internalTokenSecret,
          }),
      });
    }
    const discovery = Object.fromEntries(
      Object.entries(subgraphs).map(([name, entry]) => [
        name,
        { discovery: { kind: "static" as const, urls: [entry.url] } },
      ]),
    );
    // The router verifies tokens against the users service this stack started, wherever it listens.
    const security = {
      ...options.router.security,
      internalTokenSecret: options.internalTokenSecret,
      jwksUrl: subgraphs.users.url.replace(
        /\/graphql$/,
        "/.well-known/jwks.json",
      ),
    };
    const router = createRouter({
      config: { ...withSubgraphSettings(options.router, discovery), security },
      logger: forService(logger, "router"),
      // Live updates read the pipeline's event log under a group of this router's own.
      ...(options.events && {
        liveSource: createLiveChangeFeed({
          eventLog: options.events.eventLog,
          topicPrefix: options.events.topicPrefix,
          logger: forService(logger, "router"),
        }),
      }),
    });
    await router.start();
    // The pipeline's series (outbox lag, DLQ depth, outcomes) join the router's /metrics here.
    if (pipeline && options.events)
      registerPipelineMetrics(router.metrics.registry, pipeline, {
        jobQueue: options.events.jobQueue,
        ...(options.events.queuePrefix
          ? { queuePrefix: options.events.queuePrefix }
          : {}),
      });
    const running = await listen(router.handler, {
      port: options.router.port,
      host,
      setting: settingName(ROUTER_SETTINGS.port),
      upgrade: router.upgrade,
    });
    const admin =
      options.router.adminPort === undefined
        ? undefined
        : await listen(router.adminHandler, {
            port: options.router.adminPort,
            host: options.router.adminHost,
            setting: settingName(ROUTER_SETTINGS.adminPort),
          });
    return {
      routerUrl: `${running.url}/graphql`,
      routerAdminUrl: admin?.url,
      router,
      subgraphs,
      pipeline,
      async stop() {
        // Router first: it stops taking requests before the subgraphs it calls go away; the
        // pipeline drains last, so events the last requests wrote still get relayed. Subscriptions
        // end first, with a last message, or their open streams would hold the port's drain.
        await router.drain();
        await running.close();
        await admin?.close();
        await router.stop();
        await stopSubgraphs();
        await pipeline?.stop();
      },
    };
  } catch (error) {
    await stopSubgraphs().catch(() => undefined);
    await pipeline?.stop().catch(() => undefined);
    throw error;
  }
}

/**
 * The rows of the banner `npm start` prints once the router serves the loaded supergraph: where
 * everything is, in the order a newcomer needs it. Demo accounts only when demo data is seeded
 * outside production; browser pages only outside production (router/landing-page.ts).
 */
export function readyBanner({
  routerUrl,
  adminUrl,
  production,
  seeded,
  demoPassword,
  logFile,
}: {
  routerUrl: string;
  /** The router's admin listener (ROUTER_ADMIN_PORT), where `/metrics` is when there is one. */
  adminUrl: string | undefined;
  production: boolean;
  seeded: boolean;
  /** The demo accounts' password: shown only when it is the published default, never a chosen one. */
  demoPassword: string;
  logFile: string | undefined;
}): BannerRows {
  const origin = new URL(routerUrl).origin;
  const rows: Array<[string, string]> = [];
  if (!production) {
    rows.push(["Home", `${origin}/  (every link below, in a browser)`]);
    rows.push([
      "Explorer",
      `${origin}${EXPLORER_PATH}  (Apollo Sandbox; offline it opens GraphiQL)`,
    ]);
    rows.push(["GraphiQL", `${origin}${GRAPHIQL_PATH}`]);
  }
  rows.push(["Metrics", `${adminUrl ?? origin}/metrics`]);
  rows.push([
    "Log file",
    logFile && logFile !== "off"
      ? `${logFile}  (npm run trace -- <correlation id>)`
      : "none (LOG_FILE)",
  ]);
  if (seeded && !production) {
    const customers = demoUsers
      .filter((user) => user.role !== "ADMIN")
      .map((user) => user.email);
    const admins = demoUsers
      .filter((user) => user.role === "ADMIN")
      .map((user) => user.email);
    const password =
      demoPassword === DEMO_PASSWORD
        ? `password ${DEMO_PASSWORD}`
        : "the password set in DEMO_PASSWORD";
    rows.push([
      "Accounts",
      `${customers.join(", ")}; ${admins.join(", ")} (ADMIN); ${password}`,
    ]);
  }
  rows.push(["Stop", "Ctrl-C (every service stops cleanly)"]);
  return rows;
}
