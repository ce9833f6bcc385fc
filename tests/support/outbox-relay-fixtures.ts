import { expect } from "vitest";
import type { EventLog, LogMessage } from "../../events/event-log.ts";
import type { OutboxRelay } from "../../events/outbox-relay.ts";
import { unique } from "./wait.ts";

/**
 * Subscribes a group of its own (`<group>-<unique>`) to `switchyard.orders` on `log`; the array it
 * returns fills with the messages as they arrive.
 */
export async function collectOrderEvents(
  log: EventLog,
  group: string,
): Promise<LogMessage[]> {
  const seen: LogMessage[] = [];
  await log.subscribe({
    groupId: unique(group),
    topics: ["switchyard.orders"],
    handle: async (message) => void seen.push(message),
  });
  return seen;
}

/**
 * `log` behind a broker that is down: every publish rejects with `refusal()` until `recover()`,
 * then goes through to `log`.
 */
export function refusingEventLog(
  log: EventLog,
  refusal: () => Error = () => new Error("broker down"),
): { eventLog: EventLog; recover(): void } {
  let down = true;
  return {
    eventLog: {
      ...log,
      publish: async (topic, messages) =>
        down ? Promise.reject(refusal()) : log.publish(topic, messages),
    },
    recover: () => void (down = false),
  };
}

/**
 * For a relay over a `refusingEventLog` with `count` rows waiting: a pass fails with the refusal
 * and leaves all of them unpublished; once the log recovers, the next pass publishes every one
 * and leaves none.
 */
export async function expectRefusedRowsPublishedLater(
  relay: OutboxRelay,
  { count, recover }: { count: number; recover: () => void },
): Promise<void> {
  await expect(relay.relayOnce()).rejects.toThrow("broker down");
  expect((await relay.lag()).unpublished).toBe(count);
  recover();
  expect(await relay.relayOnce()).toBe(count);
  expect((await relay.lag()).unpublished).toBe(0);
}
