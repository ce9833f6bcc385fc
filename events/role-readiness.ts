import { Gauge, type Registry } from "prom-client";
import type { Database } from "../platform/database.ts";
import { counterOfTotals } from "../platform/metrics.ts";
import { healthOf, jobQueueProblem, type JobQueue } from "./job-queue.ts";
import type { OutboxRelay } from "./outbox-relay.ts";

/** What `/ready` answers: 503 with the reasons while any of them stands. */
export interface Readiness {
  ready: boolean;
  details?: { problems: string[] };
}

export const toReadiness = (problems: Array<string | undefined>): Readiness => {
  const standing = problems.filter(
    (problem): problem is string => problem !== undefined,
  );
  return standing.length === 0
    ? { ready: true }
    : { ready: false, details: { problems: standing } };
};

/**
 * Whether `db` answers a trivial query within `timeoutMs` (1 s: callers of `/ready` such as
 * deploy/distributed.ts give up after 2 s). Bounded because a pg pool with no
 * connection timeout waits forever for a server that does not answer, and `/ready` must answer.
 */
export async function databaseProblem(
  db: Database,
  { name, timeoutMs = 1000 }: { name: string; timeoutMs?: number },
): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.query("SELECT 1"),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    return undefined;
  } catch (error) {
    return `database ${name} unusable: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A dispatcher is ready while its database answers and every channel queue has a consumer
 * attached to a live connection (it moves failed jobs on its consumer channels, so the publish
 * channel is not required).
 */
export async function dispatcherReadiness({
  db,
  jobQueue,
}: {
  db: Database;
  jobQueue: JobQueue;
}): Promise<Readiness> {
  const health = healthOf(jobQueue);
  return toReadiness([
    jobQueueProblem(health, { publishes: false }),
    health.consumers.length === 0 ? "dispatcher is not consuming" : undefined,
    await databaseProblem(db, { name: "notifications" }),
  ]);
}

/** A relay is ready while each schema's database answers and its last relay pass did not fail. */
export async function relayReadiness({
  relays,
  dbOf,
}: {
  relays: readonly OutboxRelay[];
  dbOf: (relay: OutboxRelay) => Database;
}): Promise<Readiness> {
  const problems = await Promise.all(
    relays.map((relay) => databaseProblem(dbOf(relay), { name: relay.schema })),
  );
  return toReadiness([
    ...problems,
    ...relays.map((relay) =>
      relay.problem ? `relay ${relay.schema}: ${relay.problem}` : undefined,
    ),
  ]);
}

/** The job queue's connection state for a role that uses one (read at scrape time). */
export function registerJobQueueMetrics(
  registry: Registry,
  jobQueue: JobQueue,
): void {
  const registers = [registry];
  new Gauge({
    name: "job_queue_connected",
    help: "Whether the job queue’s broker connection is up (1) or not (0)",
    registers,
    collect() {
      this.set(healthOf(jobQueue).connected ? 1 : 0);
    },
  });
  new Gauge({
    name: "job_queue_channels_open",
    help: "Open job queue channels (publish channel and one per attached consumer)",
    registers,
    collect() {
      this.set(healthOf(jobQueue).channelsOpen);
    },
  });
  new Gauge({
    name: "job_queue_consumer_attached",
    help: "Whether each job queue consumer is attached to the broker (1) or waiting to re-attach (0)",
    labelNames: ["queue"],
    registers,
    collect() {
      this.reset();
      for (const consumer of healthOf(jobQueue).consumers)
        this.set({ queue: consumer.queue }, consumer.attached ? 1 : 0);
    },
  });
  // A count that only grows: a counter (docs/observability.md conventions), fed from the adapter's running total.
  counterOfTotals({
    name: "job_queue_reconnects_total",
    help: "Job queue connection and channel recoveries",
    labelNames: [],
    registry,
    totals: () => [[{}, healthOf(jobQueue).reconnects]],
  });
}
