import { Gauge, type Registry } from "prom-client";
import { counterOfTotals } from "../platform/metrics.ts";
import type { ConsumerStatus } from "./event-log.ts";
import { deadLetterQueueOf, type JobQueue } from "./job-queue.ts";
import { CHANNELS, queueFor } from "./notification-job.ts";
import { registerRelayMetrics } from "./outbox-relay.ts";
import type { Pipeline } from "./pipeline.ts";

/** The counter of each role's running totals by outcome (its `stats` object). */
const OUTCOME_COUNTERS = {
  worker: {
    name: "notification_worker_events_total",
    help: "Events the worker has handled, by outcome (handled, duplicates, rejected; jobs: notification jobs published)",
  },
  dispatcher: {
    name: "dispatcher_notifications_total",
    help: "Notification jobs the dispatcher has handled, by outcome (delivered, skipped, failed, held)",
  },
} as const;

function outcomeCounter(
  registry: Registry,
  service: keyof typeof OUTCOME_COUNTERS,
  stats: Readonly<Record<string, number>>,
): void {
  const { name, help } = OUTCOME_COUNTERS[service];
  counterOfTotals({
    name,
    help,
    labelNames: ["outcome", "service"],
    registry,
    totals: () =>
      Object.entries(stats).map(
        ([outcome, total]) => [{ outcome, service }, total] as const,
      ),
  });
}

/**
 * The pipeline's series, for whichever parts run in this process: outbox lag per schema (relays),
 * events by outcome (worker), notifications by outcome and DLQ depth per channel (dispatchers),
 * and each event-log consumer's state, restarts and paused partitions (worker, analytics).
 * Everything is read at scrape time, so an idle pipeline costs nothing between scrapes.
 *
 * Every series carries `service` = the role that emits it (relay, worker, dispatcher, analytics):
 * a role's own deployable labels its registry so already, and under `npm start`, where the roles
 * share the router's /metrics, the explicit label wins over the router's default one.
 */
export function registerPipelineMetrics(
  registry: Registry,
  pipeline: Pipeline,
  {
    jobQueue,
    queuePrefix = "notifications",
  }: { jobQueue: JobQueue; queuePrefix?: string },
): void {
  const registers = [registry];
  if (pipeline.relays.length > 0)
    registerRelayMetrics(registry, pipeline.relays, { service: "relay" });
  const { worker, dispatcher } = pipeline;
  for (const [service, role] of [
    ["worker", worker],
    ["dispatcher", dispatcher],
  ] as const)
    if (role) outcomeCounter(registry, service, role.stats);
  if (pipeline.consumers().length > 0)
    registerConsumerMetrics(registry, pipeline);
  if (worker) {
    new Gauge({
      name: "event_consumer_lag",
      help: "Events the notification worker’s consumer group has not committed yet (-1 when the log cannot be asked)",
      labelNames: ["service"],
      registers,
      async collect() {
        this.set({ service: "worker" }, await worker.lag().catch(() => -1));
      },
    });
  }
  if (dispatcher) {
    new Gauge({
      name: "dispatcher_downstream_unavailable",
      help: "Downstreams the dispatcher is holding jobs for (1 while unavailable)",
      labelNames: ["downstream", "service"],
      registers,
      collect() {
        this.reset();
        for (const downstream of dispatcher.unavailable)
          this.set({ downstream, service: "dispatcher" }, 1);
      },
    });
    new Gauge({
      name: "notification_dlq_depth",
      help: "Jobs waiting in each channel’s dead-letter queue (-1 when the broker cannot be asked)",
      labelNames: ["queue", "service"],
      registers,
      async collect() {
        for (const channel of CHANNELS) {
          const queue = deadLetterQueueOf(queueFor(queuePrefix, channel));
          // A broker that is down must not fail the whole scrape: -1 says "unknown".
          this.set(
            { queue, service: "dispatcher" },
            await jobQueue.depth(queue).catch(() => -1),
          );
        }
      },
    });
  }
}

const CONSUMER_STATUSES: readonly ConsumerStatus[] = [
  "starting",
  "running",
  "paused",
  "restarting",
  "stopped",
];

/**
 * `event_consumer_state{group,state}` is 1 for the state each consumer group's member is in and 0
 * for the others (alert on `event_consumer_state{state="running"} == 0`);
 * `event_consumer_restarts_total{group}` counts rebuilds after crashes;
 * `event_consumer_paused_partitions{group}` counts partitions held back by a failing downstream.
 */
function registerConsumerMetrics(
  registry: Registry,
  pipeline: Pick<Pipeline, "consumers">,
): void {
  const registers = [registry];
  // The consumer's role (worker, analytics) is the service that emits its series.
  new Gauge({
    name: "event_consumer_state",
    help: "Event-log consumer state by group: 1 for the current state (starting, running, paused, restarting, stopped), 0 for the others",
    labelNames: ["group", "state", "service"],
    registers,
    collect() {
      for (const { role, group, state } of pipeline.consumers())
        for (const status of CONSUMER_STATUSES)
          this.set(
            { group, state: status, service: role },
            state.status === status ? 1 : 0,
          );
    },
  });
  new Gauge({
    name: "event_consumer_paused_partitions",
    help: "Partitions an event-log consumer holds back because their handler fails (a downstream is down), by group",
    labelNames: ["group", "service"],
    registers,
    collect() {
      for (const { role, group, state } of pipeline.consumers())
        this.set({ group, service: role }, state.pausedPartitions.length);
    },
  });
  counterOfTotals({
    name: "event_consumer_restarts_total",
    help: "Times an event-log consumer was rebuilt after a crash, by group",
    labelNames: ["group", "service"],
    registry,
    totals: () =>
      pipeline
        .consumers()
        .map(
          ({ role, group, state }) =>
            [{ group, service: role }, state.restarts] as const,
        ),
  });
}
