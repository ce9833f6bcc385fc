import { describe, expect, it } from "vitest";
import { runChaos } from "../../scripts/chaos/soak.ts";
import { probeKafka } from "../support/brokers.ts";
import { skipReason } from "../support/ci.ts";
import { privateRabbitUnavailable } from "../support/private-rabbit.ts";
import { postgresBackend } from "../support/storage.ts";

const kafkaReason = await probeKafka();

/**
 * The chaos soak at CI size (`npm run chaos` runs the full one): a few hundred orders through the
 * router of the distributed topology while a seeded schedule kills relays, workers and
 * dispatchers, restarts the private Kafka broker and RabbitMQ node, and injects poison. Its ports
 * differ from the script's defaults, so a manual soak can run beside it. A fixed seed keeps CI
 * reproducible; the table is printed either way.
 */
const SEED = 20261201;
const privateRabbitReason = skipReason(
  "a private RabbitMQ node",
  await privateRabbitUnavailable(),
);
const unavailable =
  (await postgresBackend()).unavailable ?? kafkaReason ?? privateRabbitReason;
if (unavailable)
  console.error(`[tests] skipping the chaos soak: ${unavailable}`);

describe.skipIf(unavailable)("the chaos soak (CI size)", () => {
  it(
    "every confirmed order is emailed exactly once, in per-customer order, with only the poison dead-lettered, through kills and broker restarts",
    { timeout: 900_000 },
    async () => {
      const lines: string[] = [];
      const result = await runChaos({
        seed: SEED,
        orders: 300,
        customers: 4,
        ratePerSecond: 4,
        faults: 5,
        poisonEvents: 2,
        poisonJobs: 2,
        kafkaPort: 19525,
        rabbitPort: 5705,
        rabbitDistPort: 25705,
        log: (line) => lines.push(line),
      });
      console.error(lines.join("\n"));
      expect(
        result.ok,
        `${result.table}\n--- timeline ---\n${result.timeline.join("\n")}\n--- service warnings ---\n${result.serviceLogTail}`,
      ).toBe(true);
    },
  );
});
