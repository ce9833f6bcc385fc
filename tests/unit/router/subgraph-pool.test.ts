import { createServer, type AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadRouterConfig, subgraphSettings } from "../../../router/config.ts";
import { isMutationDocument } from "../../../router/resilient-data-source.ts";
import { createResilienceMetrics } from "../../../router/resilience-metrics.ts";
import { createStaticDiscovery } from "../../../router/service-discovery.ts";
import {
  createSubgraphPool,
  isFailureStatus,
} from "../../../router/subgraph-pool.ts";
import { memoryLogger } from "../../support/logger.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("failure classification", () => {
  it("counts 5xx, 408 and 429 as failures and every other status as an answer", () => {
    expect([500, 502, 503, 504, 408, 429].every(isFailureStatus)).toBe(true);
    expect([200, 400, 401, 403, 404, 409, 422].some(isFailureStatus)).toBe(
      false,
    );
  });

  it("tells a mutation fetch from a query fetch by its planned document", () => {
    expect(
      isMutationDocument(
        "mutation SignUp__users__0($input:SignUpInput!){signUp(input:$input){token}}",
      ),
    ).toBe(true);
    expect(
      isMutationDocument('query Order__orders__0{order(id:"1"){id}}'),
    ).toBe(false);
    expect(isMutationDocument("{products(first:1){totalCount}}")).toBe(false);
    expect(
      isMutationDocument(
        "query($representations:[_Any!]!){_entities(representations:$representations){__typename}}",
      ),
    ).toBe(false);
  });
});

describe("instance breakers", () => {
  async function deadPool({
    volumeThreshold,
    outlierConsecutiveFailures,
  }: {
    volumeThreshold: number;
    outlierConsecutiveFailures: number;
  }) {
    // The breaker's reset timeout and the outlier ejection run on fake time.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    // A dead instance this test holds the port of: every connection is dropped at once, without any
    // timer involved (a port freed beforehand could be taken by another process meanwhile).
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) =>
      server.listen(0, "127.0.0.1", resolve),
    );
    cleanups.push(
      () => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    const { port } = server.address() as AddressInfo;
    const base = subgraphSettings(loadRouterConfig({}), "payments");
    const settings = {
      ...base,
      outlierConsecutiveFailures,
      breaker: {
        ...base.breaker,
        volumeThreshold,
        errorThresholdPercentage: 50,
        resetTimeoutMs: 5000,
      },
    };
    const registry = new Registry();
    const { logger, lines } = memoryLogger("info");
    const pool = createSubgraphPool({
      name: "payments",
      settings,
      discovery: createStaticDiscovery([`http://127.0.0.1:${port}/graphql`]),
      loadBalancer: "least-outstanding",
      metrics: createResilienceMetrics(registry),
      logger,
    });
    await pool.start();
    /** One call to `instance`, which fails as a network error: the instance is dead. */
    const sendFails = (instance: NonNullable<ReturnType<typeof pool.pick>>) =>
      expect(pool.send(instance, attempt)).rejects.toMatchObject({
        kind: "network",
      });
    // The pool's one instance, picked while its breaker is closed.
    return { pool, lines, registry, sendFails, instance: pool.pick()! };
  }
  const attempt = {
    body: '{"query":"{ __typename }"}',
    headers: { "content-type": "application/json" },
    timeoutMs: 60_000,
  };

  it("opens after the volume threshold at a high error rate, refuses while open, and lets one probe through after the reset timeout", async () => {
    const { pool, lines, sendFails, instance } = await deadPool({
      volumeThreshold: 3,
      outlierConsecutiveFailures: 100,
    });
    for (let call = 0; call < 3; call++) await sendFails(instance);
    expect(pool.snapshot()[0]!.breaker).toBe("open");
    expect(pool.pick()).toBeUndefined();
    await expect(pool.send(instance, attempt)).rejects.toMatchObject({
      kind: "open",
      retriable: true,
    });

    await vi.advanceTimersByTimeAsync(4999);
    expect(pool.pick()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(pool.snapshot()[0]!.breaker).toBe("half-open");
    expect(pool.pick()).toBe(instance);
    // The probe fails (still dead): straight back to open.
    await sendFails(instance);
    expect(pool.snapshot()[0]!.breaker).toBe("open");
    expect(
      lines
        .filter((line) => line.breaker)
        .map((line) => [line.breaker, line.reason]),
    ).toEqual([
      ["open", "error rate"],
      ["half-open", undefined],
      ["open", "error rate"],
    ]);
    await pool.close();
  });

  it("ejects an instance after consecutive failures before the error rate may count", async () => {
    const { pool, lines, sendFails, instance } = await deadPool({
      volumeThreshold: 1000,
      outlierConsecutiveFailures: 2,
    });
    await sendFails(instance);
    expect(pool.snapshot()[0]!.breaker).toBe("closed");
    await sendFails(instance);
    expect(pool.snapshot()[0]!.breaker).toBe("open");
    expect(lines.find((line) => line.breaker === "open")).toMatchObject({
      subgraph: "payments",
      reason: "outlier",
    });
    await pool.close();
  });
});
