/**
 * docs/configuration.md, generated: which deployable reads which variable comes from running each
 * config module (deploy/deployables.ts `variablesRead`), defaults and meanings from the table
 * below. `npm run config:docs` writes it; tests/deployment.test.ts fails when a config module reads
 * a variable this table does not describe, when the table describes one nobody reads, or when the
 * page is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { DEPLOYABLES, LIBRARY_VARIABLES, variablesRead } from '../deploy/deployables.ts';
import { KNOWN_SUBGRAPHS } from '../router/config.ts';

export const DOC_PATH = new URL('../docs/configuration.md', import.meta.url).pathname;

/** `<NAME>_X` stands for USERS_X, PRODUCTS_X, ORDERS_X, PAYMENTS_X and NOTIFICATIONS_X. */
const PER_SUBGRAPH = '<NAME>';

/** Default and meaning of every variable a config module reads. */
export const VARIABLES: Readonly<Record<string, readonly [defaultValue: string, meaning: string]>> = {
  NODE_ENV: ['—', '`production` turns off Sandbox and introspection, masks unexpected errors and makes the secrets below required'],
  LOG_LEVEL: ['`info`', 'pino level: fatal, error, warn, info, debug, trace, silent'],
  LOG_FORMAT: ['`json`', '`pretty`: readable lines, only when stdout is a terminal'],
  LOG_FILE: ['`.data/switchyard.log` for `npm start` (not in production); unset for one service', 'the log is also appended there (`off` = none); `npm run trace` reads it'],
  HOST: ['`127.0.0.1`', 'bind address (`0.0.0.0` in the image)'],
  DATABASE_URL: ['unset = embedded PGlite', 'PostgreSQL; each service uses its own schema in it'],
  DATA_DIR: ['`.data/pglite`', 'PGlite files when DATABASE_URL is unset'],
  SEED_DEMO_DATA: ['`true`', 'seed the demo data set once into an empty database'],
  INTERNAL_TOKEN_SECRET: ['fixed dev value; random per process for `npm start`; **required in production** (≥ 32 chars)', 'HMAC secret of the router → subgraph identity token'],
  INTERNAL_SERVICE_SECRET: ['fixed dev value; random per process for `npm start`; **required in production** (≥ 32 chars)', 'signs internal REST calls (orders → products, payments)'],
  USERS_PORT: ['`4001`', 'users HTTP port; the pipeline roles also derive USERS_GRAPHQL_URL from it'],
  PRODUCTS_PORT: ['`4002`', 'products HTTP port'],
  ORDERS_PORT: ['`4003`', 'orders HTTP port'],
  PAYMENTS_PORT: ['`4004`', 'payments HTTP port'],
  NOTIFICATIONS_PORT: ['`4005`', 'notifications HTTP port'],
  ROUTER_PORT: ['`4000`', 'router HTTP port'],
  RELAY_PORT: ['`4010`', 'relay `/health`, `/ready`, `/metrics`'],
  WORKER_PORT: ['`4011`', 'worker `/health`, `/ready`, `/metrics`'],
  DISPATCHER_PORT: ['`4012`', 'dispatcher `/health`, `/ready`, `/metrics`'],
  ANALYTICS_PORT: ['`4013`', 'analytics `/health`, `/ready`, `/metrics`'],
  JWT_ISSUER: ['`switchyard-users`', '`iss` of issued (users) and accepted (router) tokens'],
  JWT_AUDIENCE: ['`switchyard`', '`aud` of issued and accepted tokens'],
  JWT_TTL_SECONDS: ['`3600`', 'access-token lifetime'],
  RESERVATION_TTL_SECONDS: ['`900`', 'how long reserved stock waits for its order'],
  RESERVATION_SWEEP_INTERVAL_MS: ['`30000`', 'how often expired reservations are returned'],
  PRODUCTS_INTERNAL_URL: ['`http://127.0.0.1:4002`', 'products internal API'],
  PAYMENTS_INTERNAL_URL: ['`http://127.0.0.1:4004`', 'payments internal API'],
  SERVICE_TIMEOUT_MS: ['`2000`', 'per-attempt timeout of internal REST calls'],
  PLACE_ORDER_WAIT_MS: ['`10000`', 'how long placeOrder waits for its saga before answering PENDING'],
  SAGA_RESUME_INTERVAL_MS: ['`5000`', 'how often left-over sagas are resumed'],
  SAGA_LEASE_MS: ['`30000`', 'how long a process owns a running saga'],
  PAYMENT_PROVIDER_TIMEOUT_MS: ['`1000`', 'simulated provider timeout (PAYMENT_FAILED after it)'],
  SUPERGRAPH_PATH: ['`./supergraph.graphql`', 'composed supergraph (watched, hot-reloaded)'],
  ROUTER_MAX_BODY_BYTES: ['`1000000`', 'largest request body (413 beyond)'],
  ROUTER_READINESS_TIMEOUT_MS: ['`2000`', '`/ready` probe per subgraph instance'],
  ROUTER_REQUEST_DEADLINE_MS: ['`10000`', 'whole-request budget for every fetch, retry and wait'],
  ROUTER_LOAD_BALANCER: ['`least-outstanding`', 'or `round-robin`'],
  ROUTER_DNS_REFRESH_MS: ['`10000`', 'how often `<NAME>_DISCOVERY=dns` re-resolves'],
  ROUTER_SUBGRAPH_TIMEOUT_MS: ['`3000`', 'per-attempt subgraph timeout (`<NAME>_TIMEOUT_MS` overrides)'],
  ROUTER_BREAKER_ERROR_PERCENT: ['`50`', 'breaker opens above this error percentage'],
  ROUTER_BREAKER_VOLUME_THRESHOLD: ['`5`', 'calls in the window before the percentage counts'],
  ROUTER_BREAKER_RESET_MS: ['`5000`', 'open → half-open after'],
  ROUTER_BREAKER_WINDOW_MS: ['`10000`', 'rolling window'],
  ROUTER_BULKHEAD_MAX_CONCURRENT: ['`64`', 'requests in flight per subgraph'],
  ROUTER_BULKHEAD_MAX_QUEUE: ['`128`', 'requests waiting per subgraph'],
  ROUTER_OUTLIER_CONSECUTIVE_FAILURES: ['`5`', 'failures that eject an instance'],
  ROUTER_RETRY_MAX_ATTEMPTS: ['`3`', 'attempts per query fetch (mutations: 1)'],
  ROUTER_RETRY_BASE_DELAY_MS: ['`25`', 'full-jitter backoff base'],
  ROUTER_RETRY_MAX_DELAY_MS: ['`1000`', 'backoff cap'],
  ROUTER_RETRY_BUDGET_PERCENT: ['`20`', 'retries per 100 fetches'],
  ROUTER_RETRY_BUDGET_RESERVE: ['`10`', 'retries before traffic earned any'],
  ROUTER_DEDUP_INBOUND: ['`true`', 'identical in-flight queries of one caller share one execution / response'],
  ROUTER_DEDUP_SUBGRAPH_FETCHES: ['`true`', 'identical in-flight subgraph query fetches (same router token) are sent once'],
  [`${PER_SUBGRAPH}_URL`]: ['the supergraph routing URL', 'instance URL; a comma list = several instances'],
  [`${PER_SUBGRAPH}_DISCOVERY`]: ['`static`', '`dns` re-resolves the one URL’s host and uses every address'],
  [`${PER_SUBGRAPH}_TIMEOUT_MS`]: ['ROUTER_SUBGRAPH_TIMEOUT_MS', 'per-subgraph override'],
  [`${PER_SUBGRAPH}_BREAKER_ERROR_PERCENT`]: ['the `ROUTER_` value', 'per-subgraph override'],
  [`${PER_SUBGRAPH}_BREAKER_VOLUME_THRESHOLD`]: ['the `ROUTER_` value', 'per-subgraph override'],
  [`${PER_SUBGRAPH}_BREAKER_RESET_MS`]: ['the `ROUTER_` value', 'per-subgraph override'],
  [`${PER_SUBGRAPH}_BREAKER_WINDOW_MS`]: ['the `ROUTER_` value', 'per-subgraph override'],
  [`${PER_SUBGRAPH}_BULKHEAD_MAX_CONCURRENT`]: ['the `ROUTER_` value', 'per-subgraph override'],
  [`${PER_SUBGRAPH}_BULKHEAD_MAX_QUEUE`]: ['the `ROUTER_` value', 'per-subgraph override'],
  [`${PER_SUBGRAPH}_OUTLIER_CONSECUTIVE_FAILURES`]: ['the `ROUTER_` value', 'per-subgraph override'],
  JWKS_URL: ['from USERS_URL, else `http://localhost:4001/.well-known/jwks.json`', 'users’ public keys'],
  JWKS_COOLDOWN_MS: ['`30000`', 'least time between JWKS refetches on an unknown `kid`'],
  ROUTER_RATE_LIMIT: ['`300/1m`', 'per client, per root field'],
  ROUTER_RATE_LIMIT_FIELDS: ['`Mutation.logIn=30/1m,Mutation.signUp=10/1m`', 'per-field overrides (replaces the list)'],
  REDIS_URL: ['unset = in-memory', 'shared rate-limit store'],
  ROUTER_RATE_LIMIT_PREFIX: ['`switchyard:rate-limit:`', 'Redis key prefix'],
  ROUTER_MAX_DEPTH: ['`12`', 'operation depth limit'],
  ROUTER_MAX_ALIASES: ['`30`', 'alias limit'],
  ROUTER_MAX_ROOT_FIELDS: ['`20`', 'root-field limit'],
  ROUTER_MAX_COST: ['`20000`', 'estimated-cost limit'],
  KAFKA_BROKERS: ['unset = in-process event log', '`host:port[,host:port…]`'],
  KAFKA_TOPIC_PREFIX: ['empty', 'prepended to `switchyard.<domain>` topics (include the separator: `staging.`)'],
  KAFKA_GROUP_ID: ['`notifications`', 'the worker’s consumer group; analytics uses `<group>.analytics` (`analytics` by default)'],
  AMQP_URL: ['unset = in-process job queue', 'RabbitMQ'],
  AMQP_QUEUE_PREFIX: ['`notifications`', 'job queues `<prefix>.email`, `.sms`, `.push` (with their retry tiers and `.dlq`)'],
  AMQP_CONFIRM_TIMEOUT_MS: ['`5000`', 'publisher-confirm timeout'],
  JOB_RETRY_DELAYS_MS: ['`1000,10000,60000`', 'retry tiers'],
  JOB_MAX_ATTEMPTS: ['`4`', 'attempts before the DLQ (a non-retriable failure goes there after one)'],
  RELAY_POLL_INTERVAL_MS: ['`200`', 'outbox poll interval, the fallback when no NOTIFY woke the relay'],
  SMTP_URL: ['unset = emails go to the log', 'SMTP server (Mailpit in compose)'],
  EMAIL_FROM: ['`Switchyard <no-reply@switchyard.test>`', 'sender address'],
  SMS_WEBHOOK_URL: ['unset = the log', 'SMS webhook'],
  PUSH_WEBHOOK_URL: ['unset = the log', 'push webhook'],
  USERS_GRAPHQL_URL: ['`http://127.0.0.1:$USERS_PORT/graphql`', 'users subgraph, asked for recipients’ addresses'],
};

const PIPELINE = ['relay', 'worker', 'dispatcher', 'analytics'];

/** Variable (per-subgraph ones folded into `<NAME>_…`) → the deployables whose config reads it. */
export function readersByVariable(): Map<string, string[]> {
  const readers = new Map<string, Set<string>>();
  const production = { NODE_ENV: 'production', INTERNAL_TOKEN_SECRET: 'x'.repeat(32), INTERNAL_SERVICE_SECRET: 'x'.repeat(32) };
  for (const deployable of DEPLOYABLES) {
    // Development and production take different branches (secrets): record both.
    for (const name of new Set([...variablesRead(deployable.load), ...variablesRead(deployable.load, production)])) {
      // Documented in their own table even if a config module starts reading them (OpenTelemetry's).
      if (name in LIBRARY_VARIABLES) continue;
      const folded = deployable.name === 'router' ? name.replace(new RegExp(`^(${KNOWN_SUBGRAPHS.join('|').toUpperCase()})_(?!PORT$)`), `${PER_SUBGRAPH}_`) : name;
      readers.set(folded, (readers.get(folded) ?? new Set()).add(deployable.name));
    }
  }
  return new Map([...readers].map(([name, set]) => [name, [...set]]));
}

function describeReaders(names: readonly string[]): string {
  if (names.length === DEPLOYABLES.length) return 'every service';
  const rest = names.filter((name) => !PIPELINE.includes(name));
  const pipeline = PIPELINE.every((name) => names.includes(name)) ? ['pipeline roles'] : names.filter((name) => PIPELINE.includes(name));
  return [...rest, ...(PIPELINE.some((name) => names.includes(name)) ? pipeline : [])].join(', ');
}

export function renderConfigurationDoc(): string {
  const readers = readersByVariable();
  const rows = [...readers.keys()].sort((a, b) => a.localeCompare(b)).map((name) => {
    const [fallback, meaning] = VARIABLES[name] ?? ['?', '?'];
    return `| \`${name}\` | ${fallback} | ${describeReaders(readers.get(name)!)} | ${meaning} |`;
  });
  const library = Object.entries(LIBRARY_VARIABLES).map(([name, { readBy, description }]) => `| \`${name}\` | ${readBy} | ${description} |`);
  return [
    '# Configuration reference',
    '',
    '<!-- Generated by `npm run config:docs` from the config modules (scripts/config-docs.ts); tests/deployment.test.ts keeps it fresh. -->',
    '',
    'Every variable is optional on a laptop. Each deployable parses its variables once at start-up',
    '(`subgraphs/*/config.ts`, `router/config.ts`, `events/config.ts`) and fails fast naming a bad one.',
    '"Read by" is what each config module actually reads, recorded by running it; `npm start` reads all',
    'of them. The pipeline roles (relay, worker, dispatcher, analytics) share one config module.',
    `\`${PER_SUBGRAPH}\` is one of ${KNOWN_SUBGRAPHS.map((name) => `\`${name.toUpperCase()}\``).join(', ')} (router settings per subgraph; see [resilience.md](resilience.md)).`,
    '',
    '| variable | default | read by | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    '## Read outside the config modules',
    '',
    'Libraries and the image launcher read these from the process environment; docker-compose.yml may',
    'set them and nothing else beyond the table above (tests/deployment.test.ts checks it).',
    '',
    '| variable | read by | meaning |',
    '| --- | --- | --- |',
    ...library,
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = renderConfigurationDoc();
  if (process.argv.includes('--check')) {
    if (readFileSync(DOC_PATH, 'utf8') !== text) {
      console.error('docs/configuration.md is stale: run npm run config:docs');
      process.exit(1);
    }
  } else {
    writeFileSync(DOC_PATH, text);
    console.log(`wrote ${DOC_PATH}`);
  }
}
