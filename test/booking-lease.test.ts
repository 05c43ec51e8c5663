/**
 * The booking lock's lease and the POST, against real MariaDB and Redis and the Cal.com simulator.
 * An attempt whose process cannot reach Redis (its renewals fail) must have given up its POST
 * before the lease lapses: the attempt that takes the lock then asks Cal.com what arrived, and a
 * request still on its way would not show — on a round-robin event type its own POST would then
 * book a second host. The first test is the one a reviewer reproduced against the code before:
 * two Cal.com bookings for one call.
 */
import { eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { DateTime } from 'luxon';
import { beforeEach, describe, expect, it } from 'vitest';
import { appointments } from '../drizzle/schema';
import { executeBooking, type BookingLockTiming } from '../lib/booking/book';
import { bookingDeps } from '../lib/booking/deps';
import { BookingDeferred } from '../lib/booking/errors';
import { CalcomClient, CalcomError, type CalcomLimiter } from '../lib/calcom';
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

/** A's request timeout, and a lease scaled down from the defaults (timeout + renewal + margin). */
const TIMEOUT_MS = 3_000;
const TIMING: BookingLockTiming = { leaseMs: 4_500, renewMs: 1_000, marginMs: 500 };

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
  return { limiter: { acquire: () => (entered(Date.now()), gate) }, entered: enteredAt, release };
}

/** A partitioned attempt's deps: renewals fail, POSTs are held back `postDelayMs` on their way (aborting them stops them). */
function partitionedDeps(limiter: CalcomLimiter, postDelayMs: number) {
  const slowPost: typeof fetch = async (input, init) => {
    if (init?.method === 'POST') {
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
      redis: renewalsFail(env.ctx.redis),
      calcomTimeoutMs: TIMEOUT_MS,
      lockTiming: TIMING,
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
    // Held back 2.7 s on its way: within its own 3 s timeout, but past the moment the lease lapses.
    const a = executeBooking(partitionedDeps(held.limiter, 2_700), job).catch((e: unknown) => e);
    const enteredAt = await held.entered;
    // A posts with about 1.7 s left before the margin: more than half its timeout, so it is sent,
    // and cut at the lease's margin instead of running its full 3 s.
    await sleep(Math.max(0, enteredAt + 2_200 - Date.now()));
    held.release();
    await lockGone(job.idempotencyKey);
    // B takes over as soon as it can, finds nothing in Cal.com, posts, and books.
    const b = await executeBooking(bookingDeps(env.ctx, {}, 'defer'), job);
    expect(b.status).toBe('booked');
    const errA = await a;
    // Long after A's request would have reached Cal.com, had it been sent on.
    await sleep(1_500);
    expect(simBookingsFor(job.idempotencyKey)).toHaveLength(1);
    expect(errA).toBeInstanceOf(CalcomError);
    expect((errA as CalcomError).message).toMatch(/lease runs out/);
    expect((await rowFor(job.idempotencyKey))!.calcomBookingUid).toBe(simBookingsFor(job.idempotencyKey)[0]!.uid);
  });

  it('an attempt left less than half its request timeout by a lease it cannot renew sends nothing and leaves no mark', async () => {
    const job = await makeJob();
    const held = heldLimiter();
    const a = executeBooking(partitionedDeps(held.limiter, 0), job).catch((e: unknown) => e);
    const enteredAt = await held.entered;
    await sleep(Math.max(0, enteredAt + 3_000 - Date.now()));
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

  it('with renewals working, a POST gets its full timeout: a slow Cal.com answer within it books', async () => {
    const job = await makeJob();
    const held = heldLimiter();
    const slowPost: typeof fetch = async (input, init) => {
      if (init?.method === 'POST') await sleep(2_000);
      return fetch(input, init);
    };
    const deps = bookingDeps(env.ctx, {
      calcomTimeoutMs: TIMEOUT_MS,
      lockTiming: TIMING,
      clientFor: (k) => new CalcomClient({ baseUrl: env.ctx.config.CALCOM_API_URL, apiKey: k, limiter: held.limiter, timeoutMs: TIMEOUT_MS, fetch: slowPost }),
    });
    const booking = executeBooking(deps, job);
    // Posted 2.5 s into the lease: without its renewals it would be cut after about 1.5 s.
    const enteredAt = await held.entered;
    await sleep(Math.max(0, enteredAt + 2_500 - Date.now()));
    held.release();
    expect((await booking).status).toBe('booked');
    expect(simBookingsFor(job.idempotencyKey)).toHaveLength(1);
  });
});
