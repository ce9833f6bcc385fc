import { afterAll, describe, expect, it } from "vitest";
import type { EventLog, LogMessage } from "../../../events/event-log.ts";
import { unique, waitFor } from "../wait.ts";
import { stoppedAfterEach } from "./stopped-after-each.ts";

/**
 * The EventLog contract, the same for every adapter: the in-process one runs it in
 * tests/unit/events/event-log.test.ts, Kafka in tests/int/events/kafka-event-log.test.ts.
 * `unavailable` (a probe's reason) skips it visibly.
 */
export function eventLogContract({
  name,
  unavailable,
  create,
}: {
  name: string;
  unavailable: string | undefined;
  create: () => EventLog;
}): void {
  describe(`the EventLog contract on ${name}`, () => {
    let log: EventLog;
    const subscribe = stoppedAfterEach(
      (options: Parameters<EventLog["subscribe"]>[0]) => log.subscribe(options),
    );
    /** Joins `groupId` on `topic` with a member that collects the values it handles. */
    const joinCollecting = async (groupId: string, topic: string) => {
      const values: string[] = [];
      const member = await subscribe({
        groupId,
        topics: [topic],
        handle: async ({ value }) => void values.push(value),
      });
      return { values, member };
    };
    afterAll(async () => {
      await log?.close();
    });
    const topicWithPartitions = async (partitions = 3) => {
      log ??= create();
      const topic = unique("contract");
      await log.ensureTopic(topic, { partitions });
      return topic;
    };

    it.skipIf(unavailable)(
      "delivers every key’s messages in publish order across several partitions, with headers",
      async () => {
        const topic = await topicWithPartitions(3);
        const keys = ["alice", "bob", "carol", "dave", "erin", "frank"];
        for (let round = 0; round < 5; round += 1) {
          await log.publish(
            topic,
            keys.map((key) => ({
              key,
              value: `${key}-${round}`,
              headers: { correlationId: `c-${key}-${round}` },
            })),
          );
        }
        const seen: LogMessage[] = [];
        await subscribe({
          groupId: unique("g"),
          topics: [topic],
          handle: async (message) => void seen.push(message),
        });
        await waitFor(() => (seen.length >= 30 ? true : undefined), {
          what: "30 messages",
        });
        for (const key of keys) {
          const mine = seen.filter((message) => message.key === key);
          expect(mine.map((message) => message.value)).toEqual(
            [0, 1, 2, 3, 4].map((round) => `${key}-${round}`),
          );
          expect(mine.map((message) => message.headers.correlationId)).toEqual(
            [0, 1, 2, 3, 4].map((round) => `c-${key}-${round}`),
          );
          expect(new Set(mine.map((message) => message.partition)).size).toBe(
            1,
          );
        }
        expect(
          new Set(seen.map((message) => message.partition)).size,
        ).toBeGreaterThan(1);
      },
    );

    it.skipIf(unavailable)(
      "redelivers the batch whose handler failed, and nothing later on its partition overtakes it",
      async () => {
        const topic = await topicWithPartitions(1);
        await log.publish(
          topic,
          [1, 2, 3].map((n) => ({ key: "k", value: String(n) })),
        );
        const attempts: string[] = [];
        let failuresLeft = 2;
        await subscribe({
          groupId: unique("g"),
          topics: [topic],
          handle: async ({ value }) => {
            attempts.push(value);
            if (value === "2" && failuresLeft-- > 0)
              throw new Error("transient");
          },
        });
        await waitFor(() => (attempts.includes("3") ? true : undefined), {
          what: "message 3",
        });
        // A batch is all-or-nothing: a failure redelivers it from its first message (here 1, or 2 when
        // the broker split the batch there), but 3 is never handled before 2 succeeded.
        expect(attempts.filter((value) => value === "2")).toHaveLength(3);
        expect(attempts.indexOf("3")).toBeGreaterThan(
          attempts.lastIndexOf("2"),
        );
        expect(attempts.filter((value) => value === "3")).toHaveLength(1);
      },
    );

    it.skipIf(unavailable)(
      "commits after handling: a restarted member of the group resumes after the last handled message",
      async () => {
        const topic = await topicWithPartitions(2);
        const groupId = unique("g");
        const { values: first, member } = await joinCollecting(groupId, topic);
        await log.publish(topic, [
          { key: "a", value: "a1" },
          { key: "b", value: "b1" },
        ]);
        await waitFor(() => (first.length === 2 ? true : undefined), {
          what: "first batch",
        });
        await member.stop();
        await log.publish(topic, [
          { key: "a", value: "a2" },
          { key: "b", value: "b2" },
        ]);
        const { values: second } = await joinCollecting(groupId, topic);
        await waitFor(() => (second.length === 2 ? true : undefined), {
          what: "second batch",
        });
        expect(second.sort()).toEqual(["a2", "b2"]);
      },
    );

    it.skipIf(unavailable)(
      "never commits a message whose handler failed: the next member of the group gets it again, after the last handled one",
      async () => {
        const topic = await topicWithPartitions(1);
        const groupId = unique("g");
        const handled: string[] = [];
        let failedAttempts = 0;
        const member = await subscribe({
          groupId,
          topics: [topic],
          handle: async ({ value }) => {
            if (value === "m2") {
              failedAttempts += 1;
              throw new Error("this handler never gets m2 through");
            }
            handled.push(value);
          },
        });
        await log.publish(
          topic,
          ["m1", "m2", "m3"].map((value) => ({ key: "k", value })),
        );
        await waitFor(() => (failedAttempts >= 2 ? true : undefined), {
          what: "m2 to fail twice",
        });
        await member.stop();
        // m2 never got through, and m3 waits behind it on the partition (m1 may have been handled
        // more than once: a failed batch is redelivered from its first message).
        expect(handled.filter((value) => value !== "m1")).toEqual([]);
        const { values: next } = await joinCollecting(groupId, topic);
        await waitFor(() => (next.includes("m3") ? true : undefined), {
          what: "the failed message and the one after it",
        });
        // The next member starts at or before m2: the failed message was never committed.
        expect(next.filter((value) => value !== "m1")).toEqual(["m2", "m3"]);
      },
    );

    it.skipIf(unavailable)(
      "gives each consumer group its own copy of every message",
      async () => {
        const topic = await topicWithPartitions(3);
        const { values: one } = await joinCollecting(unique("g1"), topic);
        const { values: two } = await joinCollecting(unique("g2"), topic);
        await log.publish(
          topic,
          ["x", "y", "z"].map((key) => ({ key, value: key })),
        );
        await waitFor(
          () => (one.length === 3 && two.length === 3 ? true : undefined),
          { what: "both groups" },
        );
        expect(one.sort()).toEqual(["x", "y", "z"]);
        expect(two.sort()).toEqual(["x", "y", "z"]);
      },
    );
  });
}
