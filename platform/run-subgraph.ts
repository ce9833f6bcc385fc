import { SUBGRAPH_PORT_SETTINGS, type CommonConfig } from "./config.ts";
import { openStorage } from "./database.ts";
import { listen } from "./http-server.ts";
import { createLogger } from "./logger.ts";
import { settingName } from "./settings.ts";
import { onShutdown } from "./shutdown.ts";
import { startOrExit } from "./startup.ts";
import { loadTracingConfig, startTracing } from "./tracing.ts";
import { prepareDatabase, type SubgraphModule } from "./subgraph-server.ts";

/** A subgraph as its own deployable: config -> storage -> migrations -> server -> listen. */
export async function runSubgraph(
  module: SubgraphModule,
  config: CommonConfig & { port: number; host: string },
): Promise<void> {
  await startOrExit(() => start(module, config));
}

async function start(
  module: SubgraphModule,
  config: CommonConfig & { port: number; host: string },
): Promise<void> {
  const tracing = startTracing(loadTracingConfig(process.env, module.name));
  const logger = createLogger({
    format: config.logFormat,
    level: config.logLevel,
    file: config.logFile,
  }).child({ service: module.name });
  const storage = await openStorage({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
  });
  const db = storage.forService(module.name);
  await prepareDatabase(module, db, { seed: config.seedDemoData, logger });
  const server = module.create({
    db,
    logger,
    production: config.production,
    internalTokenSecret: config.internalTokenSecret,
  });
  await server.start();
  const running = await listen(server.handler, {
    port: config.port,
    host: config.host,
    setting: settingName(SUBGRAPH_PORT_SETTINGS[module.name]),
  });
  logger.info({ url: `${running.url}/graphql` }, "subgraph listening");
  onShutdown(logger, async () => {
    await running.close();
    await server.stop();
    await storage.close();
    await tracing.shutdown();
  });
}
