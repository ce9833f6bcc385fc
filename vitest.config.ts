import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";
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
      // Every project: one initialised PGlite per run, copied for each test file's database (tests/support/pglite.ts).
      {
        extends: true,
        test: {
          name: "unit",
          include: ["tests/unit/**/*.test.ts"],
          globalSetup: ["tests/support/pglite-setup.ts"],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      // In CI the global setup starts Kafka (scripts/kafka/kafka.ts; reuses a running one). Unit tests never need it.
      {
        extends: true,
        test: {
          name: "int",
          include: ["tests/int/**/*.test.ts"],
          exclude: [LAST],
          globalSetup: [
            "tests/support/pglite-setup.ts",
            "tests/support/global-setup.ts",
          ],
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.test.ts"],
          exclude: [LAST],
          globalSetup: [
            "tests/support/pglite-setup.ts",
            "tests/support/global-setup.ts",
          ],
          sequence: { groupOrder: 2 },
        },
      },
      {
        extends: true,
        test: {
          name: "int-last",
          include: [`tests/int/${LAST}`],
          globalSetup: [
            "tests/support/pglite-setup.ts",
            "tests/support/global-setup.ts",
          ],
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
      {
        extends: true,
        test: {
          name: "e2e-last",
          include: [`tests/e2e/${LAST}`],
          globalSetup: [
            "tests/support/pglite-setup.ts",
            "tests/support/global-setup.ts",
          ],
          fileParallelism: false,
          sequence: { groupOrder: 4 },
        },
      },
    ],
  },
});
