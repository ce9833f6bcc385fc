import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { DEPLOYABLES, type Deployable } from "./deployables.ts";

/** The parts of docker-compose.yml the distributed run and the cross-check tests rely on. */
export interface ComposeService {
  readonly name: string;
  readonly image: string | undefined;
  /** Dockerfile target (Switchyard's own services). */
  readonly target: string | undefined;
  /** Environment after `${VAR:-default}` interpolation, as the container gets it. */
  readonly environment: Readonly<Record<string, string>>;
  readonly dependsOn: Readonly<Record<string, string>>;
  readonly ports: readonly string[];
  readonly healthcheck: readonly string[] | undefined;
  /** The deployable this service runs (its build target), if it is one of ours. */
  readonly deployable: Deployable | undefined;
}

export const COMPOSE_FILE = new URL("../docker-compose.yml", import.meta.url)
  .pathname;

/**
 * Compose's interpolation for the forms docker-compose.yml uses: `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?message}` and `$$` for a literal dollar.
 */
export function interpolate(
  value: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (
      match,
      name: string | undefined,
      colon: string,
      kind: string,
      arg: string,
    ) => {
      if (match === "$$") return "$";
      const raw = env[name!];
      const missing = raw === undefined || (colon === ":" && raw === "");
      if (!missing) return raw;
      if (kind === "?")
        throw new Error(`docker-compose.yml: ${name} is required: ${arg}`);
      return kind === "-" ? arg : "";
    },
  );
}

const asStrings = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.map(String)
    : value === undefined
      ? []
      : [String(value)];

export function readComposeFile(
  path = COMPOSE_FILE,
  env: Readonly<Record<string, string | undefined>> = {},
): Map<string, ComposeService> {
  const document = parse(readFileSync(path, "utf8"), { merge: true }) as {
    services?: Record<string, Record<string, unknown>>;
  };
  const services = new Map<string, ComposeService>();
  for (const [name, spec] of Object.entries(document.services ?? {})) {
    const rawEnv = (spec.environment ?? {}) as Record<string, unknown>;
    if (Array.isArray(rawEnv))
      throw new Error(`docker-compose.yml: ${name}.environment must be a map`);
    const environment: Record<string, string> = {};
    for (const [key, value] of Object.entries(rawEnv))
      environment[key] = interpolate(String(value ?? ""), env);
    const build = spec.build as { target?: string } | string | undefined;
    const target = typeof build === "object" ? build.target : undefined;
    const rawDeps = spec.depends_on ?? {};
    const dependsOn: Record<string, string> = {};
    if (Array.isArray(rawDeps))
      for (const dep of rawDeps) dependsOn[String(dep)] = "service_started";
    else
      for (const [dep, condition] of Object.entries(
        rawDeps as Record<string, { condition?: string }>,
      ))
        dependsOn[dep] = condition?.condition ?? "service_started";
    const health = (spec.healthcheck as { test?: unknown } | undefined)?.test;
    services.set(name, {
      name,
      image: spec.image === undefined ? undefined : String(spec.image),
      target,
      environment,
      dependsOn,
      ports: asStrings(spec.ports),
      healthcheck: health === undefined ? undefined : asStrings(health),
      deployable: DEPLOYABLES.find((candidate) => candidate.name === target),
    });
  }
  return services;
}

/** Services in an order where each comes after everything it depends on. */
export function startOrder(
  services: ReadonlyMap<string, ComposeService>,
): ComposeService[] {
  const ordered: ComposeService[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting")
      throw new Error(
        `docker-compose.yml: dependency cycle ${[...path, name].join(" -> ")}`,
      );
    const service = services.get(name);
    if (!service)
      throw new Error(
        `docker-compose.yml: ${path.at(-1)} depends on unknown service ${name}`,
      );
    state.set(name, "visiting");
    for (const dep of Object.keys(service.dependsOn))
      visit(dep, [...path, name]);
    state.set(name, "done");
    ordered.push(service);
  };
  for (const name of [...services.keys()].sort()) visit(name, []);
  return ordered;
}
