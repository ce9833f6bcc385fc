import { describe, it } from "vitest";
import { AMQP_URL, KAFKA_BROKERS } from "../../support/brokers.ts";
import { startFaultProxy, type FaultProxy } from "../../support/fault-proxy.ts";
import { outageSuite } from "../../support/outage-suite.ts";
import { probePipelineServices } from "../../support/pipeline-services.ts";

/**
 * PostgreSQL becomes unreachable for one piece of a running pipeline: a loopback proxy in front of
 * the shared server resets every open and new connection of that piece for ~12 s, then passes
 * again. The orders service keeps writing its outbox directly the whole time. For the relay the
 * rows must wait and then go out once each, in order; for the dispatcher the jobs must wait (not
 * burn their retries into the DLQ) and then be delivered once each, in per-user order.
 */
const HOLD_MS = 12_000;
const { postgres, unavailable } = await probePipelineServices();
if (unavailable)
  console.error(`[tests] skipping the PostgreSQL outage tests: ${unavailable}`);

/** The same database URL, through the proxy. */
function through(proxy: FaultProxy, databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.host = `127.0.0.1:${new URL(proxy.url).port}`;
  return url.toString();
}

describe.skipIf(unavailable)(
  "the pipeline while PostgreSQL is unreachable for one piece",
  () => {
    let proxy: FaultProxy;
    const { outage: outageCase } = outageSuite({
      postgres,
      brokers: () => ({ kafkaBrokers: KAFKA_BROKERS, amqpUrl: AMQP_URL }),
      setUp: async (databaseUrl) => {
        const target = new URL(databaseUrl);
        proxy = await startFaultProxy(
          `http://${target.hostname}:${target.port || 5432}/`,
        );
      },
      tearDown: async () => proxy?.close(),
      setUpTimeoutMs: 60_000,
      tearDownTimeoutMs: 60_000,
    });

    const outage = (piece: "relay" | "dispatcher") =>
      outageCase({
        rig: (databaseUrl) => {
          // Every case starts with the piece's connections passing.
          proxy.setMode("pass");
          return {
            [piece === "relay" ? "relayDatabaseUrl" : "dispatcherDatabaseUrl"]:
              through(proxy, databaseUrl),
          };
        },
        holdMs: HOLD_MS,
        inject: async () => proxy.setMode("reset"),
        lift: async () => proxy.setMode("pass"),
        restore: async () => proxy.setMode("pass"),
      });

    it(
      "~12 s for the relay: every event delivered exactly once, in per-user order, and the relay publishes again",
      { timeout: 300_000 },
      outage("relay"),
    );
    it(
      "~12 s for the dispatcher: every event delivered exactly once, in per-user order, nothing dead-lettered, and the dispatcher delivers again",
      { timeout: 300_000 },
      outage("dispatcher"),
    );
  },
);
