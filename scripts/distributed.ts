/**
 * `npm run start:distributed [-- --scale products=3]`: docker-compose.yml without Docker. Every
 * service runs as its own process with the environment compose gives its container (see
 * deploy/distributed.ts), against the local PostgreSQL (database DISTRIBUTED_DATABASE, created and
 * initialised by the compose init script), RabbitMQ at AMQP_URL, Kafka from `npm run kafka:start`
 * and an SMTP sink in this process standing in for Mailpit. DISTRIBUTED_PORT_BASE (4100) places the
 * ports, DISTRIBUTED_PREFIX names this run's topics, groups and queues. Output is prefixed per instance;
 * Ctrl-C (or SIGTERM) stops every service in reverse start order.
 */
import { execFileSync } from "node:child_process";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { DEPLOYABLE_NAMES } from "../deploy/deployables.ts";
import { createDatabase, startDistributed } from "../deploy/distributed.ts";

const env = process.env;
const adminUrl =
  env.DISTRIBUTED_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const database = env.DISTRIBUTED_DATABASE ?? "switchyard_distributed";
const portBase = Number(env.DISTRIBUTED_PORT_BASE ?? 4100);
const scale: Record<string, number> = {};
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 1) {
  const spec =
    args[i] === "--scale"
      ? args[++i]
      : args[i]?.startsWith("--scale=")
        ? args[i]!.slice("--scale=".length)
        : undefined;
  const match = spec === undefined ? null : /^([a-z]+)=(\d+)$/.exec(spec);
  if (
    !match ||
    !(DEPLOYABLE_NAMES as readonly string[]).includes(match[1]!) ||
    Number(match[2]) < 1
  ) {
    console.error(
      `usage: npm run start:distributed [-- --scale <service>=<n>]... (services: ${DEPLOYABLE_NAMES.join(", ")})`,
    );
    process.exit(2);
  }
  scale[match[1]!] = Number(match[2]);
}

if (!env.KAFKA_BROKERS)
  execFileSync(
    process.execPath,
    ["--import", "tsx", "scripts/kafka/kafka.ts", "start"],
    { stdio: "inherit" },
  );
const databaseUrl = await createDatabase(adminUrl, database);

// Mailpit's stand-in: accepts every email and logs who it was for.
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  logger: false,
  onData(stream, session, done) {
    let size = 0;
    stream.on("data", (chunk: Buffer) => (size += chunk.length));
    stream.on("end", () => {
      console.log(
        `[mailpit] email to ${session.envelope.rcptTo.map((rcpt) => rcpt.address).join(", ")} (${size} bytes)`,
      );
      done();
    });
  },
});
await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));

const distributed = await startDistributed({
  infrastructure: {
    databaseUrl,
    kafkaBrokers: env.KAFKA_BROKERS ?? "127.0.0.1:19092",
    amqpUrl: env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672",
    smtpUrl: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
  },
  // Instance 1 of service k on base + k, replicas 20 ports further each: stable, easy to curl.
  port: (service, index) =>
    portBase +
    DEPLOYABLE_NAMES.indexOf(service as (typeof DEPLOYABLE_NAMES)[number]) +
    20 * index,
  scale,
  // DISTRIBUTED_PREFIX keeps this run's topics, consumer groups and queues apart from another's on
  // the same brokers.
  extraEnv: env.DISTRIBUTED_PREFIX
    ? {
        KAFKA_TOPIC_PREFIX: `${env.DISTRIBUTED_PREFIX}.`,
        KAFKA_GROUP_ID: env.DISTRIBUTED_PREFIX,
        AMQP_QUEUE_PREFIX: env.DISTRIBUTED_PREFIX,
      }
    : {},
});
console.log(
  `Distributed run ready: router at ${distributed.instance("router").url}/graphql (database ${database}); Ctrl-C stops it`,
);

let stopping = false;
const stop = async (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping services in reverse start order`);
  await distributed.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  process.exit(0);
};
process.on("SIGINT", (signal) => void stop(signal));
process.on("SIGTERM", (signal) => void stop(signal));
