import { pino } from "pino";
import { describe, it } from "vitest";
import { createMemoryEventLog } from "../../../events/event-log.ts";
import { createOutboxRelay } from "../../../events/outbox-relay.ts";
import { appendToOutbox } from "../../../events/outbox-writer.ts";
import type { Database } from "../../../platform/database.ts";
import { pgliteBackend, withOrdersDatabase } from "../../support/storage.ts";
import {
  expectRefusedRowsPublishedLater,
  refusingEventLog,
} from "../../support/outbox-relay-fixtures.ts";

const logger = pino({ level: "silent" });

describe("the outbox relay on PGlite (createOutboxRelay)", () => {
  let db: Database;
  withOrdersDatabase(pgliteBackend, (orders) => (db = orders));

  it("keeps rows unpublished while the event log refuses them, and publishes them once it accepts", async () => {
    const log = createMemoryEventLog({ logger });
    const { eventLog: flaky, recover } = refusingEventLog(log);
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
    await expectRefusedRowsPublishedLater(relay, { count: 2, recover });
    await log.close();
  });
});
