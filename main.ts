/**
 * `npm start`: every service in one process on embedded defaults (PGlite under .data/), or on
 * PostgreSQL when DATABASE_URL is set. Each service keeps its own port, schema and config.
 * The event pipeline (relays, notification worker, dispatchers) runs here too: in-process event
 * log and job queue by default, Kafka / RabbitMQ when KAFKA_BROKERS / AMQP_URL are set.
 */
import { randomBytes } from 'node:crypto';
import { loadConfigurationOrExit } from './deploy/configuration.ts';
import { eventLogFromConfig, jobQueueFromConfig, sendersFromConfig } from './events/pipeline.ts';
import { DEV_INTERNAL_SERVICE_SECRET, DEV_INTERNAL_TOKEN_SECRET } from './platform/config.ts';
import { openStorage } from './platform/database.ts';
import { createLogger } from './platform/logger.ts';
import { onShutdown } from './platform/shutdown.ts';
import { startOrExit } from './platform/startup.ts';
import { loadTracingConfig, startTracing } from './platform/tracing.ts';
import { startStack } from './stack.ts';
import { loadStackConfig, STACK_SETTINGS_READ } from './stack-config.ts';

const config = await loadConfigurationOrExit(loadStackConfig, STACK_SETTINGS_READ);
const { users, products, orders, payments, notifications, router, pipeline } = config;

/**
 * One process, one fresh secret: the fixed development defaults exist so that separately started
 * services agree; when everything runs here, a random secret per start is strictly better.
 */
const perProcess = (secret: string, developmentDefault: string) => (secret === developmentDefault ? randomBytes(32).toString('base64url') : secret);

// OTEL_* come from the environment only; a bad one is refused like any other setting.
const tracing = await startOrExit(() => startTracing(loadTracingConfig(process.env, 'switchyard')));
const logger = createLogger({ format: config.logFormat, level: config.logLevel, file: config.logFile });
const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
logger.info({ storage: storage.kind, dataDir: storage.kind === 'pglite' ? config.dataDir : undefined }, 'storage open');
const stack = await startOrExit(async () => startStack({
  storage,
  logger,
  production: config.production,
  seed: config.seedDemoData,
  host: config.host,
  ports: { users: users.port, products: products.port, orders: orders.port, payments: payments.port, notifications: notifications.port },
  router,
  internalTokenSecret: perProcess(router.security.internalTokenSecret, DEV_INTERNAL_TOKEN_SECRET),
  users: { jwtIssuer: users.jwtIssuer, jwtAudience: users.jwtAudience, jwtTtlSeconds: users.jwtTtlSeconds, demoPassword: users.demoPassword },
  internalServiceSecret: perProcess(orders.internalServiceSecret, DEV_INTERNAL_SERVICE_SECRET),
  products: { reservationTtlSeconds: products.reservationTtlSeconds, reservationSweepIntervalMs: products.reservationSweepIntervalMs },
  payments: { providerTimeoutMs: payments.providerTimeoutMs },
  events: {
    eventLog: eventLogFromConfig(pipeline, { logger, clientId: 'switchyard' }),
    jobQueue: await jobQueueFromConfig(pipeline, { logger }),
    senders: sendersFromConfig(pipeline, { logger }),
    retry: pipeline.retry,
    relayPollIntervalMs: pipeline.relayPollIntervalMs,
  },
  orders: {
    serviceTimeoutMs: orders.serviceTimeoutMs,
    placeOrderWaitMs: orders.placeOrderWaitMs,
    sagaResumeIntervalMs: orders.sagaResumeIntervalMs,
    sagaLeaseMs: orders.sagaLeaseMs,
  },
}));
console.log(`Router ready at ${stack.routerUrl.replace('127.0.0.1', 'localhost')}`);
onShutdown(logger, async () => {
  await stack.stop();
  await storage.close();
  await tracing.shutdown();
});
