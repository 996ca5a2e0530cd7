import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: run two files at a time; each file starts its own server and database.
    maxWorkers: 2,
    pool: 'forks',
  },
});
