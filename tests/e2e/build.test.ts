/**
 * `npm run build` (scripts/build.ts): bundled once into a scratch folder inside the repository, then
 * every bundle is started as the image starts it — `node --enable-source-maps <bundle>`, no tsx — on
 * free ports, from a working directory holding nothing of the source tree, and must answer `/ready`:
 * `main` on embedded defaults (PGlite in a temporary folder), the deployables one process each on
 * one PostgreSQL database as in docker-compose.yml (a relay alone is ready only once the subgraphs
 * have created the outbox tables it drains). The health check bundle is run against them.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  afterAll,
  beforeAll,
  describe,
  expect,
  it,
  onTestFinished,
} from "vitest";
import { DEPLOYABLES, type Deployable } from "../../deploy/deployables.ts";
import { DOCS, GRAPHIQL_PATH } from "../../router/landing-page.ts";
import {
  BUILD_ENTRIES,
  buildAll,
  type BuildResult,
} from "../../scripts/build.ts";
import { runNodeToExit, type Exited } from "../support/run-to-exit.ts";
import { waitFor } from "../support/wait.ts";
import {
  freePort,
  repoScratchDir,
  REPO_ROOT,
  startProcess,
  type Service,
} from "../support/process.ts";
import { postgresBackend } from "../support/storage.ts";

const postgres = await postgresBackend();

const ROOT = REPO_ROOT;
const SUPERGRAPH = join(ROOT, "supergraph.graphql");
/** Generous: a loaded two-core machine starts a dozen Node processes here. */
const READY_MS = 180_000;

let built: BuildResult;
let scratch: string;
const running: Service[] = [];

beforeAll(async () => {
  built = await buildAll({ outdir: repoScratchDir("build-test") });
  scratch = repoScratchDir("build-run");
}, 120_000);

afterAll(async () => {
  await Promise.all(running.map((service) => service.stop()));
  if (built) rmSync(built.outdir, { recursive: true, force: true });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Starts a bundle as the image does, in its own empty working directory. */
async function startBundle(
  name: string,
  env: Record<string, string>,
): Promise<Service> {
  const cwd = join(scratch, name);
  mkdirSync(cwd, { recursive: true });
  const service = await startProcess(built.bundles[name]!, {
    nodeArgs: ["--enable-source-maps"],
    cwd,
    env: {
      DATA_DIR: join(cwd, "pglite"),
      SUPERGRAPH_PATH: SUPERGRAPH,
      APOLLO_TELEMETRY_DISABLED: "true",
      ...env,
    },
  });
  running.push(service);
  return service;
}

async function ready(
  name: string,
  service: Service,
  port: number,
): Promise<unknown> {
  return waitFor(
    async () => {
      if (service.child.exitCode !== null)
        throw new Error(
          `${name} exited with ${service.child.exitCode}:\n${service.output()}`,
        );
      const response = await fetch(`http://127.0.0.1:${port}/ready`).catch(
        () => undefined,
      );
      return response?.ok ? await response.json() : undefined;
    },
    { timeoutMs: READY_MS, intervalMs: 250, what: `${name} /ready on ${port}` },
  );
}

/** Runs the built health check the way Docker does; resolves with its exit code. */
function healthcheck(env: Record<string, string>): Promise<Exited> {
  return runNodeToExit([built.bundles.healthcheck!], { cwd: scratch, env });
}

describe("npm run build", () => {
  it("writes one bundle with a source map per deployable, main and the health check, and copies the files they read at run time", () => {
    expect(Object.keys(built.bundles).sort()).toEqual(
      [
        ...DEPLOYABLES.map((deployable) => deployable.name),
        "main",
        "healthcheck",
      ].sort(),
    );
    expect(BUILD_ENTRIES.main).toBe("main.ts");
    for (const [name, bundle] of Object.entries(built.bundles)) {
      expect(existsSync(bundle), name).toBe(true);
      expect(
        readFileSync(bundle, "utf8"),
        `${name} links its source map`,
      ).toMatch(/\/\/# sourceMappingURL=\S+\.js\.map\s*$/);
      expect(existsSync(`${bundle}.map`), `${name}.js.map`).toBe(true);
    }
    for (const file of [
      "subgraphs/users/schema.graphql",
      "subgraphs/orders/migrations",
      "events/migrations",
      "events/analytics-migrations",
    ]) {
      expect(built.assets, file).toContain(file);
      expect(existsSync(join(built.outdir, file)), file).toBe(true);
    }
  });

  it("leaves only production dependencies to load from node_modules", () => {
    const pkg = JSON.parse(
      readFileSync(join(ROOT, "package.json"), "utf8"),
    ) as { dependencies: Record<string, string> };
    expect(built.externalPackages.length).toBeGreaterThan(0);
    for (const name of built.externalPackages)
      expect(
        pkg.dependencies[name],
        `${name} is imported at run time`,
      ).toBeDefined();
  });

  it("refuses an output folder outside the repository (its bundles could not find their packages)", async () => {
    await expect(buildAll({ outdir: "/tmp/switchyard-dist" })).rejects.toThrow(
      /must lie inside/,
    );
  });
});

describe("the built entry points", () => {
  it(
    "main.js runs every service on embedded defaults: the router is ready, answers a query and serves GraphiQL and the docs from the bundle",
    async () => {
      const ports = {
        ROUTER_PORT: await freePort(),
        USERS_PORT: await freePort(),
        PRODUCTS_PORT: await freePort(),
        ORDERS_PORT: await freePort(),
        PAYMENTS_PORT: await freePort(),
        NOTIFICATIONS_PORT: await freePort(),
      };
      const main = await startBundle(
        "main",
        Object.fromEntries(
          Object.entries(ports).map(([name, port]) => [name, String(port)]),
        ),
      );
      await ready("main", main, ports.ROUTER_PORT);
      const router = `http://127.0.0.1:${ports.ROUTER_PORT}`;
      const response = await fetch(`${router}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: "{ products(first: 1) { totalCount } }",
        }),
      });
      expect(await response.json()).toMatchObject({
        data: { products: { totalCount: expect.any(Number) } },
      });
      // Read beside the module that serves them (schemas and migrations were, or nothing would be ready).
      for (const path of [...Object.keys(DOCS), `${GRAPHIQL_PATH}/graphiql.js`])
        expect((await fetch(`${router}${path}`)).status, path).toBe(200);

      expect(
        await healthcheck({
          SERVICE: "router",
          ROUTER_PORT: String(ports.ROUTER_PORT),
        }),
      ).toMatchObject({ code: 0 });
      expect(await main.stop()).toBe(0);
      const down = await healthcheck({
        SERVICE: "router",
        ROUTER_PORT: String(ports.ROUTER_PORT),
      });
      expect(down.code).toBe(1);
      expect(down.output).toContain("not ready");
    },
    READY_MS + 60_000,
  );

  it.skipIf(postgres.unavailable)(
    "each deployable’s bundle starts as its own process on PostgreSQL and answers /ready, and the health check finds it on its configured port",
    async () => {
      const database = await postgres.open();
      await database.storage.close();
      const mine: Service[] = [];
      onTestFinished(async () => {
        await Promise.all(mine.map((service) => service.stop()));
        await database.drop();
      });
      const ports = new Map<Deployable, number>();
      for (const deployable of DEPLOYABLES)
        ports.set(deployable, await freePort());
      const env = (deployable: Deployable) => ({
        [deployable.portVariable]: String(ports.get(deployable)),
      });
      const shared = {
        DATABASE_URL: database.databaseUrl!,
        USERS_GRAPHQL_URL: `http://127.0.0.1:${ports.get(DEPLOYABLES.find((deployable) => deployable.name === "users")!)}/graphql`,
      };
      const subgraphs = DEPLOYABLES.filter((deployable) =>
        deployable.entry.startsWith("subgraphs/"),
      );
      // The router routes to the subgraph bundles started here: it is ready once every one answers.
      const routerEnv = Object.fromEntries(
        subgraphs.map((subgraph) => [
          `${subgraph.name.toUpperCase()}_URL`,
          `http://127.0.0.1:${ports.get(subgraph)}/graphql`,
        ]),
      );
      const started = await Promise.all(
        DEPLOYABLES.map(async (deployable) => {
          const service = await startBundle(deployable.name, {
            ...shared,
            ...env(deployable),
            ...(deployable.name === "router" ? routerEnv : {}),
          });
          mine.push(service);
          return { deployable, service };
        }),
      );
      for (const { deployable, service } of started) {
        await ready(deployable.name, service, ports.get(deployable)!);
        const check = await healthcheck({
          SERVICE: deployable.name,
          ...env(deployable),
        });
        expect(check, deployable.name).toMatchObject({ code: 0 });
      }
      const unknown = await healthcheck({ SERVICE: "productz" });
      expect(unknown.code).toBe(1);
      expect(unknown.output).toContain(
        "SERVICE must be one of users, products",
      );
    },
    READY_MS + 120_000,
  );
});
