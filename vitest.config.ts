import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

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
    // Two cores: more workers than that only adds contention to PGlite boots and servers.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'suite', include: ['tests/**/*.test.ts'], exclude: ['tests/**/*.last.test.ts'], sequence: { groupOrder: 0 } } },
      // Whole-system runs that load the machine (the distributed topology's 11 processes, the
      // benchmark smoke test) go after the rest, one at a time, so they neither slow the suite's
      // timing-sensitive tests (breaker timers, broker restarts) nor are slowed by them.
      { extends: true, test: { name: 'last', include: ['tests/**/*.last.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
