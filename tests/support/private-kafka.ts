import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * A Kafka broker of the caller's own (scripts/kafka/kafka.ts on its own ports and KAFKA_HOME), so a
 * test can stop and start it without disturbing the shared broker. The controller listens on
 * `port + 1`.
 */
export interface PrivateKafka {
  readonly brokers: string[];
  /** Starts the broker (or finds it running) and waits until it answers metadata requests. */
  start(): Promise<void>;
  /** Stops it (SIGTERM, SIGKILL after 30 s) and waits for the process to exit. */
  stop(): Promise<void>;
}

export function privateKafka({
  port,
  heap = "384m",
}: {
  port: number;
  heap?: string;
}): PrivateKafka {
  const env = {
    ...process.env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(port + 1),
    KAFKA_HOME: `.cache/kafka-private-${port}`,
    KAFKA_HEAP: heap,
  };
  const script = async (command: "start" | "stop") => {
    await run(
      process.execPath,
      ["--import", "tsx", "scripts/kafka/kafka.ts", command],
      { cwd: ROOT, env, timeout: 150_000 },
    );
  };
  return {
    brokers: [`127.0.0.1:${port}`],
    start: () => script("start"),
    stop: () => script("stop"),
  };
}
