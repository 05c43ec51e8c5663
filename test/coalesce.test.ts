/** lib/queues/coalesce against the real Redis: one addBulk per event-loop turn, each job stored before its caller hears back. */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { coalescingEnqueue } from '../lib/queues/coalesce';
import { createRedis } from '../lib/redis';
import { bullPrefix } from '../lib/queues';
import { TEST_REDIS_URL } from './helpers/env';

const prefix = bullPrefix(`cbtco${Date.now().toString(36)}`);
const connection = createRedis(TEST_REDIS_URL, 'producer');
let queue: Queue;
beforeAll(() => {
  queue = new Queue('webhooks', { connection, prefix });
});
afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
});

it('adds the jobs of one turn as one batch; each is in Redis when its promise resolves; a repeated id stays one job', async () => {
  const add = coalescingEnqueue(queue);
  const spy = { calls: 0 };
  const original = queue.addBulk.bind(queue);
  queue.addBulk = (jobs) => (spy.calls++, original(jobs));
  const ids = Array.from({ length: 40 }, (_, i) => `retell-c${i % 30}-call_ended`);
  const jobs = await Promise.all(ids.map((jobId, i) => add('call_ended', { i }, { jobId }).then(async (job) => (await queue.getJob(jobId))?.id ?? `missing ${job.id}`)));
  expect(jobs).toEqual(ids);
  expect(spy.calls).toBe(1);
  expect(await queue.getWaitingCount()).toBe(30);
  await add('call_ended', { late: true }, { jobId: 'retell-late' });
  expect(spy.calls).toBe(2);
});

it('a batch that cannot reach Redis fails every caller in it', async () => {
  const own = createRedis(TEST_REDIS_URL, 'producer');
  const closed = new Queue('webhooks', { connection: own, prefix });
  await closed.waitUntilReady();
  own.disconnect();
  const add = coalescingEnqueue(closed);
  const results = await Promise.allSettled([add('a', {}, { jobId: 'x1' }), add('a', {}, { jobId: 'x2' })]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect(await queue.getJob('x1')).toBeUndefined();
  await closed.close().catch(() => undefined);
}, 20_000);
