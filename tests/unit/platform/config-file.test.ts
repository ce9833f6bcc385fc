import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { thrownBy } from "../../support/thrown.ts";
import {
  ALL_SETTINGS,
  loadConfiguration,
} from "../../../deploy/configuration.ts";
import {
  closest,
  ConfigurationRefused,
  readConfigFile,
  resolveEnvironment,
} from "../../../platform/config-file.ts";
import {
  loadPipelineConfig,
  PIPELINE_SETTINGS_READ,
} from "../../../events/config.ts";
import {
  loadRouterConfig,
  ROUTER_SETTINGS_READ,
} from "../../../router/config.ts";
import { loadStackConfig, STACK_SETTINGS_READ } from "../../../stack-config.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0))
    rmSync(dir, { recursive: true, force: true });
});

/** A working directory holding `switchyard.yaml` with `text`. */
function withFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-config-"));
  dirs.push(dir);
  writeFileSync(join(dir, "switchyard.yaml"), text);
  return dir;
}

const refusal = (run: () => unknown): ConfigurationRefused =>
  thrownBy(
    ConfigurationRefused,
    run,
    "expected the configuration to be refused",
  );

describe("switchyard.yaml", () => {
  it("turns keys into the settings they declare, lists included, for every section", () => {
    const cwd = withFile(
      [
        "router:",
        "  port: 8080",
        "  subgraphs:",
        "    orders:",
        "      url: [http://a:4003/graphql, http://b:4003/graphql]",
        "pipeline:",
        "  kafka:",
        "    group_id: staging",
        "log:",
        "  level: warn",
      ].join("\n"),
    );
    const router = loadConfiguration(loadRouterConfig, ROUTER_SETTINGS_READ, {
      processEnv: {},
      cwd,
    });
    expect(router).toMatchObject({ port: 8080, logLevel: "warn" });
    expect(router.subgraphs.orders!.discovery).toEqual({
      kind: "static",
      urls: ["http://a:4003/graphql", "http://b:4003/graphql"],
    });
    expect(
      loadConfiguration(loadPipelineConfig, PIPELINE_SETTINGS_READ, {
        processEnv: {},
        cwd,
      }).groupId,
    ).toBe("staging");
  });

  it("is overridden by the environment, and an empty variable does not hide the file’s value", () => {
    const cwd = withFile(
      "router:\n  port: 8080\n  limits:\n    max_depth: 5\n",
    );
    const router = loadConfiguration(loadRouterConfig, ROUTER_SETTINGS_READ, {
      processEnv: { ROUTER_PORT: "9090", ROUTER_MAX_DEPTH: "" },
      cwd,
    });
    expect(router.port).toBe(9090);
    expect(router.security.operationLimits.maxDepth).toBe(5);
  });

  it("refuses an unknown key naming the closest valid one", () => {
    const cwd = withFile("router:\n  prot: 4000\n");
    const error = refusal(() =>
      loadConfiguration(loadRouterConfig, ROUTER_SETTINGS_READ, {
        processEnv: {},
        cwd,
      }),
    );
    expect(error.problems).toEqual([
      {
        path: "router.prot",
        message: `${join(cwd, "switchyard.yaml")}: unknown key router.prot; did you mean router.port?`,
      },
    ]);
    expect(error.message.split("\n")).toHaveLength(1);
  });

  it("reports every bad value at once, each with its file key or variable", () => {
    const cwd = withFile(
      "router:\n  port: eighty\n  retry:\n    max_attempts: 99\nlog:\n  level: loud\n",
    );
    const error = refusal(() =>
      loadConfiguration(loadRouterConfig, ROUTER_SETTINGS_READ, {
        processEnv: { ROUTER_MAX_DEPTH: "0", ROUTER_PROT: "1" },
        cwd,
      }),
    );
    expect(error.problems.map((problem) => problem.path).sort()).toEqual([
      "ROUTER_MAX_DEPTH",
      "ROUTER_PROT",
      "log.level",
      "router.port",
      "router.retry.max_attempts",
    ]);
    expect(error.message).toContain("invalid configuration (5 problems):");
    expect(error.message).toContain(
      'router.port (ROUTER_PORT) must be an integer, got "eighty"',
    );
    expect(error.message).toContain(
      "unknown variable ROUTER_PROT; did you mean ROUTER_PORT?",
    );
  });

  it("refuses a section given a value, a value given a section, and YAML that does not parse", () => {
    expect(
      readConfigFile("router: 4000\n", ALL_SETTINGS).problems.map(
        (problem) => problem.message,
      ),
    ).toEqual(["router must be a mapping of keys"]);
    expect(
      readConfigFile(
        "router:\n  port:\n    value: 1\n",
        ALL_SETTINGS,
      ).problems.map((problem) => problem.message),
    ).toEqual(["router.port must be a single value or a list of values"]);
    expect(
      readConfigFile("router: [\n", ALL_SETTINGS).problems[0]!.message,
    ).toMatch(/not valid YAML/);
  });

  it("is optional, but SWITCHYARD_CONFIG must name a file that exists", () => {
    const empty = mkdtempSync(join(tmpdir(), "switchyard-config-"));
    dirs.push(empty);
    expect(resolveEnvironment({}, ALL_SETTINGS, { cwd: empty })).toMatchObject({
      file: undefined,
      problems: [],
    });
    expect(
      resolveEnvironment({ SWITCHYARD_CONFIG: "missing.yaml" }, ALL_SETTINGS, {
        cwd: empty,
      }).problems[0]!.message,
    ).toMatch(/cannot read .*missing\.yaml: ENOENT/);
  });

  it("composes npm start’s own config from every module, so one file configures the whole process", () => {
    const cwd = withFile(
      'orders:\n  port: 5003\nrouter:\n  port: 5000\nlog:\n  file: "off"\n',
    );
    const config = loadConfiguration(loadStackConfig, STACK_SETTINGS_READ, {
      processEnv: {},
      cwd,
    });
    expect(config).toMatchObject({
      logFile: "off",
      orders: { port: 5003 },
      router: { port: 5000 },
      users: { port: 4001 },
    });
    expect(loadStackConfig({}).logFile).toBe(".data/switchyard.log");
    expect(
      loadStackConfig({
        NODE_ENV: "production",
        INTERNAL_TOKEN_SECRET: "s".repeat(40),
        INTERNAL_SERVICE_SECRET: "v".repeat(40),
      }).logFile,
    ).toBeUndefined();
  });
});

describe("unknown variables", () => {
  it("are refused only under the prefixes Switchyard owns", () => {
    const problems = resolveEnvironment(
      {
        ROUTER_MAX_DEPHT: "3",
        SWITCHYARD_CONFG: "x",
        ORDERS_SOMETHING: "1",
        KAFKA_HOME: "/opt",
        ROUTER_URL: "http://localhost:4000/graphql",
        SWITCHYARD_TEST_PGLITE_ROOT: "/tmp/x",
      },
      ALL_SETTINGS,
      { cwd: withFile("") },
    ).problems;
    expect(problems.map((problem) => problem.message)).toEqual([
      "unknown variable ROUTER_MAX_DEPHT; did you mean ROUTER_MAX_DEPTH?",
      "unknown variable SWITCHYARD_CONFG; did you mean SWITCHYARD_CONFIG?",
    ]);
  });

  it("get no suggestion when nothing is close", () => {
    expect(closest("ROUTER_ZZZZZZZZZZZZZZZZ", ["ROUTER_PORT"])).toBeUndefined();
  });
});

describe("suggestions for an unknown key", () => {
  it("prefer a sibling under the same section, then a key as deep elsewhere, and stay quiet when nothing is close", () => {
    const messages = (text: string) =>
      readConfigFile(text, ALL_SETTINGS).problems.map(
        (problem) => problem.message,
      );
    expect(messages("routr:\n  port: 1\n")).toEqual([
      "unknown key routr; did you mean router?",
    ]);
    expect(messages("router:\n  retry:\n    max_atempts: 2\n")).toEqual([
      "unknown key router.retry.max_atempts; did you mean router.retry.max_attempts?",
    ]);
    expect(messages("orders:\n  saga_lease: 100\n")).toEqual([
      "unknown key orders.saga_lease; did you mean orders.saga_lease_ms?",
    ]);
    expect(messages("router:\n  foo: 1\n")).toEqual(["unknown key router.foo"]);
  });
});

describe("a key in the wrong section", () => {
  it("is pointed at the section that has it", () => {
    expect(
      readConfigFile(
        "orders:\n  reservation_ttl_seconds: 60\n",
        ALL_SETTINGS,
      ).problems.map((problem) => problem.message),
    ).toEqual([
      "unknown key orders.reservation_ttl_seconds; did you mean products.reservation_ttl_seconds?",
    ]);
  });
});
