import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readComposeFile } from "../../../deploy/compose-file.ts";
import { DEPLOYABLES, variablesRead } from "../../../deploy/deployables.ts";
import { withRunSecrets } from "../../../deploy/distributed.ts";
import {
  ConfigError,
  MIN_DEMO_PASSWORD_LENGTH,
  readCommonConfig,
  readDemoPassword,
  WELL_KNOWN_SECRETS,
} from "../../../platform/config.ts";
import { DEMO_PASSWORD } from "../../../platform/demo-data.ts";
import { loadTracingConfig, startTracing } from "../../../platform/tracing.ts";
import { loadRouterConfig } from "../../../router/config.ts";
import { loadOrdersConfig } from "../../../subgraphs/orders/config.ts";
import { loadUsersConfig } from "../../../subgraphs/users/config.ts";

describe("service configuration", () => {
  it("runs on defaults with an empty environment", () => {
    const router = loadRouterConfig({});
    expect(router).toMatchObject({
      port: 4000,
      supergraphPath: "./supergraph.graphql",
      production: false,
    });
    // No URL configured: every subgraph is reached at its routing URL in the supergraph.
    expect(
      Object.values(router.subgraphs).every(
        (subgraph) => subgraph.discovery === undefined,
      ),
    ).toBe(true);
    expect(loadOrdersConfig({})).toMatchObject({
      port: 4003,
      databaseUrl: undefined,
      dataDir: ".data/pglite",
      seedDemoData: true,
    });
  });

  it("reads overrides, including per-subgraph routing URLs", () => {
    const config = loadRouterConfig({
      ROUTER_PORT: "8080",
      ORDERS_URL: "http://orders:4003/graphql",
      NODE_ENV: "production",
      INTERNAL_TOKEN_SECRET: "s".repeat(40),
    });
    expect(config).toMatchObject({ port: 8080, production: true });
    expect(config.subgraphs.orders!.discovery).toEqual({
      kind: "static",
      urls: ["http://orders:4003/graphql"],
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    [{ ROUTER_PORT: "eighty" }, "ROUTER_PORT"],
    [{ ROUTER_PORT: "70000" }, "ROUTER_PORT"],
    [{ ORDERS_URL: "not a url" }, "ORDERS_URL"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ LOG_FORMAT: "fancy" }, "LOG_FORMAT"],
    [{ DATABASE_URL: "::" }, "DATABASE_URL"],
  ])("fails fast naming the bad variable for %o", (env, variable) => {
    expect(() => loadRouterConfig(env)).toThrow(ConfigError);
    expect(() => loadRouterConfig(env)).toThrow(variable);
  });

  it("rejects a boolean it cannot read and a token lifetime out of range", () => {
    expect(() => loadUsersConfig({ SEED_DEMO_DATA: "maybe" })).toThrow(
      "SEED_DEMO_DATA",
    );
    expect(() => loadUsersConfig({ JWT_TTL_SECONDS: "5" })).toThrow(
      "JWT_TTL_SECONDS",
    );
  });
});

describe("tracing config", () => {
  it("is off without an OTLP endpoint, and reads the standard OpenTelemetry variables", () => {
    expect(loadTracingConfig({}, "router")).toEqual({
      tracesUrl: undefined,
      serviceName: "router",
      sampler: "parentbased_traceidratio",
      sampleRatio: 1,
      resourceAttributes: {},
    });
    expect(startTracing(loadTracingConfig({}, "router")).enabled).toBe(false);
    expect(
      loadTracingConfig(
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://jaeger:4318/",
          OTEL_SERVICE_NAME: "orders-1",
          OTEL_TRACES_SAMPLER_ARG: "0.1",
        },
        "orders",
      ),
    ).toEqual({
      tracesUrl: "http://jaeger:4318/v1/traces",
      serviceName: "orders-1",
      sampler: "parentbased_traceidratio",
      sampleRatio: 0.1,
      resourceAttributes: {},
    });
    expect(
      loadTracingConfig(
        {
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/custom",
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://ignored:4318",
        },
        "x",
      ).tracesUrl,
    ).toBe("http://collector:4318/custom");
    expect(
      loadTracingConfig(
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://jaeger:4318",
          OTEL_SDK_DISABLED: "true",
        },
        "x",
      ).tracesUrl,
    ).toBeUndefined();
    for (const ratio of ["2", "-0.1", "half"])
      expect(() =>
        loadTracingConfig({ OTEL_TRACES_SAMPLER_ARG: ratio }, "x"),
      ).toThrow("OTEL_TRACES_SAMPLER_ARG");
    expect(() =>
      loadTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" }, "x"),
    ).toThrow("OTEL_EXPORTER_OTLP_ENDPOINT");
  });
});

describe("the internal service secret", () => {
  it("is required in production by every service on either end of an internal call", async () => {
    const { loadProductsConfig } =
      await import("../../../subgraphs/products/config.ts");
    const { loadPaymentsConfig } =
      await import("../../../subgraphs/payments/config.ts");
    for (const load of [
      loadOrdersConfig,
      loadProductsConfig,
      loadPaymentsConfig,
    ]) {
      const production = {
        NODE_ENV: "production",
        INTERNAL_TOKEN_SECRET: "t".repeat(40),
      };
      expect(() => load(production)).toThrow(
        "INTERNAL_SERVICE_SECRET is required in production",
      );
      expect(() =>
        load({ ...production, INTERNAL_SERVICE_SECRET: "short" }),
      ).toThrow("at least 32 characters");
      expect(
        load({ ...production, INTERNAL_SERVICE_SECRET: "x".repeat(40) })
          .internalServiceSecret,
      ).toBe("x".repeat(40));
    }
    expect(() =>
      loadRouterConfig({
        NODE_ENV: "production",
        INTERNAL_TOKEN_SECRET: "s".repeat(40),
      }),
    ).not.toThrow();
  });
});

describe("pipeline names", () => {
  it("default to the shared names and take a prefix, group and queue prefix per environment", async () => {
    const { loadPipelineConfig } = await import("../../../events/config.ts");
    expect(loadPipelineConfig({})).toMatchObject({
      topicPrefix: "",
      groupId: "notifications",
      queuePrefix: "notifications",
    });
    expect(
      loadPipelineConfig({
        KAFKA_TOPIC_PREFIX: "staging.",
        KAFKA_GROUP_ID: "staging-notifications",
        AMQP_QUEUE_PREFIX: "staging",
      }),
    ).toMatchObject({
      topicPrefix: "staging.",
      groupId: "staging-notifications",
      queuePrefix: "staging",
    });
    expect(() =>
      loadPipelineConfig({ KAFKA_TOPIC_PREFIX: "has space" }),
    ).toThrow(
      new ConfigError(
        "KAFKA_TOPIC_PREFIX",
        `must use only letters, digits, '.', '_' and '-', got "has space"`,
      ),
    );
    expect(() => loadPipelineConfig({ AMQP_QUEUE_PREFIX: "a/b" })).toThrow(
      /AMQP_QUEUE_PREFIX/,
    );
  });
});

/** What a real deployment passes: secrets nobody else knows. */
const SECRETS = {
  INTERNAL_TOKEN_SECRET: "operator-token-secret-".padEnd(48, "x"),
  INTERNAL_SERVICE_SECRET: "operator-service-secret-".padEnd(48, "y"),
};
const PRODUCTION = { NODE_ENV: "production", ...SECRETS };
const OWN_PASSWORD = "an operator chose this one";
const seeds = (config: unknown) =>
  (config as { seedDemoData?: boolean }).seedDemoData ?? false;

describe("demo data seeding", () => {
  it("seeds in development by default, with the published password", () => {
    expect(readCommonConfig({}).seedDemoData).toBe(true);
    expect(loadUsersConfig({})).toMatchObject({
      seedDemoData: true,
      demoPassword: DEMO_PASSWORD,
    });
    expect(loadUsersConfig({ SEED_DEMO_DATA: "false" }).seedDemoData).toBe(
      false,
    );
  });

  it("never seeds in production unless SEED_DEMO_DATA=true, in every deployable", () => {
    // The router seeds nothing at all; every other deployable reads the common setting.
    for (const deployable of DEPLOYABLES)
      expect(seeds(deployable.load(PRODUCTION)), deployable.name).toBe(false);
    expect(
      loadUsersConfig({
        ...PRODUCTION,
        SEED_DEMO_DATA: "true",
        DEMO_PASSWORD: OWN_PASSWORD,
      }).seedDemoData,
    ).toBe(true);
  });

  it("asked to seed in production, requires a DEMO_PASSWORD of its own: never the published one, never a short one", () => {
    const seeding = { ...PRODUCTION, SEED_DEMO_DATA: "true" };
    expect(() => loadUsersConfig(seeding)).toThrow(/DEMO_PASSWORD is required/);
    expect(() =>
      loadUsersConfig({ ...seeding, DEMO_PASSWORD: DEMO_PASSWORD }),
    ).toThrow(/DEMO_PASSWORD must not be/);
    expect(() =>
      loadUsersConfig({
        ...seeding,
        DEMO_PASSWORD: "x".repeat(MIN_DEMO_PASSWORD_LENGTH - 1),
      }),
    ).toThrow(/DEMO_PASSWORD must be at least/);
    expect(
      loadUsersConfig({ ...seeding, DEMO_PASSWORD: OWN_PASSWORD }).demoPassword,
    ).toBe(OWN_PASSWORD);
  });

  it("needs no DEMO_PASSWORD in production when not seeding", () => {
    expect(readDemoPassword({}, { production: true, seed: false })).toBe(
      DEMO_PASSWORD,
    );
    expect(() => loadUsersConfig(PRODUCTION)).not.toThrow();
  });

  it("docker-compose.yml (NODE_ENV=production) seeds nothing unless the operator asks, and then with the password they set", () => {
    for (const service of readComposeFile(
      undefined,
      withRunSecrets({}),
    ).values()) {
      if (!service.deployable) continue;
      expect(
        seeds(service.deployable.load(service.environment)),
        service.name,
      ).toBe(false);
    }
    const asked = readComposeFile(
      undefined,
      withRunSecrets({ SEED_DEMO_DATA: "true", DEMO_PASSWORD: OWN_PASSWORD }),
    ).get("users")!;
    expect(loadUsersConfig(asked.environment)).toMatchObject({
      seedDemoData: true,
      demoPassword: OWN_PASSWORD,
    });
    const careless = readComposeFile(
      undefined,
      withRunSecrets({ SEED_DEMO_DATA: "true" }),
    ).get("users")!;
    expect(() => loadUsersConfig(careless.environment)).toThrow(
      /DEMO_PASSWORD/,
    );
  });
});

const ROOT = resolve(import.meta.dirname, "../../..");
const tracked = execFileSync("git", ["ls-files"], {
  cwd: ROOT,
  encoding: "utf8",
})
  .split("\n")
  .filter(Boolean);

/** A variable that holds a secret, by its name. */
const SECRET_NAME = /(?:^|_)(?:SECRET|PASSWORD|PASS|TOKEN|KEY)$/;
/** Text that stands for a value rather than being one (`…`, `<secret>`, `${VAR}`, `$(openssl …)`). */
const isPlaceholder = (value: string) =>
  /…|\.\.\.|^<|^\$|^\*+$/.test(value) || value.length === 0;

/** Where the repository publishes values: the compose file, docs, READMEs, env examples, config modules. */
const PUBLISHED = tracked.filter(
  (path) =>
    path === "docker-compose.yml" ||
    path === "Dockerfile" ||
    path.endsWith(".md") ||
    basename(path).startsWith(".env") ||
    path.endsWith(".env.example") ||
    /(^|\/)config\.ts$/.test(path) ||
    path === "platform/internal-token.ts" ||
    path === "platform/demo-data.ts",
);

/** Every secret-looking value in `text`, with what it was found as. */
function secretValues(text: string): Array<{ value: string; found: string }> {
  const found: Array<{ value: string; found: string }> = [];
  const add = (value: string | undefined, what: string) => {
    if (value !== undefined && !isPlaceholder(value))
      found.push({ value, found: what });
  };
  // NAME=value, NAME: value (compose, shell, env files, docs); a `${…}` value is looked into below.
  for (const match of text.matchAll(
    /\b([A-Z][A-Z0-9_]*)(?:=|: )["']?([^\s"'`]*)/g,
  ))
    if (SECRET_NAME.test(match[1]!)) add(match[2], match[0]);
  // A compose fallback, whatever the variable's name: `${NAME:-value}`.
  for (const match of text.matchAll(/\$\{([A-Z][A-Z0-9_]*):?-([^}]*)\}/g))
    if (SECRET_NAME.test(match[1]!)) add(match[2], match[0]);
  // A password inside a URL: scheme://user:password@host.
  for (const match of text.matchAll(
    /\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:([^@/\s]+)@/g,
  ))
    add(match[1], match[0]);
  // A password argument or constant in an example or a config module: password: "…", PASSWORD = '…'.
  for (const match of text.matchAll(/\bpassword\s*[:=]\s*["']([^"']+)["']/gi))
    add(match[1], match[0]);
  for (const match of text.matchAll(
    /\bconst\s+([A-Z][A-Z0-9_]*)\s*(?::[^=]+)?=\s*'([^']+)'/g,
  ))
    if (SECRET_NAME.test(match[1]!)) add(match[2], match[0]);
  // Prose: "password `value`".
  for (const match of text.matchAll(/\bpassword\s+`([^`]+)`/gi))
    add(match[1], match[0]);
  return found;
}

describe("well-known secrets", () => {
  it("lists every secret-looking value the compose file, docs, env examples and config modules publish", () => {
    const missing: string[] = [];
    let seen = 0;
    for (const path of PUBLISHED) {
      for (const { value, found } of secretValues(
        readFileSync(join(ROOT, path), "utf8"),
      )) {
        seen += 1;
        if (!WELL_KNOWN_SECRETS.includes(value))
          missing.push(`${path}: ${found}`);
      }
    }
    expect(
      missing,
      "add these values to WELL_KNOWN_SECRETS in platform/config.ts (or stop publishing them)",
    ).toEqual([]);
    // The scan finds something: at least the development defaults and the demo password.
    expect(seen).toBeGreaterThanOrEqual(3);
  });

  it("finds values in each form it looks for", () => {
    const sample = [
      "INTERNAL_TOKEN_SECRET: ${INTERNAL_TOKEN_SECRET:-from-a-compose-fallback}",
      "POSTGRES_PASSWORD: from-compose",
      "docker run -e INTERNAL_SERVICE_SECRET=from-a-shell-example image",
      "DATABASE_URL=postgres://app:from-a-url@db/app",
      'mutation { logIn(email: "a@b.c", password: "from-graphql") { token } }',
      "export const DEV_SOME_SECRET = 'from-a-constant';",
      "Demo accounts, password `from-prose`.",
      "docker run -e INTERNAL_TOKEN_SECRET=… -e X_SECRET=<yours> -e Y_SECRET=$(openssl rand -hex 32)",
    ].join("\n");
    expect(secretValues(sample).map((entry) => entry.value)).toEqual(
      expect.arrayContaining([
        "from-a-compose-fallback",
        "from-compose",
        "from-a-shell-example",
        "from-a-url",
        "from-graphql",
        "from-a-constant",
        "from-prose",
      ]),
    );
    expect(secretValues(sample)).toHaveLength(7);
  });

  it("is refused, in production, by every deployable for every secret variable it reads", () => {
    const production = {
      NODE_ENV: "production",
      INTERNAL_TOKEN_SECRET: "t".repeat(40),
      INTERNAL_SERVICE_SECRET: "s".repeat(40),
      SEED_DEMO_DATA: "true",
      DEMO_PASSWORD: "an operator chose this one",
    };
    let checked = 0;
    for (const deployable of DEPLOYABLES) {
      expect(() => deployable.load(production), deployable.name).not.toThrow();
      const secrets = [...variablesRead(deployable.load, production)].filter(
        (name) => SECRET_NAME.test(name),
      );
      for (const name of secrets) {
        for (const value of WELL_KNOWN_SECRETS) {
          expect(
            () => deployable.load({ ...production, [name]: value }),
            `${deployable.name} ${name}=${value}`,
          ).toThrow(name);
          checked += 1;
        }
        // Development keeps accepting them: they are its defaults.
        expect(
          () =>
            deployable.load({
              ...production,
              NODE_ENV: "development",
              [name]: WELL_KNOWN_SECRETS.find((value) => value.length >= 32)!,
            }),
          `${deployable.name} ${name} in development`,
        ).not.toThrow();
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});
