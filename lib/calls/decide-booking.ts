/**
 * Decides, once per call, whether to book. The decision is written only where none was taken, so
 * concurrent or repeated webhooks for one call agree on one answer. On the webhook path it is
 * worked out before anything is written and carried by the call upsert (lib/calls/record-call
 * `upsertCallDeciding`), which writes it where none was taken; only when one was (or the call was
 * booked live) does it come here with the row read (`decideBooking`), which follows the recorded
 * decision or writes one with a conditional UPDATE. A 'book' decision
 * stores its request; the bookings job is added with a deterministic id from it every time the
 * decision is seen, so a crash between decision and enqueue is repaired by the webhook job's
 * retry, and a re-add while the job exists is a no-op.
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
import { withCustomerSnapshot, type CustomerSnapshot } from '../booking/customer-snapshot';
import type { Cipher } from '../crypto';
import type { DecisionColumns } from './record-call';
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
  /** The row's decision columns as already read (the first round reads nothing then). */
  row?: DecisionRow;
  /** The customer as the webhook's upsert stored it, sealed into the booking job with `cipher` (lib/booking/customer-snapshot). */
  customer?: CustomerSnapshot;
  cipher?: Cipher;
}

type DecisionRow = { decision: string | null; request: { serviceId: number; start: string; idempotencyKey: string } | null; reason: string | null; appointmentId: number | null };

/**
 * How often the decision is read again after losing the race to write it. One more read sees the
 * winner's decision; a row that still shows none (it is not this company's row, or it vanished)
 * is an error, not a reason to loop.
 */
const DECIDE_ROUNDS = 3;

async function readDecision(db: Db, companyId: number, callRowId: number): Promise<DecisionRow | undefined> {
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

/** A decision as the calls row stores it, for the write (recordDecision, or the call upsert that carries it: lib/calls/record-call). */
export function decisionColumns(decision: Decision): DecisionColumns | null {
  if (decision.kind === 'wait') return null;
  return {
    decision: decision.kind,
    reason: decision.kind === 'no_booking' ? decision.reason.slice(0, 500) : null,
    request: decision.kind === 'book' ? JSON.stringify({ serviceId: decision.serviceId, start: decision.start, idempotencyKey: decision.idempotencyKey }) : null,
  };
}

/**
 * Write the decision where none was taken; false when that changed nothing. A 'book' decision
 * also only while the call was not booked live (a live booking may have landed since the read).
 */
async function recordDecision(db: Db, companyId: number, callRowId: number, decision: Exclude<Decision, { kind: 'wait' }>): Promise<boolean> {
  const book = decision.kind === 'book';
  const q = prepared(db, `calls.record-decision${book ? '-unless-booked-live' : ''}`, (d) => {
    const p = (name: string) => sql.placeholder(name) as never;
    return d
      .update(calls)
      // The JSON column's value goes as text (a placeholder through the column's encoder would store NULL as 'null').
      .set({ bookingDecision: p('decision'), bookingReason: p('reason'), bookingRequest: sql`${sql.placeholder('request')}`, updatedAt: p('now') })
      .where(and(eq(calls.id, p('id')), eq(calls.companyId, p('companyId')), isNull(calls.bookingDecision), book ? isNull(calls.appointmentId) : undefined))
      .prepare();
  });
  const [res] = await q.execute({ id: callRowId, companyId, ...decisionColumns(decision)!, now: new Date() });
  return res.affectedRows > 0;
}

export class DecisionNotRecordedError extends Error {
  override readonly name = 'DecisionNotRecordedError';
}

/**
 * What this call's intent asks for, before anything is written: the decision the webhook's call
 * upsert carries (lib/calls/record-call `upsertCallDeciding`). A booking needs a customer.
 */
export async function proposeDecision(input: Pick<DecideInput, 'db' | 'where' | 'retellCallId' | 'customerId' | 'intent' | 'final' | 'spokenAt'>): Promise<Decision> {
  const proposed = await evaluateIntent(input.db, input.where, input.retellCallId, input.intent, input.final, new Date(), input.spokenAt);
  if (proposed.kind === 'book' && !input.customerId) return { kind: 'no_booking', reason: 'caller number unknown (withheld), cannot create a customer' };
  return proposed;
}

/** The decision this process has just recorded (through the call upsert or recordDecision): count and log it, once per call. */
export function decisionRecorded(input: Pick<DecideInput, 'logger'>, decision: Exclude<Decision, { kind: 'wait' }>): void {
  // 'booked' and 'failed' are counted by the booking itself (lib/booking/book.ts).
  if (decision.kind === 'no_booking') callsProcessedTotal.inc({ outcome: 'no_booking' });
  input.logger.info({ decision: decision.kind, reason: decision.kind === 'no_booking' ? decision.reason : undefined }, 'booking decision');
}

/**
 * Queue the booking a 'book' decision asks for, with the job id its idempotency key gives: every
 * time the decision is seen, so a crash between decision and enqueue is repaired by a retry, and
 * a re-add while the job exists is a no-op.
 */
export async function followDecision(input: Pick<DecideInput, 'bookingsQueue' | 'where' | 'customerId' | 'callRowId' | 'customer' | 'cipher'> & { logger?: Logger }, decision: Decision): Promise<void> {
  if (decision.kind !== 'book') return;
  const job: BookingJob = {
    companyId: input.where.companyId,
    branchId: input.where.branchId,
    customerId: input.customerId!,
    serviceId: decision.serviceId,
    callId: input.callRowId,
    start: decision.start,
    idempotencyKey: decision.idempotencyKey,
    source: 'call',
  };
  const carries = input.customer !== undefined && input.cipher !== undefined && input.customer.customerId === job.customerId;
  const data = carries ? withCustomerSnapshot(input.cipher!, job, input.customer!) : job;
  if (carries && data === job) input.logger?.warn({ customerId: job.customerId }, 'booking queued without its customer snapshot: it would exceed the job size limit');
  await input.bookingsQueue.add('book', data, { jobId: jobIds.booking(decision.idempotencyKey) });
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
 * taken (or the call booked live) and the next round must read it. The first round starts from
 * the row the caller read, when it did (the webhook path, after its call upsert found a decision
 * taken: lib/calls/process-retell-webhook).
 */
async function decideOnce(input: DecideInput, round: number): Promise<Decision | null> {
  const { db, where, callRowId } = input;
  const given = round === 1 ? input.row : undefined;
  let decision: Decision;
  const row = given ?? (await readDecision(db, where.companyId, callRowId));
  if (row?.decision === 'book' && row.request) {
    decision = { kind: 'book', ...row.request };
  } else if (row?.decision === 'no_booking') {
    return { kind: 'no_booking', reason: row.reason ?? '' };
  } else {
    const bookedLive = row?.appointmentId ?? null;
    // Booked live during the call (lib/live/book-appointment.ts): the webhook must not book a
    // second time, even when its analysis read another time than the one the caller took.
    decision = bookedLive ? { kind: 'no_booking', reason: `booked live during the call (appointment ${bookedLive})` } : await proposeDecision(input);
    if (decision.kind === 'wait') return decision;
    if (!(await recordDecision(db, where.companyId, callRowId, decision))) return null;
    decisionRecorded(input, decision);
  }
  await followDecision(input, decision);
  return decision;
}
