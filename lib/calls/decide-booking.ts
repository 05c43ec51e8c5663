/**
 * Decides, once per call, whether to book. The decision is written with a conditional UPDATE
 * (only where none was taken), so concurrent or repeated webhooks for one call agree on one
 * answer. A 'book' decision stores its request; the bookings job is added with a deterministic
 * id from it every time the decision is seen, so a crash between decision and enqueue is
 * repaired by the webhook job's retry, and a re-add while the job exists is a no-op.
 *
 * call_ended may lack the booking details (they can come only with the analysis): it decides
 * only when everything is there; call_analyzed always decides.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { parseDateAndTime, parseRequestedStart, type Lang } from '../datetime';
import type { Db } from '../db';
import { prepared } from '../db/prepared';
import { calls } from '../../drizzle/schema';
import { callsProcessedTotal } from '../metrics';
import { jobIds, type BookingJob } from '../queues';
import type { BookingIntent } from './booking-intent';
import { bookingIdempotencyKey } from './idempotency';
import { findService } from './match-service';
import type { PhoneResolution } from './resolve-phone';

export type Decision =
  | { kind: 'book'; serviceId: number; start: string; idempotencyKey: string }
  | { kind: 'no_booking'; reason: string }
  | { kind: 'wait'; reason: string };

/** Work out what the intent means, without side effects. */
export async function evaluateIntent(
  db: Db,
  where: PhoneResolution,
  retellCallId: string,
  intent: BookingIntent,
  final: boolean,
  now: Date = new Date(),
  /**
   * When the caller spoke (the call's start): "morgen", "next Tuesday" are read from there, not
   * from when the webhook is processed — reconcile and replay feed calls hours or days late.
   */
  spokenAt: Date = now,
): Promise<Decision> {
  const notYet = (reason: string): Decision => (final ? { kind: 'no_booking', reason } : { kind: 'wait', reason });
  if (!intent.confirmed) return notYet('caller did not confirm a booking');
  const opts = { timeZone: where.timezone, now: spokenAt, lang: (where.language === 'en' ? 'en' : where.language === 'de' ? 'de' : undefined) as Lang | undefined };
  const when = intent.datetime
    ? parseRequestedStart(intent.datetime, opts) ?? parseDateAndTime(intent.date, intent.time ?? intent.datetime, opts)
    : parseDateAndTime(intent.date, intent.time, opts);
  const said = [intent.datetime, intent.date, intent.time].filter(Boolean).join(' ');
  if (!when) return notYet(said ? `could not read the requested time "${said}"` : 'no date/time was collected');
  if (!when.hasTime) return notYet(`"${said}" names a day but no time`);
  if (when.start.getTime() <= now.getTime()) return { kind: 'no_booking', reason: `requested time ${when.start.toISOString()} is in the past` };
  const service = await findService(db, where.companyId, where.branchId, intent);
  if (!service) {
    return notYet(intent.service || intent.eventTypeId ? `no service matches "${intent.service ?? intent.eventTypeId}"` : 'no service named and the branch has no default');
  }
  const start = when.start.toISOString();
  const idempotencyKey = bookingIdempotencyKey({ companyId: where.companyId, callRef: retellCallId, eventTypeId: service.calcomEventTypeId, startIso: start });
  return { kind: 'book', serviceId: service.id, start, idempotencyKey };
}

export interface DecideInput {
  db: Db;
  bookingsQueue: Queue;
  logger: Logger;
  where: PhoneResolution;
  callRowId: number;
  retellCallId: string;
  customerId: number | null;
  intent: BookingIntent;
  /** true for call_analyzed: the last chance to find booking details. */
  final: boolean;
  /** The job's abort signal (its timeout): no further round once it fired. */
  signal?: AbortSignal;
  /** When the caller spoke (the call's start), for relative dates; default now. */
  spokenAt?: Date;
}

/**
 * How often the decision is read again after losing the race to write it. One more read sees the
 * winner's decision; a row that still shows none (it is not this company's row, or it vanished)
 * is an error, not a reason to loop.
 */
const DECIDE_ROUNDS = 3;

async function readDecision(db: Db, companyId: number, callRowId: number) {
  const q = prepared(db, 'calls.decision', (d) =>
    d
      .select({ decision: calls.bookingDecision, request: calls.bookingRequest, reason: calls.bookingReason, appointmentId: calls.appointmentId })
      .from(calls)
      .where(and(eq(calls.id, sql.placeholder('id')), eq(calls.companyId, sql.placeholder('companyId'))))
      .prepare(),
  );
  const [row] = await q.execute({ id: callRowId, companyId });
  return row;
}

/** Write the decision where none was taken (and, when the row was not read, where it was not booked live); false when that changed nothing. */
async function recordDecision(db: Db, companyId: number, callRowId: number, decision: Exclude<Decision, { kind: 'wait' }>, rowWasRead: boolean): Promise<boolean> {
  const q = prepared(db, `calls.record-decision${rowWasRead ? '' : '-unless-booked-live'}`, (d) => {
    const p = (name: string) => sql.placeholder(name) as never;
    return d
      .update(calls)
      // The JSON column's value goes as text (a placeholder through the column's encoder would store NULL as 'null').
      .set({ bookingDecision: p('decision'), bookingReason: p('reason'), bookingRequest: sql`${sql.placeholder('request')}`, updatedAt: p('now') })
      .where(and(eq(calls.id, p('id')), eq(calls.companyId, p('companyId')), isNull(calls.bookingDecision), rowWasRead ? undefined : isNull(calls.appointmentId)))
      .prepare();
  });
  const [res] = await q.execute({
    id: callRowId,
    companyId,
    decision: decision.kind,
    reason: decision.kind === 'no_booking' ? decision.reason.slice(0, 500) : null,
    request: decision.kind === 'book' ? JSON.stringify({ serviceId: decision.serviceId, start: decision.start, idempotencyKey: decision.idempotencyKey }) : null,
    now: new Date(),
  });
  return res.affectedRows > 0;
}

export class DecisionNotRecordedError extends Error {
  override readonly name = 'DecisionNotRecordedError';
}

export async function decideBooking(input: DecideInput): Promise<Decision> {
  for (let round = 1; ; round++) {
    input.signal?.throwIfAborted();
    const decision = await decideOnce(input, round);
    if (decision) return decision;
    if (round >= DECIDE_ROUNDS) {
      throw new DecisionNotRecordedError(`call row ${input.callRowId} of company ${input.where.companyId}: no decision recorded after ${round} rounds (not this company's row?)`);
    }
  }
}

/**
 * One round: follow the recorded decision, or record one; null when the write found the decision
 * taken (or the call booked live) and the next round must read it.
 *
 * Which comes first is a bet on what the row holds: call_analyzed usually finds the decision
 * call_ended took, so it reads first (one statement); call_ended usually finds none, so it writes
 * first, conditionally (one statement), and reads only when that write changed nothing.
 */
async function decideOnce(input: DecideInput, round: number): Promise<Decision | null> {
  const { db, where, callRowId } = input;
  const readFirst = input.final || round > 1;
  let bookedLive: number | null = null;
  let decision: Decision;
  const row = readFirst ? await readDecision(db, where.companyId, callRowId) : undefined;
  if (row?.decision === 'book' && row.request) {
    decision = { kind: 'book', ...row.request };
  } else if (row?.decision === 'no_booking') {
    return { kind: 'no_booking', reason: row.reason ?? '' };
  } else {
    bookedLive = row?.appointmentId ?? null;
    // Booked live during the call (lib/live/book-appointment.ts): the webhook must not book a
    // second time, even when its analysis read another time than the one the caller took.
    const proposed: Decision = bookedLive
      ? { kind: 'no_booking', reason: `booked live during the call (appointment ${bookedLive})` }
      : await evaluateIntent(db, where, input.retellCallId, input.intent, input.final, new Date(), input.spokenAt);
    if (proposed.kind === 'wait') return proposed;
    if (proposed.kind === 'book' && !input.customerId) {
      decision = { kind: 'no_booking', reason: 'caller number unknown (withheld), cannot create a customer' };
    } else {
      decision = proposed;
    }
    // Unread, the row may have been booked live: the write then changes nothing and the next
    // round reads the appointment.
    if (!(await recordDecision(db, where.companyId, callRowId, decision, readFirst))) return null;
    // 'booked' and 'failed' are counted by the booking itself (lib/booking/book.ts).
    if (decision.kind === 'no_booking') callsProcessedTotal.inc({ outcome: 'no_booking' });
    input.logger.info({ decision: decision.kind, reason: decision.kind === 'no_booking' ? decision.reason : undefined }, 'booking decision');
  }
  if (decision.kind === 'book') {
    const job: BookingJob = {
      companyId: where.companyId,
      branchId: where.branchId,
      customerId: input.customerId!,
      serviceId: decision.serviceId,
      callId: callRowId,
      start: decision.start,
      idempotencyKey: decision.idempotencyKey,
      source: 'call',
    };
    await input.bookingsQueue.add('book', job, { jobId: jobIds.booking(decision.idempotencyKey) });
  }
  return decision;
}
