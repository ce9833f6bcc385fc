import { loadPipelineConfig } from "../events/config.ts";
import type { Env } from "../platform/config.ts";
import { SUBGRAPH_NAMES, type SubgraphName } from "../platform/services.ts";
import { loadRouterConfig } from "../router/config.ts";
import { loadNotificationsConfig } from "../subgraphs/notifications/config.ts";
import { loadOrdersConfig } from "../subgraphs/orders/config.ts";
import { loadPaymentsConfig } from "../subgraphs/payments/config.ts";
import { loadProductsConfig } from "../subgraphs/products/config.ts";
import { loadUsersConfig } from "../subgraphs/users/config.ts";

/**
 * Every deployable, once: its entry point, npm script, config module and HTTP port. The Dockerfile
 * targets, docker-compose.yml, `npm run start:distributed`, the bundles `npm run build` makes, the
 * image's health check and docs/configuration.md are all checked against (or built from) this
 * list, so a new service or variable cannot be added to one of them and forgotten in the others.
 */
export interface Deployable {
  readonly name: DeployableName;
  /** Source file run by `npm run start:<name>`; `npm run build` bundles it into `dist/<name>.js`, which the image runs. */
  readonly entry: string;
  /** The deployable's config module, exactly as its main calls it. */
  readonly load: (env: Env) => unknown;
  /** The variable naming its HTTP port (`/health`, `/ready`, `/metrics`). */
  readonly portVariable: string;
  /** Port it listens on under `env`, as its config module reads it. */
  readonly port: (env: Env) => number;
  /**
   * Node/V8 flags it runs with, wherever it runs: the image's CMD, `npm run start:<name>`,
   * `npm run start:distributed` and the benchmark's router processes.
   */
  readonly nodeFlags: readonly string[];
}

/**
 * The router allocates a few hundred kilobytes per federated request (parsed subgraph answers,
 * the merged result, the response text) and holds them only while the request is in flight. With
 * V8's default young generation, requests in flight outlive a scavenge and are copied, then
 * promoted: garbage collection was 11–13% of the router's CPU on the Guild workload, and 6% with
 * semi-spaces of up to 64 MB (docs/benchmarks.md). The young generation grows to that only under
 * such a load; its cost is memory: three semi-spaces, up to about 190 MB (the router's peak RSS
 * under the Guild benchmark was 436 MB with the flag, 315 MB without).
 */
export const ROUTER_NODE_FLAGS: readonly string[] = Object.freeze([
  "--max-semi-space-size=64",
]);

export const DEPLOYABLE_NAMES = [
  ...SUBGRAPH_NAMES,
  "router",
  "relay",
  "worker",
  "dispatcher",
  "analytics",
] as const;
export type DeployableName = (typeof DEPLOYABLE_NAMES)[number];

/** Keyed by name, so a subgraph added to platform/services.ts fails to typecheck until it is here. */
const SUBGRAPH_CONFIGS: Record<SubgraphName, (env: Env) => { port: number }> = {
  users: loadUsersConfig,
  products: loadProductsConfig,
  orders: loadOrdersConfig,
  payments: loadPaymentsConfig,
  notifications: loadNotificationsConfig,
};

const subgraph = (
  name: DeployableName,
  load: (env: Env) => { port: number },
): Deployable => ({
  name,
  entry: `subgraphs/${name}/main.ts`,
  load,
  portVariable: `${name.toUpperCase()}_PORT`,
  port: (env) => load(env).port,
  nodeFlags: [],
});

const pipelineRole = (
  name: "relay" | "worker" | "dispatcher" | "analytics",
): Deployable => ({
  name,
  entry: `events/${name}-main.ts`,
  load: loadPipelineConfig,
  portVariable: `${name.toUpperCase()}_PORT`,
  port: (env) => loadPipelineConfig(env)[`${name}Port`],
  nodeFlags: [],
});

export const DEPLOYABLES: readonly Deployable[] = Object.freeze([
  ...SUBGRAPH_NAMES.map((name) => subgraph(name, SUBGRAPH_CONFIGS[name])),
  {
    name: "router",
    entry: "router/main.ts",
    load: loadRouterConfig,
    portVariable: "ROUTER_PORT",
    port: (env) => loadRouterConfig(env).port,
    nodeFlags: ROUTER_NODE_FLAGS,
  },
  pipelineRole("relay"),
  pipelineRole("worker"),
  pipelineRole("dispatcher"),
  pipelineRole("analytics"),
]);

export function deployable(name: string | undefined): Deployable {
  const found = DEPLOYABLES.find((candidate) => candidate.name === name);
  if (!found)
    throw new Error(
      `SERVICE must be one of ${DEPLOYABLE_NAMES.join(", ")}, got ${JSON.stringify(name)}`,
    );
  return found;
}

/**
 * Variables a deployable reads that no config module parses: libraries read them from the process
 * environment themselves. Anything else a deployment sets must be read by the config module — a
 * test holds docker-compose.yml to that. The OTEL_* names are the OpenTelemetry SDK's standard
 * ones, allowed here for the tracing setup that reads them.
 */
export const LIBRARY_VARIABLES: Readonly<
  Record<string, { readonly readBy: string; readonly description: string }>
> = Object.freeze({
  SERVICE: {
    readBy: "the image health check (deploy/healthcheck.ts)",
    description:
      "Which deployable a container runs (each Dockerfile target sets it): the health check asks that deployable’s port.",
  },
  APOLLO_TELEMETRY_DISABLED: {
    readBy: "@apollo/gateway, @apollo/server",
    description:
      "Stops Apollo usage reporting; set `true` everywhere (the router also forces it).",
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    readBy: "the tracing setup (platform/tracing.ts)",
    description:
      "OTLP/HTTP collector; spans go to `<endpoint>/v1/traces` (Jaeger in compose: `http://jaeger:4318`). Unset = tracing off.",
  },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: {
    readBy: "the tracing setup (platform/tracing.ts)",
    description:
      "Full traces URL, used as is; wins over OTEL_EXPORTER_OTLP_ENDPOINT.",
  },
  OTEL_SERVICE_NAME: {
    readBy: "the tracing setup (platform/tracing.ts)",
    description: "Service name on spans (one per deployable in compose).",
  },
  OTEL_TRACES_SAMPLER: {
    readBy: "the tracing setup (platform/tracing.ts)",
    description:
      "Sampler: `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off` or `parentbased_traceidratio` (default; `parentbased_*` follow a caller’s sampling decision).",
  },
  OTEL_TRACES_SAMPLER_ARG: {
    readBy: "the tracing setup (platform/tracing.ts)",
    description:
      "Share of traces the `*traceidratio` samplers record, 0 to 1 (default 1).",
  },
  OTEL_RESOURCE_ATTRIBUTES: {
    readBy: "the tracing setup (platform/tracing.ts)",
    description:
      "Resource attributes on every span, `key=value` pairs separated by commas, values percent-encoded (e.g. `deployment.environment=staging,service.version=1.4.0`); OTEL_SERVICE_NAME wins over `service.name` here.",
  },
  OTEL_SDK_DISABLED: {
    readBy: "the tracing setup (platform/tracing.ts)",
    description: "`true` turns tracing off whatever else is set.",
  },
});

/**
 * The variables `load` reads, recorded by running it on an environment that notes every lookup.
 * Run against the environment a deployment gives a service, this is exactly what its config
 * module looks at; no hand-kept list to drift.
 */
export function variablesRead(
  load: (env: Env) => unknown,
  env: Env = {},
): Set<string> {
  const read = new Set<string>();
  const recording = new Proxy(
    { ...env },
    {
      get(target, key) {
        if (typeof key === "string") read.add(key);
        return target[key as string];
      },
    },
  );
  load(recording);
  return read;
}
