import { describe, expect, it } from "vitest";
import {
  createMemoryEventLog,
  type EventLog,
} from "../../../events/event-log.ts";
import { createOutboxRelay } from "../../../events/outbox-relay.ts";
import { relayReadiness } from "../../../events/role-readiness.ts";
import type { Database } from "../../../platform/database.ts";
import { InfrastructureError } from "../../../platform/errors.ts";
import { appendToOutbox } from "../../../events/outbox-writer.ts";
import { waitFor } from "../../support/wait.ts";
import { silentLogger } from "../../support/stack.ts";
import {
  collectOrderEvents,
  refusingEventLog,
} from "../../support/outbox-relay-fixtures.ts";
import { allBackends, withOrdersDatabase } from "../../support/storage.ts";

const backends = await allBackends();

describe.each(backends)(
  "the outbox relay woken by NOTIFY on $name",
  (backend) => {
    let db: Database;
    withOrdersDatabase(backend, (orders) => (db = orders));

    const write = (user: string, n: number) =>
      db.transaction((tx) =>
        appendToOutbox(tx, "orders", {
          type: "orders.order.placed",
          key: user,
          data: { n },
        }),
      );
    const collect = (log: EventLog) => collectOrderEvents(log, "notify-test");

    it.skipIf(backend.unavailable)(
      "publishes a committed event long before its next poll, in commit order per user",
      async () => {
        const log = createMemoryEventLog({ logger: silentLogger });
        const seen = await collect(log);
        // The fallback poll is an hour away: only a notification can wake the relay in time.
        const relay = createOutboxRelay({
          db,
          schema: "orders",
          eventLog: log,
          logger: silentLogger,
          pollIntervalMs: 3_600_000,
        });
        relay.start();
        try {
          // The first event may be caught up when the LISTEN connection comes up; the later ones can
          // only arrive through the trigger's NOTIFY.
          await write("u1", 0);
          await waitFor(() => (seen.length === 1 ? true : undefined), {
            what: "the first event",
          });
          for (let n = 1; n <= 3; n += 1) {
            await write("u1", n);
            await waitFor(() => (seen.length === n + 1 ? true : undefined), {
              what: `event ${n} woken by NOTIFY`,
            });
          }
          expect(
            seen.map(
              (message) =>
                (JSON.parse(message.value) as { data: { n: number } }).data.n,
            ),
          ).toEqual([0, 1, 2, 3]);
        } finally {
          await relay.stop();
        }
      },
    );

    it.skipIf(backend.unavailable)(
      "reports why its last pass failed on /ready until a pass succeeds",
      async () => {
        const log = createMemoryEventLog({ logger: silentLogger });
        const { eventLog: flaky, recover } = refusingEventLog(
          log,
          () =>
            new InfrastructureError(
              "kafka publish failed: connection refused",
              {
                retriable: true,
              },
            ),
        );
        const relay = createOutboxRelay({
          db,
          schema: "orders",
          eventLog: flaky,
          logger: silentLogger,
          pollIntervalMs: 20,
        });
        await write("u2", 0);
        relay.start();
        try {
          const notReady = await waitFor(
            async () => {
              const readiness = await relayReadiness({
                relays: [relay],
                dbOf: () => db,
              });
              return readiness.ready ? undefined : readiness;
            },
            { what: "a failed pass" },
          );
          expect(notReady.details?.problems).toEqual([
            "relay orders: kafka publish failed: connection refused",
          ]);
          recover();
          await waitFor(
            async () =>
              (await relayReadiness({ relays: [relay], dbOf: () => db })).ready
                ? true
                : undefined,
            { what: "ready again" },
          );
        } finally {
          await relay.stop();
        }
      },
    );
  },
);
