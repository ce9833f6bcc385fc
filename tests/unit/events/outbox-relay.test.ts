import { pino } from "pino";
import { describe, expect, it } from "vitest";
import {
  createMemoryEventLog,
  type EventLog,
} from "../../../events/event-log.ts";
import { createOutboxRelay } from "../../../events/outbox-relay.ts";
import { appendToOutbox } from "../../../events/outbox-writer.ts";
import type { Database } from "../../../platform/database.ts";
import { pgliteBackend, withOrdersDatabase } from "../../support/storage.ts";

const logger = pino({ level: "silent" });

describe("the outbox relay on PGlite (createOutboxRelay)", () => {
  let db: Database;
  withOrdersDatabase(pgliteBackend, (orders) => (db = orders));

  it("keeps rows unpublished while the event log refuses them, and publishes them once it accepts", async () => {
    const log = createMemoryEventLog({ logger });
    let down = true;
    const flaky: EventLog = {
      ...log,
      publish: (topic, messages) =>
        down
          ? Promise.reject(new Error("broker down"))
          : log.publish(topic, messages),
    };
    for (const key of ["u1", "u2"])
      await db.transaction((tx) =>
        appendToOutbox(tx, "orders", {
          type: "orders.order.placed",
          key,
          data: {},
        }),
      );
    const relay = createOutboxRelay({
      db,
      schema: "orders",
      eventLog: flaky,
      logger,
    });
    await expect(relay.relayOnce()).rejects.toThrow("broker down");
    expect((await relay.lag()).unpublished).toBe(2);
    down = false;
    expect(await relay.relayOnce()).toBe(2);
    expect((await relay.lag()).unpublished).toBe(0);
    await log.close();
  });
});
