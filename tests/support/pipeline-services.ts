import { probeKafka, probeRabbit } from "./brokers.ts";
import { postgresBackend, type Backend } from "./storage.ts";

/**
 * The real PostgreSQL, Kafka and RabbitMQ that the whole notification pipeline needs, probed when
 * called (never on import): the PostgreSQL backend, and why the file must skip if it must. Outside
 * CI each missing service's reason is printed; in CI a missing one fails the run (see ./ci.ts).
 */
export async function probePipelineServices(): Promise<{
  postgres: Backend;
  unavailable: string | undefined;
}> {
  const kafkaReason = await probeKafka();
  const rabbitReason = await probeRabbit();
  const postgres = await postgresBackend();
  return {
    postgres,
    unavailable: postgres.unavailable ?? kafkaReason ?? rabbitReason,
  };
}
