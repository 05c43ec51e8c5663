/**
 * What came of a call, as the console and `stats_overview` / `calls_list` count it, in SQL:
 *
 * - `booked`: its appointment is booked or was rescheduled (a call booked live during the call
 *   counts here too — its decision is "no booking" because the appointment already exists);
 * - `cancelled`: its appointment was booked, then cancelled;
 * - `failed`: its booking failed for good (slot taken, Cal.com refused, gave up after retries);
 * - `no_booking`: decided not to book, with the reason in `calls.booking_reason`;
 * - `open`: not decided yet, or the booking is still pending.
 *
 * The appointment is the call's own (`calls.appointment_id`, set once booked), else — for a
 * booking that never landed — the appointment made from the call (`appointments.call_id`).
 * Both joins stay inside the call's company.
 */
import { and, eq, isNull, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/mysql-core';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { appointments, calls } from '../../drizzle/schema';
import { invalidParams } from './errors';
import { arg } from './tool';

export const OUTCOMES = ['booked', 'no_booking', 'failed', 'cancelled', 'open'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** The call's booked appointment. */
export const bookedAppt = alias(appointments, 'booked_appt');
/** The appointment made from a call whose booking has not landed (pending or failed). */
export const triedAppt = alias(appointments, 'tried_appt');

export const bookedApptJoin = and(eq(bookedAppt.id, calls.appointmentId), eq(bookedAppt.companyId, calls.companyId));
export const triedApptJoin = and(isNull(calls.appointmentId), eq(calls.bookingDecision, 'book'), eq(triedAppt.callId, calls.id), eq(triedAppt.companyId, calls.companyId));

const apptStatus = sql`COALESCE(${bookedAppt.status}, ${triedAppt.status})`;

export const outcomeSql: SQL<Outcome> = sql<Outcome>`CASE
  WHEN ${apptStatus} IN ('booked', 'rescheduled') THEN 'booked'
  WHEN ${apptStatus} = 'cancelled' THEN 'cancelled'
  WHEN ${apptStatus} = 'failed' THEN 'failed'
  WHEN ${calls.bookingDecision} = 'no_booking' THEN 'no_booking'
  ELSE 'open' END`;

/** A call's time: when it started, else when callbook first heard of it. */
export const callTimeSql = sql`COALESCE(${calls.startedAt}, ${calls.createdAt})`;

export const dayArg = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a day, YYYY-MM-DD')
  .describe('a day, YYYY-MM-DD, read in the time zone');

export const timeZoneArg = z
  .string()
  .min(1)
  .max(64)
  .refine((z_) => DateTime.local().setZone(z_).isValid, 'must be an IANA time zone like Europe/Berlin')
  .describe("IANA time zone the days are read in (default: the branch's, else the company's first branch's, else UTC)");

/** The scope and day range a stats or list tool takes (stats_overview, calls_list). */
export const scopeAndRangeArgs = {
  company: arg.company.optional(),
  branch: arg.branch.optional(),
  from: dayArg.optional(),
  to: dayArg.optional(),
  timeZone: timeZoneArg.optional(),
};

/** Longest range a stats or list request may span, in days. */
export const MAX_RANGE_DAYS = 366;

export interface DayRange {
  from: string;
  to: string;
  /** [start, end) in UTC. */
  start: Date;
  end: Date;
}

/** The days `from`..`to` (inclusive, default today) in `zone`, as a UTC half-open interval. */
export function dayRange(zone: string, from: string | undefined, to: string | undefined): DayRange {
  const today = DateTime.now().setZone(zone).toISODate()!;
  const f = from ?? to ?? today;
  const t = to ?? (from ? today : f);
  const start = DateTime.fromISO(f, { zone }).startOf('day');
  const end = DateTime.fromISO(t, { zone }).plus({ days: 1 }).startOf('day');
  if (!start.isValid) throw invalidParams(`from: "${f}" is not a calendar day`);
  if (!end.isValid) throw invalidParams(`to: "${t}" is not a calendar day`);
  if (end <= start) throw invalidParams(`to: ${t} is before from: ${f}`);
  if (end.diff(start, 'days').days > MAX_RANGE_DAYS + 1) throw invalidParams(`to: a range spans at most ${MAX_RANGE_DAYS} days`);
  return { from: f, to: t, start: start.toUTC().toJSDate(), end: end.toUTC().toJSDate() };
}
