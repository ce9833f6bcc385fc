import { openStorage } from "../platform/database.ts";
import { createHttpHandler, listen } from "../platform/http-server.ts";
import { createLogger } from "../platform/logger.ts";
import { createServiceMetrics } from "../platform/metrics.ts";
import { onShutdown } from "../platform/shutdown.ts";
import { loadTracingConfig, startTracing } from "../platform/tracing.ts";
import { settingName } from "../platform/settings.ts";
import { startOrExit } from "../platform/startup.ts";
import { PIPELINE_SETTINGS, type PipelineConfig } from "./config.ts";
import { registerPipelineMetrics } from "./pipeline-metrics.ts";
import {
  consumerReadiness,
  eventLogFromConfig,
  jobQueueFromConfig,
  sendersFromConfig,
  startPipeline,
} from "./pipeline.ts";
import { createUsersSubgraphDirectory } from "./recipients.ts";
import {
  dispatcherReadiness,
  registerJobQueueMetrics,
  relayReadiness,
  type Readiness,
} from "./role-readiness.ts";

export type PipelineRole = "relay" | "worker" | "dispatcher" | "analytics";

/**
 * One pipeline role as its own deployable (`npm run start:relay|worker|dispatcher`): config ->
 * storage -> broker adapters -> role -> `/health`, `/ready`, `/metrics` on the role's port.
 *
 * Run alone, a role needs real brokers (KAFKA_BROKERS, AMQP_URL) and PostgreSQL to meet the
 * others: the in-process adapters only connect roles that share one process (`npm start`).
 */
export async function runPipelineRole(
  role: PipelineRole,
  config: PipelineConfig,
): Promise<void> {
  await startOrExit(() => start(role, config));
}

async function start(
  role: PipelineRole,
  config: PipelineConfig,
): Promise<void> {
  const tracing = startTracing(loadTracingConfig(process.env, role));
  const logger = createLogger({
    format: config.logFormat,
    level: config.logLevel,
    file: config.logFile,
  }).child({ service: role });
  if (
    !config.kafkaBrokers ||
    ((role === "worker" || role === "dispatcher") && !config.amqpUrl)
  )
    logger.warn(
      { role },
      "running alone on an in-process broker: nothing outside this process will see its messages",
    );
  const storage = await openStorage({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
  });
  const eventLog = eventLogFromConfig(config, {
    logger,
    clientId: `switchyard-${role}`,
  });
  const jobQueue = await jobQueueFromConfig(config, { logger });
  const pipeline = await startPipeline({
    storage,
    logger,
    eventLog,
    jobQueue,
    senders: sendersFromConfig(config, { logger }),
    recipients: createUsersSubgraphDirectory({
      usersGraphqlUrl: config.usersGraphqlUrl,
      internalTokenSecret: config.internalTokenSecret,
    }),
    retry: config.retry,
    roles: { [role]: true },
    relayPollIntervalMs: config.relayPollIntervalMs,
    topicPrefix: config.topicPrefix,
    groupId: config.groupId,
    queuePrefix: config.queuePrefix,
  });
  const metrics = createServiceMetrics(role);
  // The queue prefix the role really uses: without it the DLQ gauge read `notifications.*.dlq`.
  registerPipelineMetrics(metrics.registry, pipeline, {
    jobQueue,
    queuePrefix: config.queuePrefix,
  });
  if (role === "worker" || role === "dispatcher")
    registerJobQueueMetrics(metrics.registry, jobQueue);
  const port = {
    relay: config.relayPort,
    worker: config.workerPort,
    dispatcher: config.dispatcherPort,
    analytics: config.analyticsPort,
  }[role];
  // Handles opened once (each is a pool of its own on PostgreSQL), not per probe.
  const probeDbs = new Map(
    pipeline.relays.map((relay) => [
      relay.schema,
      storage.forService(relay.schema),
    ]),
  );
  const notificationsDb =
    role === "dispatcher" ? storage.forService("notifications") : undefined;
  const roleReadiness = async (): Promise<Readiness> => {
    if (notificationsDb)
      return dispatcherReadiness({ db: notificationsDb, jobQueue });
    if (role === "relay")
      return relayReadiness({
        relays: pipeline.relays,
        dbOf: (relay) => probeDbs.get(relay.schema)!,
      });
    return { ready: true };
  };
  // Ready while the role's own dependencies answer and every Kafka consumer it runs is running.
  const ready = async () => {
    const [own, consumers] = [
      await roleReadiness(),
      consumerReadiness(pipeline),
    ];
    return {
      ready: own.ready && consumers.ready,
      details: { ...own.details, ...consumers.details },
    };
  };
  const running = await listen(
    createHttpHandler({ routes: {}, ready, metrics, logger }),
    {
      port,
      host: config.host,
      setting: settingName(PIPELINE_SETTINGS[`${role}Port`]),
    },
  );
  logger.info(
    {
      role,
      url: running.url,
      eventLog: eventLog.kind,
      jobQueue: jobQueue.kind,
    },
    "pipeline role running",
  );
  onShutdown(logger, async () => {
    await running.close();
    await pipeline.stop();
    await storage.close();
    await tracing.shutdown();
  });
}
