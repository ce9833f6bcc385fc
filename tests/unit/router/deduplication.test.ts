import type {
  GatewayExecutor,
  GatewayInterface,
} from "@apollo/server-gateway-interface";
import { describe, expect, it } from "vitest";
import { deduplicateInbound, InFlight } from "../../../router/deduplication.ts";

describe("in-flight deduplication (InFlight)", () => {
  it("joins a run in flight, shares its failure, and forgets the key once it settles", async () => {
    const inFlight = new InFlight<number>();
    let runs = 0;
    let joins = 0;
    let finish!: (value: number) => void;
    const first = inFlight.run(
      "k",
      () => new Promise<number>((resolve) => ((runs += 1), (finish = resolve))),
      () => (joins += 1),
    );
    const second = inFlight.run(
      "k",
      async () => ((runs += 1), 2),
      () => (joins += 1),
    );
    const other = inFlight.run("other", async () => ((runs += 1), 3));
    finish(1);
    expect(await Promise.all([first, second, other])).toEqual([1, 1, 3]);
    expect({ runs, joins, size: inFlight.size }).toEqual({
      runs: 2,
      joins: 1,
      size: 0,
    });

    // Nothing is cached: the next call runs again; a failure reaches every joiner, then is forgotten.
    expect(await inFlight.run("k", async () => 4)).toBe(4);
    const failing = inFlight.run("k", () => Promise.reject(new Error("boom")));
    const joiner = inFlight.run("k", async () => 5);
    await expect(failing).rejects.toThrow("boom");
    await expect(joiner).rejects.toThrow("boom");
    expect(await inFlight.run("k", async () => 6)).toBe(6);
  });
});

describe("inbound deduplication (deduplicateInbound)", () => {
  it("shares only within a partition, and never for a request without one", async () => {
    let executions = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const gateway: GatewayInterface = {
      onSchemaLoadOrUpdate: () => () => undefined,
      load: async () => ({
        executor: async () => {
          executions += 1;
          await held;
          return { data: { ok: true } };
        },
      }),
      stop: async () => undefined,
    };
    const wrapped = deduplicateInbound(gateway, {
      onJoin: () => undefined,
      partition: ({ context }) => (context as { part?: string }).part,
    });
    const { executor } = await wrapped.load({
      apollo: { keyHash: undefined, graphRef: undefined, key: undefined },
    } as unknown as Parameters<GatewayInterface["load"]>[0]);
    const request = (part: string | undefined) =>
      executor!({
        operation: { operation: "query" },
        operationName: null,
        source: "{ ok }",
        request: { variables: {} },
        context: { principal: null, part },
      } as unknown as Parameters<GatewayExecutor>[0]);
    const answers = Promise.all([
      request("labels:a"),
      request("labels:a"),
      request("labels:b"),
      request(undefined),
      request(undefined),
    ]);
    release();
    await answers;
    // a once (joined), b once, and each request without a partition on its own.
    expect(executions).toBe(4);
  });
});
