import { DEMO_PASSWORD } from './demo-data.ts';
import { readInternalTokenSecret } from './internal-token.ts';

/**
 * Environment parsing shared by every deployable's config module. Each helper names the variable
 * it rejects, so a bad deployment fails at start-up with a message an operator can act on.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

export function readString(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallback : raw;
}

export function readOptional(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

export function readInt(env: Env, name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function readPort(env: Env, name: string, fallback: number): number {
  return readInt(env, name, fallback, { min: 0, max: 65535 });
}

export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const normalized = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
  if (['0', 'false', 'no', 'off'].includes(normalized)) return false;
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(raw)}`);
}

/** Only for development: production refuses to start without INTERNAL_SERVICE_SECRET. */
export const DEV_INTERNAL_SERVICE_SECRET = 'switchyard-dev-internal-secret-not-for-production';

/**
 * Used only outside production when INTERNAL_TOKEN_SECRET is unset, so `npm run start:<name>`
 * processes started separately on a laptop still agree. Production refuses it.
 */
export const DEV_INTERNAL_TOKEN_SECRET = 'switchyard-dev-internal-token-secret-not-for-production';

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
  'compose-demo-internal-token-secret-change-me',
  'compose-demo-internal-service-secret-change-me',
  'switchyard',
  // Credentials in the docs' example URLs (RabbitMQ's loopback-only default among them).
  'guest',
  'pass',
]);

/** Refuses, in production, a secret anyone could read in this repository. */
export function refuseWellKnownSecret(name: string, value: string, { production }: { production: boolean }): string {
  if (production && WELL_KNOWN_SECRETS.includes(value)) throw new ConfigError(name, 'must not be a value published in the Switchyard repository (a development default, demo value or example) in production');
  return value;
}

/** A secret of at least 32 characters; `fallback` undefined makes it required (production). */
export function readSecret(env: Env, name: string, fallback: string | undefined): string {
  const value = readOptional(env, name) ?? fallback;
  if (value === undefined) throw new ConfigError(name, 'is required in production');
  if (value.length < 32) throw new ConfigError(name, 'must be at least 32 characters');
  return refuseWellKnownSecret(name, value, { production: env.NODE_ENV === 'production' });
}

export function readUrl(env: Env, name: string, fallback?: string): string | undefined {
  const raw = readOptional(env, name) ?? fallback;
  if (raw === undefined) return undefined;
  try {
    new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function readLogLevel(env: Env, fallback: LogLevel = 'info'): LogLevel {
  const raw = readString(env, 'LOG_LEVEL', fallback);
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  return raw as LogLevel;
}

/** Settings every service reads the same way. */
export interface CommonConfig {
  readonly production: boolean;
  readonly logLevel: LogLevel;
  /** PostgreSQL URL; undefined selects the embedded PGlite database. */
  readonly databaseUrl: string | undefined;
  /** Where PGlite keeps its files when no DATABASE_URL is set. @default ".data/pglite" */
  readonly dataDir: string;
  /**
   * Seed the demo data set once into an empty database. Production seeds only when asked
   * (`SEED_DEMO_DATA=true`), and then the users service requires a DEMO_PASSWORD of its own.
   * @default true outside production, false in production
   */
  readonly seedDemoData: boolean;
  /**
   * HMAC secret of the router → subgraph identity token (platform/internal-token.ts). Required in
   * production; elsewhere a fixed development value, so separately started processes agree.
   */
  readonly internalTokenSecret: string;
  /**
   * A file every log line is appended to as well as stdout (`npm run trace` reads it). `off` = none.
   * @default `.data/switchyard.log` under `npm start` outside production, none for a single service
   */
  readonly logFile: string | undefined;
  /**
   * `pretty` prints one line per event, only when stdout is a terminal (pipes and files get JSON).
   * @default pretty outside production (so JSON off a terminal), json in production
   */
  readonly logFormat: LogFormat;
}

export type LogFormat = 'json' | 'pretty';

export function readLogFormat(env: Env): LogFormat {
  const raw = readString(env, 'LOG_FORMAT', env.NODE_ENV === 'production' ? 'json' : 'pretty');
  if (raw !== 'json' && raw !== 'pretty') throw new ConfigError('LOG_FORMAT', `must be json or pretty, got ${JSON.stringify(raw)}`);
  return raw;
}

/**
 * The shared secret that signs service-to-service REST calls (orders -> products, payments), read
 * by the services on either end. Required in production; in development a fixed default keeps
 * separately started services talking.
 */
export function readInternalServiceSecret(env: Env): string {
  return readSecret(env, 'INTERNAL_SERVICE_SECRET', env.NODE_ENV === 'production' ? undefined : DEV_INTERNAL_SERVICE_SECRET);
}

export function readCommonConfig(env: Env): CommonConfig {
  const production = env.NODE_ENV === 'production';
  return {
    production,
    logLevel: readLogLevel(env),
    databaseUrl: readUrl(env, 'DATABASE_URL'),
    dataDir: readString(env, 'DATA_DIR', '.data/pglite'),
    seedDemoData: readBoolean(env, 'SEED_DEMO_DATA', !production),
    internalTokenSecret: readInternalTokenSecret(env, { production }),
    logFile: readOptional(env, 'LOG_FILE'),
    logFormat: readLogFormat(env),
  };
}

/** Shortest DEMO_PASSWORD production accepts. */
export const MIN_DEMO_PASSWORD_LENGTH = 12;

/**
 * The password every seeded demo account gets. Outside production it is the one the README
 * publishes, for convenience. Production seeds only when SEED_DEMO_DATA=true and then requires
 * DEMO_PASSWORD, since a demo admin with a published password would be anyone's admin.
 */
export function readDemoPassword(env: Env, { production, seed }: { production: boolean; seed: boolean }): string {
  const value = readOptional(env, 'DEMO_PASSWORD');
  if (!production || !seed) return value ?? DEMO_PASSWORD;
  if (value === undefined) throw new ConfigError('DEMO_PASSWORD', 'is required when SEED_DEMO_DATA=true and NODE_ENV=production (the demo accounts would otherwise get the published password)');
  if (value.length < MIN_DEMO_PASSWORD_LENGTH) throw new ConfigError('DEMO_PASSWORD', `must be at least ${MIN_DEMO_PASSWORD_LENGTH} characters in production`);
  return refuseWellKnownSecret('DEMO_PASSWORD', value, { production });
}
