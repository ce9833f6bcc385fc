import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The gateway must never phone home or probe cloud metadata addresses from a test.
    env: { APOLLO_TELEMETRY_DISABLED: 'true', NODE_ENV: 'test' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: more workers than that only adds contention to PGlite boots and servers.
    maxWorkers: 2,
  },
});
