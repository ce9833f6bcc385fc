import { KafkaJSNonRetriableError, KafkaJSProtocolError } from "kafkajs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { MessageBatch } from "../../../events/event-log.ts";
import { createKafkaEventLog } from "../../../events/kafka-event-log.ts";
import {
  rebalanceCause,
  startKafkaSubscription,
  type KafkaBatchPayload,
  type KafkaConsumerLike,
} from "../../../events/kafka-subscription.ts";
import { InfrastructureError } from "../../../platform/errors.ts";
import { silentLogger } from "../../support/logger.ts";

const TOPIC = "orders";
const EVENTS = {
  GROUP_JOIN: "consumer.group_join",
  CRASH: "consumer.crash",
} as const;

/** A kafkajs consumer stand-in: records what the subscription asks of it; the test plays the broker. */
function createFakeConsumer({ failConnect = false } = {}) {
  const listeners = new Map<
    string,
    Array<(event: { payload: unknown }) => void>
  >();
  const fake = {
    events: EVENTS,
    subscribed: [] as Array<{ topics: string[]; fromBeginning: boolean }>,
    paused: [] as number[],
    resumed: [] as number[],
    seeks: [] as Array<{ partition: number; offset: string }>,
    disconnects: 0,
    eachBatch: undefined as
      undefined | ((payload: KafkaBatchPayload) => Promise<void>),
    runConfig: undefined as undefined | Record<string, unknown>,
    async connect() {
      if (failConnect) throw new Error("broker unreachable");
    },
    async subscribe(subscription: {
      topics: string[];
      fromBeginning: boolean;
    }) {
      fake.subscribed.push(subscription);
    },
    async run(config: Parameters<KafkaConsumerLike["run"]>[0]) {
      fake.runConfig = config;
      fake.eachBatch = config.eachBatch;
      // kafkajs joins the group in the background after run() resolved.
      setTimeout(
        () =>
          fake.emit(EVENTS.GROUP_JOIN, {
            memberAssignment: { [TOPIC]: [0, 1] },
          }),
        0,
      );
    },
    on(event: string, listener: (event: { payload: unknown }) => void) {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
    },
    emit(event: string, payload: unknown) {
      for (const listener of listeners.get(event) ?? []) listener({ payload });
    },
    /** kafkajs's crash event; `restart: true` is a crash kafkajs restarts the consumer after itself. */
    crash(error: Error, { restart = false, groupId = "notifications" } = {}) {
      fake.emit(EVENTS.CRASH, { error, groupId, restart });
    },
    pause(topics: Array<{ topic: string; partitions: number[] }>) {
      fake.paused.push(...topics.flatMap(({ partitions }) => partitions));
    },
    resume(topics: Array<{ topic: string; partitions: number[] }>) {
      fake.resumed.push(...topics.flatMap(({ partitions }) => partitions));
    },
    seek({
      partition,
      offset,
    }: {
      topic: string;
      partition: number;
      offset: string;
    }) {
      fake.seeks.push({ partition, offset });
    },
    async disconnect() {
      fake.disconnects += 1;
    },
  };
  return fake;
}
type FakeConsumer = ReturnType<typeof createFakeConsumer>;

/** The state of a subscription consuming all its partitions after `restarts` rebuilds. */
const runningState = (restarts = 0) => ({
  status: "running",
  pausedPartitions: [],
  restarts,
});

/** What kafkajs hands eachBatch, with the calls recorded. */
function batchPayload(
  offsets: string[],
  {
    partition = 0,
    commit = async () => undefined,
  }: { partition?: number; commit?: () => Promise<void> } = {},
) {
  const resolved: string[] = [];
  const commits: unknown[] = [];
  const payload: KafkaBatchPayload = {
    batch: {
      topic: TOPIC,
      partition,
      messages: offsets.map((offset) => ({
        offset,
        key: Buffer.from("user-1"),
        value: Buffer.from(`event-${offset}`),
        headers: { correlationId: Buffer.from(`c-${offset}`) },
      })),
    },
    resolveOffset: (offset) => void resolved.push(offset),
    heartbeat: async () => undefined,
    commitOffsetsIfNecessary: async (offsets) => {
      commits.push(offsets);
      await commit();
    },
    isRunning: () => true,
    isStale: () => false,
  };
  return { payload, resolved, commits };
}

/** What kafkajs's retrier makes of a non-retriable error: `new KafkaJSNonRetriableError(e, { cause })` (the typings omit the option). */
const NonRetriable = KafkaJSNonRetriableError as unknown as new (
  error: Error,
  options: { cause: Error },
) => KafkaJSNonRetriableError;
const protocolError = (type: string) =>
  new KafkaJSProtocolError({
    message: `broker says ${type}`,
    type,
    code: 0,
    retriable: false,
  } as unknown as Error);

describe("the self-healing Kafka subscription", () => {
  let consumers: FakeConsumer[];
  let handled: MessageBatch[];
  let handler: (batch: MessageBatch) => Promise<void>;
  /** What every subscription of these tests subscribes to and hands its batches to. */
  const subscribed = {
    groupId: "notifications",
    topics: [TOPIC],
    fromBeginning: true,
    logger: silentLogger,
    joinTimeoutMs: 10_000,
    handleBatch: (batch: MessageBatch) => handler(batch),
  };
  const start = (options: { failConnectAfterFirst?: number } = {}) => {
    let built = 0;
    return startKafkaSubscription({
      ...subscribed,
      backoff: { initialMs: 100, maxMs: 400 },
      restartBackoff: { initialMs: 1000, maxMs: 8000 },
      createConsumer: () => {
        built += 1;
        const consumer = createFakeConsumer({
          failConnect:
            built > 1 && built <= 1 + (options.failConnectAfterFirst ?? 0),
        });
        consumers.push(consumer);
        return consumer;
      },
    });
  };

  /** Starts the subscription and lets the fake consumer join. */
  const startJoined = async (
    options: { failConnectAfterFirst?: number } = {},
  ) => {
    const started = start(options);
    await vi.advanceTimersByTimeAsync(1);
    return started;
  };

  beforeEach(() => {
    vi.useFakeTimers();
    consumers = [];
    handled = [];
    handler = async (batch) => void handled.push(batch);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("on a first start refused by a broker still loading (retriable), tries again within the join timeout; a non-retriable refusal fails at once", async () => {
    const loading = () =>
      new KafkaJSProtocolError({
        message: "The coordinator is loading",
        type: "COORDINATOR_LOAD_IN_PROGRESS",
        code: 14,
        retriable: true,
      } as unknown as Error);
    const startWith = (refusal: () => Error, refusals: number) => {
      let built = 0;
      return startKafkaSubscription({
        ...subscribed,
        createConsumer: () => {
          built += 1;
          const consumer = createFakeConsumer();
          if (built <= refusals)
            consumer.connect = async () => Promise.reject(refusal());
          consumers.push(consumer);
          return consumer;
        },
      });
    };
    const started = startWith(loading, 2);
    await vi.advanceTimersByTimeAsync(2000);
    const subscription = await started;
    expect(consumers).toHaveLength(3);
    expect(subscription.state().status).toBe("running");
    await subscription.stop();

    consumers = [];
    const refused = startWith(() => new Error("not authorised"), 1);
    await expect(refused).rejects.toThrow("not authorised");
    expect(consumers).toHaveLength(1);
  });

  it("runs kafkajs with batches, autoCommit off and nothing auto-resolved", async () => {
    const subscription = await startJoined();
    expect(consumers[0]!.runConfig).toMatchObject({
      autoCommit: false,
      eachBatchAutoResolve: false,
    });
    expect(consumers[0]!.subscribed).toEqual([
      { topics: [TOPIC], fromBeginning: true },
    ]);
    expect(subscription.state()).toEqual(runningState());
    await subscription.stop();
  });

  it("hands a batch over in order and commits the offset after its last message once, then resolves it", async () => {
    const subscription = await startJoined();
    const { payload, resolved, commits } = batchPayload(["7", "8", "9"]);
    await consumers[0]!.eachBatch!(payload);
    expect(handled).toHaveLength(1);
    expect(
      handled[0]!.messages.map((message) => [
        message.offset,
        message.value,
        message.headers.correlationId,
      ]),
    ).toEqual([
      ["7", "event-7", "c-7"],
      ["8", "event-8", "c-8"],
      ["9", "event-9", "c-9"],
    ]);
    expect(commits).toEqual([
      {
        topics: [
          { topic: TOPIC, partitions: [{ partition: 0, offset: "10" }] },
        ],
      },
    ]);
    expect(resolved).toEqual(["9"]);
    await subscription.stop();
  });

  it("when the consumer crashes, rebuilds and re-subscribes it with backoff, and reports restarting until it joined", async () => {
    const subscription = await startJoined({ failConnectAfterFirst: 1 });
    consumers[0]!.crash(
      new KafkaJSNonRetriableError(
        "The coordinator is not aware of this member",
      ),
    );
    expect(subscription.state()).toMatchObject({
      status: "restarting",
      restarts: 1,
      reason: "The coordinator is not aware of this member",
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(consumers).toHaveLength(1);
    expect(consumers[0]!.disconnects).toBe(1);
    // First rebuild after 1 s fails to connect; the next waits twice as long.
    await vi.advanceTimersByTimeAsync(1);
    expect(consumers).toHaveLength(2);
    expect(subscription.state().status).toBe("restarting");
    await vi.advanceTimersByTimeAsync(1999);
    expect(consumers).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2);
    expect(consumers).toHaveLength(3);
    expect(consumers[2]!.subscribed).toEqual([
      { topics: [TOPIC], fromBeginning: true },
    ]);
    expect(subscription.state()).toEqual(runningState(1));
    // The rebuilt consumer consumes.
    await consumers[2]!.eachBatch!(batchPayload(["3"]).payload);
    expect(handled.map((batch) => batch.messages[0]!.offset)).toEqual(["3"]);
    // A crash of the old, replaced consumer is not this subscription's concern any more.
    consumers[0]!.crash(new Error("late"));
    expect(subscription.state().status).toBe("running");
    await subscription.stop();
    expect(subscription.state().status).toBe("stopped");
  });

  it("leaves a crash kafkajs restarts by itself to kafkajs", async () => {
    const subscription = await startJoined();
    consumers[0]!.crash(new Error("retries exhausted"), { restart: true });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(consumers).toHaveLength(1);
    expect(subscription.state()).toMatchObject({
      status: "restarting",
      restarts: 1,
    });
    consumers[0]!.emit(EVENTS.GROUP_JOIN, {
      memberAssignment: { [TOPIC]: [0] },
    });
    expect(subscription.state()).toMatchObject({
      status: "running",
      restarts: 1,
    });
    await subscription.stop();
  });

  it.each(["UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION", "REBALANCE_IN_PROGRESS"])(
    "when the commit fails with %s (wrapped as kafkajs does), hands kafkajs the raw error to rejoin; the batch is redelivered, no crash, no pause",
    async (type) => {
      const subscription = await startJoined();
      const refused = batchPayload(["4", "5"], {
        commit: async () =>
          Promise.reject(
            new NonRetriable(protocolError(type), {
              cause: protocolError(type),
            }),
          ),
      });
      const thrown = await consumers[0]!.eachBatch!(refused.payload).then(
        () => undefined,
        (error: unknown) => error,
      );
      // kafkajs's runner rejoins on exactly these unwrapped protocol errors (by `type`).
      expect(thrown).toBeInstanceOf(KafkaJSProtocolError);
      expect((thrown as KafkaJSProtocolError).type).toBe(type);
      expect(refused.resolved).toEqual([]);
      expect(consumers[0]!.paused).toEqual([]);
      expect(subscription.state()).toEqual(runningState());
      // After the rejoin kafkajs fetches from the last commit: the same batch again, now committed.
      const again = batchPayload(["4", "5"]);
      await consumers[0]!.eachBatch!(again.payload);
      expect(
        handled.map((batch) => batch.messages.map((message) => message.offset)),
      ).toEqual([
        ["4", "5"],
        ["4", "5"],
      ]);
      expect(again.resolved).toEqual(["5"]);
      expect(consumers).toHaveLength(1);
      await subscription.stop();
    },
  );

  it("recognises rebalance errors however deep kafkajs wrapped them, and nothing else", () => {
    expect(
      rebalanceCause(
        new NonRetriable(new Error("x"), {
          cause: new NonRetriable(new Error("y"), {
            cause: protocolError("UNKNOWN_MEMBER_ID"),
          }),
        }),
      ),
    ).toBeDefined();
    expect(
      rebalanceCause(protocolError("OFFSET_OUT_OF_RANGE")),
    ).toBeUndefined();
    expect(
      rebalanceCause(
        new InfrastructureError("rabbitmq is disconnected", {
          retriable: true,
        }),
      ),
    ).toBeUndefined();
  });

  it("when the handler fails (a downstream is down), pauses that partition, rewinds it to the batch, and resumes it with capped exponential backoff", async () => {
    const subscription = await startJoined();
    const consumer = consumers[0]!;
    handler = async () => {
      throw new InfrastructureError("rabbitmq is disconnected", {
        retriable: true,
      });
    };
    const failing = batchPayload(["20", "21"], { partition: 1 });
    // The handler's error does not reach kafkajs (which would retry it without heartbeats).
    await expect(consumer.eachBatch!(failing.payload)).resolves.toBeUndefined();
    expect(failing.commits).toEqual([]);
    expect(failing.resolved).toEqual([]);
    expect(consumer.paused).toEqual([1]);
    expect(consumer.seeks).toEqual([{ partition: 1, offset: "20" }]);
    expect(subscription.state()).toEqual({
      status: "paused",
      pausedPartitions: [{ topic: TOPIC, partition: 1 }],
      reason: "rabbitmq is disconnected",
      restarts: 0,
    });
    await vi.advanceTimersByTimeAsync(99);
    expect(consumer.resumed).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(consumer.resumed).toEqual([1]);
    // Each further failure doubles the wait, up to the cap (100, 200, 400, 400 ms).
    for (const waitMs of [200, 400, 400]) {
      await consumer.eachBatch!(
        batchPayload(["20", "21"], { partition: 1 }).payload,
      );
      const resumes = consumer.resumed.length;
      await vi.advanceTimersByTimeAsync(waitMs - 1);
      expect(consumer.resumed).toHaveLength(resumes);
      await vi.advanceTimersByTimeAsync(1);
      expect(consumer.resumed).toHaveLength(resumes + 1);
    }
    handler = async (batch) => void handled.push(batch);
    const recovered = batchPayload(["20", "21"], { partition: 1 });
    await consumer.eachBatch!(recovered.payload);
    expect(recovered.resolved).toEqual(["21"]);
    expect(subscription.state()).toEqual(runningState());
    await subscription.stop();
  });

  it("skips a batch superseded by its own rewind (stale) without handling it", async () => {
    const subscription = await startJoined();
    const stale = batchPayload(["1"]);
    stale.payload.isStale = () => true;
    await consumers[0]!.eachBatch!(stale.payload);
    expect(handled).toEqual([]);
    expect(stale.commits).toEqual([]);
    await subscription.stop();
  });

  it("the Kafka event log builds its consumers from the injected client, never lets kafkajs restart them itself, and rebuilds after a crash", async () => {
    const configs: Array<Record<string, unknown>> = [];
    const kafka = {
      consumer: (config: Record<string, unknown>) => {
        configs.push(config);
        const consumer = createFakeConsumer();
        consumers.push(consumer);
        return consumer;
      },
      producer: () => {
        throw new Error("not used");
      },
      admin: () => {
        throw new Error("not used");
      },
    } as unknown as NonNullable<
      Parameters<typeof createKafkaEventLog>[0]["kafka"]
    >;
    const eventLog = createKafkaEventLog({
      brokers: ["unused:9092"],
      clientId: "test",
      logger: silentLogger,
      sessionTimeoutMs: 6000,
      restartBackoff: { initialMs: 50 },
      kafka,
    });
    const subscribing = eventLog.subscribe({
      groupId: "g",
      topics: [TOPIC],
      handleBatch: async () => undefined,
    });
    await vi.advanceTimersByTimeAsync(1);
    const subscription = await subscribing;
    expect(configs[0]).toMatchObject({ groupId: "g", sessionTimeout: 6000 });
    await expect(
      (
        configs[0]!.retry as {
          restartOnFailure: (error: Error) => Promise<boolean>;
        }
      ).restartOnFailure(new Error("x")),
    ).resolves.toBe(false);
    consumers[0]!.crash(new Error("gave up"), { groupId: "g" });
    await vi.advanceTimersByTimeAsync(51);
    expect(configs).toHaveLength(2);
    expect(subscription.state()).toMatchObject({
      status: "running",
      restarts: 1,
    });
    await eventLog.close();
    expect(subscription.state().status).toBe("stopped");
  });
});
