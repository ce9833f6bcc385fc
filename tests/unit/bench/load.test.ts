import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { paced } from "../../../bench/load.ts";

/**
 * The steady-rate load is an open loop: request i is due at start + i/rate whatever the answers
 * before it did, and its latency counts from that due time. Against a server that answers one
 * request at a time after 100 ms, ten requests due within 180 ms queue for a second: a closed loop
 * (send, wait, send) would report ~100 ms each; the open loop reports the queueing. Only lower
 * bounds are asserted, which a slow machine cannot break.
 */
describe("paced (steady open-loop load)", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  it("counts each request's latency from its due time, so queueing behind a slow server shows", async () => {
    let answered = 0;
    server = createServer((request, response) => {
      request.resume();
      request.on("end", () =>
        setTimeout(() => {
          answered += 1;
          response.setHeader("content-type", "application/json");
          response.end(
            answered === 3
              ? '{"errors":[{"extensions":{"code":"SUBGRAPH_UNAVAILABLE"}}]}'
              : '{"data":{}}',
          );
        }, 100),
      );
    });
    await new Promise<void>((resolve) =>
      server!.listen(0, "127.0.0.1", resolve),
    );
    const { port } = server.address() as AddressInfo;
    const measured = await paced({
      url: `http://127.0.0.1:${port}/graphql`,
      bodyFor: () => ({ query: "{ __typename }" }),
      durationS: 0.2,
      rate: 50,
      connections: 1,
    });
    expect(measured.requests).toBe(10);
    expect(measured.errors).toBe(0);
    expect(measured.graphqlErrors).toEqual({ SUBGRAPH_UNAVAILABLE: 1 });
    // Ten answers one after another take >= 1,000 ms; the last was due at 180 ms.
    expect(measured.max).toBeGreaterThanOrEqual(800);
    expect(measured.p50).toBeGreaterThanOrEqual(300);
  });
});
