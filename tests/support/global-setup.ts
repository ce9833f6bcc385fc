import { execFileSync } from 'node:child_process';

/**
 * With CI=true the real-broker suite is mandatory, so Kafka is started here through the project
 * script (idempotent: it reuses a running broker). Locally nothing starts behind your back.
 */
export default function setup(): void {
  if (process.env.CI !== 'true' || process.env.KAFKA_BROKERS) return;
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/kafka/kafka.ts', 'start'], { stdio: 'inherit' });
}
