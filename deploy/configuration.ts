/**
 * Every declared setting of every deployable, and the one way an entry point loads its config:
 * `switchyard.yaml` (optional) under the environment, every problem reported at once, no stack.
 * The file is shared by all deployables, so its keys and the owned variable prefixes are checked
 * against the whole list, while each deployable validates the values it reads.
 */
import { PIPELINE_SETTINGS } from "../events/config.ts";
import {
  COMMON_SETTINGS,
  SUBGRAPH_PORT_SETTINGS,
  TOKEN_SETTINGS,
  type Env,
} from "../platform/config.ts";
import {
  configFileSchema,
  loadResolved,
  resolveEnvironment,
} from "../platform/config-file.ts";
import {
  flattenSettings,
  type JsonSchema,
  type Setting,
} from "../platform/settings.ts";
import { startOrExit } from "../platform/startup.ts";
import { ROUTER_SETTINGS } from "../router/config.ts";
import { ORDERS_SETTINGS } from "../subgraphs/orders/config.ts";
import { PAYMENTS_SETTINGS } from "../subgraphs/payments/config.ts";
import { PRODUCTS_SETTINGS } from "../subgraphs/products/config.ts";
import { USERS_SETTINGS } from "../subgraphs/users/config.ts";

/**
 * All declarations, each once (shared ones such as HOST or JWT_ISSUER appear in several groups).
 * Not here: the OpenTelemetry variables (OTEL_*), whose standard names platform/tracing.ts reads
 * from the environment and deploy/deployables.ts LIBRARY_VARIABLES documents. To give them file
 * keys (`telemetry.*`), declare them as a group beside loadTracingConfig and add it to this list.
 */
export const ALL_SETTINGS: readonly Setting<unknown>[] = Object.freeze(
  flattenSettings([
    COMMON_SETTINGS,
    TOKEN_SETTINGS,
    SUBGRAPH_PORT_SETTINGS,
    USERS_SETTINGS,
    PRODUCTS_SETTINGS,
    ORDERS_SETTINGS,
    PAYMENTS_SETTINGS,
    ROUTER_SETTINGS,
    PIPELINE_SETTINGS,
  ]),
);

/** What each top-level section of switchyard.yaml holds (the schema shows these in editors). */
export const SECTION_DESCRIPTIONS: Readonly<Record<string, string>> =
  Object.freeze({
    log: "Logging, for every process.",
    database:
      "Storage: PostgreSQL when `url` is set, else embedded PGlite under `data_dir`.",
    demo: "The demo data set and its accounts.",
    secrets:
      "Shared secrets between services. Prefer the environment or a secret store in production.",
    jwt: "Access tokens: issued by users, checked by the router.",
    users: "The users subgraph.",
    products: "The products subgraph.",
    orders: "The orders subgraph and its place-order saga.",
    payments: "The payments subgraph.",
    notifications: "The notifications subgraph (read side of the pipeline).",
    router: "The router: listeners, traffic to subgraphs, edge security.",
    "router.subgraphs":
      "Per-subgraph instances and overrides of `router.subgraph_defaults`.",
    pipeline:
      "The event pipeline: relay, worker, dispatcher, analytics, and their brokers.",
  });

export function switchyardConfigSchema(): JsonSchema {
  return configFileSchema(ALL_SETTINGS, {
    sectionDescriptions: SECTION_DESCRIPTIONS,
  });
}

/**
 * The config `load` builds from switchyard.yaml and `processEnv`, after checking every declaration
 * in `reads`; throws ConfigurationRefused with every problem found.
 */
export function loadConfiguration<T>(
  load: (env: Env) => T,
  reads: readonly Setting<unknown>[],
  {
    processEnv = process.env,
    cwd = process.cwd(),
  }: { processEnv?: Env; cwd?: string } = {},
): T {
  return loadResolved(
    resolveEnvironment(processEnv, ALL_SETTINGS, { cwd }),
    reads,
    load,
  );
}

/** An entry point's config, or one message on stderr and exit 2. */
export function loadConfigurationOrExit<T>(
  load: (env: Env) => T,
  reads: readonly Setting<unknown>[],
): Promise<T> {
  return startOrExit(() => loadConfiguration(load, reads));
}
