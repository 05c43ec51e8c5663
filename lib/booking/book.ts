/**
 * Books one appointment in Cal.com exactly once. The same function serves the bookings worker
 * and (later) live-call functions, so every path shares the idempotency key and its guards:
 *
 * 1. the appointments row (unique idempotency key) — booked rows are answered from the database;
 * 2. a Redis lock per key — two attempts for one key never run side by side;
 * 3. `mcp:calcom:booking:<key>` in Redis (24 h) — the uid as soon as Cal.com answers, before our
 *    commit, so a crash after the answer is repaired without asking Cal.com again;
 * 4. `calcom_request_sent_at` — set before the request leaves; a later attempt that finds it set
 *    reconciles with Cal.com (list bookings of that event type and window, match our key in
 *    `metadata`) before it may post again. Cal.com has no idempotency key of its own.
 */
import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { luxonZone } from '../datetime/zone';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { cacheKeys, redisKeys, TTL_MS, type TieredCache } from '../cache';
import { CALCOM_DEFAULT_TIMEOUT_MS, CalcomBudgetSpent, CalcomClient, CalcomError, isServiceFailure, type CalBooking } from '../calcom';
import type { Cipher } from '../crypto';
import type { Db } from '../db';
import type { LiveEvent } from '../events';
import { appointmentsCreatedTotal, bookingTotal, callsProcessedTotal } from '../metrics';
import { confirmationSnapshotSchema, sealConfirmation, type ConfirmationSnapshot } from '../notifications/snapshot';
import { fitsIdPayload, jobIds, type BookingJob, type NotificationJob } from '../queues';
import { BreakerOpenError, type RedisBreaker } from '../resilience';
import { describeSlots, nearestFreeSlots } from './alternatives';
import { findByKey, findCustomerAndAppointment, insertPending, insertPendingFor, markBooked, markFailed, markRequestSent, type AppointmentRow } from './appointment-store';
import { openCustomerSnapshot, type CustomerSnapshot } from './customer-snapshot';
import { BookingDeferred, BookingRejected } from './errors';
import { cachedCatalogue, checkService, loadCatalogue } from './event-types';
import { BookingInputError, bookingContext, type BookingContext, type CustomerRow } from './load';
import { redactText } from '../errors/redact';

export interface BookingDeps {
  db: Db;
  redis: Redis;
  ns: string;
  cipher: Cipher;
  cache: TieredCache;
  logger: Logger;
  breaker: RedisBreaker;
  clientFor: (apiKey: string) => CalcomClient;
  notificationsQueue?: Queue;
  /** Live updates (/events). */
  publish?: (event: LiveEvent) => Promise<void>;
  /** Test seam: runs after Cal.com accepted and before our commit (to simulate a crash there). */
  afterCalcomAccepted?: (uid: string) => Promise<void>;
  /** CALCOM_TIMEOUT_MS, which the booking lock's lease must outlast (default: the client's 10 s). */
  calcomTimeoutMs?: number;
  /** The booking lock's lease, renewal and margin (default: `bookingLockTiming(calcomTimeoutMs)`); tests shorten them. */
  lockTiming?: BookingLockTiming;
}

export interface BookingResult {
  status: 'booked' | 'already_booked';
  appointmentId: number;
  uid: string;
  start: string;
}

/**
 * The lock is a lease, renewed while the attempt runs: a holder that dies (kill -9, OOM) frees
 * it within its lease (`bookingLockTiming`). It used to be one fixed 130 s TTL (longer than the job timeout): the
 * chaos test found that a bookings worker killed mid-booking then held its booking back for
 * over two minutes — every retry found the dead holder's lock and was deferred again.
 */
const LOCK_LEASE_MS = 15_000;
const LOCK_RENEW_MS = 5_000;
const LOCK_RETRY_MS = 2_000;
/** Between the end of the POST (its client gave up at the latest) and the end of the lease. */
const LOCK_MARGIN_MS = 3_000;

/**
 * The booking lock's timing. The POST must be over before the lease can lapse: another attempt
 * that takes the lock then asks Cal.com what arrived, and a request still in flight would not
 * show yet — on a round-robin event type its own POST would then book a second host. So the
 * lease outlasts a POST started at any moment while renewals succeed (`renewMs` since the last
 * one, the request's `calcomTimeoutMs`, the margin), and when renewals fail (Redis unreachable
 * for this process) the POST is cut short, or not sent, by what is left of the lease.
 */
export interface BookingLockTiming {
  leaseMs: number;
  renewMs: number;
  marginMs: number;
}

export function bookingLockTiming(calcomTimeoutMs: number): BookingLockTiming {
  return { leaseMs: Math.max(LOCK_LEASE_MS, calcomTimeoutMs + LOCK_RENEW_MS + LOCK_MARGIN_MS), renewMs: LOCK_RENEW_MS, marginMs: LOCK_MARGIN_MS };
}

/** The lock this attempt holds: when it was last known to be ours (send time of the last renewal that held). */
interface HeldLock {
  timing: BookingLockTiming;
  /** performance.now() (monotonic): a wall-clock step must not move the lease's end. */
  renewedAt: number;
  /** Aborted when a renewal answers 0: the key is not ours any more (lost, evicted, taken). */
  lost: AbortController;
  /** The request's own timeout: a POST left less than half of it is not sent. */
  calcomTimeoutMs: number;
  /** A POST left with no answer (timed out, cut, connection dropped): the lock is then kept for the margin, not freed. */
  postUncertain: boolean;
}

/** Milliseconds the POST may still take: until the margin before the lease could lapse. */
const postWindow = (lock: HeldLock): number =>
  lock.lost.signal.aborted ? -Infinity : lock.renewedAt + lock.timing.leaseMs - lock.timing.marginMs - performance.now();

/**
 * What must hold before a row may say "request sent": the POST's slot of the company's Cal.com
 * budget (taken once per attempt), then a lease that leaves the POST at least half its timeout —
 * otherwise the attempt stops here, nothing marked and nothing sent.
 */
async function readyToMark(calcom: CalcomClient, budget: PostBudget, lock: HeldLock, signal?: AbortSignal): Promise<void> {
  await takePostBudget(calcom, budget, signal);
  if (postWindow(lock) < lock.calcomTimeoutMs / 2) {
    throw new BookingDeferred('the booking lock could not be renewed lately (Redis unreachable?); nothing sent', Date.now() + LOCK_RETRY_MS);
  }
}
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
const RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";

/** Permanent Cal.com answers: retrying the same request cannot succeed. */
const PERMANENT = new Set(['slot_unavailable', 'out_of_bounds', 'in_past', 'validation', 'auth', 'forbidden', 'not_found', 'conflict']);

function done(row: AppointmentRow): BookingResult | null {
  if (row.calcomBookingUid && row.status !== 'pending' && row.status !== 'failed') {
    return { status: 'already_booked', appointmentId: row.id, uid: row.calcomBookingUid, start: row.startAt.toISOString() };
  }
  return null;
}

/** A row booked already: answered from the database, its confirmation queued again (an earlier attempt may have died before). */
async function answeredFromRow(deps: BookingDeps, row: AppointmentRow | undefined): Promise<BookingResult | null> {
  const result = row ? done(row) : null;
  if (!result) return null;
  bookingTotal.inc({ status: 'cached' });
  await confirmOnce(deps, row!);
  return result;
}

export async function executeBooking(deps: BookingDeps, job: BookingJob, signal?: AbortSignal): Promise<BookingResult> {
  const log = deps.logger.child({ booking: job.idempotencyKey.slice(0, 12), companyId: job.companyId });
  // A job from a webhook carries its customer (./customer-snapshot): nothing to read before the
  // pending insert, which checks the row itself. Without one, or when that insert does not take,
  // customer and appointment are read first, as for every other job.
  const snapshot = openCustomerSnapshot(deps.cipher, job, log);
  const start = snapshot ? undefined : await findCustomerAndAppointment(deps.db, job);
  const existing = start?.appointment ?? undefined;
  const early = await answeredFromRow(deps, existing);
  if (early) return early;

  const lockKey = deps.ns + redisKeys.bookingLock(job.idempotencyKey);
  const token = randomBytes(8).toString('hex');
  const calcomTimeoutMs = deps.calcomTimeoutMs ?? CALCOM_DEFAULT_TIMEOUT_MS;
  const timing = deps.lockTiming ?? bookingLockTiming(calcomTimeoutMs);
  // Times are taken before the command is sent: Redis starts the lease later than that, never earlier.
  const lock: HeldLock = { timing, renewedAt: performance.now(), lost: new AbortController(), calcomTimeoutMs, postUncertain: false };
  if ((await deps.redis.set(lockKey, token, 'PX', timing.leaseMs, 'NX')) !== 'OK') {
    throw new BookingDeferred('another attempt for this booking is in progress', Date.now() + LOCK_RETRY_MS);
  }
  const renew = setInterval(() => {
    const sentAt = performance.now();
    deps.redis.eval(RENEW, 1, lockKey, token, timing.leaseMs).then(
      (held) => {
        if (Number(held) === 1) lock.renewedAt = Math.max(lock.renewedAt, sentAt);
        else {
          log.warn('booking lock lost while the attempt ran (not ours in Redis any more): a POST on its way is given up, none is sent');
          lock.lost.abort(new DOMException('the booking lock was lost (not ours in Redis any more): request given up', 'TimeoutError'));
        }
      },
      (err: unknown) => log.warn({ err }, 'could not renew booking lock'),
    );
  }, timing.renewMs);
  renew.unref();
  // The POST's Cal.com slot, once taken, is this attempt's: a second pass (the snapshot's insert
  // did not take) uses it rather than taking another.
  const budget: PostBudget = { taken: false };
  try {
    if (snapshot) {
      // An input rejection (the tenant's config changed since) is decided on the rows below: the
      // appointment may be booked already, which is answered from the row.
      const booked = await bookLocked(deps, job, customerOf(snapshot), false, log, budget, lock, signal, snapshot).catch((err: unknown) => {
        if (err instanceof BookingRejected && err.kind === 'input') return null;
        throw err;
      });
      if (booked) return booked;
      // The customer row moved on, or the appointment exists already: read both, under the lock.
      log.debug('customer snapshot not used (the row moved on, or the appointment exists): reading them');
      const read = await findCustomerAndAppointment(deps.db, job);
      const row = read?.appointment ?? undefined;
      const already = await answeredFromRow(deps, row);
      if (already) return already;
      return (await bookLocked(deps, job, read?.customer, row !== undefined, log, budget, lock, signal))!;
    }
    return (await bookLocked(deps, job, start?.customer, existing !== undefined, log, budget, lock, signal))!;
  } finally {
    clearInterval(renew);
    // After a POST with no answer, Cal.com may still be working on it: the next attempt (which asks
    // Cal.com first) waits out the margin instead of asking at once.
    const release = lock.postUncertain ? deps.redis.eval(RENEW, 1, lockKey, token, timing.marginMs) : deps.redis.eval(RELEASE, 1, lockKey, token);
    await release.catch((err: unknown) => log.warn({ err }, 'could not release booking lock'));
  }
}

/** The snapshot as the customer row bookingContext takes (it opens sealed values itself). */
const customerOf = (s: CustomerSnapshot): CustomerRow => ({ id: s.customerId, phone: s.phone, name: s.name, email: s.email, erasedAt: null });

/**
 * The attempt, under the lock. With `snapshot` the customer is the snapshot's and the pending
 * insert checks the row (insertPendingFor); null when that insert did not take (the caller reads
 * and comes back without one). Without, never null.
 */
async function bookLocked(
  deps: BookingDeps,
  job: BookingJob,
  customer: CustomerRow | undefined,
  rowExisted: boolean,
  log: Logger,
  budget: PostBudget,
  lock: HeldLock,
  signal?: AbortSignal,
  snapshot?: CustomerSnapshot,
): Promise<BookingResult | null> {
  let ctx: BookingContext;
  try {
    ctx = await bookingContext(deps.db, deps.cipher, job, customer);
  } catch (err) {
    if (err instanceof BookingInputError) throw new BookingRejected(err.message, 'input');
    throw err;
  }
  const start = new Date(job.start);
  const end = new Date(start.getTime() + ctx.service.durationMinutes * 60_000);
  // A row read before the lock may have moved on meanwhile: read it again, now under the lock.
  const current = rowExisted ? await findByKey(deps.db, job.companyId, job.idempotencyKey) : undefined;
  if (rowExisted && !current) throw new Error(`appointment ${job.idempotencyKey} vanished while locked`);
  // A new row is inserted already marked as sent when nothing but the POST is left: the event-type
  // catalogue is cached and the service checks out. Otherwise (catalogue to fetch, which may fail)
  // it is marked just before the POST, as a retried row is.
  const teams = ctx.service.calcomTeamId ? [ctx.service.calcomTeamId] : [];
  const company = { id: ctx.company.id, calcomUsername: ctx.company.calcomUsername };
  let catalogue = current ? null : await cachedCatalogue(deps.cache, company, teams);
  const markSent = catalogue !== null && checkService(catalogue, ctx.service) === null;
  const calcom = deps.clientFor(ctx.company.calcomApiKey);
  // The POST's slot of the company's Cal.com budget is taken before anything says "sent": a
  // bookings job refused here (budget spent) leaves no mark and no row, and its retry posts
  // without first asking Cal.com about a request that never left. (A path that ends without the
  // POST — the row booked meanwhile — leaves that slot unused.)
  if (markSent) await readyToMark(calcom, budget, lock, signal);
  let inserted: { row: AppointmentRow; fresh: boolean };
  if (snapshot) {
    const fresh = await insertPendingFor(deps.db, job, end, markSent, snapshot);
    if (!fresh) return null;
    inserted = { row: fresh, fresh: true };
  } else {
    inserted = current ? { row: current, fresh: false } : await insertPending(deps.db, job, end, markSent);
  }
  const { row, fresh } = inserted;
  const marked = fresh && markSent;
  const already = await answeredFromRow(deps, row);
  if (already) return already;
  const client = guard(deps, calcom);
  const uidKey = deps.ns + cacheKeys.booking(job.idempotencyKey);

  // Cal.com answered an earlier attempt, which died before committing. (A row this attempt just
  // created had no earlier attempt: nothing to look for.)
  const knownUid = fresh ? null : await deps.redis.get(uidKey);
  if (knownUid) {
    const booking = await client.getBooking(knownUid, signal);
    log.info({ uid: knownUid }, 'recovered a booking Cal.com had accepted before a crash');
    return commit(deps, job, ctx, row, booking, log);
  }

  // An earlier request may have reached Cal.com (timeout, dropped connection, crash): look first.
  if (!fresh && row.calcomRequestSentAt) {
    const found = await reconcile(client, job, ctx, start, end, signal);
    if (found) {
      log.info({ uid: found.uid }, 'reconciled: Cal.com already has this booking');
      await deps.redis.set(uidKey, found.uid, 'PX', TTL_MS.booking);
      return commit(deps, job, ctx, row, found, log);
    }
  }

  catalogue ??= await loadCatalogue(deps.cache, client, company, teams, signal);
  const invalid = checkService(catalogue, ctx.service);
  if (invalid) return reject(deps, row, new BookingRejected(invalid, 'event_type'));

  // A row marked by its insert took its slot and checked its lease then.
  if (!marked) await readyToMark(calcom, budget, lock, signal);
  if (!marked && !(await markRequestSent(deps.db, row))) {
    // Another attempt marked it since this one read the row (this one's lock lapsed while it
    // waited): that one may have posted. Not without looking first, which the retry does.
    throw new BookingDeferred('another attempt sent a request for this booking meanwhile', Date.now() + LOCK_RETRY_MS);
  }
  let booking: CalBooking;
  // Given up before the lease could lapse, whatever the request's own timeout says (a renewal
  // that holds meanwhile moves that moment on).
  const leaseEnd = new AbortController();
  let leaseTimer: NodeJS.Timeout | undefined;
  const watchLease = () => {
    const left = postWindow(lock);
    if (left > 0) leaseTimer = setTimeout(watchLease, left);
    else leaseEnd.abort(new DOMException('the booking lock’s lease runs out: request given up before another attempt can take over', 'TimeoutError'));
  };
  watchLease();
  try {
    booking = await client.createBooking(
      {
        start: start.toISOString(),
        eventTypeId: ctx.service.calcomEventTypeId,
        attendee: {
          name: ctx.customer.name ?? ctx.customer.phone,
          timeZone: ctx.branch.timezone,
          phoneNumber: ctx.customer.phone,
          ...(ctx.customer.email ? { email: ctx.customer.email } : {}),
          language: ctx.branch.language,
        },
        // Our key travels with the booking: the only way to find it again after an uncertain outcome.
        metadata: { callbook_key: job.idempotencyKey, callbook_company: ctx.company.slug, ...(job.callId ? { callbook_call: String(job.callId) } : {}) },
      },
      AbortSignal.any(signal ? [signal, leaseEnd.signal, lock.lost.signal] : [leaseEnd.signal, lock.lost.signal]),
      budget.taken,
    );
  } catch (err) {
    // No answer came (an answer, even a 500, means Cal.com is done with the request; an open
    // breaker or a deferral means nothing was sent).
    const noAnswer = err instanceof CalcomError ? (err.kind === 'timeout' || err.kind === 'network') && err.uncertain : !(err instanceof BreakerOpenError || err instanceof BookingDeferred);
    if (noAnswer) lock.postUncertain = true;
    if (err instanceof CalcomError && err.kind === 'slot_unavailable') {
      // The booking is refused either way; the free slots only make the answer useful (and a
      // bookings job does not wait for Cal.com budget to look them up).
      const alternatives = await nearestFreeSlots(client, { eventTypeId: ctx.service.calcomEventTypeId, requested: start, timeZone: ctx.branch.timezone }, signal).catch(
        (e: unknown) => (log.warn({ err: e }, 'could not look up free slots'), null),
      );
      const when = DateTime.fromJSDate(start).setZone(ctx.branch.timezone).toFormat('dd.MM.yyyy HH:mm');
      const free = alternatives === null ? 'free slots could not be looked up' : alternatives.length ? `free: ${describeSlots(alternatives, start, ctx.branch.timezone)}` : 'no free slot nearby';
      const reason = `slot taken (${when}); ${free}`;
      return reject(deps, row, new BookingRejected(reason, err.kind, alternatives ?? []));
    }
    if (err instanceof CalcomError && PERMANENT.has(err.kind)) {
      return reject(deps, row, new BookingRejected(`Cal.com refused the booking (${err.kind}): ${err.message}`, err.kind));
    }
    if (!signal?.aborted && (leaseEnd.signal.aborted || lock.lost.signal.aborted)) {
      throw new BookingDeferred('the POST was given up: the booking lock could not be kept (Redis unreachable or the lock lost); it may have reached Cal.com, the retry asks Cal.com first', Date.now() + LOCK_RETRY_MS);
    }
    throw err;
  } finally {
    clearTimeout(leaseTimer);
  }
  await deps.redis.set(uidKey, booking.uid, 'PX', TTL_MS.booking);
  await deps.afterCalcomAccepted?.(booking.uid);
  return commit(deps, job, ctx, row, booking, log);
}

type GuardedClient = Pick<CalcomClient, 'getBooking' | 'listAllBookings' | 'listEventTypes' | 'listTeamEventTypes' | 'createBooking' | 'getSlots'>;

/**
 * The client with every request through the breaker (so only real requests count: a cache hit
 * must not read as a success and reset the failure count).
 */
function guard(deps: BookingDeps, c: CalcomClient): GuardedClient {
  return {
    getBooking: (...a) => callCalcom(deps, () => c.getBooking(...a)),
    listAllBookings: (...a) => callCalcom(deps, () => c.listAllBookings(...a)),
    listEventTypes: (...a) => callCalcom(deps, () => c.listEventTypes(...a)),
    listTeamEventTypes: (...a) => callCalcom(deps, () => c.listTeamEventTypes(...a)),
    createBooking: (...a) => callCalcom(deps, () => c.createBooking(...a)),
    getSlots: (...a) => callCalcom(deps, () => c.getSlots(...a)),
  };
}

/** Whether this attempt holds its POST's slot of the Cal.com budget (see bookLocked). */
interface PostBudget {
  taken: boolean;
}

const BUDGET_SPENT = "the company's Cal.com request budget for background work is spent";

/** Takes the POST's slot of the budget unless this attempt holds it (waiting, or refused as a deferral, as the deps' limiter does). */
async function takePostBudget(calcom: CalcomClient, budget: PostBudget, signal?: AbortSignal): Promise<void> {
  if (budget.taken) return;
  try {
    await calcom.takeBudget(signal);
    budget.taken = true;
  } catch (err) {
    if (err instanceof CalcomBudgetSpent) throw new BookingDeferred(BUDGET_SPENT, err.retryAt);
    throw err;
  }
}

/**
 * A Cal.com request through the shared breaker; an open breaker and a 429 become deferrals, not
 * failures. Every Cal.com request of the booking path, appointment management and live slots.
 */
export async function callCalcom<T>(deps: Pick<BookingDeps, 'breaker'>, fn: () => Promise<T>): Promise<T> {
  try {
    return await deps.breaker.run(fn, isServiceFailure);
  } catch (err) {
    if (err instanceof BreakerOpenError) throw new BookingDeferred(`Cal.com circuit breaker is ${err.state}`, err.retryAt);
    if (err instanceof CalcomBudgetSpent) throw new BookingDeferred(BUDGET_SPENT, err.retryAt);
    if (err instanceof CalcomError && err.kind === 'rate_limited') {
      throw new BookingDeferred('Cal.com rate limit reached', err.retryAt ?? Date.now() + 60_000);
    }
    throw err;
  }
}

async function reconcile(client: GuardedClient, job: BookingJob, ctx: BookingContext, start: Date, end: Date, signal?: AbortSignal): Promise<CalBooking | null> {
  const bookings = await client.listAllBookings(
    {
      eventTypeId: ctx.service.calcomEventTypeId,
      afterStart: new Date(start.getTime() - 60_000).toISOString(),
      beforeEnd: new Date(end.getTime() + 60_000).toISOString(),
    },
    signal,
  );
  return bookings.find((b) => b.metadata?.callbook_key === job.idempotencyKey) ?? null;
}

async function reject(deps: BookingDeps, row: AppointmentRow, rejection: BookingRejected): Promise<never> {
  await markFailed(deps.db, row.id, rejection.reason, rejection.alternatives);
  bookingTotal.inc({ status: 'failed' });
  if (row.callId) callsProcessedTotal.inc({ outcome: 'failed' });
  await deps.publish?.({ type: 'booking.failed', companyId: row.companyId, branchId: row.branchId, appointmentId: row.id, reason: rejection.reason });
  throw rejection;
}

const COMMIT_EFFECTS = ['clear the day\'s cached availability', 'queue the confirmation', 'publish the live event'] as const;

async function commit(deps: BookingDeps, job: BookingJob, ctx: BookingContext, row: AppointmentRow, booking: CalBooking, log: Logger): Promise<BookingResult> {
  await markBooked(deps.db, row, booking);
  const day = DateTime.fromISO(booking.start).setZone(luxonZone(ctx.branch.timezone)).toISODate()!;
  bookingTotal.inc({ status: 'created' });
  appointmentsCreatedTotal.inc({ source: job.source });
  if (row.callId) callsProcessedTotal.inc({ outcome: 'booked' });
  // The booking is committed; these three depend on it, not on each other, so they go out
  // together (one wait instead of three). Each is attempted even if another fails; a failure
  // still fails the attempt, whose retry finds the row booked and confirms again (confirmOnce).
  const effects = await Promise.allSettled([
    deps.cache.invalidate(cacheKeys.availability(ctx.service.calcomEventTypeId, day)),
    confirmOnce(deps, { ...row, status: 'booked' }, snapshotOf(row, ctx, booking)),
    deps.publish?.({ type: 'booking.booked', companyId: row.companyId, branchId: row.branchId, appointmentId: row.id, start: booking.start }),
  ]);
  const failed = effects.flatMap((e, i) => (e.status === 'rejected' ? [{ effect: COMMIT_EFFECTS[i]!, err: e.reason as unknown }] : []));
  // Every failure is logged (the attempt throws only the first).
  for (const f of failed) log.error({ err: f.err, effect: f.effect, appointmentId: row.id }, 'booked, but a step after the commit failed');
  if (failed.length) throw failed[0]!.err;
  log.info({ appointmentId: row.id, uid: booking.uid, start: booking.start }, 'booked');
  return { status: 'booked', appointmentId: row.id, uid: booking.uid, start: booking.start };
}

/**
 * Queue the customer's confirmation of a booked appointment. Also on the "already booked" paths:
 * an attempt that committed the booking and then died (kill -9, Redis gone) before this add
 * left a booking without its confirmation, and every retry returned early — the chaos test
 * found 4 of 705 bookings unconfirmed. Sending stays at most once: the job id is fixed, and the
 * notifications table's claim on (kind, appointment) skips one already handled.
 *
 * With `snapshot` (the commit path: this attempt holds customer and booking) the job carries
 * them sealed, so the notifications worker reads no rows (lib/notifications/snapshot). The
 * already-booked paths queue ids only: the worker reads the rows, as it does for any job
 * without a snapshot.
 */
async function confirmOnce(
  deps: Pick<BookingDeps, 'notificationsQueue' | 'cipher' | 'logger'>,
  row: Pick<AppointmentRow, 'id' | 'companyId' | 'status'>,
  snapshot?: ConfirmationSnapshot,
): Promise<void> {
  if (!deps.notificationsQueue || row.status !== 'booked') return;
  const note: NotificationJob = { kind: 'booking_confirmed', companyId: row.companyId, appointmentId: row.id };
  const sealed = snapshot === undefined ? undefined : sealedSnapshot(deps, note, snapshot);
  await deps.notificationsQueue.add('booking_confirmed', sealed ? { ...note, sealedSnapshot: sealed } : note, {
    jobId: jobIds.notification('booking_confirmed', row.id),
  });
}

/** Customer and appointment as this attempt booked them, for the confirmation (lib/notifications/snapshot). */
function snapshotOf(row: AppointmentRow, ctx: BookingContext, booking: CalBooking): ConfirmationSnapshot {
  return {
    companyId: row.companyId,
    appointmentId: row.id,
    customerId: ctx.customer.id,
    phone: ctx.customer.phone,
    name: ctx.customer.name,
    email: ctx.customer.email,
    // As markBooked stored them (an unreadable time fails the schema: no snapshot).
    start: utcIso(booking.start),
    end: utcIso(booking.end),
    serviceId: ctx.service.id,
    branchId: ctx.branch.id,
  };
}

const utcIso = (t: string) => {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toISOString();
};

/**
 * The snapshot sealed, or undefined — then the job goes with ids only and the worker reads the
 * rows — when it is not one the worker would accept or would push the job past the queue's size
 * limit (a long name in a multi-byte script): a confirmation is never lost to its snapshot.
 */
function sealedSnapshot(deps: Pick<BookingDeps, 'cipher' | 'logger'>, note: NotificationJob, snapshot: ConfirmationSnapshot): string | undefined {
  const parsed = confirmationSnapshotSchema.safeParse(snapshot);
  if (!parsed.success) {
    deps.logger.warn({ appointmentId: note.appointmentId, fields: parsed.error.issues.map((i) => i.path.join('.')) }, 'confirmation queued without its snapshot: it does not fit the schema');
    return undefined;
  }
  const sealed = sealConfirmation(deps.cipher, parsed.data);
  if (!fitsIdPayload({ ...note, sealedSnapshot: sealed })) {
    deps.logger.warn({ appointmentId: note.appointmentId }, 'confirmation queued without its snapshot: it would exceed the job size limit');
    return undefined;
  }
  return sealed;
}

/** Mark the appointment failed after the queue gave up on retryable errors. */
export async function recordFinalFailure(deps: Pick<BookingDeps, 'db' | 'notificationsQueue' | 'publish'>, job: BookingJob, failure: string): Promise<void> {
  // The same safe sentence for the appointment, the live event and the operators' alert.
  const reason = redactText(failure);
  const row = await findByKey(deps.db, job.companyId, job.idempotencyKey);
  if (!row || row.status === 'booked') return;
  await markFailed(deps.db, row.id, reason);
  bookingTotal.inc({ status: 'failed' });
  if (row.callId) callsProcessedTotal.inc({ outcome: 'failed' });
  await deps.publish?.({ type: 'booking.failed', companyId: row.companyId, branchId: row.branchId, appointmentId: row.id, reason });
  if (deps.notificationsQueue) {
    const note: NotificationJob = { kind: 'booking_failed', companyId: job.companyId, appointmentId: row.id };
    await deps.notificationsQueue.add('booking_failed', note, { jobId: jobIds.notification('booking_failed', row.id) });
  }
}
