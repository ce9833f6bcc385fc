import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * Run after the rest of the suite, one file at a time: whole-system runs that load the machine (the
 * distributed topology's 11 processes, the benchmark smoke test), and the broker restarts, whose
 * reconnect timings starved under a loaded machine in CI.
 */
const ALONE = ['tests/**/*.last.test.ts', 'tests/broker-restart.int.test.ts', 'tests/rabbit-restart.int.test.ts'];

export default defineConfig({
  resolve: {
    // Apollo's packages require() graphql's CommonJS build; without this alias vitest would give
    // our code the ESM build, and graphql rejects types created by "another module or realm".
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    globalSetup: ['tests/support/global-setup.ts'],
    // The gateway must never phone home or probe cloud metadata addresses from a test.
    env: { APOLLO_TELEMETRY_DISABLED: 'true', NODE_ENV: 'test' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One test file at a time: on two cores the files' own servers, brokers and child processes
    // already use both; running two files side by side made timing-sensitive tests (breaker
    // timers, broker reconnects, pipeline waits) fail on a loaded CI machine.
    maxWorkers: 1,
    projects: [
      { extends: true, test: { name: 'suite', include: ['tests/**/*.test.ts'], exclude: ALONE, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'last', include: ALONE, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
