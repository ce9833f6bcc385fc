import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import type { LogSubscription } from "../../../events/event-log.ts";
import { createKafkaEventLog } from "../../../events/kafka-event-log.ts";
import {
  KAFKA_BROKERS,
  probeKafka,
  unique,
  waitFor,
} from "../../support/brokers.ts";
import { memoryLogger } from "../../support/stack.ts";

const kafkaReason = await probeKafka();

/** The broker's default group.min.session.timeout.ms: the shortest session a member may ask for. */
const SESSION_TIMEOUT_MS = 6000;

describe.skipIf(kafkaReason)(
  "a Kafka subscription whose member the group evicted under a slow batch",
  () => {
    const admin = new Kafka({
      clientId: "eviction-test-admin",
      brokers: KAFKA_BROKERS,
      logLevel: logLevel.NOTHING,
    }).admin();
    const cleanups: Array<() => Promise<unknown>> = [];
    afterAll(async () => {
      for (const cleanup of cleanups.reverse())
        await cleanup().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    });

    it(
      "keeps consuming: the refused commit (UNKNOWN_MEMBER_ID) rejoins instead of crashing, the batch comes again, later events follow, and the state is running again",
      { timeout: 120_000 },
      async () => {
        await admin.connect();
        const { logger, lines } = memoryLogger("info");
        const topic = unique("eviction");
        const groupId = unique("eviction-group");
        const eventLog = createKafkaEventLog({
          brokers: KAFKA_BROKERS,
          clientId: "eviction-test",
          logger,
          sessionTimeoutMs: SESSION_TIMEOUT_MS,
        });
        cleanups.push(() => eventLog.close());
        await eventLog.ensureTopic(topic, { partitions: 1 });
        await eventLog.publish(
          topic,
          ["a", "b", "c"].map((value) => ({ key: "user-1", value })),
        );

        const groupIsEmpty = async () => {
          const [group] = (await admin.describeGroups([groupId])).groups;
          return group && group.members.length === 0 ? true : undefined;
        };
        const batches: string[][] = [];
        let stall = true;
        const subscription: LogSubscription = await eventLog.subscribe({
          groupId,
          topics: [topic],
          handleBatch: async ({ messages }) => {
            batches.push(messages.map((message) => message.value));
            if (!stall) return;
            stall = false;
            // A handler stuck on a downstream without heartbeating: it returns only once the
            // coordinator has expired the member's session and emptied the group.
            await waitFor(groupIsEmpty, {
              timeoutMs: 60_000,
              intervalMs: 250,
              what: `the coordinator evicting the member of ${groupId}`,
            });
          },
        });
        cleanups.push(() => subscription.stop());

        await waitFor(
          () =>
            lines.some(
              (line) =>
                line.msg ===
                "group rebalanced under the batch; rejoining, the batch will be redelivered",
            )
              ? true
              : undefined,
          {
            timeoutMs: 60_000,
            what: "the refused commit",
          },
        );
        const refusal = lines.find(
          (line) =>
            line.msg ===
            "group rebalanced under the batch; rejoining, the batch will be redelivered",
        )!;
        expect([
          "UNKNOWN_MEMBER_ID",
          "ILLEGAL_GENERATION",
          "REBALANCE_IN_PROGRESS",
        ]).toContain(refusal.type);

        await eventLog.publish(
          topic,
          ["d", "e"].map((value) => ({ key: "user-1", value })),
        );
        await waitFor(() => (batches.flat().includes("e") ? true : undefined), {
          timeoutMs: 60_000,
          what: "the later events",
        });
        await waitFor(
          async () =>
            (await eventLog.lag(groupId, [topic])) === 0 ? true : undefined,
          { timeoutMs: 30_000, what: "everything committed" },
        );

        const handled = batches.flat();
        // The evicted batch came again (its commit had been refused), from its first message.
        expect(handled.filter((value) => value === "a")).toHaveLength(2);
        expect(batches[1]?.[0]).toBe("a");
        // Per-partition order held across the rejoin: the first time each value was handled.
        expect([...new Set(handled)]).toEqual(["a", "b", "c", "d", "e"]);
        expect(subscription.state()).toEqual({
          status: "running",
          pausedPartitions: [],
          restarts: 0,
        });
        expect(
          lines.filter(
            (line) => line.msg === "kafka consumer crashed; restarting it",
          ),
        ).toEqual([]);
      },
    );
  },
);
