import { afterAll, beforeAll, describe, it } from "vitest";
import {
  AMQP_URL,
  deleteQueues,
  KAFKA_BROKERS,
} from "../../support/brokers.ts";
import { startFaultProxy, type FaultProxy } from "../../support/fault-proxy.ts";
import {
  expectSurvived,
  runOutage,
  startRig,
  type Rig,
} from "../../support/pipeline-rig.ts";
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
    let databaseUrl: string;
    let drop: () => Promise<void>;
    let proxy: FaultProxy;
    let rig: Rig | undefined;

    beforeAll(async () => {
      const opened = await postgres.open();
      databaseUrl = opened.databaseUrl!;
      drop = opened.drop;
      const target = new URL(databaseUrl);
      proxy = await startFaultProxy(
        `http://${target.hostname}:${target.port || 5432}/`,
      );
    }, 60_000);
    afterAll(async () => {
      await rig?.stop();
      await proxy?.close();
      await drop?.();
    }, 60_000);

    const outage = (piece: "relay" | "dispatcher") => async () => {
      proxy.setMode("pass");
      rig = await startRig({
        databaseUrl,
        kafkaBrokers: KAFKA_BROKERS,
        amqpUrl: AMQP_URL,
        [piece === "relay" ? "relayDatabaseUrl" : "dispatcherDatabaseUrl"]:
          through(proxy, databaseUrl),
      });
      try {
        expectSurvived(
          await runOutage(rig, {
            holdMs: HOLD_MS,
            inject: async () => proxy.setMode("reset"),
            lift: async () => proxy.setMode("pass"),
          }),
        );
      } finally {
        proxy.setMode("pass");
        await rig.stop();
        await deleteQueues([...rig.queueNames]);
        rig = undefined;
      }
    };

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
