import { DEMO_PASSWORD } from "./demo-data.ts";
import {
  DEFAULT_SUBGRAPH_PORTS,
  SUBGRAPH_NAMES,
  type SubgraphName,
} from "./services.ts";
import {
  boolean,
  ConfigError,
  custom,
  define,
  readSetting,
  readSettings,
  setting,
  url,
  type Env,
  type ParseContext,
  type Setting,
  type Settings,
  type SettingType,
  type SettingValues,
} from "./settings.ts";

export { ConfigError, type Env };

/**
 * Settings every deployable reads the same way, declared once (platform/settings.ts), and the
 * parsing helpers the config modules share. Each helper names the variable it rejects, so a bad
 * deployment fails at start-up with a message an operator can act on.
 */

/** Reads `name` as text; kept for readers whose variable name is computed. */
export function readString(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw === "" ? fallback : raw;
}

export function readOptional(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === "" ? undefined : raw;
}

export function readInt(
  env: Env,
  name: string,
  fallback: number,
  { min = 0, max = Number.MAX_SAFE_INTEGER } = {},
): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^-?\d+$/.test(raw.trim()))
    throw new ConfigError(
      name,
      `must be an integer, got ${JSON.stringify(raw)}`,
    );
  const value = Number(raw);
  if (value < min || value > max)
    throw new ConfigError(
      name,
      `must be between ${min} and ${max}, got ${value}`,
    );
  return value;
}

export function readPort(env: Env, name: string, fallback: number): number {
  return readInt(env, name, fallback, { min: 0, max: 65535 });
}

export function readBoolean(
  env: Env,
  name: string,
  fallback: boolean,
): boolean {
  const raw = readOptional(env, name);
  if (raw === undefined) return fallback;
  try {
    return boolean.parse(raw, { production: env.NODE_ENV === "production" });
  } catch (error) {
    throw new ConfigError(name, (error as Error).message);
  }
}

/** Only for development: production refuses to start without INTERNAL_SERVICE_SECRET. */
export const DEV_INTERNAL_SERVICE_SECRET =
  "switchyard-dev-internal-secret-not-for-production";

/**
 * Used only outside production when INTERNAL_TOKEN_SECRET is unset, so `npm run start:<name>`
 * processes started separately on a laptop still agree. Production refuses it.
 */
export const DEV_INTERNAL_TOKEN_SECRET =
  "switchyard-dev-internal-token-secret-not-for-production";

/**
 * Every secret value this repository publishes (development defaults, the compose file's former
 * demo fallbacks, the demo password): anyone can read them, so production refuses each of them for
 * every secret variable. tests/unit/platform/config.test.ts scans the compose file, the
 * docs and the env examples and fails when one of their values is missing here.
 */
export const WELL_KNOWN_SECRETS: readonly string[] = Object.freeze([
  DEV_INTERNAL_SERVICE_SECRET,
  DEV_INTERNAL_TOKEN_SECRET,
  DEMO_PASSWORD,
  // docker-compose.yml's fallbacks and passwords until it required real ones; deployments may still carry them.
  "compose-demo-internal-token-secret-change-me",
  "compose-demo-internal-service-secret-change-me",
  "switchyard",
  // Credentials in the docs' example URLs (RabbitMQ's loopback-only default among them).
  "guest",
  "pass",
]);

/** Refuses, in production, a secret anyone could read in this repository. */
export function refuseWellKnownSecret(
  name: string,
  value: string,
  { production }: { production: boolean },
): string {
  if (production && WELL_KNOWN_SECRETS.includes(value))
    throw new ConfigError(name, PUBLISHED_VALUE_REFUSED);
  return value;
}

const PUBLISHED_VALUE_REFUSED =
  "must not be a value published in the Switchyard repository (a development default, demo value or example) in production";
const MIN_SECRET_LENGTH = 32;

/** A secret of at least 32 characters, none of the published ones in production. */
export const secretText: SettingType<string> = custom(
  { type: "string", minLength: MIN_SECRET_LENGTH },
  (raw, { production }: ParseContext) => {
    if (raw.length < MIN_SECRET_LENGTH)
      throw new Error(`must be at least ${MIN_SECRET_LENGTH} characters`);
    if (production && WELL_KNOWN_SECRETS.includes(raw))
      throw new Error(PUBLISHED_VALUE_REFUSED);
    return raw;
  },
);

export function readUrl(
  env: Env,
  name: string,
  fallback?: string,
): string | undefined {
  const raw = readOptional(env, name) ?? fallback;
  if (raw === undefined) return undefined;
  try {
    return url.parse(raw, { production: false });
  } catch (error) {
    throw new ConfigError(name, (error as Error).message);
  }
}

const LOG_LEVELS = [
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
  "silent",
] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = "json" | "pretty";

/** Shortest DEMO_PASSWORD production accepts. */
export const MIN_DEMO_PASSWORD_LENGTH = 12;

/** A secret the services share: a fixed development value, required in production. */
function sharedSecret(
  env: string,
  key: string,
  development: string,
  required: string,
  description: string,
): Setting<string> {
  return setting<string>({
    env,
    key,
    type: secretText,
    default: { development, production: undefined },
    required,
    defaultText: `fixed dev value; random per process for \`npm start\`; **required in production** (≥ ${MIN_SECRET_LENGTH} chars, none of the values the repository publishes)`,
    description,
    secret: true,
  });
}

/** The settings every service reads, plus the ports of the subgraphs (the pipeline derives a URL from one). */
export const COMMON_SETTINGS = Object.freeze({
  nodeEnv: define.text<string | undefined>({
    env: "NODE_ENV",
    key: undefined,
    default: undefined,
    description:
      "`production` turns off Sandbox and introspection, masks unexpected errors and makes the secrets below required (environment only: it also steers Node and libraries)",
  }),
  logLevel: define.oneOf(LOG_LEVELS, {
    env: "LOG_LEVEL",
    key: "log.level",
    default: "info",
    description: "pino level: fatal, error, warn, info, debug, trace, silent",
  }),
  logFormat: define.oneOf(["json", "pretty"], {
    env: "LOG_FORMAT",
    key: "log.format",
    default: { development: "pretty", production: "json" },
    description:
      "`pretty`: one line per event, only when stdout is a terminal (a pipe or a file always gets JSON); `json`: JSON everywhere",
  }),
  logFile: define.text<string | undefined>({
    env: "LOG_FILE",
    key: "log.file",
    default: undefined,
    defaultText:
      "`.data/switchyard.log` for `npm start` (not in production); unset for one service",
    description:
      "the log is also appended there (`off` = none); `npm run trace` reads it",
  }),
  host: define.text({
    env: "HOST",
    key: "host",
    default: "127.0.0.1",
    description: "bind address of every listener (`0.0.0.0` in the image)",
  }),
  databaseUrl: define.url<string | undefined>({
    env: "DATABASE_URL",
    key: "database.url",
    default: undefined,
    defaultText: "unset = embedded PGlite",
    description: "PostgreSQL; each service uses its own schema in it",
    secret: true,
  }),
  dataDir: define.text({
    env: "DATA_DIR",
    key: "database.data_dir",
    default: ".data/pglite",
    description: "PGlite files when DATABASE_URL is unset",
  }),
  seedDemoData: define.boolean({
    env: "SEED_DEMO_DATA",
    key: "demo.seed",
    default: { development: true, production: false },
    description:
      "seed the demo data set once into an empty database; production seeds only when set to `true`",
  }),
  demoPassword: define.text({
    env: "DEMO_PASSWORD",
    key: "demo.password",
    default: DEMO_PASSWORD,
    defaultText: `\`${DEMO_PASSWORD}\` (published); **required in production when seeding** (≥ ${MIN_DEMO_PASSWORD_LENGTH} chars, none of the values the repository publishes)`,
    description: "password of every seeded demo account",
    secret: true,
  }),
  internalTokenSecret: sharedSecret(
    "INTERNAL_TOKEN_SECRET",
    "secrets.internal_token",
    DEV_INTERNAL_TOKEN_SECRET,
    "must be set when NODE_ENV=production",
    "HMAC secret of the router → subgraph identity token",
  ),
  internalServiceSecret: sharedSecret(
    "INTERNAL_SERVICE_SECRET",
    "secrets.internal_service",
    DEV_INTERNAL_SERVICE_SECRET,
    "is required in production",
    "signs internal REST calls (orders → products, payments)",
  ),
});

const subgraphPort = (name: string, fallback: number, extra = "") =>
  define.port({
    env: `${name.toUpperCase()}_PORT`,
    key: `${name}.port`,
    default: fallback,
    description: `${name} HTTP port${extra}`,
  });

/** Each subgraph's HTTP port: its own config reads it, and the pipeline derives USERS_GRAPHQL_URL from the users one. */
export const SUBGRAPH_PORT_SETTINGS: Readonly<
  Record<SubgraphName, Setting<number>>
> = Object.freeze(
  Object.fromEntries(
    SUBGRAPH_NAMES.map((name) => [
      name,
      subgraphPort(
        name,
        DEFAULT_SUBGRAPH_PORTS[name],
        name === "users"
          ? "; the pipeline roles also derive USERS_GRAPHQL_URL from it"
          : "",
      ),
    ]),
  ) as Record<SubgraphName, Setting<number>>,
);

/** What the users service writes into access tokens and the router requires of them. */
export const TOKEN_SETTINGS = Object.freeze({
  jwtIssuer: define.text({
    env: "JWT_ISSUER",
    key: "jwt.issuer",
    default: "switchyard-users",
    description: "`iss` of issued (users) and accepted (router) tokens",
  }),
  jwtAudience: define.text({
    env: "JWT_AUDIENCE",
    key: "jwt.audience",
    default: "switchyard",
    description: "`aud` of issued and accepted tokens",
  }),
});

/** Kafka topic, group and RabbitMQ queue names: letters, digits, `.`, `_`, `-` (both brokers accept those). */
export const brokerName: SettingType<string> = custom(
  { type: "string", pattern: "^[\\w.-]{0,200}$" },
  (raw) => {
    if (!/^[\w.-]*$/.test(raw) || raw.length > 200)
      throw new Error(
        `must use only letters, digits, '.', '_' and '-', got ${JSON.stringify(raw)}`,
      );
    return raw;
  },
);

const brokers: SettingType<readonly string[]> = custom(
  {
    anyOf: [
      { type: "array", items: { type: "string", pattern: "^[\\w.-]+:\\d+$" } },
      { type: "string" },
    ],
  },
  (raw) => {
    const list = raw
      .split(",")
      .map((broker) => broker.trim())
      .filter(Boolean);
    if (list.some((broker) => !/^[\w.-]+:\d+$/.test(broker)))
      throw new Error(
        `must be host:port[,host:port...], got ${JSON.stringify(raw)}`,
      );
    return Object.freeze(list);
  },
);

/**
 * Where the event log is: the pipeline roles and `npm start` publish and consume there, the router
 * deployed alone follows order events there for its subscriptions (router/main.ts). Declared here
 * because the router may not import events/. The file keys keep their `pipeline.` section, where
 * they were first declared, so existing switchyard.yaml files still apply.
 */
export const KAFKA_SETTINGS = Object.freeze({
  brokers: setting<readonly string[] | undefined>({
    env: "KAFKA_BROKERS",
    key: "pipeline.kafka.brokers",
    type: brokers,
    default: undefined,
    defaultText: "unset = in-process event log",
    description:
      "`host:port[,host:port…]`; the router deployed alone needs it for subscriptions",
  }),
  topicPrefix: setting<string>({
    env: "KAFKA_TOPIC_PREFIX",
    key: "pipeline.kafka.topic_prefix",
    type: brokerName,
    default: "",
    description:
      "prepended to `switchyard.<domain>` topics (include the separator: `staging.`)",
  }),
});

/** The event log on Kafka, as KAFKA_SETTINGS configure it. */
export interface KafkaConfig {
  readonly brokers: readonly string[];
  /** Prepended to every `switchyard.<domain>` topic. */
  readonly topicPrefix: string;
}

/** Kafka when KAFKA_BROKERS names at least one broker; undefined otherwise. */
export function readKafkaConfig(env: Env): KafkaConfig | undefined {
  const brokerList = readSetting(env, KAFKA_SETTINGS.brokers);
  // Read (and validated) with or without brokers, like every other setting of the deployable.
  const topicPrefix = readSetting(env, KAFKA_SETTINGS.topicPrefix);
  if (!brokerList || brokerList.length === 0) return undefined;
  return Object.freeze({ brokers: brokerList, topicPrefix });
}

/** Settings every service reads the same way. */
export interface CommonConfig {
  readonly production: boolean;
  readonly logLevel: LogLevel;
  /** PostgreSQL URL; undefined selects the embedded PGlite database. */
  readonly databaseUrl: string | undefined;
  /** Where PGlite keeps its files when no DATABASE_URL is set (COMMON_SETTINGS.dataDir). */
  readonly dataDir: string;
  /**
   * Seed the demo data set once into an empty database. Production seeds only when asked
   * (`SEED_DEMO_DATA=true`), and then the users service requires a DEMO_PASSWORD of its own.
   */
  readonly seedDemoData: boolean;
  /**
   * HMAC secret of the router → subgraph identity token (platform/internal-token.ts). Required in
   * production; elsewhere a fixed development value, so separately started processes agree.
   */
  readonly internalTokenSecret: string;
  /** A file every log line is appended to as well as stdout (`npm run trace` reads it). `off` = none. */
  readonly logFile: string | undefined;
  /**
   * `pretty` prints one line per event, only when stdout is a terminal (pipes and files get JSON).
   * @default pretty outside production (so JSON off a terminal), json in production
   */
  readonly logFormat: LogFormat;
}

export function readLogLevel(env: Env): LogLevel {
  return readSetting(env, COMMON_SETTINGS.logLevel);
}

export function readLogFormat(env: Env): LogFormat {
  return readSetting(env, COMMON_SETTINGS.logFormat);
}

/** INTERNAL_TOKEN_SECRET; `production` decides whether the development default may stand in. */
export function readInternalTokenSecret(
  env: Env,
  { production }: { production: boolean },
): string {
  return readSetting(env, COMMON_SETTINGS.internalTokenSecret, { production });
}

/**
 * The shared secret that signs service-to-service REST calls (orders -> products, payments), read
 * by the services on either end. Required in production; in development a fixed default keeps
 * separately started services talking.
 */
export function readInternalServiceSecret(env: Env): string {
  return readSetting(env, COMMON_SETTINGS.internalServiceSecret);
}

export function readCommonConfig(env: Env): CommonConfig {
  const production = env.NODE_ENV === "production";
  return {
    production,
    logLevel: readLogLevel(env),
    databaseUrl: readSetting(env, COMMON_SETTINGS.databaseUrl),
    dataDir: readSetting(env, COMMON_SETTINGS.dataDir),
    seedDemoData: readSetting(env, COMMON_SETTINGS.seedDemoData),
    internalTokenSecret: readInternalTokenSecret(env, { production }),
    logFile: readSetting(env, COMMON_SETTINGS.logFile),
    logFormat: readLogFormat(env),
  };
}

/** The declarations behind readCommonConfig (the settings every deployable checks at start-up). */
export const COMMON_SETTINGS_READ: readonly Setting<unknown>[] = [
  COMMON_SETTINGS.logLevel,
  COMMON_SETTINGS.logFormat,
  COMMON_SETTINGS.logFile,
  COMMON_SETTINGS.databaseUrl,
  COMMON_SETTINGS.dataDir,
  COMMON_SETTINGS.seedDemoData,
  COMMON_SETTINGS.internalTokenSecret,
  COMMON_SETTINGS.host,
];

/** What every subgraph process reads besides its own settings: the common ones, its port and host. */
export interface SubgraphProcessConfig extends CommonConfig {
  /** SUBGRAPH_PORT_SETTINGS.<name> */
  readonly port: number;
  /** COMMON_SETTINGS.host */
  readonly host: string;
}

/** A subgraph on either end of the internal REST calls (orders → products, payments). */
export interface InternalServiceConfig extends SubgraphProcessConfig {
  /** Signs/verifies internal REST calls: INTERNAL_SERVICE_SECRET, required in production. */
  readonly internalServiceSecret: string;
}

export function readSubgraphProcessConfig(
  env: Env,
  name: SubgraphName,
): SubgraphProcessConfig {
  return {
    ...readCommonConfig(env),
    port: readSetting(env, SUBGRAPH_PORT_SETTINGS[name]),
    host: readSetting(env, COMMON_SETTINGS.host),
  };
}

export function readInternalServiceConfig(
  env: Env,
  name: SubgraphName,
): InternalServiceConfig {
  return {
    ...readSubgraphProcessConfig(env, name),
    internalServiceSecret: readInternalServiceSecret(env),
  };
}

/** The declarations a subgraph process checks at start-up: the common ones and its own. */
export function subgraphSettingsRead(
  own: Readonly<Record<string, Setting<unknown>>>,
): readonly Setting<unknown>[] {
  return [...COMMON_SETTINGS_READ, ...Object.values(own)];
}

/**
 * The config module of a subgraph on either end of the internal REST calls, from its own
 * declarations: its settings (port, internal-service secret, its own), the declarations its process
 * checks at start-up, and its reader (the common config, the secret, then its own, frozen).
 */
export function internalServiceConfigModule<Own extends Settings>(
  name: SubgraphName,
  own: Own,
) {
  const settings = Object.freeze({
    port: SUBGRAPH_PORT_SETTINGS[name],
    internalServiceSecret: COMMON_SETTINGS.internalServiceSecret,
    ...own,
  });
  return {
    settings,
    read: subgraphSettingsRead(settings),
    load: (env: Env): Readonly<InternalServiceConfig & SettingValues<Own>> => {
      const common: InternalServiceConfig = readInternalServiceConfig(
        env,
        name,
      );
      const values: SettingValues<Own> = readSettings(env, own);
      return Object.freeze(Object.assign(common, values));
    },
  };
}

/**
 * The password every seeded demo account gets. Outside production it is the one the README
 * publishes, for convenience. Production seeds only when SEED_DEMO_DATA=true and then requires
 * DEMO_PASSWORD, since a demo admin with a published password would be anyone's admin.
 */
export function readDemoPassword(
  env: Env,
  { production, seed }: { production: boolean; seed: boolean },
): string {
  const value = readOptional(env, "DEMO_PASSWORD");
  if (!production || !seed)
    return value ?? readSetting(env, COMMON_SETTINGS.demoPassword);
  if (value === undefined)
    throw new ConfigError(
      "DEMO_PASSWORD",
      "is required when SEED_DEMO_DATA=true and NODE_ENV=production (the demo accounts would otherwise get the published password)",
    );
  if (value.length < MIN_DEMO_PASSWORD_LENGTH)
    throw new ConfigError(
      "DEMO_PASSWORD",
      `must be at least ${MIN_DEMO_PASSWORD_LENGTH} characters in production`,
    );
  return refuseWellKnownSecret("DEMO_PASSWORD", value, { production });
}
