/**
 * Prometheus conventions on every /metrics of `npm start`'s one process (the stack with its event
 * pipeline), read with the strict text parser: counters are counters named `…_total` (and nothing
 * else is); the pipeline's series name the role that emits them, not the router whose /metrics
 * they share; no series that can never move.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryEventLog } from "../../events/event-log.ts";
import { createMemoryJobQueue } from "../../events/job-queue.ts";
import type { Stack } from "../../stack.ts";
import {
  metricTypes,
  parsePrometheusText,
  type Sample,
} from "../support/observability.ts";
import { bootStack, gql, silentLogger } from "../support/stack.ts";
import { pgliteBackend } from "../support/storage.ts";
import { logSenders } from "../support/notifications.ts";

/** The pipeline's families and the role that emits each (consumer families: by consumer group). */
const PIPELINE_FAMILIES: Record<string, string | ((sample: Sample) => string)> =
  {
    outbox_unpublished_events: "relay",
    outbox_oldest_unpublished_age_seconds: "relay",
    outbox_events_published_total: "relay",
    notification_worker_events_total: "worker",
    event_consumer_lag: "worker",
    dispatcher_notifications_total: "dispatcher",
    notification_dlq_depth: "dispatcher",
    event_consumer_state: (sample) =>
      sample.labels.group === "analytics" ? "analytics" : "worker",
    event_consumer_paused_partitions: (sample) =>
      sample.labels.group === "analytics" ? "analytics" : "worker",
    event_consumer_restarts_total: (sample) =>
      sample.labels.group === "analytics" ? "analytics" : "worker",
  };

/** prom-client's default process metrics: gauges counting what is active now, named so upstream. */
const LIBRARY_GAUGES = new Set([
  "nodejs_active_resources_total",
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
]);

const pglite = pgliteBackend;

describe("metrics conventions under npm start", () => {
  let stack: Stack;
  let drop: () => Promise<void>;
  const read = async (url: string) => {
    const text = await (
      await fetch(url.replace(/\/graphql$/, "/metrics"))
    ).text();
    return { samples: parsePrometheusText(text), types: metricTypes(text) };
  };

  beforeAll(async () => {
    const opened = await pglite.open();
    drop = opened.drop;
    const logger = silentLogger;
    stack = await bootStack(opened.storage, {
      events: {
        eventLog: createMemoryEventLog({ logger }),
        jobQueue: createMemoryJobQueue({ logger }),
        senders: logSenders(logger),
      },
    });
    // One query through the router, so the subgraphs have run SQL and served GraphQL.
    expect(
      (await gql(stack.routerUrl, "{ products(first: 1) { totalCount } }"))
        .errors,
    ).toBeUndefined();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await drop?.();
  });

  it("types every counter `counter` with a `_total` name, and nothing else ends in `_total`", async () => {
    for (const url of [
      stack.routerUrl,
      ...Object.values(stack.subgraphs).map((subgraph) => subgraph.url),
    ]) {
      const { types } = await read(url);
      for (const [name, type] of types) {
        if (type === "counter")
          expect(name, `${url}: counter ${name}`).toMatch(/_total$/);
        if (name.endsWith("_total") && !LIBRARY_GAUGES.has(name))
          expect(type, `${url}: ${name}`).toBe("counter");
      }
    }
    const { types } = await read(stack.routerUrl);
    for (const name of [
      "outbox_events_published_total",
      "notification_worker_events_total",
      "dispatcher_notifications_total",
      "event_consumer_restarts_total",
    ])
      expect(types.get(name), name).toBe("counter");
    for (const gone of [
      "outbox_events_published",
      "notification_worker_events",
      "dispatcher_notifications",
    ])
      expect(types.has(gone), gone).toBe(false);
  });

  it("labels the pipeline’s series with the role that emits them, not the router serving them", async () => {
    const { samples } = await read(stack.routerUrl);
    const seen = new Set<string>();
    for (const sample of samples) {
      const role = PIPELINE_FAMILIES[sample.name];
      if (role === undefined) continue;
      seen.add(sample.name);
      expect(
        sample.labels.service,
        `${sample.name}${JSON.stringify(sample.labels)}`,
      ).toBe(typeof role === "function" ? role(sample) : role);
    }
    expect([...seen].sort()).toEqual(Object.keys(PIPELINE_FAMILIES).sort());
    // The router's own series keep its name.
    expect(
      samples
        .filter((sample) => sample.name === "graphql_operations_total")
        .every((sample) => sample.labels.service === "router"),
    ).toBe(true);
  });

  it("exports sql_queries_total only from services whose statements are counted", async () => {
    const router = await read(stack.routerUrl);
    expect(router.types.has("sql_queries_total")).toBe(false);
    for (const [name, subgraph] of Object.entries(stack.subgraphs))
      expect(
        (await read(subgraph.url)).types.get("sql_queries_total"),
        name,
      ).toBe("counter");
    const products = await read(stack.subgraphs.products.url);
    expect(
      products.samples.find((sample) => sample.name === "sql_queries_total")
        ?.value,
    ).toBeGreaterThan(0);
  });
});
