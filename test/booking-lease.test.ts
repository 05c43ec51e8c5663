/**
 * The booking lock's lease and the POST, against real MariaDB and Redis and the Cal.com simulator.
 * An attempt whose process cannot reach Redis (its renewals fail) must have given up its POST
 * before the lease lapses: the attempt that takes the lock then asks Cal.com what arrived, and a
 * request still on its way would not show — on a round-robin event type its own POST would then
 * book a second host. The first test is the one a reviewer reproduced against the code before:
 * two Cal.com bookings for one call; the clock-step and lost-lock tests came from the review of
 * the fix. Times are scaled down (a 5 s request timeout, a 6 s lease renewed every second).
 */
import { eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { appointments } from '../drizzle/schema';
import { executeBooking, type BookingLockTiming } from '../lib/booking/book';
import { bookingDeps } from '../lib/booking/deps';
import { BookingDeferred } from '../lib/booking/errors';
import { CalcomClient, type CalcomLimiter } from '../lib/calcom';
import { isTransient } from '../lib/live/common';
import { redisKeys } from '../lib/redis/keys';
import type { BookingJob } from '../lib/queues';
import { bookingJobForNewCall, slotSequence } from './helpers/bookings';
import { CLINIC_NUMBER } from './helpers/fixtures';
import { useSimTestEnv, type SeededSim } from './helpers/calcom';
import type { TestEnv } from './helpers/env';

let env: TestEnv;
let sim: SeededSim;
useSimTestEnv({}, (started) => ({ sim, env } = started));

const db = () => env.ctx.database.db;
const nextSlot = slotSequence();
const makeJob = (start?: DateTime): Promise<BookingJob> => bookingJobForNewCall(db(), (start ?? nextSlot()).toUTC().toISO()!, { number: CLINIC_NUMBER, service: 'checkup' });
const rowFor = async (key: string) => (await db().select().from(appointments).where(eq(appointments.idempotencyKey, key)))[0];
const simBookingsFor = (key: string) => sim.sim.bookings().filter((b) => b.metadata.callbook_key === key);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A's request timeout, and a lease scaled down from the defaults (timeout + renewal + margin, with room for a slow machine). */
const TIMEOUT_MS = 5_000;
const TIMING: BookingLockTiming = { leaseMs: 6_000, renewMs: 1_000, marginMs: 500 };
const sleepUntil = (t: number) => sleep(Math.max(0, t - performance.now()));

/** The process's Redis as seen from a partition: every lease renewal fails, everything else works. */
function renewalsFail(redis: Redis): Redis {
  return new Proxy(redis, {
    get(target, prop, receiver) {
      if (prop === 'eval') {
        return (script: string, ...rest: unknown[]) =>
          script.includes('PEXPIRE') ? Promise.reject(new Error('Connection is closed.')) : (target.eval as (...a: unknown[]) => Promise<unknown>)(script, ...rest);
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A limiter that holds the attempt until `release` — where it stands just before it marks and posts. */
function heldLimiter(): { limiter: CalcomLimiter; entered: Promise<number>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: (t: number) => void;
  const enteredAt = new Promise<number>((r) => (entered = r));
  return { limiter: { acquire: () => (entered(performance.now()), gate) }, entered: enteredAt, release };
}

/** A's deps: POSTs held back `postDelayMs` on their way (aborting them stops them); renewals fail unless `renewals`. */
function partitionedDeps(limiter: CalcomLimiter, postDelayMs: number, opts: { renewals?: boolean; lockTiming?: BookingLockTiming; onPost?: () => void } = {}) {
  const slowPost: typeof fetch = async (input, init) => {
    if (init?.method === 'POST') {
      opts.onPost?.();
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, postDelayMs);
        init.signal?.addEventListener('abort', () => (clearTimeout(t), reject(init.signal!.reason)), { once: true });
      });
    }
    return fetch(input, init);
  };
  return bookingDeps(
    env.ctx,
    {
      ...(opts.renewals ? {} : { redis: renewalsFail(env.ctx.redis) }),
      calcomTimeoutMs: TIMEOUT_MS,
      lockTiming: opts.lockTiming ?? TIMING,
      clientFor: (k) => new CalcomClient({ baseUrl: env.ctx.config.CALCOM_API_URL, apiKey: k, limiter, timeoutMs: TIMEOUT_MS, fetch: slowPost }),
    },
    'defer',
  );
}

async function lockGone(key: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (await env.ctx.redis.exists(env.ctx.ns + redisKeys.bookingLock(key))) {
    if (Date.now() > end) throw new Error('the lease did not lapse');
    await sleep(20);
  }
}

afterEach(() => vi.restoreAllMocks());
beforeEach(async () => {
  // The clinic's round-robin event type gets a second host, as a real practice has: a second POST
  // for the same slot would be accepted, so a duplicate shows. Its event types are cached.
  sim.sim.addAccount({ apiKey: 'cal_second_host', username: 'clinic-second', timeZone: 'Europe/Berlin', teamIds: [77] });
  await executeBooking(bookingDeps(env.ctx), await makeJob());
});

describe('booking lock lease and the POST', () => {
  it('a POST started late in a lease that cannot be renewed is given up before the lease lapses: the attempt that takes over books once', async () => {
    const job = await makeJob();
    const held = heldLimiter();
    // Held back 4 s on its way: within its own 5 s timeout, but past the moment the lease lapses.
    const a = executeBooking(partitionedDeps(held.limiter, 4_000), job).catch((e: unknown) => e);
    // About 3 s left before the margin when it posts: more than half its timeout, so it is sent,
    // and cut at the lease's margin instead of running its full 5 s.
    await sleepUntil((await held.entered) + 2_500);
    held.release();
    await lockGone(job.idempotencyKey);
    // B takes over as soon as it can, finds nothing in Cal.com, posts, and books.
    const b = await executeBooking(bookingDeps(env.ctx, {}, 'defer'), job);
    expect(b.status).toBe('booked');
    const errA = await a;
    // Long after A's request would have reached Cal.com, had it been sent on.
    await sleep(2_000);
    expect(simBookingsFor(job.idempotencyKey)).toHaveLength(1);
    // A's retry, not a failure: a live call hears "try again in a moment".
    expect(errA).toBeInstanceOf(BookingDeferred);
    expect((errA as BookingDeferred).reason).toMatch(/POST was given up: the booking lock could not be kept/);
    expect(isTransient(errA)).toBe(true);
  });

  it('a wall-clock step back while the POST is on its way does not move the lease’s end', async () => {
    const job = await makeJob();
    const held = heldLimiter();
    const realNow = Date.now.bind(Date);
    // NTP steps the clock back 2 s just as the request leaves.
    const deps = partitionedDeps(held.limiter, 4_000, { onPost: () => void vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 2_000) });
    const a = executeBooking(deps, job).catch((e: unknown) => e);
    await sleepUntil((await held.entered) + 2_500);
    held.release();
    await lockGone(job.idempotencyKey);
    vi.restoreAllMocks();
    expect((await executeBooking(bookingDeps(env.ctx, {}, 'defer'), job)).status).toBe('booked');
    expect(await a).toBeInstanceOf(BookingDeferred);
    await sleep(2_000);
    expect(simBookingsFor(job.idempotencyKey)).toHaveLength(1);
  });

  it('a renewal that finds the lock gone from Redis (failover, lost data, eviction) stops the attempt before it posts', async () => {
    const job = await makeJob();
    const held = heldLimiter();
    let posts = 0;
    // Redis is reachable and renewals run (every 300 ms), but the key is lost.
    const deps = partitionedDeps(held.limiter, 2_000, { renewals: true, lockTiming: { leaseMs: 6_000, renewMs: 300, marginMs: 500 }, onPost: () => void posts++ });
    const a = executeBooking(deps, job).catch((e: unknown) => e);
    await held.entered;
    await env.ctx.redis.del(env.ctx.ns + redisKeys.bookingLock(job.idempotencyKey));
    await sleep(1_000);
    held.release();
    const errA = await a;
    expect(errA).toBeInstanceOf(BookingDeferred);
    expect((errA as BookingDeferred).reason).toMatch(/could not be renewed lately|could not be kept/);
    expect(posts).toBe(0);
    expect((await executeBooking(bookingDeps(env.ctx, {}, 'defer'), job)).status).toBe('booked');
    await sleep(2_500);
    expect(simBookingsFor(job.idempotencyKey)).toHaveLength(1);
  });

  it('an attempt left less than half its request timeout by a lease it cannot renew sends nothing and leaves no mark', async () => {
    const job = await makeJob();
    const held = heldLimiter();
    const a = executeBooking(partitionedDeps(held.limiter, 0), job).catch((e: unknown) => e);
    // At most 2 s left before the margin: less than half of 5 s.
    await sleepUntil((await held.entered) + 3_500);
    held.release();
    const errA = await a;
    expect(errA).toBeInstanceOf(BookingDeferred);
    expect((errA as BookingDeferred).reason).toMatch(/could not be renewed/);
    expect(simBookingsFor(job.idempotencyKey)).toHaveLength(0);
    // A new row is inserted marked only with its POST: none was inserted, so the retry posts without asking first.
    expect(await rowFor(job.idempotencyKey)).toBeUndefined();
    await lockGone(job.idempotencyKey);
    expect((await executeBooking(bookingDeps(env.ctx, {}, 'defer'), job)).status).toBe('booked');
    expect(simBookingsFor(job.idempotencyKey)).toHaveLength(1);
  });

  it('with renewals working, a POST late in the first lease still gets its full time: a slow Cal.com answer within it books', async () => {
    const job = await makeJob();
    const held = heldLimiter();
    // Posted 4 s into the lease: without its renewals it would not be sent at all (1.5 s left).
    const a = executeBooking(partitionedDeps(held.limiter, 3_000, { renewals: true }), job);
    await sleepUntil((await held.entered) + 4_000);
    held.release();
    expect((await a).status).toBe('booked');
    expect(simBookingsFor(job.idempotencyKey)).toHaveLength(1);
  });

  it('after a POST with no answer the lock is kept for the margin, so the next attempt does not ask Cal.com at once', async () => {
    const job = await makeJob();
    const deps = bookingDeps(env.ctx, {
      calcomTimeoutMs: 1_000,
      lockTiming: { leaseMs: 6_000, renewMs: 1_000, marginMs: 2_000 },
      clientFor: (k) => new CalcomClient({ baseUrl: env.ctx.config.CALCOM_API_URL, apiKey: k, timeoutMs: 1_000, fetch: async (input, init) => {
        const headers = new Headers(init?.headers);
        if (init?.method === 'POST') headers.set('x-sim-fault', 'hang');
        return fetch(input, { ...init, headers });
      } }),
    });
    await expect(executeBooking(deps, job)).rejects.toThrow(/no answer within 1000 ms/);
    const ttl = await env.ctx.redis.pttl(env.ctx.ns + redisKeys.bookingLock(job.idempotencyKey));
    expect(ttl).toBeGreaterThan(1_000);
    expect(ttl).toBeLessThanOrEqual(2_000);
    await expect(executeBooking(bookingDeps(env.ctx, {}, 'defer'), job)).rejects.toThrow(/another attempt for this booking is in progress/);
    await lockGone(job.idempotencyKey);
    expect((await executeBooking(bookingDeps(env.ctx, {}, 'defer'), job)).status).toBe('booked');
    expect(simBookingsFor(job.idempotencyKey)).toHaveLength(1);
  });
});
