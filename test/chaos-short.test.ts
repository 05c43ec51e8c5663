/**
 * The short chaos run `npm test` includes: the same harness as test/chaos (own redis-server with
 * AOF, the Procfile's processes as OS processes, the Cal.com simulator as a process), 150 calls
 * with duplicates, bad signatures and shuffled order, one kill -9 of a worker, one Redis restart,
 * 5xx/hang/drop faults and a 429 burst; then exactly one booking per call that asked for one.
 */
import { expect, it } from 'vitest';
import { printFigures, runShortChaos } from './chaos/harness';

it('150 calls survive a kill -9, a Redis restart and a failing Cal.com: one booking per call that asked', async () => {
  const report = await runShortChaos({ calls: 150, concurrency: 16, minDurationMs: 4_500, redisRestartAt: 0.6, burstEveryMs: 2_500 });
  printFigures('chaos (short): 150 calls', report);
  expect(report.violations).toEqual([]);
  expect(report.figures.kills).toBe(1);
  expect(report.figures.redis_restarts).toBe(1);
}, 240_000);
