/**
 * The full chaos run (`npm run test:chaos`; not part of `npm test`): CHAOS_CALLS calls (default
 * 5,000) through the Procfile's processes while workers are killed, Redis restarts and Cal.com
 * fails. CHAOS_CLUSTER=1 runs it on a 3-master Redis Cluster; CHAOS_SEED replays a storm.
 */
import { expect, it } from 'vitest';
import { printFigures, runChaos } from './harness';

const calls = Number(process.env.CHAOS_CALLS ?? 5_000);
const cluster = process.env.CHAOS_CLUSTER === '1';

it(`${calls} calls survive kill -9, a Redis restart and a failing Cal.com${cluster ? ' (Redis Cluster)' : ''}`, async () => {
  const report = await runChaos({
    calls,
    cluster,
    concurrency: 32,
    killEveryMs: [3_000, 6_000],
    redisRestartAt: 0.4,
    faults: { errorRatio: 0.1, hangRatio: 0.02, dropAfterOkRatio: 0.02 },
    burstEveryMs: 7_000,
    burst429: 25,
    // Generous: on a 2-core machine shared with other work the backlog alone can take minutes.
    backlogTimeoutMs: 600_000,
    quiesceTimeoutMs: 600_000,
  });
  printFigures(`chaos: ${calls} calls${cluster ? ' on a Redis Cluster' : ''}`, report);
  expect(report.violations).toEqual([]);
  expect(Number(report.figures.kills)).toBeGreaterThan(0);
  expect(Number(report.figures.redis_restarts)).toBe(1);
});
