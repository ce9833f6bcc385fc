import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { SubscriptionState } from "../../../events/event-log.ts";
import { createMemoryJobQueue } from "../../../events/job-queue.ts";
import { registerPipelineMetrics } from "../../../events/pipeline-metrics.ts";
import {
  consumerReadiness,
  type ConsumerReport,
  type Pipeline,
} from "../../../events/pipeline.ts";
import { silentLogger } from "../../support/logger.ts";
import { WORKER_PAUSED_ON_RABBITMQ } from "../../support/pipeline-readiness.ts";

const running: SubscriptionState = {
  status: "running",
  pausedPartitions: [],
  restarts: 0,
};

/** A pipeline with only event-log consumers, whose states the test sets. */
function consumersOnly(reports: ConsumerReport[]): Pipeline {
  return {
    relays: [],
    worker: undefined,
    dispatcher: undefined,
    analytics: undefined,
    consumers: () => reports,
    stop: async () => undefined,
  };
}

const sample = async (registry: Registry, name: string) =>
  Object.fromEntries(
    ((await registry.getSingleMetric(name)?.get())?.values ?? []).map(
      (value) => [Object.values(value.labels).join(","), value.value],
    ),
  );

describe("event-log consumer readiness and metrics", () => {
  it("is ready only while every consumer runs, and says which one is not and why", () => {
    const reports: ConsumerReport[] = [
      { role: "worker", group: "notifications", state: running },
      { role: "analytics", group: "analytics", state: running },
    ];
    expect(consumerReadiness(consumersOnly(reports)).ready).toBe(true);
    reports[0] = {
      role: "worker",
      group: "notifications",
      state: {
        status: "paused",
        pausedPartitions: [{ topic: "switchyard.orders", partition: 2 }],
        reason: "rabbitmq is disconnected",
        restarts: 0,
      },
    };
    expect(consumerReadiness(consumersOnly(reports))).toEqual({
      ready: false,
      details: {
        consumers: WORKER_PAUSED_ON_RABBITMQ,
      },
    });
    for (const status of ["restarting", "stopped", "starting"] as const) {
      reports[0] = {
        role: "worker",
        group: "notifications",
        state: { status, pausedPartitions: [], restarts: 1 },
      };
      expect(consumerReadiness(consumersOnly(reports)).ready).toBe(false);
    }
    expect(consumerReadiness(consumersOnly([])).ready).toBe(true);
  });

  it("exports each group’s state, restarts and paused partitions at scrape time, labelled with the role that consumes", async () => {
    const registry = new Registry();
    let state: SubscriptionState = running;
    registerPipelineMetrics(
      registry,
      consumersOnly([
        {
          role: "worker",
          group: "notifications",
          get state() {
            return state;
          },
        },
      ]),
      { jobQueue: createMemoryJobQueue({ logger: silentLogger }) },
    );
    expect(await sample(registry, "event_consumer_state")).toEqual({
      "notifications,starting,worker": 0,
      "notifications,running,worker": 1,
      "notifications,paused,worker": 0,
      "notifications,restarting,worker": 0,
      "notifications,stopped,worker": 0,
    });
    expect(await sample(registry, "event_consumer_restarts_total")).toEqual({
      "notifications,worker": 0,
    });
    state = {
      status: "paused",
      pausedPartitions: [
        { topic: "t", partition: 0 },
        { topic: "t", partition: 1 },
      ],
      reason: "database unavailable",
      restarts: 2,
    };
    expect(await sample(registry, "event_consumer_state")).toMatchObject({
      "notifications,running,worker": 0,
      "notifications,paused,worker": 1,
    });
    expect(await sample(registry, "event_consumer_paused_partitions")).toEqual({
      "notifications,worker": 2,
    });
    expect(await sample(registry, "event_consumer_restarts_total")).toEqual({
      "notifications,worker": 2,
    });
    // Scraped again with no new restart: the counter does not move.
    expect(await sample(registry, "event_consumer_restarts_total")).toEqual({
      "notifications,worker": 2,
    });
  });
});
