import { afterEach, describe, expect, it } from "vitest";
import { buildEnvelope } from "../../../events/envelope.ts";
import { createMemoryEventLog } from "../../../events/event-log.ts";
import {
  createLiveChangeFeed,
  type LiveChangeMessage,
} from "../../../events/live-change-feed.ts";
import { silentLogger } from "../../support/logger.ts";
import { waitFor } from "../../support/wait.ts";

const eventLog = createMemoryEventLog({ logger: silentLogger });
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

const message = (type: string, key: string, data: Record<string, unknown>) => ({
  key,
  value: JSON.stringify(buildEnvelope({ type, key, data })),
});

describe("the router's live change feed", () => {
  it("turns order events and delivered notifications from both topics into changes, in order, and skips the rest", async () => {
    const topicPrefix = `feed-${Date.now()}.`;
    const feed = createLiveChangeFeed({
      eventLog,
      topicPrefix,
      logger: silentLogger,
    });
    const changes: LiveChangeMessage[] = [];
    const subscription = await feed.start((change) => changes.push(change));
    stops.push(() => subscription.stop());

    await eventLog.publish(`${topicPrefix}switchyard.orders`, [
      message("orders.order.confirmed", "u1", {
        orderId: "o1",
        userId: "u1",
        total: 100,
        currency: "USD",
      }),
      // Breaks its contract (no userId): skipped, never handed to subscribers.
      message("orders.order.cancelled", "u1", {
        orderId: "o2",
        total: 100,
        currency: "USD",
      }),
      { key: "u1", value: "not an envelope" },
    ]);
    await eventLog.publish(`${topicPrefix}switchyard.notifications`, [
      message("notifications.notification.delivered", "u1", {
        notificationId: "n1:email",
        userId: "u1",
      }),
    ]);
    await waitFor(() => (changes.length >= 2 ? true : undefined), {
      what: "two changes",
    });
    expect(
      changes.map(
        ({ eventId: _eventId, receivedAt: _receivedAt, ...rest }) => rest,
      ),
    ).toEqual([
      { kind: "order", orderId: "o1", userId: "u1", status: "CONFIRMED" },
      { kind: "notification", notificationId: "n1:email", userId: "u1" },
    ]);
  });
});
