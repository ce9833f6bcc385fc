import { pino } from "pino";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadRouterConfig, subgraphSettings } from "../../../router/config.ts";
import { createResilienceMetrics } from "../../../router/resilience-metrics.ts";
import {
  createDnsDiscovery,
  createStaticDiscovery,
  type ServiceDiscovery,
} from "../../../router/service-discovery.ts";
import { createSubgraphPool } from "../../../router/subgraph-pool.ts";

const silent = pino({ level: "silent" });

afterEach(() => {
  vi.useRealTimers();
});

describe("service discovery", () => {
  it("re-resolves a DNS name periodically and reports the instances that came and went", async () => {
    vi.useFakeTimers();
    let addresses = ["10.0.0.1"];
    const discovery = createDnsDiscovery({
      url: "http://products.internal:4002/graphql",
      refreshMs: 5000,
      logger: silent,
      resolve: async () => addresses,
    });
    const seen: Array<readonly string[]> = [];
    discovery.onChange((urls) => seen.push(urls));
    await discovery.start();
    addresses = ["10.0.0.2", "10.0.0.1"];
    await vi.advanceTimersByTimeAsync(5000);
    addresses = ["10.0.0.2"];
    await vi.advanceTimersByTimeAsync(5000);
    await vi.advanceTimersByTimeAsync(5000);
    discovery.stop();
    expect(seen).toEqual([
      ["http://10.0.0.1:4002/graphql"],
      ["http://10.0.0.1:4002/graphql", "http://10.0.0.2:4002/graphql"],
      ["http://10.0.0.2:4002/graphql"],
    ]);
  });

  it("keeps the known instances when a lookup fails", async () => {
    vi.useFakeTimers();
    let fail = false;
    const discovery = createDnsDiscovery({
      url: "http://users.internal:4001/graphql",
      refreshMs: 1000,
      logger: silent,
      resolve: async () => {
        if (fail) throw new Error("SERVFAIL");
        return ["10.0.0.9"];
      },
    });
    await discovery.start();
    fail = true;
    await vi.advanceTimersByTimeAsync(1000);
    discovery.stop();
    expect(discovery.instances()).toEqual(["http://10.0.0.9:4001/graphql"]);
  });

  it("lets a pool pick up instances that appear and drop those that leave, without a restart", async () => {
    let listener: (urls: readonly string[]) => void = () => undefined;
    let current: readonly string[] = ["http://127.0.0.1:1/graphql"];
    const discovery: ServiceDiscovery = {
      instances: () => current,
      onChange: (next) => void (listener = next),
      start: async () => undefined,
      stop: () => undefined,
    };
    const settings = subgraphSettings(loadRouterConfig({}), "products");
    const metrics = createResilienceMetrics(new Registry());
    const pool = createSubgraphPool({
      name: "products",
      settings,
      discovery,
      loadBalancer: "round-robin",
      metrics,
      logger: silent,
    });
    await pool.start();
    current = ["http://127.0.0.1:1/graphql", "http://127.0.0.1:2/graphql"];
    listener(current);
    expect(pool.snapshot().map((instance) => instance.instance)).toEqual([
      "127.0.0.1:1",
      "127.0.0.1:2",
    ]);
    const picks = [pool.pick()!.label, pool.pick()!.label, pool.pick()!.label];
    expect(picks).toEqual(["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:1"]);
    current = ["http://127.0.0.1:2/graphql"];
    listener(current);
    expect(pool.snapshot().map((instance) => instance.instance)).toEqual([
      "127.0.0.1:2",
    ]);
    await pool.close();
  });

  it("a static list is the same list every time", () => {
    expect(
      createStaticDiscovery([
        "http://a/graphql",
        "http://a/graphql",
        "http://b/graphql",
      ]).instances(),
    ).toEqual(["http://a/graphql", "http://b/graphql"]);
  });
});
