import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  readComposeFile,
  startOrder,
  type ComposeService,
} from "../../../deploy/compose-file.ts";
import {
  DEPLOYABLE_NAMES,
  DEPLOYABLES,
  LIBRARY_VARIABLES,
  ROUTER_NODE_FLAGS,
  variablesRead,
  type Deployable,
} from "../../../deploy/deployables.ts";
import {
  COMPOSE_SECRETS,
  localEnvironment,
  withRunSecrets,
} from "../../../deploy/distributed.ts";
import { parse as parseYaml } from "yaml";
import {
  DEFAULT_SUBGRAPH_PORTS,
  SUBGRAPH_NAMES,
} from "../../../platform/services.ts";
import { BUILD_ENTRIES } from "../../../scripts/build.ts";
import {
  DOC_PATH,
  readersByVariable,
  renderConfigurationDoc,
  VARIABLES,
} from "../../../scripts/config-docs.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const escapeRegExp = (text: string) =>
  text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** The CMD line of a deployable's image target: its Node flags, source maps, its bundle. */
const imageCommand = (deployable: Deployable) =>
  JSON.stringify([
    "node",
    ...deployable.nodeFlags,
    "--enable-source-maps",
    `dist/${deployable.name}.js`,
  ]).replaceAll(",", ", ");
const compose = readComposeFile(undefined, withRunSecrets({}));
const ours = [...compose.values()].filter(
  (service) => service.target !== undefined,
);

/** Ports the infrastructure images listen on (their documented defaults; the compose file configures none else). */
const INFRASTRUCTURE_PORTS: Record<string, number> = {
  postgres: 5432,
  kafka: 9092,
  rabbitmq: 5672,
  mailpit: 1025,
  jaeger: 4318,
};

/** Every `scheme://host:port` or `host:port` reference to another compose service in an environment value. */
function references(value: string): Array<{ host: string; port: number }> {
  const found: Array<{ host: string; port: number }> = [];
  for (const part of value.split(",")) {
    const match =
      /^(?:([a-z][a-z0-9+.-]*):\/\/(?:[^@/]*@)?)?([\w.-]+)(?::(\d+))?/i.exec(
        part.trim(),
      );
    // A bare word (OTEL_SERVICE_NAME=users) names, it does not point anywhere.
    if (!match || !compose.has(match[2]!) || (!match[1] && !match[3])) continue;
    const port = match[3] ? Number(match[3]) : match[1] === "https" ? 443 : 80;
    found.push({ host: match[2]!, port });
  }
  return found;
}

describe("docker-compose.yml against the code", () => {
  it("runs every deployable, each from its own Dockerfile target, and nothing unknown", () => {
    expect(ours.map((service) => service.target).sort()).toEqual(
      [...DEPLOYABLE_NAMES].sort(),
    );
    for (const service of ours)
      expect(service.deployable?.name, service.name).toBe(service.target);
    const targets = [
      ...read("Dockerfile").matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim),
    ].map((match) => match[1]);
    for (const service of ours)
      expect(targets, `${service.name}: build target`).toContain(
        service.target,
      );
    for (const service of compose.values()) {
      if (service.target) continue;
      expect(
        Object.keys(INFRASTRUCTURE_PORTS),
        `${service.name} is infrastructure the tests know`,
      ).toContain(service.name);
      // A pinned tag, never `latest` or none: the same compose file must start the same images next year.
      expect(service.image, service.name).toMatch(
        /^[\w./-]+:(?!latest$)[\w.-]+$/,
      );
    }
    expect(startOrder(compose).length).toBe(compose.size);
  });

  it("has no default for the secrets production requires: without them compose refuses to start", () => {
    for (const name of COMPOSE_SECRETS) {
      const env = withRunSecrets({});
      delete env[name];
      expect(() => readComposeFile(undefined, env)).toThrow(name);
    }
  });

  it("sets only variables the service’s config module reads (or a documented library reads), and the config accepts them", () => {
    for (const service of ours) {
      const deployable = service.deployable!;
      const read = variablesRead(deployable.load, service.environment);
      const unread = Object.keys(service.environment).filter(
        (name) => !read.has(name) && !(name in LIBRARY_VARIABLES),
      );
      expect(unread, `${service.name} sets variables nobody reads`).toEqual([]);
      // Parses under NODE_ENV=production: the secrets production requires are there and valid.
      expect(service.environment.NODE_ENV, service.name).toBe("production");
      expect(
        () => deployable.load(service.environment),
        service.name,
      ).not.toThrow();
    }
  });

  it("switches Apollo telemetry off and names the OpenTelemetry service and collector on every Switchyard service", () => {
    for (const service of ours) {
      expect(service.environment.APOLLO_TELEMETRY_DISABLED, service.name).toBe(
        "true",
      );
      expect(service.environment.OTEL_SERVICE_NAME, service.name).toBe(
        service.name,
      );
      expect(
        service.environment.OTEL_EXPORTER_OTLP_ENDPOINT,
        service.name,
      ).toBe(`http://jaeger:${INFRASTRUCTURE_PORTS.jaeger}`);
    }
    expect(read("Dockerfile")).toMatch(/APOLLO_TELEMETRY_DISABLED=true/);
  });

  it("points every URL at a port the named service listens on, and publishes only ports services listen on", () => {
    for (const service of ours) {
      for (const [name, value] of Object.entries(service.environment)) {
        for (const { host, port } of references(value)) {
          const target = compose.get(host)!;
          const expected = target.deployable
            ? target.deployable.port(target.environment)
            : INFRASTRUCTURE_PORTS[host];
          expect(port, `${service.name}.${name} → ${host}`).toBe(expected);
        }
      }
      for (const mapping of service.ports) {
        const containerPort = Number(mapping.split(":").at(-1));
        expect(containerPort, `${service.name} publishes ${mapping}`).toBe(
          service.deployable!.port(service.environment),
        );
      }
    }
    expect(compose.get("kafka")!.environment.KAFKA_LISTENERS).toContain(
      `PLAINTEXT://:${INFRASTRUCTURE_PORTS.kafka}`,
    );
    expect(compose.get("kafka")!.environment.KAFKA_ADVERTISED_LISTENERS).toBe(
      `PLAINTEXT://kafka:${INFRASTRUCTURE_PORTS.kafka}`,
    );
  });

  it("lets products scale: no published port, and the router finds its replicas through DNS", () => {
    const products = compose.get("products")!;
    expect(products.ports).toEqual([]);
    const router = compose.get("router")!;
    expect(router.environment.PRODUCTS_DISCOVERY).toBe("dns");
    const config = router.deployable!.load(router.environment) as {
      subgraphs: Record<string, { discovery?: { kind: string; url: string } }>;
    };
    expect(config.subgraphs.products?.discovery).toMatchObject({
      kind: "dns",
      url: "http://products:4002/graphql",
    });
  });

  it("waits for healthy dependencies, with every service checked by its own /ready", () => {
    for (const service of compose.values()) {
      for (const [dependency, condition] of Object.entries(service.dependsOn)) {
        const healthChecked =
          compose.get(dependency)!.healthcheck !== undefined;
        expect(condition, `${service.name} → ${dependency}`).toBe(
          healthChecked ? "service_healthy" : "service_started",
        );
      }
      if (service.name !== "jaeger")
        expect(
          service.healthcheck,
          `${service.name} healthcheck`,
        ).toBeDefined();
    }
    for (const service of ours)
      expect(service.healthcheck, service.name).toEqual([
        "CMD",
        "node",
        "dist/healthcheck.js",
      ]);
    // Each service's own dependencies are declared: the router waits for every subgraph it routes to.
    expect(Object.keys(compose.get("router")!.dependsOn)).toEqual(
      expect.arrayContaining([...SUBGRAPH_NAMES]),
    );
  });

  it("creates, in its PostgreSQL init script, every schema the services use", () => {
    const initSql = read("deploy/postgres/init.sql");
    const created = [
      ...initSql.matchAll(/CREATE SCHEMA IF NOT EXISTS (\w+)/g),
    ].map((match) => match[1]);
    const pipelineSchemas = [
      ...read("events/pipeline.ts").matchAll(/forService\(["'](\w+)["']\)/g),
    ].map((match) => match[1]);
    const subgraphs = DEPLOYABLES.filter((deployable) =>
      deployable.entry.startsWith("subgraphs/"),
    ).map((deployable) => deployable.name);
    expect(created.sort()).toEqual(
      [...new Set([...subgraphs, ...pipelineSchemas])].sort(),
    );
    expect(compose.get("postgres")!.environment.POSTGRES_DB).toBe(
      new URL(compose.get("users")!.environment.DATABASE_URL!).pathname.slice(
        1,
      ),
    );
  });

  it("translates for the distributed run without leaving a compose host name behind", () => {
    const instancePorts = new Map(
      ours.map((service, index) => [
        service.name,
        service.name === "products" ? [5000 + index, 5100] : [5000 + index],
      ]),
    );
    const infrastructure = {
      databaseUrl: "postgres://local/db",
      kafkaBrokers: "127.0.0.1:19092",
      amqpUrl: "amqp://local",
      smtpUrl: "smtp://127.0.0.1:2525",
    };
    for (const service of ours) {
      const env = localEnvironment(service, {
        services: compose,
        infrastructure,
        instancePorts,
      });
      for (const [name, value] of Object.entries(env))
        expect(references(value), `${service.name}.${name}=${value}`).toEqual(
          [],
        );
      expect(
        env.OTEL_EXPORTER_OTLP_ENDPOINT,
        "dropped without a local collector",
      ).toBeUndefined();
    }
    const router = localEnvironment(compose.get("router")!, {
      services: compose,
      infrastructure,
      instancePorts,
    });
    expect(router.PRODUCTS_URL).toBe(
      `http://127.0.0.1:${instancePorts.get("products")![0]}/graphql,http://127.0.0.1:5100/graphql`,
    );
    expect(router.PRODUCTS_DISCOVERY).toBe("static");
  });
});

/** Relative imports and package names reachable from `entry`. */
function importClosure(entry: string): {
  files: Set<string>;
  packages: Set<string>;
} {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(join(ROOT, file), "utf8");
    for (const match of source.matchAll(
      /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g,
    )) {
      const specifier = match[1] ?? match[2] ?? match[3]!;
      if (specifier.startsWith("."))
        visit(relative(ROOT, resolve(ROOT, dirname(file), specifier)));
      else if (
        !specifier.startsWith("node:") &&
        !builtinModules.includes(specifier)
      )
        packages.add(
          specifier.startsWith("@")
            ? specifier.split("/").slice(0, 2).join("/")
            : specifier.split("/")[0]!,
        );
    }
  };
  visit(entry);
  return { files, packages };
}

describe("Dockerfile against the code", () => {
  const dockerfile = read("Dockerfile");
  const pkg = JSON.parse(read("package.json")) as {
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
  };
  const copied = [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)$/gm)]
    .flatMap((match) => match[1]!.trim().split(/\s+/).slice(0, -1))
    .filter((part) => !part.startsWith("--"));
  const ignored = read(".dockerignore")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));

  it("has a target per deployable that selects it, exposes its port and runs its bundle, on a small non-root runtime with a health check", () => {
    for (const deployable of DEPLOYABLES) {
      const stage = new RegExp(
        `^FROM runtime AS ${deployable.name}\\nENV SERVICE=${deployable.name}\\nEXPOSE (\\d+)\\nCMD ${escapeRegExp(imageCommand(deployable))}$`,
        "m",
      ).exec(dockerfile);
      expect(stage, `target ${deployable.name}`).not.toBeNull();
      expect(Number(stage![1]), `${deployable.name} port`).toBe(
        deployable.port({}),
      );
      expect(
        BUILD_ENTRIES[deployable.name],
        `npm run build bundles ${deployable.name}`,
      ).toBe(deployable.entry);
    }
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim AS base$/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev /m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(
      /^HEALTHCHECK [\s\S]*?CMD \["node", "dist\/healthcheck.js"\]$/m,
    );
    // No transpiler at run time: the production install the image ships has neither tsx nor esbuild.
    expect(dockerfile).not.toMatch(/"tsx"|--import tsx/);
    expect(
      pkg.dependencies.tsx,
      "tsx only runs the sources in development",
    ).toBeUndefined();
    expect(pkg.dependencies.esbuild).toBeUndefined();
  });

  it("copies into the build stage every file the bundled entry points load, and they need only production dependencies", () => {
    for (const source of copied) {
      expect(existsSync(join(ROOT, source)), `COPY ${source}`).toBe(true);
      expect(
        ignored.some(
          (pattern) => source === pattern || source.startsWith(`${pattern}/`),
        ),
        `${source} is not excluded by .dockerignore`,
      ).toBe(false);
    }
    const inImage = (file: string) =>
      copied.some(
        (source) =>
          file === source ||
          (statSync(join(ROOT, source)).isDirectory() &&
            file.startsWith(`${source}/`)),
      );
    for (const entry of Object.values(BUILD_ENTRIES)) {
      const { files, packages } = importClosure(entry);
      for (const file of files)
        expect(inImage(file), `${entry} loads ${file}`).toBe(true);
      for (const name of packages)
        expect(
          pkg.dependencies[name],
          `${entry} needs ${name} at run time`,
        ).toBeDefined();
    }
    // Data files read at run time (schemas, migrations) live beside the code the build copies into dist/.
    for (const name of readdirSync(join(ROOT, "subgraphs")))
      expect(inImage(`subgraphs/${name}/schema.graphql`)).toBe(true);
    expect(inImage("supergraph.graphql")).toBe(true);
  });

  it("runs the router with its Node flags everywhere it starts: its target, the image's default command, npm run start:router", () => {
    const router = DEPLOYABLES.find(({ name }) => name === "router")!;
    expect(router.nodeFlags).toEqual(ROUTER_NODE_FLAGS);
    expect(ROUTER_NODE_FLAGS).toContain("--max-semi-space-size=64");
    // The runtime stage's own CMD (a build without --target) is the router's.
    const runtime = /^FROM base AS runtime$[\s\S]*?^CMD (.+)$/m.exec(
      dockerfile,
    );
    expect(runtime?.[1]).toBe(imageCommand(router));
    expect(pkg.scripts["start:router"]).toBe(
      `tsx ${ROUTER_NODE_FLAGS.join(" ")} router/main.ts`,
    );
  });

  it("names real entry points: each file exists and npm run start:<name> runs the same one", () => {
    for (const deployable of DEPLOYABLES) {
      expect(existsSync(join(ROOT, deployable.entry)), deployable.entry).toBe(
        true,
      );
      expect(
        pkg.scripts[`start:${deployable.name}`],
        `npm run start:${deployable.name}`,
      ).toBe(["tsx", ...deployable.nodeFlags, deployable.entry].join(" "));
    }
  });
});

describe("supergraph.yaml against the list of services (platform/services.ts)", () => {
  it("composes exactly the subgraphs, each from its folder's schema, at its default port", () => {
    const { subgraphs } = parseYaml(read("supergraph.yaml")) as {
      subgraphs: Record<
        string,
        { routing_url: string; schema: { file: string } }
      >;
    };
    expect(Object.keys(subgraphs)).toEqual([...SUBGRAPH_NAMES]);
    for (const name of SUBGRAPH_NAMES) {
      expect(subgraphs[name]).toEqual({
        routing_url: `http://localhost:${DEFAULT_SUBGRAPH_PORTS[name]}/graphql`,
        schema: { file: `./subgraphs/${name}/schema.graphql` },
      });
    }
  });
});

describe("docs/configuration.md", () => {
  it("describes exactly the variables the config modules read, and is fresh (npm run config:docs)", () => {
    const read = [...readersByVariable().keys()].sort();
    expect(Object.keys(VARIABLES).sort()).toEqual(read);
    expect(readFileSync(DOC_PATH, "utf8")).toBe(renderConfigurationDoc());
  });
});

export type { ComposeService };
