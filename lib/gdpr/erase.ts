/**
 * GDPR erasure (Art. 17) of one customer of one company.
 *
 * 1. Cal.com first (only with `cancelBookings`): each upcoming booked appointment is cancelled
 *    with the company's own key and marked `cancelled`. A booking that cannot be cancelled is
 *    collected, not fatal: the local erase still happens, and the result says plainly which
 *    bookings are still live in Cal.com (with the attendee's name and number) and why.
 *    Without `cancelBookings` the bookings are kept, and the result says Cal.com still holds them.
 * 2. Then, in one transaction: the customer row loses name and email, its phone becomes
 *    `erased-<id>` (the column is NOT NULL and unique per company), `erased_at` is set; the
 *    customer's calls lose the caller's number and everything said (transcript, summary,
 *    recording, variables, analysis, and the booking reason, which quotes the caller); the
 *    appointments lose failure reason and alternatives but keep status, times and Cal.com uid
 *    (business records); their notifications lose the (masked) recipient; one `gdpr.erase` audit
 *    row with counts and ids only.
 * 3. Redis: callbook's caches hold nothing per customer (phone resolution is keyed by the
 *    business number; event types and slots are per company/event type; the booking uid cache
 *    holds uids only). What does hold the customer's data are the jobs of three queues (waiting
 *    ones, and completed or failed ones kept for up to 24 hours / 14 days): `webhooks` (the
 *    sealed Retell body — caller number, transcript), `bookings` (a webhook's booking carries the
 *    sealed customer — number, name, e-mail) and `notifications` (a confirmation's sealed
 *    snapshot — number, name, e-mail — and its result, the masked recipient). The webhook jobs
 *    of every call of the customer, the booking jobs of every booking its calls decided or made
 *    (but an appointment still pending: its retry settles it) and the booking_confirmed jobs of
 *    every appointment are removed; booking_failed jobs carry ids only and go to operators, so
 *    they stay. A running job cannot be removed: it is named in the warnings (erase again once it has finished).
 *    Slots freed by a cancellation are dropped from the availability cache.
 *
 * Every step is idempotent: erasing twice finds nothing left to cancel and nothing left to blank.
 */
import { open } from '../pii';
import type { Queue } from 'bullmq';
import { and, eq, gt, inArray, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { audit } from '../audit';
import { bookingDeps } from '../booking/deps';
import type { BookingDeps } from '../booking/book';
import { cacheKeys } from '../cache';
import { isServiceFailure } from '../calcom';
import type { AppContext } from '../context';
import { HANDLED_EVENTS } from '../retell/webhook';
import { jobIds } from '../queues';
import { replayJobsKey } from '../calls/enqueue-webhook';
import { appointments, branches, calls, companies, customers, notifications, services } from '../../drizzle/schema';
import { APPOINTMENT_NOTIFICATION_KINDS, GdprNotFoundError } from './export';

export const CANCELLATION_REASON = 'GDPR erasure request';

export interface EraseRequest {
  companyId: number;
  customerId: number;
  /** Cancel the customer's upcoming Cal.com bookings (true) or keep them (false). */
  cancelBookings: boolean;
  /** Who asked, for the audit row (`cli:<user>`, `admin` …). */
  actor: string;
  now?: Date;
  signal?: AbortSignal;
}

export interface BookingOutcome {
  appointmentId: number;
  uid: string | null;
  start: string;
}

export interface EraseResult {
  companyId: number;
  customerId: number;
  /** Always true when eraseCustomer returns: the local part is done whatever Cal.com said. */
  erasedLocally: true;
  /** The customer had been erased before (this run repeated it). */
  alreadyErased: boolean;
  /** Rows touched by this run. */
  calls: number;
  appointments: number;
  notifications: number;
  bookings: {
    mode: 'cancel' | 'keep';
    cancelled: BookingOutcome[];
    /** Still live in Cal.com: cancel these by hand. */
    failed: Array<BookingOutcome & { error: string }>;
    /** mode keep: upcoming bookings left in Cal.com. */
    kept: BookingOutcome[];
  };
  /** webhooks-queue jobs (sealed Retell bodies of the customer's calls) removed from Redis. */
  webhookJobsRemoved: number;
  /** bookings-queue jobs of the customer's bookings (a webhook's carries the sealed customer: lib/booking/customer-snapshot) removed from Redis. */
  bookingJobsRemoved: number;
  /** notifications-queue booking_confirmed jobs of the customer's appointments (sealed snapshot, masked recipient) removed from Redis. */
  notificationJobsRemoved: number;
  /** Things an operator should look at; never contains personal data. */
  warnings: string[];
  /** false when some upcoming booking could not be cancelled. */
  complete: boolean;
  /** One line for the operator. */
  message: string;
}

type EraseCtx = Pick<AppContext, 'database' | 'queues' | 'cache' | 'cipher' | 'logger' | 'redis' | 'ns'>;

export async function eraseCustomer(ctx: AppContext, req: EraseRequest, depsOverride?: BookingDeps): Promise<EraseResult> {
  return eraseCustomerWith(ctx, req, () => depsOverride ?? bookingDeps(ctx));
}

export async function eraseCustomerWith(ctx: EraseCtx, req: EraseRequest, deps: () => BookingDeps): Promise<EraseResult> {
  const db = ctx.database.db;
  const { companyId, customerId } = req;
  const now = req.now ?? new Date();
  const log = ctx.logger.child({ component: 'gdpr', companyId, customerId });

  const [company] = await db.select().from(companies).where(eq(companies.id, companyId));
  if (!company) throw new GdprNotFoundError(`company ${companyId} does not exist`);
  const [customer] = await db.select().from(customers).where(and(eq(customers.companyId, companyId), eq(customers.id, customerId)));
  if (!customer) throw new GdprNotFoundError(`customer ${customerId} is not a customer of company ${company.slug}`);

  const ofCustomer = and(eq(appointments.companyId, companyId), eq(appointments.customerId, customerId));
  const upcoming = await db
    .select({
      id: appointments.id,
      uid: appointments.calcomBookingUid,
      startAt: appointments.startAt,
      status: appointments.status,
      eventTypeId: services.calcomEventTypeId,
      timezone: branches.timezone,
    })
    .from(appointments)
    .leftJoin(services, and(eq(services.id, appointments.serviceId), eq(services.companyId, companyId)))
    .leftJoin(branches, and(eq(branches.id, appointments.branchId), eq(branches.companyId, companyId)))
    .where(and(ofCustomer, gt(appointments.startAt, now), inArray(appointments.status, ['booked', 'pending'])));

  const warnings: string[] = [];
  const bookings: EraseResult['bookings'] = { mode: req.cancelBookings ? 'cancel' : 'keep', cancelled: [], failed: [], kept: [] };
  const outcome = (a: (typeof upcoming)[number]): BookingOutcome => ({ appointmentId: a.id, uid: a.uid, start: a.startAt.toISOString() });

  for (const a of upcoming.filter((x) => x.status === 'pending')) {
    warnings.push(
      `appointment ${a.id} (${a.startAt.toISOString()}) is still being booked (pending); check the bookings queue and Cal.com once it settles, then erase again (its confirmation job may carry the customer's sealed contact details)`,
    );
  }
  const booked = upcoming.filter((x) => x.status === 'booked');
  if (!req.cancelBookings) {
    bookings.kept = booked.map(outcome);
  } else if (booked.length) {
    const apiKey = company.calcomApiKeyEnc ? ctx.cipher.decrypt(company.calcomApiKeyEnc) : null;
    const d = apiKey ? deps() : null;
    for (const a of booked) {
      if (!apiKey || !d) {
        bookings.failed.push({ ...outcome(a), error: `company ${company.slug} has no Cal.com API key` });
        continue;
      }
      if (!a.uid) {
        bookings.failed.push({ ...outcome(a), error: 'booked appointment has no Cal.com uid' });
        continue;
      }
      const uid = a.uid;
      try {
        await d.breaker.run(() => d.clientFor(apiKey).cancelBooking(uid, { cancellationReason: CANCELLATION_REASON }, req.signal), isServiceFailure);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        // A cancel that reached Cal.com before an earlier run died: already done.
        if (!/cancelled already/i.test(msg)) {
          bookings.failed.push({ ...outcome(a), error: msg.slice(0, 500) });
          continue;
        }
      }
      await db
        .update(appointments)
        .set({ status: 'cancelled' })
        .where(and(eq(appointments.id, a.id), eq(appointments.companyId, companyId), eq(appointments.status, 'booked')));
      bookings.cancelled.push(outcome(a));
      if (a.eventTypeId && a.timezone) {
        const day = DateTime.fromJSDate(a.startAt).setZone(a.timezone).toISODate();
        if (day) await ctx.cache.invalidate(cacheKeys.availability(a.eventTypeId, day)).catch((err: unknown) => log.warn({ err }, 'could not clear availability cache'));
      }
    }
  }

  // The local part: one transaction, whatever happened in Cal.com.
  const callRows = await db
    .select({ id: calls.id, retellCallId: calls.retellCallId, bookingRequest: calls.bookingRequest })
    .from(calls)
    .where(and(eq(calls.companyId, companyId), eq(calls.customerId, customerId)));
  /** The customer's appointments, as the transaction left them. */
  let appts: Array<{ id: number; key: string; status: string }> = [];
  const counts = await db.transaction(async (tx) => {
    await tx
      .update(customers)
      .set({ name: null, email: null, phone: `erased-${customerId}`, phoneIndex: `erased-${customerId}`, erasedAt: customer.erasedAt ?? now })
      .where(and(eq(customers.companyId, companyId), eq(customers.id, customerId)));
    // The caller's number: from_number inbound, to_number outbound; either one, wherever it equals
    // the number. Stored values may be ciphertexts (lib/pii), so they are compared decrypted, row by row.
    const phone = open(customer.phone);
    const numbers = await tx
      .select({ id: calls.id, direction: calls.direction, fromNumber: calls.fromNumber, toNumber: calls.toNumber })
      .from(calls)
      .where(and(eq(calls.companyId, companyId), eq(calls.customerId, customerId)));
    for (const r of numbers) {
      const outbound = r.direction === 'outbound';
      const isCaller = (v: string | null) => v !== null && open(v) === phone;
      const fromNumber = outbound && !isCaller(r.fromNumber) ? r.fromNumber : null;
      const toNumber = outbound || isCaller(r.toNumber) ? null : r.toNumber;
      if (fromNumber !== r.fromNumber || toNumber !== r.toNumber) {
        await tx.update(calls).set({ fromNumber, toNumber }).where(and(eq(calls.id, r.id), eq(calls.companyId, companyId)));
      }
    }
    const [c] = await tx
      .update(calls)
      .set({
        callerIndex: null,
        transcript: null,
        summary: null,
        recordingUrl: null,
        dynamicVariables: null,
        analysisData: null,
        bookingReason: null,
        // Also a purge: a late webhook for this call must not write what was said back (lib/calls/record-call).
        purgedAt: sql`COALESCE(${calls.purgedAt}, ${now})`,
      })
      .where(and(eq(calls.companyId, companyId), eq(calls.customerId, customerId)));
    const [ap] = await tx.update(appointments).set({ failureReason: null, alternatives: null }).where(ofCustomer);
    appts = await tx.select({ id: appointments.id, key: appointments.idempotencyKey, status: appointments.status }).from(appointments).where(ofCustomer);
    const apptIds = appts.map((r) => String(r.id));
    let notes = 0;
    if (apptIds.length) {
      const [n] = await tx
        .update(notifications)
        .set({ recipient: null })
        .where(and(eq(notifications.companyId, companyId), inArray(notifications.kind, APPOINTMENT_NOTIFICATION_KINDS), inArray(notifications.ref, apptIds)));
      notes = n.affectedRows;
    }
    const result = { calls: c.affectedRows, appointments: ap.affectedRows, notifications: notes };
    await audit(tx, {
      companyId,
      actor: req.actor,
      action: 'gdpr.erase',
      target: `customer:${customerId}`,
      details: {
        ...result,
        alreadyErased: customer.erasedAt !== null,
        cancelBookings: req.cancelBookings,
        cancelled: bookings.cancelled.map((b) => b.appointmentId),
        cancelFailed: bookings.failed.map((b) => b.appointmentId),
        kept: bookings.kept.map((b) => b.appointmentId),
      },
    });
    return result;
  });

  // Redis: the webhooks queue keeps each call's sealed Retell body (caller number, transcript);
  // both forms of the id: signed with the platform key, or with the company's own.
  const webhookJobIds = callRows.flatMap((call) =>
    HANDLED_EVENTS.flatMap((e) => [jobIds.retellWebhook(call.retellCallId, e), jobIds.retellWebhook(call.retellCallId, e, companyId)]),
  );
  // `calls replay` jobs have ids of their own (…-replay-<time>), remembered per call when queued.
  const replaySets = callRows.map((call) => replayJobsKey(ctx.ns, call.retellCallId));
  const replayJobIds: string[] = [];
  for (const key of replaySets) {
    try {
      replayJobIds.push(...(await ctx.redis.smembers(key)));
    } catch (err) {
      warnings.push(`the replay jobs of a call could not be looked up in Redis (${(err as Error).message}); erase again`);
    }
  }
  const webhookJobsRemoved = await removeJobs(ctx.queues.webhooks, 'webhook', [...webhookJobIds, ...replayJobIds], warnings);
  // ... and the notifications queue each confirmation's sealed snapshot and masked recipient.
  const notificationJobIds = appts.map((a) => jobIds.notification('booking_confirmed', a.id));
  const notificationJobsRemoved = await removeJobs(ctx.queues.notifications, 'notification', notificationJobIds, warnings);
  // ... and the bookings queue the customer snapshot a webhook's booking job carries (sealed
  // number, name, e-mail): the jobs of every booking the customer's calls decided or made. Not
  // those of an appointment still pending (warned about above): Cal.com may already hold it, and
  // its retry is what settles it — it then fails as erased and drops the snapshot itself
  // (workers/bookings), as does a booking queued after this erase.
  const pendingKeys = new Set(appts.filter((a) => a.status === 'pending').map((a) => a.key));
  const bookingKeys = new Set([...appts.map((a) => a.key), ...callRows.flatMap((c) => (c.bookingRequest ? [c.bookingRequest.idempotencyKey] : []))].filter((k) => !pendingKeys.has(k)));
  const bookingJobsRemoved = await removeJobs(ctx.queues.bookings, 'booking', [...bookingKeys].map((k) => jobIds.booking(k)), warnings);

  const complete = bookings.failed.length === 0;
  const parts = [
    `customer ${customerId} of ${company.slug} erased locally (${counts.calls} calls, ${counts.appointments} appointments, ${counts.notifications} notifications; ` +
      `${webhookJobsRemoved} webhook, ${bookingJobsRemoved} booking and ${notificationJobsRemoved} notification jobs removed from Redis)`,
  ];
  if (bookings.mode === 'cancel') {
    parts.push(`${bookings.cancelled.length} upcoming Cal.com booking(s) cancelled`);
    if (bookings.failed.length) {
      parts.push(
        `${bookings.failed.length} could NOT be cancelled and are still live in Cal.com with the customer's details — cancel by hand: ` +
          bookings.failed.map((f) => `appointment ${f.appointmentId} uid ${f.uid ?? '?'} (${f.error})`).join('; '),
      );
    }
  } else if (bookings.kept.length) {
    parts.push(`${bookings.kept.length} upcoming Cal.com booking(s) kept as asked; Cal.com still holds the attendee's name and number for them`);
  }
  const result: EraseResult = {
    companyId,
    customerId,
    erasedLocally: true,
    alreadyErased: customer.erasedAt !== null,
    ...counts,
    bookings,
    webhookJobsRemoved,
    bookingJobsRemoved,
    notificationJobsRemoved,
    warnings,
    complete,
    message: parts.join('; '),
  };
  log.info(
    { calls: counts.calls, cancelled: bookings.cancelled.length, cancelFailed: bookings.failed.length, kept: bookings.kept.length, webhookJobsRemoved, bookingJobsRemoved, notificationJobsRemoved },
    'customer erased',
  );
  return result;
}

/**
 * Removes those of the jobs that exist and counts them. remove() answers 1 for a job that is not
 * there, so each is looked up first; a running (locked) job is not removed and is named in the
 * warnings, as is one Redis would not remove.
 */
async function removeJobs(queue: Pick<Queue, 'getJob' | 'remove'>, what: string, ids: string[], warnings: string[]): Promise<number> {
  let removed = 0;
  for (const jobId of ids) {
    try {
      if (!(await queue.getJob(jobId))) continue;
      if ((await queue.remove(jobId)) === 1) removed++;
      else warnings.push(`${what} job ${jobId} is running and was left in Redis; erase again once it has finished`);
    } catch (err) {
      warnings.push(`${what} job ${jobId} could not be removed from Redis (${(err as Error).message}); erase again`);
    }
  }
  return removed;
}
