import { execFile } from "node:child_process";
import { spawn } from "node:child_process";
import {
  chownSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * A RabbitMQ node of the test's own (its own name, port, data and config), so a test can restart
 * the broker (`rabbitmqctl stop_app` / `start_app`) without disturbing anything else that uses the
 * machine's RabbitMQ. Needs the `rabbitmq-server` package and root (the server drops to the
 * `rabbitmq` user, which must own the node's directories).
 */
export interface PrivateRabbit {
  readonly url: string;
  stopApp(): Promise<void>;
  startApp(): Promise<void>;
  /** Wipes every queue and message (`rabbitmqctl reset`); only while the app is stopped. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function waitForPort(
  port: number,
  open: boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await portOpen(port)) !== open) {
    if (Date.now() > deadline)
      throw new Error(
        `port ${port} did not ${open ? "open" : "close"} within ${timeoutMs} ms`,
      );
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Why a private node cannot run here, or undefined when it can. */
export async function privateRabbitUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0)
    return "a private RabbitMQ node needs root (the server runs as the rabbitmq user)";
  try {
    await run("sh", [
      "-c",
      "command -v rabbitmq-server && command -v rabbitmqctl && id rabbitmq",
    ]);
    return undefined;
  } catch {
    return "rabbitmq-server, rabbitmqctl or the rabbitmq user is missing";
  }
}

export async function startPrivateRabbit({
  port = 5673,
  distPort = 25674,
}: { port?: number; distPort?: number } = {}): Promise<PrivateRabbit> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-rabbit-"));
  const node = `switchyard${port}@localhost`;
  mkdirSync(join(dir, "mnesia"));
  mkdirSync(join(dir, "log"));
  writeFileSync(
    join(dir, "rabbitmq.conf"),
    `listeners.tcp.1 = 127.0.0.1:${port}\n`,
  );
  writeFileSync(join(dir, "enabled_plugins"), "[].\n");
  const { stdout } = await run("id", ["-u", "rabbitmq"]);
  const { stdout: gid } = await run("id", ["-g", "rabbitmq"]);
  for (const path of [
    dir,
    join(dir, "mnesia"),
    join(dir, "log"),
    join(dir, "rabbitmq.conf"),
    join(dir, "enabled_plugins"),
  ])
    chownSync(path, Number(stdout), Number(gid));
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_FEATURE_FLAGS_FILE: join(dir, "mnesia", "feature_flags"),
    RABBITMQ_PID_FILE: join(dir, "pid"),
  };
  const server = spawn("rabbitmq-server", [], {
    env,
    stdio: "ignore",
    detached: true,
  });
  server.unref();
  await waitForPort(port, true, 60_000);
  const ctl = (...args: string[]) =>
    run("rabbitmqctl", ["-n", node, ...args], { env });
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    async stopApp() {
      await ctl("stop_app");
      await waitForPort(port, false, 30_000);
    },
    async reset() {
      await ctl("reset");
    },
    async startApp() {
      await ctl("start_app");
      await waitForPort(port, true, 60_000);
    },
    async close() {
      await ctl("stop").catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
