/**
 * `npm run chaos [-- --orders N --seed S]`: the chaos soak (scripts/chaos/soak.ts) on the
 * distributed topology with a private Kafka broker and RabbitMQ node. Prints the seed and the
 * schedule first, the checker's table last; exits 1 on any miss, 2 on bad arguments. The same
 * seed and order count replay the same schedule.
 *
 * Options: --orders (2000), --seed (random), --customers (6), --rate orders/s (10), --faults
 * (orders/150, at least 5), --poison-events (2), --poison-jobs (2), --kafka-port (19523; the
 * controller uses the next port), --rabbit-port (5704), --rabbit-dist-port (25704),
 * --quiesce-timeout-ms (240000). PostgreSQL: CHAOS_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres).
 */
import { runChaos, type ChaosOptions } from "./chaos/soak.ts";

const FLAGS: Record<string, keyof ChaosOptions> = {
  "--orders": "orders",
  "--seed": "seed",
  "--customers": "customers",
  "--rate": "ratePerSecond",
  "--faults": "faults",
  "--poison-events": "poisonEvents",
  "--poison-jobs": "poisonJobs",
  "--kafka-port": "kafkaPort",
  "--rabbit-port": "rabbitPort",
  "--rabbit-dist-port": "rabbitDistPort",
  "--quiesce-timeout-ms": "quiesceTimeoutMs",
};

function usage(problem: string): never {
  console.error(
    `${problem}\nusage: npm run chaos -- [${Object.keys(FLAGS)
      .map((flag) => `${flag} <n>`)
      .join("] [")}]`,
  );
  process.exit(2);
}

const options: Record<string, number> = {};
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 1) {
  const [flag, inline] = args[i]!.split("=", 2) as [string, string | undefined];
  const key = FLAGS[flag];
  if (!key) usage(`unknown option ${flag}`);
  const raw = inline ?? args[++i];
  if (raw === undefined || !/^\d+$/.test(raw))
    usage(`${flag} needs a non-negative integer, got ${JSON.stringify(raw)}`);
  options[key] = Number(raw);
}
if (options.orders !== undefined && options.orders < 1)
  usage("--orders must be at least 1");

const result = await runChaos({
  ...options,
  ...(process.env.CHAOS_ADMIN_URL
    ? { adminUrl: process.env.CHAOS_ADMIN_URL }
    : {}),
});
if (!result.ok) {
  console.error(
    `[chaos] failed checks with seed ${result.seed}; last warnings and errors from the services:\n${result.serviceLogTail}`,
  );
  process.exit(1);
}
process.exit(0);
