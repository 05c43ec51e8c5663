/**
 * Find, move and cancel appointments on behalf of a caller or an operator. Every function is
 * scoped by company, and — when a caller's number is given — by that caller: a caller can only
 * see, move or cancel their own appointments in the company they dialled. The same functions
 * serve live-call functions, the MCP server and the CLI.
 */
import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { appointments, branches, companies, customers, services } from '../../drizzle/schema';
import { audit } from '../audit';
import { phoneIndexCandidates } from '../pii';
import { describeSlots, nearestFreeSlots } from '../booking/alternatives';
import { callCalcom, type BookingDeps } from '../booking/book';
import { BookingRejected } from '../booking/errors';
import { cacheKeys } from '../cache';
import { CalcomError, type CalBooking } from '../calcom';

export interface AppointmentView {
  id: number;
  status: string;
  start: string;
  end: string | null;
  service: { id: number; slug: string; name: string; eventTypeId: number };
  branch: { id: number; name: string; timezone: string; language: string };
  calcomUid: string | null;
}

export class AppointmentNotFound extends Error {
  override readonly name = 'AppointmentNotFound';
}

export interface Scope {
  companyId: number;
  /** When set, only this caller's appointments (their number within the company). */
  customerPhone?: string;
  /** When set, only this branch's appointments (a branch token). */
  branchId?: number | null;
}

async function load(deps: Pick<BookingDeps, 'db'>, scope: Scope, where: { id?: number; upcomingFrom?: Date }): Promise<AppointmentView[]> {
  const conds = [eq(appointments.companyId, scope.companyId), inArray(appointments.status, ['booked', 'pending'])];
  if (where.id !== undefined) conds.push(eq(appointments.id, where.id));
  if (where.upcomingFrom) conds.push(gt(appointments.startAt, where.upcomingFrom));
  if (scope.branchId) conds.push(eq(appointments.branchId, scope.branchId));
  // `!== undefined`, not truthiness: a caller whose number is '' (withheld) must match nobody,
  // not — as a falsy check would have it — every customer of the company.
  if (scope.customerPhone !== undefined) {
    if (!scope.customerPhone) return [];
    // By the blind index: the phone column may hold a ciphertext (lib/pii).
    conds.push(inArray(customers.phoneIndex, phoneIndexCandidates(scope.companyId, scope.customerPhone)));
  }
  const rows = await deps.db
    .select({ a: appointments, s: services, b: branches })
    .from(appointments)
    .innerJoin(customers, and(eq(customers.id, appointments.customerId), eq(customers.companyId, appointments.companyId)))
    .innerJoin(services, and(eq(services.id, appointments.serviceId), eq(services.companyId, appointments.companyId)))
    .innerJoin(branches, and(eq(branches.id, appointments.branchId), eq(branches.companyId, appointments.companyId)))
    .where(and(...conds))
    .orderBy(asc(appointments.startAt))
    .limit(50);
  return rows.map(({ a, s, b }) => ({
    id: a.id,
    status: a.status,
    start: a.startAt.toISOString(),
    end: a.endAt?.toISOString() ?? null,
    service: { id: s.id, slug: s.slug, name: s.name, eventTypeId: s.calcomEventTypeId },
    branch: { id: b.id, name: b.name, timezone: b.timezone, language: b.language },
    calcomUid: a.calcomBookingUid,
  }));
}

/** Upcoming appointments in scope, soonest first. */
export function findAppointments(deps: Pick<BookingDeps, 'db'>, scope: Scope, now = new Date()): Promise<AppointmentView[]> {
  return load(deps, scope, { upcomingFrom: now });
}

async function one(deps: Pick<BookingDeps, 'db'>, scope: Scope, id: number): Promise<AppointmentView> {
  const [found] = await load(deps, scope, { id });
  // The same answer whether it does not exist or is someone else's: nothing leaks.
  if (!found || !found.calcomUid) throw new AppointmentNotFound(`no appointment ${id} of yours`);
  return found;
}

async function clientFor(deps: BookingDeps, companyId: number) {
  const [company] = await deps.db.select({ key: companies.calcomApiKeyEnc }).from(companies).where(eq(companies.id, companyId));
  if (!company?.key) throw new BookingRejected(`company ${companyId} has no Cal.com API key`, 'input');
  return deps.clientFor(deps.cipher.decrypt(company.key));
}

/** Cal.com's own message, without the `Cal.com POST /bookings/<uid>/cancel → 400 …:` prefix. */
function calcomDetail(err: CalcomError): string {
  const i = err.message.indexOf(': ');
  return i < 0 ? err.message : err.message.slice(i + 2);
}

const ALREADY_CANCELLED = /cancelled already/i;
/** Cal.com's answer to rescheduling a booking that an earlier (lost) answer already moved. */
const ALREADY_RESCHEDULED = /rescheduled already to booking with uid=([A-Za-z0-9_-]+)/;

async function forgetDays(deps: BookingDeps, eventTypeId: number, timeZone: string, ...starts: string[]) {
  const keys = starts.map((s) => cacheKeys.availability(eventTypeId, DateTime.fromISO(s).setZone(timeZone).toISODate()!));
  await deps.cache.invalidate(...new Set(keys));
}

export async function cancelAppointment(deps: BookingDeps, scope: Scope, input: { appointmentId: number; reason?: string; actor: string }): Promise<AppointmentView> {
  const appt = await one(deps, scope, input.appointmentId);
  const client = await clientFor(deps, scope.companyId);
  try {
    await callCalcom(deps, () => client.cancelBooking(appt.calcomUid!, { cancellationReason: input.reason ?? 'cancelled by the caller' }));
  } catch (err) {
    // Already cancelled in Cal.com (e.g. a retry after a lost answer): converge locally. Only
    // Cal.com's own words count: the message also names the path (`/bookings/<uid>/cancel`), so
    // matching /cancel/ there took every failure — a 500, a timeout — for success.
    if (!(err instanceof CalcomError && (err.kind === 'not_found' || ALREADY_CANCELLED.test(calcomDetail(err))))) throw err;
  }
  await deps.db.update(appointments).set({ status: 'cancelled' }).where(and(eq(appointments.id, appt.id), eq(appointments.companyId, scope.companyId)));
  await forgetDays(deps, appt.service.eventTypeId, appt.branch.timezone, appt.start);
  await audit(deps.db, { companyId: scope.companyId, actor: input.actor, action: 'appointment.cancel', target: `appointment:${appt.id}` });
  await deps.publish?.({ type: 'booking.cancelled', companyId: scope.companyId, branchId: appt.branch.id, appointmentId: appt.id, start: appt.start });
  return { ...appt, status: 'cancelled' };
}

export async function rescheduleAppointment(
  deps: BookingDeps,
  scope: Scope,
  input: { appointmentId: number; start: Date; actor: string },
): Promise<AppointmentView> {
  const appt = await one(deps, scope, input.appointmentId);
  const newStart = input.start.toISOString();
  if (newStart === appt.start) return appt; // asked twice: already there
  const client = await clientFor(deps, scope.companyId);
  let moved: CalBooking;
  try {
    moved = await callCalcom(deps, () => client.rescheduleBooking(appt.calcomUid!, { start: newStart, reschedulingReason: 'requested by the caller' }));
  } catch (err) {
    // A retry after a lost answer: Cal.com already moved it (to a new uid). Adopt that booking
    // when it is at the time asked for; before, every later attempt failed on the old uid.
    const movedTo = err instanceof CalcomError ? ALREADY_RESCHEDULED.exec(calcomDetail(err))?.[1] : undefined;
    const earlier = movedTo ? await callCalcom(deps, () => client.getBooking(movedTo)) : undefined;
    if (earlier && new Date(earlier.start).toISOString() === newStart && earlier.status !== 'cancelled') {
      moved = earlier;
    } else if (err instanceof CalcomError && err.kind === 'slot_unavailable') {
      const alternatives = await nearestFreeSlots(client, { eventTypeId: appt.service.eventTypeId, requested: input.start, timeZone: appt.branch.timezone }).catch(() => [] as string[]);
      throw new BookingRejected(`slot taken; ${alternatives.length ? `free: ${describeSlots(alternatives, input.start, appt.branch.timezone)}` : 'no free slot nearby'}`, err.kind, alternatives);
    } else if (err instanceof CalcomError && !err.retryable) {
      throw new BookingRejected(`Cal.com refused the change (${err.kind}): ${err.message}`, err.kind);
    } else {
      throw err;
    }
  }
  await deps.db
    .update(appointments)
    .set({ calcomBookingUid: moved.uid, calcomBookingId: moved.id, startAt: new Date(moved.start), endAt: new Date(moved.end), status: 'booked' })
    .where(and(eq(appointments.id, appt.id), eq(appointments.companyId, scope.companyId)));
  await forgetDays(deps, appt.service.eventTypeId, appt.branch.timezone, appt.start, moved.start);
  await audit(deps.db, { companyId: scope.companyId, actor: input.actor, action: 'appointment.reschedule', target: `appointment:${appt.id}`, details: { from: appt.start, to: moved.start } });
  await deps.publish?.({ type: 'booking.rescheduled', companyId: scope.companyId, branchId: appt.branch.id, appointmentId: appt.id, start: moved.start });
  return { ...appt, start: new Date(moved.start).toISOString(), end: new Date(moved.end).toISOString(), calcomUid: moved.uid, status: 'booked' };
}
