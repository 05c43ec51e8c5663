import { defineConfig } from 'vitest/config';

// Tests talk to the machine's real MariaDB and Redis; every file gets its own database and
// key prefix (test/helpers), so files may run in parallel on the two cores.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'test/chaos/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
