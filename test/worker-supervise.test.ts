/**
 * workers/supervise on the machine's Redis with real BullMQ workers: a worker that stops taking
 * jobs while jobs wait is replaced and the jobs run; a busy worker, a queue the operator paused
 * and an idle queue are left alone. The wedge itself (a cluster master restarted under load) is
 * not reproducible on demand; a worker paused locally stops taking jobs the same way, as seen
 * from outside BullMQ's loop, which is all the supervisor looks at.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue, Worker, type Job } from 'bullmq';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { workerReplacedTotal } from '../lib/metrics';
import { createRedis, deleteKeys, scanKeys, type Redis } from '../lib/redis';
import { superviseWorker, type SupervisedWorker } from '../workers/supervise';
import { TEST_REDIS_URL } from './helpers/env';

const prefix = `{sv-${randomBytes(4).toString('hex')}}`;
const opened: Array<{ close(): Promise<unknown> }> = [];
const conns: Redis[] = [];

afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close().catch(() => undefined);
  const admin = createRedis(TEST_REDIS_URL, 'client');
  await deleteKeys(admin, await scanKeys(admin, `${prefix}*`));
  admin.disconnect();
  for (const c of conns.splice(0)) c.disconnect();
});

function setup(o: { concurrency: number; jobMs: number; wedgeMs?: number; wedgeFresh?: boolean }) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _e, cb) => (lines.push(JSON.parse(String(chunk))), cb()) }));
  const name = `q${randomBytes(3).toString('hex')}`;
  const producer = createRedis(TEST_REDIS_URL, 'client');
  conns.push(producer);
  const queue = new Queue(name, { connection: producer, prefix });
  opened.push(queue);
  const done: string[] = [];
  const fresh: boolean[] = [];
  const disposed: Worker[] = [];
  const sv: SupervisedWorker = superviseWorker({
    queue,
    concurrency: o.concurrency,
    wedgeMs: o.wedgeMs ?? 1_000,
    logger,
    abandonAfterMs: 1_000,
    async process(job: Job<{ ms?: number }>) {
      await new Promise((r) => setTimeout(r, job.data.ms ?? o.jobMs));
      done.push(String(job.id));
    },
    create(process, isFresh) {
      fresh.push(isFresh);
      const connection = createRedis(TEST_REDIS_URL, 'worker');
      conns.push(connection);
      const worker = new Worker(name, process, { connection, prefix, concurrency: o.concurrency, drainDelay: 1, lockDuration: 2_000, stalledInterval: 2_000 });
      // A stall that a fresh worker does not cure: every replacement stops too.
      if (isFresh && o.wedgeFresh) void worker.pause(true);
      return worker;
    },
    dispose(worker) {
      disposed.push(worker);
    },
  });
  opened.push(sv);
  return { queue, sv, done, fresh, disposed, lines, name };
}

const replaced = async (queue: string) => (await workerReplacedTotal.get()).values.find((v) => v.labels.queue === queue)?.value ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

it('a worker that takes no job while jobs wait and it has free slots is replaced; the jobs run, the one it held runs once', async () => {
  const s = setup({ concurrency: 3, jobMs: 10 });
  await s.sv.current.waitUntilReady();
  const first = s.sv.current;
  await s.queue.add('j', {}, { jobId: 'before' });
  await until('the first job', () => s.done.includes('before'), 5_000);
  // A long job is under way when the worker stops taking jobs (as a wedged one does); jobs arrive.
  await s.queue.add('j', { ms: 4_000 }, { jobId: 'held' });
  await until('the held job to start', async () => (await s.queue.getJobCounts('active')).active === 1, 5_000);
  await first.pause(true);
  for (let i = 0; i < 5; i++) await s.queue.add('j', {}, { jobId: `after-${i}` });
  await until('all five jobs', () => s.done.filter((id) => id.startsWith('after-')).length === 5, 8_000);
  expect(s.sv.current).not.toBe(first);
  expect(s.fresh).toEqual([false, true]);
  expect(await replaced(s.name)).toBe(1);
  // The replaced worker is closed gently: the job it held finishes there, is recorded, and is not run again.
  await until('the held job', async () => (await s.queue.getJob('held'))?.finishedOn !== undefined, 8_000);
  const held = (await s.queue.getJob('held'))!;
  expect(await held.getState()).toBe('completed');
  expect(held.attemptsStarted).toBe(1);
  expect(s.done.filter((id) => id === 'held')).toEqual(['held']);
  await until('the replaced worker to be let go', () => s.disposed.includes(first), 5_000);
  expect(first.isRunning()).toBe(false);
  const log = s.lines.find((l) => l.level === 50);
  // The paused worker's fetch in flight may still take one job; the rest waited.
  expect(log).toMatchObject({ queue: s.name, generation: 1 });
  expect(log!.waiting as number).toBeGreaterThanOrEqual(4);
  expect(log!.idleMs as number).toBeGreaterThanOrEqual(1_000);
});

it('a worker whose slots are all busy is not replaced, however long jobs wait', async () => {
  const s = setup({ concurrency: 1, jobMs: 3_000 });
  await s.sv.current.waitUntilReady();
  for (let i = 0; i < 3; i++) await s.queue.add('j', {}, { jobId: `busy-${i}` });
  await until('two jobs', () => s.done.length === 2, 10_000);
  expect(s.fresh).toEqual([false]);
  expect(await replaced(s.name)).toBe(0);
});

it('a queue the operator paused, and an idle queue, leave the worker alone', async () => {
  const s = setup({ concurrency: 2, jobMs: 10 });
  await s.sv.current.waitUntilReady();
  await sleep(2_000); // idle: nothing waits
  await s.queue.pause();
  for (let i = 0; i < 3; i++) await s.queue.add('j', {}, { jobId: `paused-${i}` });
  await sleep(2_500);
  expect(s.done).toEqual([]);
  expect(s.fresh).toEqual([false]);
  await s.queue.resume();
  await until('the jobs after resume', () => s.done.length === 3, 5_000);
  expect(s.fresh).toEqual([false]);
  expect(await replaced(s.name)).toBe(0);
});

it('a stall a fresh worker does not cure is replaced again with a doubling window, and each replaced worker is let go', async () => {
  const s = setup({ concurrency: 2, jobMs: 10, wedgeMs: 500, wedgeFresh: true });
  await s.sv.current.waitUntilReady();
  await s.sv.current.pause(true);
  for (let i = 0; i < 3; i++) await s.queue.add('j', {}, { jobId: `stuck-${i}` });
  await sleep(6_000);
  const errors = s.lines.filter((l) => l.level === 50);
  // Windows of 0.5, 1, 2, 4 s (plus a check of 250 ms each): at most four in 6 s, where a fixed
  // window would have replaced eight times.
  expect(errors.length).toBeGreaterThanOrEqual(2);
  expect(errors.length).toBeLessThanOrEqual(4);
  expect(errors.map((e) => e.nextWindowMs)).toEqual([500, 1_000, 2_000, 4_000].slice(0, errors.length));
  expect(String(errors[1]!.msg)).toMatch(/still took no job after being replaced/);
  expect(await replaced(s.name)).toBe(errors.length);
  // Every worker but the current one is closed and handed to dispose.
  await until('the replaced workers to be let go', () => s.disposed.length === errors.length, 5_000);
  expect(s.disposed).not.toContain(s.sv.current);
});
