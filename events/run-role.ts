import { Gauge } from 'prom-client';
import { openStorage } from '../platform/database.ts';
import { createHttpHandler, listen } from '../platform/http-server.ts';
import { createLogger } from '../platform/logger.ts';
import { createServiceMetrics } from '../platform/metrics.ts';
import { onShutdown } from '../platform/shutdown.ts';
import type { PipelineConfig } from './config.ts';
import { registerRelayMetrics } from './outbox-relay.ts';
import { eventLogFromConfig, jobQueueFromConfig, sendersFromConfig, startPipeline } from './pipeline.ts';
import { createUsersSubgraphDirectory } from './recipients.ts';

export type PipelineRole = 'relay' | 'worker' | 'dispatcher' | 'analytics';

/**
 * One pipeline role as its own deployable (`npm run start:relay|worker|dispatcher`): config ->
 * storage -> broker adapters -> role -> `/health`, `/ready`, `/metrics` on the role's port.
 *
 * Run alone, a role needs real brokers (KAFKA_BROKERS, AMQP_URL) and PostgreSQL to meet the
 * others: the in-process adapters only connect roles that share one process (`npm start`).
 */
export async function runPipelineRole(role: PipelineRole, config: PipelineConfig): Promise<void> {
  const logger = createLogger({ level: config.logLevel }).child({ service: role });
  if (!config.kafkaBrokers || ((role === 'worker' || role === 'dispatcher') && !config.amqpUrl)) logger.warn({ role }, 'running alone on an in-process broker: nothing outside this process will see its messages');
  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const eventLog = eventLogFromConfig(config, { logger, clientId: `switchyard-${role}` });
  const jobQueue = await jobQueueFromConfig(config, { logger });
  const pipeline = await startPipeline({
    storage,
    logger,
    eventLog,
    jobQueue,
    senders: sendersFromConfig(config, { logger }),
    recipients: createUsersSubgraphDirectory({ usersGraphqlUrl: config.usersGraphqlUrl, internalTokenSecret: config.internalTokenSecret }),
    retry: config.retry,
    roles: { [role]: true },
    relayPollIntervalMs: config.relayPollIntervalMs,
    topicPrefix: config.topicPrefix,
    groupId: config.groupId,
    queuePrefix: config.queuePrefix,
  });
  const metrics = createServiceMetrics(role);
  if (role === 'relay') registerRelayMetrics(metrics.registry, pipeline.relays);
  const { worker, dispatcher } = pipeline;
  if (worker) {
    new Gauge({ name: 'notification_worker_events', help: 'Events the worker has handled since start, by outcome', labelNames: ['outcome'], registers: [metrics.registry], collect() {
      for (const [outcome, value] of Object.entries(worker.stats)) this.set({ outcome }, value);
    } });
  }
  if (dispatcher) {
    new Gauge({ name: 'dispatcher_notifications', help: 'Notifications handled since start, by outcome', labelNames: ['outcome'], registers: [metrics.registry], collect() {
      for (const [outcome, value] of Object.entries(dispatcher.stats)) this.set({ outcome }, value);
    } });
  }
  const port = { relay: config.relayPort, worker: config.workerPort, dispatcher: config.dispatcherPort, analytics: config.analyticsPort }[role];
  const running = await listen(createHttpHandler({ routes: {}, ready: async () => ({ ready: true }), metrics, logger }), { port, host: config.host });
  logger.info({ role, url: running.url, eventLog: eventLog.kind, jobQueue: jobQueue.kind }, 'pipeline role running');
  onShutdown(logger, async () => {
    await running.close();
    await pipeline.stop();
    await storage.close();
  });
}
