/**
 * A company's Cal.com budget (CALCOM_RATE_LIMIT_PER_MINUTE per API key) shared between its booking
 * jobs and its live calls, against real MariaDB and Redis and the Cal.com simulator: jobs stop at
 * the budget less the requests reserved for calls and are deferred (delayed, no attempt spent, no
 * worker slot held, the POST's slot taken before the row is marked "request sent"); a live call
 * still gets through at once; an earlier attempt's mark is kept; a freed budget books exactly once
 * without asking Cal.com whether the refused request arrived; an attempt whose lock lapsed while it
 * waited does not post over another attempt's request.
 */
import { eq } from 'drizzle-orm';
import type { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../apps/ingress/app';
import { ingressDeps } from '../apps/ingress/deps';
import { appointments } from '../drizzle/schema';
import { executeBooking } from '../lib/booking/book';
import { bookingDeps } from '../lib/booking/deps';
import { BookingDeferred } from '../lib/booking/errors';
import { CalcomClient, CalcomRateLimiter, type CalcomLimiter } from '../lib/calcom';
import { cacheKeys } from '../lib/cache';
import { redisKeys } from '../lib/redis/keys';
import { jobIds, type BookingJob } from '../lib/queues';
import { startWorkers, type RunningWorkers } from '../workers';
import { bookingJobForNewCall, slotSequence } from './helpers/bookings';
import { CLINIC_NUMBER, SALON_NUMBER, CALLER, callId, retellEvent, signed } from './helpers/fixtures';
import { webhookDeliverer } from './helpers/webhooks';
import { CLINIC_KEY, SALON_KEY, useSimTestEnv, type SeededSim } from './helpers/calcom';
import type { TestEnv } from './helpers/env';

/** 6 requests a minute per key, 2 of them for calls: booking jobs may send 4. */
const LIMIT = 6;
const RESERVED = 2;

let env: TestEnv;
let sim: SeededSim;
let workers: RunningWorkers | undefined;

useSimTestEnv(
  { CALCOM_TIMEOUT_MS: '1500', CALCOM_RATE_LIMIT_PER_MINUTE: String(LIMIT), CALCOM_RATE_LIMIT_RESERVED_FOR_CALLS: String(RESERVED), CONCURRENCY_BOOKINGS: '1' },
  (started) => ({ sim, env } = started),
);
beforeEach(async () => {
  // Each test starts with the salon's event types cached (so a new row is inserted marked "sent")
  // and its whole budget.
  await freshBudgets();
  await executeBooking(bookingDeps(env.ctx), await makeJob());
  await freshBudgets();
});
afterEach(async () => {
  await workers?.close();
  workers = undefined;
});

const db = () => env.ctx.database.db;
const nextSlot = slotSequence();
const budgetKey = (apiKey = SALON_KEY) => new CalcomRateLimiter({ redis: env.ctx.redis, keyPrefix: env.ctx.ns }).keyFor(apiKey);
/** Both companies' whole budgets again (their windows and deferred turns dropped). */
async function freshBudgets(): Promise<void> {
  for (const key of [budgetKey(SALON_KEY), budgetKey(CLINIC_KEY)]) await env.ctx.redis.del(key, redisKeys.calcomRateLimitTurns(key));
}
const makeJob = (opts: { number?: string; service?: string; start?: DateTime } = {}): Promise<BookingJob> => bookingJobForNewCall(db(), (opts.start ?? nextSlot()).toUTC().toISO()!, opts);
const rowFor = async (key: string) => (await db().select().from(appointments).where(eq(appointments.idempotencyKey, key)))[0];
const simBookingsFor = (key: string) => sim.sim.bookings().filter((b) => b.metadata.callbook_key === key);
const salonRequests = () => sim.sim.requests().filter((r) => r.apiKey === SALON_KEY);

const deliver = webhookDeliverer(() => env.ctx);
let caller = 0;
/** The booking job a call_analyzed webhook queues (with its sealed customer), taken off the queue to run by hand. */
async function webhookJob(): Promise<BookingJob> {
  const start = nextSlot();
  const from = `+49151777${String(Date.now() % 10_000).padStart(4, '0')}${String(caller++).padStart(2, '0')}`;
  const analysis = { booking_confirmed: true, appointment_datetime: start.toFormat("yyyy-MM-dd'T'HH:mm:ss"), service: 'Haarschnitt', customer_name: 'Snap' };
  const outcome = await deliver(retellEvent('call_analyzed', { callId: callId(), from, analysis }));
  const key = (outcome as { decision: { idempotencyKey: string } }).decision.idempotencyKey;
  const queued = (await env.ctx.queues.bookings.getJob(jobIds.booking(key)))!;
  await queued.remove();
  return queued.data as BookingJob;
}

/** Takes the salon's background budget until `left` requests of it remain. */
async function spendBackgroundBudget(left: number): Promise<void> {
  const background = new CalcomRateLimiter({ redis: env.ctx.redis, keyPrefix: env.ctx.ns, limitPerMinute: LIMIT, reservedForCalls: RESERVED });
  let taken = 0;
  while ((await env.ctx.redis.zcard(budgetKey())) < LIMIT - RESERVED - left) {
    expect(await background.tryAcquire(SALON_KEY)).toBe(0);
    if (++taken > LIMIT) throw new Error('budget did not fill');
  }
}

async function waitState(jobId: string, states: string[], ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const job = await env.ctx.queues.bookings.getJob(jobId);
    const state = job ? await job.getState() : 'missing';
    // Read again: the job object fetched before its state changed holds the old attempts.
    if (states.includes(state)) return { job: (await env.ctx.queues.bookings.getJob(jobId))!, state };
    if (Date.now() > end) throw new Error(`job ${jobId} is ${state}, not ${states.join('/')}, after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Cal.com budget: booking jobs defer, live calls go first', () => {
  it('a job past the background budget is delayed without an attempt and without holding its slot; a live call still books at once; the freed budget books it once', async () => {
    await spendBackgroundBudget(0);
    workers = startWorkers(env.ctx, ['bookings']);
    const salon = await makeJob();
    const salonId = jobIds.booking(salon.idempotencyKey);
    await env.ctx.queues.bookings.add('book', salon, { jobId: salonId });
    const { job: delayed } = await waitState(salonId, ['delayed']);
    expect(delayed.attemptsMade).toBe(0);
    // The retry is due when the first request of the window leaves it (about 60 s), not now.
    expect(delayed.timestamp + delayed.delay).toBeGreaterThan(Date.now() + 50_000);
    // Refused before anything was written: no request left, no row says "sent" (there is no row
    // yet), so the next attempt posts without first asking Cal.com about it.
    expect(simBookingsFor(salon.idempotencyKey)).toHaveLength(0);
    expect(await rowFor(salon.idempotencyKey)).toBeUndefined();

    // One worker slot (CONCURRENCY_BOOKINGS=1): another company's booking is not stuck behind it.
    const clinic = await makeJob({ number: CLINIC_NUMBER, service: 'checkup' });
    await env.ctx.queues.bookings.add('book', clinic, { jobId: jobIds.booking(clinic.idempotencyKey) });
    expect((await waitState(jobIds.booking(clinic.idempotencyKey), ['completed'])).state).toBe('completed');

    // The salon's caller is on the line: the requests reserved for calls answer it at once.
    const app = createApp(ingressDeps(env.ctx));
    const body = JSON.stringify({ call_id: callId(), to_number: SALON_NUMBER, from_number: CALLER, when: nextSlot().setLocale('de').toFormat("dd.MM.yyyy 'um' HH:mm 'Uhr'") });
    const t0 = Date.now();
    const res = await app.request('/functions/retell/check_availability', { method: 'POST', body, headers: await signed(body) });
    expect(res.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(((await res.json()) as { status: string }).status).not.toBe('error');

    // The window frees: the job books once, with no look-up for a request that never left.
    await env.ctx.redis.del(budgetKey());
    const before = salonRequests().length;
    await delayed.promote();
    expect((await waitState(salonId, ['completed'])).job.attemptsMade).toBe(1);
    expect(simBookingsFor(salon.idempotencyKey)).toHaveLength(1);
    expect(salonRequests().slice(before).map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v2/bookings']);
    expect(await rowFor(salon.idempotencyKey)).toMatchObject({ status: 'booked', attempts: 1 });
  });

  it('a mark from an earlier attempt stays when the retry is refused before its post', async () => {
    const job = await makeJob();
    const deferring = bookingDeps(env.ctx, {}, 'defer');
    // Attempt 1: the post meets a 500, so it may have arrived; the row keeps "request sent".
    sim.sim.setFaults({ errorRatio: 1 }, SALON_KEY);
    await expect(executeBooking(deferring, job)).rejects.toThrow();
    sim.sim.clearFaults();
    const marked = (await rowFor(job.idempotencyKey))!.calcomRequestSentAt;
    expect(marked).not.toBeNull();

    // Attempt 2: one request left: the look-up for attempt 1's booking takes it, the post is refused.
    await spendBackgroundBudget(1);
    const before = salonRequests().length;
    const err = await executeBooking(deferring, job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BookingDeferred);
    expect((err as BookingDeferred).reason).toMatch(/budget/);
    expect(salonRequests().slice(before).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v2/bookings']);
    expect(await rowFor(job.idempotencyKey)).toMatchObject({ calcomRequestSentAt: marked, attempts: 1 });

    await env.ctx.redis.del(budgetKey());
    expect((await executeBooking(deferring, job)).status).toBe('booked');
    expect(simBookingsFor(job.idempotencyKey)).toHaveLength(1);
  });

  it('an attempt whose lock lapsed while it waited for its budget does not post over the request another attempt sent meanwhile', async () => {
    // The clinic's round-robin event type with a second host, as a real practice has: a second
    // post for the same slot would be accepted, so a duplicate would show.
    sim.sim.addAccount({ apiKey: 'cal_second_host', username: 'clinic-second', timeZone: 'Europe/Berlin', teamIds: [77] });
    await executeBooking(bookingDeps(env.ctx), await makeJob({ number: CLINIC_NUMBER, service: 'checkup' })); // event types cached
    const job = await makeJob({ number: CLINIC_NUMBER, service: 'checkup' });
    // Attempt 0 leaves a pending row nobody has posted for: its event types could not be read.
    await env.ctx.cache.invalidate(cacheKeys.eventTypes(job.companyId));
    await freshBudgets();
    sim.sim.setFaults({ errorRatio: 1 });
    await expect(executeBooking(bookingDeps(env.ctx), job)).rejects.toThrow();
    sim.sim.clearFaults();
    await freshBudgets();
    await executeBooking(bookingDeps(env.ctx), await makeJob({ number: CLINIC_NUMBER, service: 'checkup' })); // cached again
    await freshBudgets();
    expect(await rowFor(job.idempotencyKey)).toMatchObject({ status: 'pending', calcomRequestSentAt: null, attempts: 0 });

    // Attempt A waits for its POST's slot (Redis slow for this process) ...
    let admit!: () => void;
    const gate = new Promise<void>((r) => (admit = r));
    let waiting!: () => void;
    const inLimiter = new Promise<void>((r) => (waiting = r));
    const slow: CalcomLimiter = { acquire: () => (waiting(), gate) };
    const depsA = bookingDeps(env.ctx, { clientFor: (k) => new CalcomClient({ baseUrl: env.ctx.config.CALCOM_API_URL, apiKey: k, limiter: slow }) }, 'defer');
    const a = executeBooking(depsA, job).catch((e: unknown) => e);
    await inLimiter;
    // ... long enough for its lease to lapse; attempt B takes over, marks, posts, and loses the answer.
    await env.ctx.redis.del(env.ctx.ns + redisKeys.bookingLock(job.idempotencyKey));
    const dropPost: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      if (init?.method === 'POST') headers.set('x-sim-fault', 'drop');
      return fetch(input, { ...init, headers });
    };
    const depsB = bookingDeps(env.ctx, { clientFor: (k) => new CalcomClient({ baseUrl: env.ctx.config.CALCOM_API_URL, apiKey: k, fetch: dropPost }) }, 'call');
    await expect(executeBooking(depsB, job)).rejects.toThrow();
    expect(simBookingsFor(job.idempotencyKey)).toHaveLength(1);

    // A gets its slot: the row is no longer as A read it, so A does not post.
    admit();
    const errA = await a;
    expect(errA).toBeInstanceOf(BookingDeferred);
    expect((errA as BookingDeferred).reason).toMatch(/another attempt sent a request/);
    expect(simBookingsFor(job.idempotencyKey)).toHaveLength(1);
    // B's POST got no answer, so B kept the lock for the margin (Cal.com may still be at it). Then
    // the retry looks first and finds B's booking.
    const lockKey = env.ctx.ns + redisKeys.bookingLock(job.idempotencyKey);
    expect(await env.ctx.redis.pttl(lockKey)).toBeGreaterThan(0);
    for (const end = Date.now() + 5_000; await env.ctx.redis.exists(lockKey); ) {
      if (Date.now() > end) throw new Error('B kept the lock past the margin');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await executeBooking(bookingDeps(env.ctx, {}, 'defer'), job)).status).toBe('booked');
    expect(simBookingsFor(job.idempotencyKey)).toHaveLength(1);
    expect((await rowFor(job.idempotencyKey))!.calcomBookingUid).toBe(simBookingsFor(job.idempotencyKey)[0]!.uid);
  });

  it('a retried job that carries its customer (every webhook job does) spends the slots its requests need and no more', async () => {
    const job = await webhookJob();
    expect(job.sealedCustomer).toBeDefined();
    const deferring = bookingDeps(env.ctx, {}, 'defer');
    // Attempt 1 posts and meets a 500: the row stays, marked "sent".
    sim.sim.setFaults({ errorRatio: 1 }, SALON_KEY);
    await expect(executeBooking(deferring, job)).rejects.toThrow();
    sim.sim.clearFaults();
    expect(await rowFor(job.idempotencyKey)).toMatchObject({ attempts: 1 });
    // Attempt 2 finds the row (its insert does not take) and reads it: exactly the two slots the
    // look-up and the POST need are enough.
    await freshBudgets();
    await spendBackgroundBudget(2);
    const before = salonRequests().length;
    expect((await executeBooking(deferring, job)).status).toBe('booked');
    expect(salonRequests().slice(before).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v2/bookings', 'POST /v2/bookings']);
    expect(await env.ctx.redis.zcard(budgetKey())).toBe(LIMIT - RESERVED);
    expect(simBookingsFor(job.idempotencyKey)).toHaveLength(1);
  });

  it('background work that waits (sync, erasure, operators) leaves the reserve alone; a call may use it', async () => {
    await spendBackgroundBudget(0);
    const opts = { redis: env.ctx.redis, keyPrefix: env.ctx.ns, limitPerMinute: LIMIT, reservedForCalls: RESERVED };
    expect(await new CalcomRateLimiter(opts).tryAcquire(SALON_KEY)).toBeGreaterThan(50_000);
    const forCalls = new CalcomRateLimiter({ ...opts, forCalls: true });
    expect(await forCalls.tryAcquire(SALON_KEY)).toBe(0);
    expect(await forCalls.tryAcquire(SALON_KEY)).toBe(0);
    expect(await forCalls.tryAcquire(SALON_KEY)).toBeGreaterThan(50_000); // the whole budget is spent now
  });
});
