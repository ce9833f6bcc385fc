import { Gauge, type Registry } from 'prom-client';
import { deadLetterQueueOf, type JobQueue } from './job-queue.ts';
import { CHANNELS, queueFor } from './notification-job.ts';
import { registerRelayMetrics } from './outbox-relay.ts';
import type { Pipeline } from './pipeline.ts';

/**
 * The pipeline's series, for whichever parts run in this process: outbox lag per schema (relays),
 * events by outcome (worker), notifications by outcome and DLQ depth per channel (dispatchers).
 * Gauges are read at scrape time, so an idle pipeline costs nothing between scrapes.
 */
export function registerPipelineMetrics(registry: Registry, pipeline: Pipeline, { jobQueue, queuePrefix = 'notifications' }: { jobQueue: JobQueue; queuePrefix?: string }): void {
  const registers = [registry];
  if (pipeline.relays.length > 0) registerRelayMetrics(registry, pipeline.relays);
  const { worker, dispatcher } = pipeline;
  if (worker) {
    new Gauge({ name: 'notification_worker_events', help: 'Events the worker has handled since start, by outcome', labelNames: ['outcome'], registers, collect() {
      for (const [outcome, value] of Object.entries(worker.stats)) this.set({ outcome }, value);
    } });
    new Gauge({
      name: 'event_consumer_lag',
      help: 'Events the notification worker’s consumer group has not committed yet (-1 when the log cannot be asked)',
      registers,
      async collect() {
        this.set(await worker.lag().catch(() => -1));
      },
    });
  }
  if (dispatcher) {
    new Gauge({ name: 'dispatcher_notifications', help: 'Notifications handled since start, by outcome', labelNames: ['outcome'], registers, collect() {
      for (const [outcome, value] of Object.entries(dispatcher.stats)) this.set({ outcome }, value);
    } });
    new Gauge({ name: 'dispatcher_downstream_unavailable', help: 'Downstreams the dispatcher is holding jobs for (1 while unavailable)', labelNames: ['downstream'], registers, collect() {
      this.reset();
      for (const downstream of dispatcher.unavailable) this.set({ downstream }, 1);
    } });
    new Gauge({
      name: 'notification_dlq_depth',
      help: 'Jobs waiting in each channel’s dead-letter queue (-1 when the broker cannot be asked)',
      labelNames: ['queue'],
      registers,
      async collect() {
        for (const channel of CHANNELS) {
          const queue = deadLetterQueueOf(queueFor(queuePrefix, channel));
          // A broker that is down must not fail the whole scrape: -1 says "unknown".
          this.set({ queue }, await jobQueue.depth(queue).catch(() => -1));
        }
      },
    });
  }
}
