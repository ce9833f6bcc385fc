/**
 * A single-node KRaft Kafka broker for development and CI, run with plain `java` from jars that
 * Maven fetches once into `.cache/kafka/libs` (see pom.xml beside this file).
 *
 *   npm run kafka:start   fetch jars if missing, format storage once, start, wait until ready
 *   npm run kafka:stop    stop the broker this script started (SIGTERM, then SIGKILL after 30 s)
 *
 * Idempotent: `start` reuses a broker that already answers on the port. Readiness means both a TCP
 * connect and a kafkajs admin `listTopics` succeed, since the port opens before the broker has
 * elected itself controller and can answer metadata requests.
 *
 * Environment: KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093), KAFKA_HOME (.cache/kafka: config,
 * data, log, pid), KAFKA_LIBS (.cache/kafka/libs: shared jars), KAFKA_HEAP (512m),
 * KAFKA_START_TIMEOUT_MS (120000). A second broker on other ports and another KAFKA_HOME can run
 * beside the first (the broker-restart test does).
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readInt, readString } from "../../platform/config.ts";
import { kafkaMetadataError } from "./probe.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const env = process.env;
const port = readInt(env, "KAFKA_PORT", 19092, { min: 1, max: 65535 });
const controllerPort = readInt(env, "KAFKA_CONTROLLER_PORT", 19093, {
  min: 1,
  max: 65535,
});
const home = resolve(root, readString(env, "KAFKA_HOME", ".cache/kafka"));
const heap = readString(env, "KAFKA_HEAP", "512m");
const startTimeoutMs = readInt(env, "KAFKA_START_TIMEOUT_MS", 120_000, {
  min: 1000,
});
const libs = resolve(root, readString(env, "KAFKA_LIBS", ".cache/kafka/libs"));
const dataDir = join(home, `data-${port}`);
const pidFile = join(home, `broker-${port}.pid`);
const logFile = join(home, `broker-${port}.log`);
const brokers = [`127.0.0.1:${port}`];

function log(message: string): void {
  console.log(`[kafka] ${message}`);
}

function tcpOpen(
  host: string,
  tcpPort: number,
  timeoutMs = 1000,
): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port: tcpPort });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

async function answersMetadata(): Promise<boolean> {
  if (!(await tcpOpen("127.0.0.1", port))) return false;
  const error = await kafkaMetadataError(brokers, {
    clientId: "switchyard-kafka-script",
    retries: 0,
  });
  return error === undefined;
}

function ensureJars(): void {
  if (
    existsSync(libs) &&
    readdirSync(libs).some((name) => name.startsWith("kafka_2.13-"))
  )
    return;
  log(`fetching broker jars into ${libs} (once)`);
  mkdirSync(libs, { recursive: true });
  execFileSync(
    "mvn",
    [
      "-q",
      "-B",
      "-f",
      join(root, "scripts/kafka/pom.xml"),
      "dependency:copy-dependencies",
      `-DoutputDirectory=${libs}`,
    ],
    { stdio: "inherit" },
  );
}

function writeConfig(): string {
  mkdirSync(home, { recursive: true });
  const properties = join(home, `server-${port}.properties`);
  writeFileSync(
    properties,
    [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      "controller.listener.names=CONTROLLER",
      "inter.broker.listener.name=PLAINTEXT",
      "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
      `log.dirs=${dataDir}`,
      // Three partitions by default so ordering tests exercise several partitions.
      "num.partitions=3",
      "auto.create.topics.enable=true",
      // One node: every internal topic must accept a replication factor of 1.
      "offsets.topic.replication.factor=1",
      "offsets.topic.num.partitions=3",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "share.coordinator.state.topic.replication.factor=1",
      "share.coordinator.state.topic.min.isr=1",
      // Tests create fresh groups constantly; the default 3 s delay before the first rebalance would dominate them.
      "group.initial.rebalance.delay.ms=0",
      "log.retention.hours=24",
      "",
    ].join("\n"),
  );
  const log4j = join(home, `log4j2-${port}.properties`);
  writeFileSync(
    log4j,
    [
      "rootLogger.level = WARN",
      "rootLogger.appenderRef.file.ref = FILE",
      "appender.file.type = File",
      "appender.file.name = FILE",
      `appender.file.fileName = ${logFile}`,
      "appender.file.layout.type = PatternLayout",
      "appender.file.layout.pattern = [%d] %p %m (%c)%n",
      "logger.kafka.name = kafka",
      "logger.kafka.level = INFO",
      "",
    ].join("\n"),
  );
  return properties;
}

function java(mainClass: string, args: string[], detached = false) {
  const log4jConfig = join(home, `log4j2-${port}.properties`);
  const jvm = [
    `-Xms${heap}`,
    `-Xmx${heap}`,
    "-XX:+UseG1GC",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${log4jConfig}`,
    "-cp",
    `${libs}/*`,
  ];
  if (!detached)
    return execFileSync("java", [...jvm, mainClass, ...args], {
      encoding: "utf8",
    });
  const out = openSync(logFile, "a");
  const child = spawn("java", [...jvm, mainClass, ...args], {
    detached: true,
    stdio: ["ignore", out, out],
  });
  child.unref();
  return String(child.pid);
}

function runningPid(): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

async function start(): Promise<void> {
  if (await answersMetadata()) {
    log(`broker already running at ${brokers[0]}`);
    return;
  }
  const stale = runningPid();
  if (stale) {
    log(
      `broker process ${stale} exists but does not answer yet; waiting for it`,
    );
  } else {
    ensureJars();
    const properties = writeConfig();
    if (!existsSync(join(dataDir, "meta.properties"))) {
      // Kafka's cluster id is 16 random bytes in URL-safe base64 without padding.
      const clusterId = randomBytes(16).toString("base64url");
      log(`formatting storage in ${dataDir}`);
      // `--cluster-id=<id>` in one argument: an id starting with '-' (1 in 64) would otherwise be
      // read as an option and the format would fail.
      java("kafka.tools.StorageTool", [
        "format",
        `--cluster-id=${clusterId}`,
        "-c",
        properties,
        "--ignore-formatted",
      ]);
    }
    const pid = java("kafka.Kafka", [properties], true);
    writeFileSync(pidFile, `${pid}\n`);
    log(`started broker pid ${pid}; log at ${logFile}`);
  }
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (await answersMetadata()) {
      log(`ready at ${brokers[0]}`);
      return;
    }
    if (!runningPid())
      throw new Error(`Kafka exited during start-up; see ${logFile}`);
    await new Promise((done) => setTimeout(done, 500));
  }
  throw new Error(
    `Kafka did not become ready within ${startTimeoutMs} ms; see ${logFile}`,
  );
}

async function stop(): Promise<void> {
  const pid = runningPid();
  if (!pid) {
    log("no broker started by this script is running");
    rmSync(pidFile, { force: true });
    return;
  }
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && runningPid())
    await new Promise((done) => setTimeout(done, 250));
  if (runningPid()) process.kill(pid, "SIGKILL");
  rmSync(pidFile, { force: true });
  log(`stopped broker pid ${pid}`);
}

const command = process.argv[2];
if (command === "start") await start();
else if (command === "stop") await stop();
else if (command === "status")
  log((await answersMetadata()) ? `ready at ${brokers[0]}` : "not running");
else {
  console.error("usage: tsx scripts/kafka/kafka.ts start|stop|status");
  process.exit(2);
}
