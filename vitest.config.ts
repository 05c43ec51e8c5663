import { defineConfig } from 'vitest/config';

// Tests talk to the machine's real MariaDB and Redis; every file gets its own database and
// key prefix (test/helpers), so files may run in parallel on the two cores. The reliability
// runs that start whole process sets (chaos-short, cluster) go last, one at a time, so they
// neither slow the timing-sensitive suites down nor are slowed by them. The long chaos runs
// (test/chaos/) are not part of `npm test`: `npm run test:chaos`.
const HEAVY = ['test/chaos-short.test.ts', 'test/cluster.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['**/*.test.ts'], exclude: ['node_modules/**', 'test/chaos/**', ...HEAVY], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'reliability', include: HEAVY, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
