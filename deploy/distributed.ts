import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import pg from "pg";
import {
  COMPOSE_FILE,
  readComposeFile,
  startOrder,
  type ComposeService,
} from "./compose-file.ts";

/**
 * docker-compose.yml as local processes: every Switchyard service of the compose file runs as its
 * own Node process with the environment compose gives its container, translated for one host —
 * a URL naming a compose service points at that service's local process (or at the local
 * PostgreSQL, Kafka, RabbitMQ, SMTP and OTLP endpoints given here), and each instance gets its
 * own port. Nothing is re-declared, so the distributed run and the compose file cannot drift.
 */

/** Where the compose file's infrastructure services are on this machine. */
export interface LocalInfrastructure {
  /** Replaces every URL naming the `postgres` service. */
  readonly databaseUrl: string;
  /** Replaces `kafka:<port>` broker entries. */
  readonly kafkaBrokers: string;
  /** Replaces URLs naming `rabbitmq`. */
  readonly amqpUrl: string;
  /** Replaces URLs naming `mailpit`; undefined drops the variable (emails go to the log). */
  readonly smtpUrl?: string | undefined;
  /** Replaces URLs naming `jaeger`; undefined drops the variable (no trace export). */
  readonly otlpEndpoint?: string | undefined;
}

export interface DistributedOptions {
  readonly infrastructure: LocalInfrastructure;
  /** The local port of instance `index` of `service`. */
  readonly port: (service: string, index: number) => number | Promise<number>;
  /** Instances per service (`{ products: 2 }`), like `docker compose up --scale`. @default 1 each */
  readonly scale?: Readonly<Record<string, number>>;
  /** Added to every service's environment (variables its config module reads, e.g. KAFKA_TOPIC_PREFIX). */
  readonly extraEnv?: Readonly<Record<string, string>>;
  /**
   * Values for `${VAR:-default}` in the compose file. The secrets compose requires get random
   * per-run values when unset (withRunSecrets). @default process.env
   */
  readonly hostEnv?: Readonly<Record<string, string | undefined>>;
  /** Receives every output line, prefixed with the instance name. @default stdout */
  readonly log?: (line: string) => void;
  /** How long one instance may take to answer `/ready`. @default 90000 */
  readonly readyTimeoutMs?: number;
  readonly composeFile?: string;
}

export interface Instance {
  /** `products.2` */
  readonly name: string;
  readonly service: string;
  readonly index: number;
  readonly port: number;
  readonly url: string;
  readonly env: Readonly<Record<string, string>>;
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Sends `signal` (SIGTERM) and waits for the exit; SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export interface Distributed {
  readonly instances: readonly Instance[];
  instance(service: string, index?: number): Instance;
  /** Starts a stopped instance again with the same port and environment, once it is ready. */
  restart(service: string, index?: number): Promise<Instance>;
  /** Stops every instance still running, in reverse start order. */
  stop(): Promise<void>;
}

const INFRASTRUCTURE = [
  "postgres",
  "kafka",
  "rabbitmq",
  "mailpit",
  "jaeger",
] as const;

/** The port a compose service's own process listens on inside its container. */
function containerPort(service: ComposeService): number {
  return service.deployable!.port(service.environment);
}

/**
 * One instance's environment: the compose environment with every reference to another compose
 * service rewritten for this host. A variable that points at a scaled service through DNS
 * discovery (`<NAME>_DISCOVERY=dns`) gets every instance as a static list — what DNS returns for
 * a scaled service in compose.
 */
export function localEnvironment(
  service: ComposeService,
  {
    services,
    infrastructure,
    instancePorts,
  }: {
    services: ReadonlyMap<string, ComposeService>;
    infrastructure: LocalInfrastructure;
    instancePorts: ReadonlyMap<string, readonly number[]>;
  },
): Record<string, string> {
  const env: Record<string, string> = {};
  const replaceUrl = (key: string, value: string): string | undefined => {
    const match =
      /^([a-z][a-z0-9+.-]*):\/\/(?:[^@/]*@)?([^:/?#]+)(?::(\d+))?/i.exec(value);
    const host = match?.[2];
    if (!match || !host || !services.has(host)) return value;
    switch (host) {
      case "postgres":
        return infrastructure.databaseUrl;
      case "rabbitmq":
        return infrastructure.amqpUrl;
      case "mailpit":
        return infrastructure.smtpUrl;
      case "jaeger":
        return infrastructure.otlpEndpoint;
      default: {
        const target = services.get(host)!;
        if (!target.deployable)
          throw new Error(
            `docker-compose.yml: ${service.name}.${key} points at ${host}, which this runner cannot run locally`,
          );
        const declared = Number(match[3] ?? (match[1] === "https" ? 443 : 80));
        if (declared !== containerPort(target))
          throw new Error(
            `docker-compose.yml: ${service.name}.${key} uses port ${declared}, but ${host} listens on ${containerPort(target)}`,
          );
        const ports = instancePorts.get(host)!;
        const rest = value.slice(match[0].length);
        const dns =
          service.environment[key.replace(/_URL$/, "_DISCOVERY")] === "dns";
        const chosen = dns ? ports : ports.slice(0, 1);
        return chosen
          .map((port) => `${match[1]}://127.0.0.1:${port}${rest}`)
          .join(",");
      }
    }
  };
  for (const [key, value] of Object.entries(service.environment)) {
    let local: string | undefined;
    if (
      /^[\w.-]+:\d+(,[\w.-]+:\d+)*$/.test(value) &&
      value.split(",").some((entry) => entry.split(":")[0] === "kafka")
    )
      local = infrastructure.kafkaBrokers;
    else local = replaceUrl(key, value);
    if (local !== undefined) env[key] = local;
  }
  for (const key of Object.keys(env)) {
    // DNS over a loopback address finds one instance; the static list above names them all.
    if (
      key.endsWith("_DISCOVERY") &&
      env[key] === "dns" &&
      (env[key.replace(/_DISCOVERY$/, "_URL")] ?? "").includes(",")
    )
      env[key] = "static";
  }
  return env;
}

/** Creates `database` on the server at `adminUrl` and runs the compose PostgreSQL init script in it. */
export async function createDatabase(
  adminUrl: string,
  database: string,
): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(database))
    throw new Error(
      `database name must be a lower-case identifier, got ${JSON.stringify(database)}`,
    );
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query(
      "SELECT 1 FROM pg_database WHERE datname = $1",
      [database],
    );
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(
      readFileSync(new URL("./postgres/init.sql", import.meta.url), "utf8"),
    );
  } finally {
    await client.end();
  }
  return url.toString();
}

export async function dropDatabase(
  adminUrl: string,
  database: string,
): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

async function waitReady(instance: Instance, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void instance.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${instance.name} exited before it was ready`);
    const ok = await fetch(`${instance.url}/ready`, {
      signal: AbortSignal.timeout(2000),
    }).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(
        `${instance.name} not ready at ${instance.url}/ready after ${timeoutMs} ms`,
      );
    await new Promise((done) => setTimeout(done, 200));
  }
}

function spawnInstance(
  service: ComposeService,
  index: number,
  port: number,
  env: Record<string, string>,
  log: (line: string) => void,
): Instance {
  const deployable = service.deployable!;
  const name = `${service.name}.${index + 1}`;
  // Only the compose environment, plus what Node needs to find itself: the process sees what the
  // container would, not the caller's shell (no stray APOLLO_KEY, NODE_ENV=test, ...).
  const base: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "TMPDIR"])
    if (process.env[key] !== undefined) base[key] = process.env[key]!;
  const child = spawn(
    process.execPath,
    [...deployable.nodeFlags, "--import", "tsx", deployable.entry],
    {
      cwd: new URL("..", import.meta.url).pathname,
      env: { ...base, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: a terminal's Ctrl-C reaches only the runner, which then stops the
      // services one by one in reverse start order instead of all at once.
      detached: true,
    },
  );
  for (const stream of [child.stdout, child.stderr])
    createInterface({ input: stream }).on("line", (line) =>
      log(`[${name}] ${line}`),
    );
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return {
    name,
    service: service.name,
    index,
    port,
    url: `http://127.0.0.1:${port}`,
    env,
    child,
    exited,
    async stop(signal = "SIGTERM", timeoutMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null)
        return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The secrets docker-compose.yml requires (`${NAME:?…}`): it has no defaults for them. */
export const COMPOSE_SECRETS = [
  "INTERNAL_TOKEN_SECRET",
  "INTERNAL_SERVICE_SECRET",
  "POSTGRES_PASSWORD",
  "RABBITMQ_PASSWORD",
] as const;

/**
 * `env` with a random value for each compose secret it lacks. Every process of one local run gets
 * the same values, so they agree with each other; nothing outside the run knows them (the same idea
 * as `npm start`'s per-process secrets).
 */
export function withRunSecrets(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  const filled: Record<string, string | undefined> = { ...env };
  // Hex: URL-safe, since two of them sit inside DATABASE_URL and AMQP_URL.
  for (const name of COMPOSE_SECRETS)
    if (!filled[name]) filled[name] = randomBytes(24).toString("hex");
  return filled;
}

export async function startDistributed(
  options: DistributedOptions,
): Promise<Distributed> {
  const {
    infrastructure,
    scale = {},
    extraEnv = {},
    hostEnv = process.env,
    log = (line: string) => void process.stdout.write(`${line}\n`),
    readyTimeoutMs = 90_000,
  } = options;
  const services = readComposeFile(
    options.composeFile ?? COMPOSE_FILE,
    withRunSecrets(hostEnv),
  );
  const ordered = startOrder(services);
  for (const service of ordered) {
    if (
      !service.deployable &&
      !(INFRASTRUCTURE as readonly string[]).includes(service.name)
    )
      throw new Error(
        `docker-compose.yml: ${service.name} is neither a Switchyard service nor known infrastructure`,
      );
  }
  const ours = ordered.filter((service) => service.deployable);
  const instancePorts = new Map<string, number[]>();
  for (const service of ours) {
    const count = scale[service.name] ?? 1;
    const ports: number[] = [];
    for (let index = 0; index < count; index += 1)
      ports.push(await options.port(service.name, index));
    instancePorts.set(service.name, ports);
  }
  // Start in waves: a service starts once everything it depends on is ready (service_healthy).
  const level = new Map<string, number>();
  for (const service of ordered)
    level.set(
      service.name,
      Math.max(
        -1,
        ...Object.keys(service.dependsOn).map((dep) => level.get(dep)!),
      ) + 1,
    );
  const instances: Instance[] = [];
  const stop = async () => {
    for (const instance of [...instances].reverse()) await instance.stop();
  };
  try {
    for (const wave of [
      ...new Set(ours.map((service) => level.get(service.name)!)),
    ].sort((a, b) => a - b)) {
      const started: Instance[] = [];
      for (const service of ours.filter(
        (candidate) => level.get(candidate.name) === wave,
      )) {
        const env = {
          ...localEnvironment(service, {
            services,
            infrastructure,
            instancePorts,
          }),
          ...extraEnv,
        };
        instancePorts.get(service.name)!.forEach((port, index) => {
          started.push(
            spawnInstance(
              service,
              index,
              port,
              {
                ...env,
                HOST: "127.0.0.1",
                [service.deployable!.portVariable]: String(port),
              },
              log,
            ),
          );
        });
      }
      instances.push(...started);
      await Promise.all(
        started.map((instance) => waitReady(instance, readyTimeoutMs)),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    instances,
    instance(service, index = 0) {
      const found = instances.find(
        (candidate) =>
          candidate.service === service && candidate.index === index,
      );
      if (!found) throw new Error(`no instance ${index} of ${service}`);
      return found;
    },
    async restart(service, index = 0) {
      const position = instances.findIndex(
        (candidate) =>
          candidate.service === service && candidate.index === index,
      );
      if (position < 0) throw new Error(`no instance ${index} of ${service}`);
      const old = instances[position]!;
      await old.stop();
      const fresh = spawnInstance(
        services.get(service)!,
        index,
        old.port,
        { ...old.env },
        log,
      );
      instances[position] = fresh;
      await waitReady(fresh, readyTimeoutMs);
      return fresh;
    },
    stop,
  };
}
