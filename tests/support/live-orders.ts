import { expect } from "vitest";
import { createKafkaEventLog } from "../../events/kafka-event-log.ts";
import { KAFKA_BROKERS } from "./brokers.ts";
import { livePipeline, type Followed, type HeldSubscription } from "./live.ts";
import { silentLogger } from "./logger.ts";
import { waitFor } from "./wait.ts";

/**
 * The live pipeline on real Kafka under `prefix`: topics `<prefix>.*` and a consumer group of that
 * name, so no other test file's events or offsets are ever seen.
 */
export const kafkaLivePipeline = (prefix: string) =>
  livePipeline(
    createKafkaEventLog({
      brokers: KAFKA_BROKERS,
      clientId: prefix,
      logger: silentLogger,
    }),
    `${prefix}.`,
  );

/** The updates of order `id` a FOLLOW subscription has received, in order. */
export const updatesOf = (subscription: HeldSubscription, id: string) =>
  (subscription.results() as Followed[])
    .map((result) => result.orderUpdated)
    .filter((order) => order.id === id);

/** Waits until a FOLLOW subscription has received as many updates of order `id` as `statuses` names. */
export const untilUpdates = (
  subscription: HeldSubscription,
  id: string,
  statuses: string[],
) =>
  waitFor(
    () =>
      updatesOf(subscription, id).length >= statuses.length ? true : undefined,
    { what: `${statuses.join("→")} for ${id}`, timeoutMs: 30_000 },
  );

/**
 * Order `id` went PENDING then CONFIRMED on a FOLLOW subscription, and the confirmation carries
 * fields from four subgraphs: the customer's name, the product's, and the captured payment.
 */
export function expectFollowedToConfirmation(
  subscription: HeldSubscription,
  id: string,
  customerName: string,
) {
  const seen = updatesOf(subscription, id);
  expect(seen.map((order) => order.status)).toEqual(["PENDING", "CONFIRMED"]);
  expect(seen[1]?.user?.name).toBe(customerName);
  expect(seen[1]?.items[0]?.product?.name).toMatch(/^Test product/);
  expect(seen[1]?.payment?.status).toBe("CAPTURED");
}
