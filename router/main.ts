import { loadConfigurationOrExit } from "../deploy/configuration.ts";
import { createKafkaEventLog } from "../events/kafka-event-log.ts";
import { createLiveChangeFeed } from "../events/live-change-feed.ts";
import { listen } from "../platform/http-server.ts";
import { createLogger } from "../platform/logger.ts";
import { settingName } from "../platform/settings.ts";
import { onShutdown } from "../platform/shutdown.ts";
import { startOrExit } from "../platform/startup.ts";
import { loadTracingConfig, startTracing } from "../platform/tracing.ts";
import {
  loadRouterConfig,
  ROUTER_SETTINGS,
  ROUTER_SETTINGS_READ,
} from "./config.ts";
import { createRouter } from "./server.ts";

const config = await loadConfigurationOrExit(
  loadRouterConfig,
  ROUTER_SETTINGS_READ,
);
await startOrExit(async () => {
  const tracing = startTracing(loadTracingConfig(process.env, "router"));
  const logger = createLogger({
    format: config.logFormat,
    level: config.logLevel,
    file: config.logFile,
  }).child({ service: "router" });
  // The router's live source when deployed alone: its own consumer of the order events on Kafka
  // (a group per instance). This file is the router's composition root, the one place in router/
  // that may import events/. Without brokers there is no stream to follow: subscribing answers
  // SUBSCRIPTIONS_UNAVAILABLE rather than waiting on a source that would never speak.
  const { kafka } = config.subscriptions;
  const eventLog =
    kafka &&
    createKafkaEventLog({
      brokers: [...kafka.brokers],
      clientId: "router",
      logger,
    });
  if (!eventLog)
    logger.warn(
      { setting: settingName(ROUTER_SETTINGS.kafkaBrokers) },
      "no event stream: subscriptions answer SUBSCRIPTIONS_UNAVAILABLE",
    );
  const router = createRouter({
    config,
    logger,
    ...(kafka &&
      eventLog && {
        liveSource: createLiveChangeFeed({
          eventLog,
          topicPrefix: kafka.topicPrefix,
          logger,
        }),
      }),
  });
  await router.start();
  const running = await listen(router.handler, {
    port: config.port,
    host: config.host,
    setting: settingName(ROUTER_SETTINGS.port),
    upgrade: router.upgrade,
  });
  // Diagnostics (detailed /ready, /metrics) on their own port, loopback unless ROUTER_ADMIN_HOST says otherwise.
  const admin =
    config.adminPort === undefined
      ? undefined
      : await listen(router.adminHandler, {
          port: config.adminPort,
          host: config.adminHost,
          setting: settingName(ROUTER_SETTINGS.adminPort),
        });
  logger.info(
    { url: `${running.url}/graphql`, admin: admin?.url },
    "router listening",
  );
  console.log(`Router ready at ${running.url}/graphql`);
  onShutdown(logger, async () => {
    // Subscriptions end first with a last message; their open streams would hold the drain.
    await router.drain();
    await running.close();
    await admin?.close();
    await router.stop();
    await eventLog?.close();
    await tracing.shutdown();
  });
});
