import { execFileSync } from "node:child_process";
import { inCI } from "./ci.ts";

/**
 * In CI (see ./ci.ts) the real-broker suite is mandatory, so Kafka is started here through the project
 * script (idempotent: it reuses a running broker). Locally nothing starts behind your back.
 */
export default function setup(): void {
  if (!inCI() || process.env.KAFKA_BROKERS) return;
  execFileSync(
    process.execPath,
    ["--import", "tsx", "scripts/kafka/kafka.ts", "start"],
    { stdio: "inherit" },
  );
}
