import { createRequire } from "node:module";
import {
  defineConfig,
  type TestProjectInlineConfiguration,
} from "vitest/config";
import { PASSWORD_HASH_COST } from "./subgraphs/users/passwords.ts";

const require = createRequire(import.meta.url);

/**
 * One project per kind of test, by folder (docs/architecture.md, "Tests"):
 *
 * - `unit` — tests/unit/<source path>.test.ts: logic with no server and no broker (PGlite in memory
 *   and in-process HTTP on port 0 are fine). `npm run test:unit` needs nothing running.
 * - `int` — tests/int/<area>/: one component against real PostgreSQL, Kafka, RabbitMQ or Redis.
 * - `e2e` — tests/e2e/: processes, the whole stack, the router with its subgraphs.
 * - `int-last`, `e2e-last` — files named `*.last.test.ts` in those folders: the heavy ones (broker
 *   restarts, the distributed topology's 11 processes, the benchmark smoke test). They run after
 *   everything else, alone: beside other files their reconnects and start-ups starved on a loaded
 *   two-core CI machine.
 *
 * Groups run in this order (sequence.groupOrder), so the cheap kinds fail first.
 */
const LAST = "**/*.last.test.ts";

/**
 * The int or e2e project (`last` false: every file of the folder but the `*.last.test.ts` ones) or
 * its `-last` half (those files alone, one at a time). Every project: one initialised PGlite per
 * run, copied for each test file's database (tests/support/pglite.ts); then the services' setup.
 */
function servicesProject(
  folder: "int" | "e2e",
  { groupOrder, last = false }: { groupOrder: number; last?: boolean },
): TestProjectInlineConfiguration {
  return {
    extends: true,
    test: {
      name: last ? `${folder}-last` : folder,
      ...(last
        ? { include: [`tests/${folder}/${LAST}`], fileParallelism: false }
        : { include: [`tests/${folder}/**/*.test.ts`], exclude: [LAST] }),
      globalSetup: [
        "tests/support/pglite-setup.ts",
        "tests/support/global-setup.ts",
      ],
      sequence: { groupOrder },
    },
  };
}

export default defineConfig({
  resolve: {
    // Apollo's packages require() graphql's CommonJS build; without this alias vitest would give
    // our code the ESM build, and graphql rejects types created by "another module or realm".
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql") }],
  },
  test: {
    // The gateway must never phone home or probe cloud metadata addresses from a test. Processes
    // a test starts hash passwords at the floor cost (in-process stacks get it from
    // tests/support/users.ts): at production's cost a login took seconds on a loaded machine.
    env: {
      APOLLO_TELEMETRY_DISABLED: "true",
      NODE_ENV: "test",
      PASSWORD_HASH_COST: String(PASSWORD_HASH_COST.floor),
    },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // One test file at a time: on two cores the files' own servers, brokers and child processes
    // already use both; running two files side by side made timing-sensitive tests (breaker
    // timers, broker reconnects, pipeline waits) fail on a loaded CI machine.
    maxWorkers: 1,
    projects: [
      // Unit files share nothing (PGlite in memory, port 0), so two run side by side: the kind that
      // must stay fast uses both cores; the kinds below keep one file at a time.
      {
        extends: true,
        test: {
          name: "unit",
          include: ["tests/unit/**/*.test.ts"],
          globalSetup: ["tests/support/pglite-setup.ts"],
          maxWorkers: 2,
          // Each worker runs its files one after another in one module graph instead of importing
          // everything afresh per file: with isolation, imports alone took 66 s of the 114 s suite
          // (graphql, Apollo and PGlite per file). It requires that a unit file leaves nothing
          // behind for the next: real timers restored, process.env as it found it, no mocked or
          // stubbed globals, no process listeners, every server, PGlite and interval closed, and
          // no source module's state (a registry, a singleton) changed. tests/support/unit-isolation.ts
          // restores timers, mocks and env after each file as a safety net.
          isolate: false,
          setupFiles: ["tests/support/unit-isolation.ts"],
          sequence: { groupOrder: 0 },
        },
      },
      // In CI the global setup starts Kafka (scripts/kafka/kafka.ts; reuses a running one). Unit tests never need it.
      servicesProject("int", { groupOrder: 1 }),
      servicesProject("e2e", { groupOrder: 2 }),
      servicesProject("int", { groupOrder: 3, last: true }),
      servicesProject("e2e", { groupOrder: 4, last: true }),
    ],
  },
});
