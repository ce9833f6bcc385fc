import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { createMemoryEventLog } from "../../events/event-log.ts";
import { createMemoryJobQueue } from "../../events/job-queue.ts";
import {
  correlationIdFrom,
  isValidCorrelationId,
} from "../../platform/correlation.ts";
import { SUBGRAPH_NAMES } from "../../platform/services.ts";
import {
  parsePrometheusText,
  placeOrderStory,
  scrape,
  valueOf,
} from "../support/observability.ts";
import { gql, waitUntil } from "../support/stack.ts";
import { expectOneStory, observedStack } from "../support/observed-story.ts";
import { pgliteBackend } from "../support/storage.ts";
import { logSenders } from "../support/notifications.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ORDER_WITH_PAYMENT =
  "query($id: ID!) { order(id: $id) { id payment { status } } }";
const pglite = pgliteBackend;

describe("correlation ids", () => {
  it("keeps a well-formed x-request-id and replaces anything else with a fresh UUID", () => {
    for (const good of ["abc", "req-1.2:3_x", "A".repeat(128), randomUUID()])
      expect(correlationIdFrom(good)).toBe(good);
    for (const bad of [
      undefined,
      "",
      "A".repeat(129),
      "line\nbreak",
      "a\r\nx-admin: 1",
      '{"level":60}',
      "two words",
      "tab\there",
      ["a", "b"],
      "ünïcode",
    ]) {
      const replaced = correlationIdFrom(bad);
      expect(replaced).toMatch(UUID);
      expect(isValidCorrelationId(bad)).toBe(false);
    }
  });
});

describe("one request, one story on the embedded default", () => {
  const observed = observedStack(pglite, (logger) => ({
    // Breaks quickly in the breaker test below: two failed fetches in the window open it.
    routerEnv: {
      LOG_LEVEL: "info",
      ROUTER_BREAKER_VOLUME_THRESHOLD: "2",
      ROUTER_BREAKER_RESET_MS: "60000",
      ROUTER_RETRY_MAX_ATTEMPTS: "1",
    },
    events: {
      eventLog: createMemoryEventLog({ logger }),
      jobQueue: createMemoryJobQueue({ logger }),
      senders: logSenders(logger),
      relayPollIntervalMs: 50,
    },
  }));

  it("every hop of a placeOrder logs the caller’s correlation id, and one trace runs from the router span to the dispatcher span", async () => {
    const correlationId = `story-${randomUUID()}`;
    const { traceId, trace, chain } = await expectOneStory(
      observed,
      correlationId,
    );
    const mine = observed.lines.filter(
      (line) => line.correlationId === correlationId,
    );
    // Lines logged inside a span carry its trace id, and it is the request's trace.
    expect(
      mine
        .filter((line) => line.traceId !== undefined)
        .every((line) => line.traceId === traceId),
    ).toBe(true);
    expect(
      mine.some(
        (line) => line.service === "dispatcher" && line.traceId === traceId,
      ),
    ).toBe(true);
    expect(
      new Set(
        chain
          .map((span) => span.attributes.service)
          .filter((service) => service !== undefined),
      ),
    ).toEqual(new Set(["dispatcher", "worker", "relay", "orders", "router"]));
    // The trace also holds the gateway's own spans, the subgraph fetches and both REST calls.
    const names = trace.map((span) => span.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "gateway.request",
        "gateway.fetch",
        "subgraph orders",
        "mutation PlaceOrder",
      ]),
    );
    expect(
      names.filter((name) =>
        /^(products|payments) POST \/internal\//.test(name),
      ).length,
    ).toBeGreaterThanOrEqual(2);
  });

  it("replaces a hostile x-request-id (huge, JSON, spaces, quotes) and never echoes or logs it", async () => {
    const hostile = [
      "x".repeat(5000),
      '{"level":60,"msg":"forged","correlationId":"victim"}',
      "spaces are not allowed",
      'quote"s',
      "a".repeat(129),
    ];
    for (const value of hostile) {
      const response = await fetch(observed.stack.routerUrl, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": value },
        body: JSON.stringify({
          query: "{ products(first: 1) { totalCount } }",
        }),
      });
      expect(response.status).toBe(200);
      const echoed = response.headers.get("x-request-id");
      expect(echoed).toMatch(UUID);
      // The fresh id is the one the request's log lines carry.
      await waitUntil("the router logged the request", () =>
        observed.lines.some(
          (line) => line.service === "router" && line.correlationId === echoed,
        ),
      );
    }
    const everything = observed.lines
      .map((line) => JSON.stringify(line))
      .join("\n");
    for (const value of hostile)
      expect(everything.includes(JSON.stringify(value).slice(1, -1))).toBe(
        false,
      );
    // A repeated header (two ids, joined by Node into one value) is not a valid id either.
    const url = new URL(observed.stack.routerUrl);
    const payload = JSON.stringify({
      query: "{ products(first: 1) { totalCount } }",
    });
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          `POST /graphql HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nX-Request-Id: first\r\nX-Request-Id: second\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n\r\n${payload}`,
        );
      });
      let text = "";
      socket.on("data", (chunk) => (text += chunk.toString()));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    const repeated = /^x-request-id: (.*)$/im.exec(raw)?.[1]?.trim();
    expect(repeated).toMatch(UUID);
  });

  it("serves /metrics as Prometheus text on every service, and the outbox lag and breaker series move when things break", async () => {
    const base = observed.stack.routerUrl.replace(/\/graphql$/, "");
    for (const name of SUBGRAPH_NAMES) {
      const samples = await scrape(
        observed.stack.subgraphs[name].url.replace(/\/graphql$/, "/metrics"),
      );
      expect(samples.length).toBeGreaterThan(0);
      expect(samples.every((sample) => sample.labels.service === name)).toBe(
        true,
      );
    }
    let samples = await scrape(`${base}/metrics`);
    expect(
      valueOf(samples, "graphql_operation_duration_seconds_count", {
        operation: "anonymous",
        outcome: "ok",
      }),
    ).toBeGreaterThan(0);
    expect(
      valueOf(samples, "router_subgraph_fetch_duration_seconds_count", {
        subgraph: "orders",
        outcome: "ok",
      }),
    ).toBeGreaterThan(0);
    expect(
      valueOf(samples, "notification_dlq_depth", {
        queue: "notifications.email.dlq",
      }),
    ).toBe(0);
    expect(
      valueOf(samples, "outbox_unpublished_events", { schema: "orders" }),
    ).toBe(0);

    expect(valueOf(samples, "event_consumer_lag")).toBe(0);

    // Relays and worker stopped: an order's events wait in the outbox, then (relays back) in the
    // log for the worker's group, and the two lag series say so in turn.
    const { relays, worker } = observed.stack.pipeline!;
    for (const relay of relays) await relay.stop();
    await worker!.stop();
    const waiting = `lag-${randomUUID()}`;
    const story = placeOrderStory(observed.stack, observed.lines, waiting);
    await waitUntil(
      "an order event waits in the outbox",
      async () =>
        (valueOf(await scrape(`${base}/metrics`), "outbox_unpublished_events", {
          schema: "orders",
        }) ?? 0) > 0,
    );
    samples = await scrape(`${base}/metrics`);
    expect(
      valueOf(samples, "outbox_oldest_unpublished_age_seconds", {
        schema: "orders",
      }),
    ).toBeGreaterThanOrEqual(0);
    for (const relay of relays) relay.start();
    await waitUntil(
      "the outbox drained",
      async () =>
        valueOf(await scrape(`${base}/metrics`), "outbox_unpublished_events", {
          schema: "orders",
        }) === 0,
    );
    await waitUntil(
      "events wait for the worker",
      async () =>
        (valueOf(await scrape(`${base}/metrics`), "event_consumer_lag") ?? 0) >
        0,
    );
    await worker!.start();
    const { orderId, authorization } = await story;
    await waitUntil(
      "the worker caught up",
      async () =>
        valueOf(await scrape(`${base}/metrics`), "event_consumer_lag") === 0,
    );

    // Entity fetches go through the subgraphs' DataLoaders: one batch per loader, sized by its keys.
    const read = await gql(
      observed.stack.routerUrl,
      "query($id: ID!) { order(id: $id) { items { quantity product { name } } payment { status } } }",
      { id: orderId },
      { authorization },
    );
    expect(read.errors).toBeUndefined();
    const products = await scrape(
      observed.stack.subgraphs.products.url.replace(/\/graphql$/, "/metrics"),
    );
    expect(
      valueOf(products, "dataloader_batch_size_count", {
        loader: "products.productById",
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      valueOf(products, "dataloader_batch_size_sum", {
        loader: "products.productById",
      }),
    ).toBeGreaterThanOrEqual(1);

    // Payments gone: its breaker opens, and the state and transition series show it.
    samples = await scrape(`${base}/metrics`);
    expect(
      valueOf(samples, "router_breaker_state", { subgraph: "payments" }),
    ).toBe(0);
    await observed.stack.subgraphs.payments.running.close();
    for (let attempt = 0; attempt < 5; attempt++)
      await gql(
        observed.stack.routerUrl,
        ORDER_WITH_PAYMENT,
        { id: orderId },
        { authorization },
      );
    samples = await scrape(`${base}/metrics`);
    expect(
      valueOf(samples, "router_breaker_state", { subgraph: "payments" }),
    ).toBe(2);
    expect(
      valueOf(samples, "router_breaker_transitions_total", {
        subgraph: "payments",
        to: "open",
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      valueOf(samples, "router_subgraph_failures_total", {
        subgraph: "payments",
        code: "SUBGRAPH_UNAVAILABLE",
      }),
    ).toBeGreaterThan(0);
  });

  it("reads the Prometheus text format strictly", () => {
    expect(
      parsePrometheusText(
        '# HELP a_total Things.\n# TYPE a_total counter\na_total{x="1",y="q\\"uote"} 3\nb 1.5e+3\nc Nan\nd_bucket{le="+Inf"} 2\n',
      ),
    ).toEqual([
      { name: "a_total", labels: { x: "1", y: 'q\\"uote' }, value: 3 },
      { name: "b", labels: {}, value: 1500 },
      { name: "c", labels: {}, value: Number.NaN },
      { name: "d_bucket", labels: { le: "+Inf" }, value: 2 },
    ]);
    expect(() => parsePrometheusText("a_total{x=1} 3")).toThrow(
      /bad labels|not a sample/,
    );
    expect(() => parsePrometheusText('{"not":"prometheus"}')).toThrow(
      /not a sample/,
    );
  });
});
