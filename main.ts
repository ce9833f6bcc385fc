/**
 * `npm start`: every service in one process on embedded defaults (PGlite under .data/), or on
 * PostgreSQL when DATABASE_URL is set. Each service keeps its own port, schema and config.
 * The event pipeline (relays, notification worker, dispatchers) runs here too: in-process event
 * log and job queue by default, Kafka / RabbitMQ when KAFKA_BROKERS / AMQP_URL are set.
 */
import { randomBytes } from "node:crypto";
import { loadConfigurationOrExit } from "./deploy/configuration.ts";
import {
  eventLogFromConfig,
  jobQueueFromConfig,
  sendersFromConfig,
} from "./events/pipeline.ts";
import {
  DEV_INTERNAL_SERVICE_SECRET,
  DEV_INTERNAL_TOKEN_SECRET,
} from "./platform/config.ts";
import { openStorage } from "./platform/database.ts";
import { createLogger, forService } from "./platform/logger.ts";
import { perSubgraph } from "./platform/services.ts";
import { onShutdown } from "./platform/shutdown.ts";
import { startOrExit } from "./platform/startup.ts";
import { loadTracingConfig, startTracing } from "./platform/tracing.ts";
import { readyBanner, startStack } from "./stack.ts";
import { loadStackConfig, STACK_SETTINGS_READ } from "./stack-config.ts";

const config = await loadConfigurationOrExit(
  loadStackConfig,
  STACK_SETTINGS_READ,
);
const { users, products, orders, payments, router, pipeline } = config;

/**
 * One process, one fresh secret: the fixed development defaults exist so that separately started
 * services agree; when everything runs here, a random secret per start is strictly better.
 */
const perProcess = (secret: string, developmentDefault: string) =>
  secret === developmentDefault
    ? randomBytes(32).toString("base64url")
    : secret;

// OTEL_* come from the environment only; a bad one is refused like any other setting.
const tracing = await startOrExit(() =>
  startTracing(loadTracingConfig(process.env, "switchyard")),
);
// The root logger goes to startStack, which names each service's child; lines of the process
// itself (storage, shutdown, the banner) and the shared broker adapters get a name of their own.
const logger = createLogger({
  format: config.logFormat,
  level: config.logLevel,
  file: config.logFile,
});
const system = forService(logger, "switchyard");
const storage = await openStorage({
  databaseUrl: config.databaseUrl,
  dataDir: config.dataDir,
});
system.info(
  {
    storage: storage.kind,
    dataDir: storage.kind === "pglite" ? config.dataDir : undefined,
  },
  "storage open",
);
const stack = await startOrExit(async () =>
  startStack({
    storage,
    logger,
    production: config.production,
    seed: config.seedDemoData,
    host: config.host,
    ports: perSubgraph((name) => config[name].port),
    router,
    internalTokenSecret: perProcess(
      router.security.internalTokenSecret,
      DEV_INTERNAL_TOKEN_SECRET,
    ),
    users: {
      jwtIssuer: users.jwtIssuer,
      jwtAudience: users.jwtAudience,
      jwtTtlSeconds: users.jwtTtlSeconds,
      demoPassword: users.demoPassword,
      passwordHashCost: users.passwordHashCost,
    },
    internalServiceSecret: perProcess(
      orders.internalServiceSecret,
      DEV_INTERNAL_SERVICE_SECRET,
    ),
    products: {
      reservationTtlSeconds: products.reservationTtlSeconds,
      reservationSweepIntervalMs: products.reservationSweepIntervalMs,
    },
    payments: { providerTimeoutMs: payments.providerTimeoutMs },
    events: {
      eventLog: eventLogFromConfig(pipeline, {
        logger: forService(logger, "pipeline"),
        clientId: "switchyard",
      }),
      jobQueue: await jobQueueFromConfig(pipeline, {
        logger: forService(logger, "pipeline"),
      }),
      // Senders deliver for the dispatcher: their lines ("notification delivered to log") are its.
      senders: sendersFromConfig(pipeline, {
        logger: forService(logger, "dispatcher"),
      }),
      retry: pipeline.retry,
      relayPollIntervalMs: pipeline.relayPollIntervalMs,
    },
    orders: {
      serviceTimeoutMs: orders.serviceTimeoutMs,
      placeOrderWaitMs: orders.placeOrderWaitMs,
      sagaResumeIntervalMs: orders.sagaResumeIntervalMs,
      sagaLeaseMs: orders.sagaLeaseMs,
    },
  }),
);
const routerUrl = stack.routerUrl.replace("127.0.0.1", "localhost");
const adminUrl = stack.routerAdminUrl?.replace("127.0.0.1", "localhost");
// Last: after every service started and the gateway loaded the supergraph (startStack awaits both),
// through the same stream as every other line, so nothing printed earlier lands after it.
if (system.isLevelEnabled("info"))
  system.info(
    {
      url: routerUrl,
      banner: readyBanner({
        routerUrl,
        adminUrl,
        production: config.production,
        seeded: config.seedDemoData,
        demoPassword: users.demoPassword,
        logFile: config.logFile,
      }),
    },
    `Router ready at ${routerUrl}`,
  );
// A quieter LOG_LEVEL still gets the one line scripts and people wait for.
else process.stdout.write(`Router ready at ${routerUrl}\n`);
onShutdown(system, async () => {
  await stack.stop();
  await storage.close();
  await tracing.shutdown();
});
