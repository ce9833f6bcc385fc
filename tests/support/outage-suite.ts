import { afterAll, beforeAll } from "vitest";
import { deleteQueues } from "./brokers.ts";
import {
  expectSurvived,
  runOutage,
  startRig,
  type Rig,
  type RigOptions,
} from "./pipeline-rig.ts";
import type { Backend } from "./storage.ts";

/**
 * How a case breaks a piece (`inject`) and mends it (`lift`), as `runOutage` takes them, and how it
 * makes sure the piece is mended after the case however it ended (`restore`).
 */
export type Fault = Pick<Parameters<typeof runOutage>[1], "inject" | "lift"> & {
  restore(): Promise<unknown>;
};

/**
 * The frame of a pipeline outage test file (tests/int/events/*-outage.last.test.ts): hooks the
 * enclosing describe block to one throw-away database on `postgres` and to what the file breaks
 * (`setUp` after the database is open, `tearDown` after the last rig stopped), and returns
 * `outage(...)`, the body of one case.
 */
export function outageSuite({
  postgres,
  brokers,
  fault,
  sharedQueues = true,
  setUp,
  tearDown,
  setUpTimeoutMs,
  tearDownTimeoutMs,
}: {
  postgres: Backend;
  /** Where the rigs find Kafka and RabbitMQ; asked at each case's start (after `setUp`). */
  brokers: () => Pick<RigOptions, "kafkaBrokers" | "amqpUrl">;
  /** The fault of every case, unless the case names its own. */
  fault?: Fault;
  /**
   * Whether the rigs' queues are on the shared RabbitMQ and deleted after each case; false for a
   * private node that goes away with the file.
   * @default true
   */
  sharedQueues?: boolean;
  setUp?: (databaseUrl: string) => Promise<unknown>;
  tearDown?: () => Promise<unknown>;
  setUpTimeoutMs: number;
  tearDownTimeoutMs: number;
}) {
  let databaseUrl: string;
  let drop: (() => Promise<void>) | undefined;
  let rig: Rig | undefined;

  beforeAll(async () => {
    const opened = await postgres.open();
    databaseUrl = opened.databaseUrl!;
    drop = opened.drop;
    await setUp?.(databaseUrl);
  }, setUpTimeoutMs);
  afterAll(async () => {
    await rig?.stop();
    await tearDown?.();
    await drop?.();
  }, tearDownTimeoutMs);

  /**
   * One case: a fresh rig on the file's database and `brokers` (with `rig`'s options on top), the
   * outage run on it with the case's fault (or the file's), and every event checked
   * (`expectSurvived`). The fault's `restore` runs after the case however it ended, so a failed
   * case does not leave the fault in place for the next one; then the rig stops and its queues are
   * deleted (`sharedQueues`).
   */
  const outage =
    ({
      rig: rigOptions,
      holdMs,
      recoveryTimeoutMs,
      ...caseFault
    }: {
      rig?: (databaseUrl: string) => Partial<RigOptions>;
      holdMs: number;
      recoveryTimeoutMs?: number;
    } & Partial<Fault>) =>
    async () => {
      const { inject, lift, restore } = { ...fault, ...caseFault };
      if (!inject || !lift || !restore)
        throw new Error("an outage case needs a fault: inject, lift, restore");
      const started = await startRig({
        databaseUrl,
        ...brokers(),
        ...rigOptions?.(databaseUrl),
      });
      rig = started;
      try {
        expectSurvived(
          await runOutage(started, { inject, lift, holdMs, recoveryTimeoutMs }),
        );
      } finally {
        await restore();
        await started.stop();
        if (sharedQueues) await deleteQueues([...started.queueNames]);
        rig = undefined;
      }
    };
  return { outage };
}

/**
 * The fault of a broker that goes away and comes back: `stop` it, `start` it again; and `start` it
 * once more after the case (errors ignored: it may be running), so a failed case does not leave it
 * stopped for the next one.
 */
export function stoppedBroker({
  stop,
  start,
}: {
  stop(): Promise<void>;
  start(): Promise<void>;
}) {
  return {
    inject: stop,
    lift: start,
    restore: () => start().catch(() => undefined),
  };
}
