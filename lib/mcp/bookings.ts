/**
 * Availability and appointments through callbook's own paths: `availability_check` (cached free
 * slots), `booking_create` (lib/booking executeBooking: the exactly-once path calls use; the same
 * request twice books once), `booking_find` / `booking_reschedule` / `booking_cancel`
 * (lib/appointments/manage, scoped by company and, for a branch token, branch). Cal.com refusing
 * (slot taken, with the nearest free slots) or being unavailable is a tool result with isError.
 */
import { and, eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { appointments, branches } from '../../drizzle/schema';
import { AppointmentNotFound, cancelAppointment, findAppointments, rescheduleAppointment, type AppointmentView, type Scope } from '../appointments/manage';
import { audit } from '../audit';
import { freeSlotsOn } from '../booking/availability';
import { executeBooking } from '../booking/book';
import { BookingDeferred, BookingRejected } from '../booking/errors';
import { manualBookingJob } from '../booking/manual';
import { CalcomError } from '../calcom';
import { parseRequestedRange, parseRequestedStart } from '../datetime';
import { BreakerOpenError } from '../resilience';
import { invalidParams, notFound } from './errors';
import { resolveBranch, resolveCompany, resolveService, tokenBranchId, tokenCompanyId } from './scope';
import { arg, defineTool, ok, toolFailure, type ToolContext, type ToolDef } from './tool';

/** Cal.com's refusals and outages as results the client can act on; anything else propagates. */
function calcomFailure(err: unknown, what: string) {
  if (err instanceof BookingRejected) return toolFailure(`${what}: ${err.reason}`, { kind: err.kind, alternatives: err.alternatives });
  if (err instanceof BookingDeferred) return toolFailure(`${what} now: ${err.message}`, { retryAt: new Date(err.retryAt).toISOString() });
  if (err instanceof BreakerOpenError) return toolFailure(`${what}: Cal.com circuit breaker is ${err.state}`, { retryAt: new Date(err.retryAt).toISOString() });
  if (err instanceof CalcomError) return toolFailure(`${what}: Cal.com answered ${err.status ?? err.kind}: ${err.message}`, { kind: err.kind });
  return null;
}

function calcomKey(t: ToolContext, company: { slug: string; calcomApiKeyEnc: string | null }): string {
  if (!company.calcomApiKeyEnc) throw invalidParams(`company ${company.slug} has no Cal.com API key (add calcomApiKey in the tenants file)`);
  return t.ctx.cipher.decrypt(company.calcomApiKeyEnc);
}

const localTime = (iso: string, zone: string) => DateTime.fromISO(iso).setZone(zone).toFormat('yyyy-MM-dd HH:mm');

const view = (a: AppointmentView) => ({ ...a, local: localTime(a.start, a.branch.timezone) });

const availabilityCheck = defineTool({
  name: 'availability_check',
  title: 'Free slots',
  description: "Free slots of a service on one day at a branch, in the branch's time zone (cached 5 min, cleared when a booking lands on that day).",
  input: z
    .object({
      company: arg.company.optional(),
      branch: arg.branch.optional(),
      service: z.string().min(1).max(64).describe('service slug or Cal.com event type id'),
      date: z.string().min(1).max(100).describe('YYYY-MM-DD, or a spoken day ("morgen", "next tuesday"), read in the branch time zone'),
    })
    .strict(),
  annotations: { readOnlyHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const company = await resolveCompany(t, a.company);
    const branch = (await resolveBranch(t, company, a.branch, true))!;
    const service = await resolveService(t, company, branch, a.service);
    let date = a.date;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) {
      const range = parseRequestedRange(date, { timeZone: branch.timezone });
      if (!range) throw invalidParams(`date: cannot read "${a.date}" (use YYYY-MM-DD or e.g. "morgen")`);
      date = DateTime.fromJSDate(range.from).setZone(branch.timezone).toISODate()!;
    } else if (!DateTime.fromISO(date).isValid) {
      throw invalidParams(`date: "${a.date}" is not a calendar day`);
    }
    const key = calcomKey(t, company);
    try {
      const slots = await freeSlotsOn(t.ctx.cache, t.booking().clientFor(key), { eventTypeId: service.calcomEventTypeId, date, timeZone: branch.timezone }, t.signal);
      return ok({
        company: company.slug,
        branch: branch.slug,
        service: service.slug,
        date,
        timeZone: branch.timezone,
        slots,
        local: slots.map((s) => DateTime.fromISO(s).setZone(branch.timezone).toFormat('HH:mm')),
      });
    } catch (err) {
      const failure = calcomFailure(err, 'no availability');
      if (failure) return failure;
      throw err;
    }
  },
});

const bookingCreate = defineTool({
  name: 'booking_create',
  title: 'Book an appointment',
  description:
    'Book a service for a customer (found or created by phone number) in Cal.com, exactly once: the same service, customer and start asked twice is one booking. A taken slot fails with the nearest free slots.',
  input: z
    .object({
      company: arg.company.optional(),
      branch: arg.branch.optional(),
      service: z.string().min(1).max(64).describe('service slug or Cal.com event type id'),
      phone: arg.phone.describe("the customer's phone number, E.164"),
      start: z.string().min(1).max(100).describe('ISO ("2026-12-01T11:00", read in the branch time zone unless it has an offset) or spoken ("Dienstag um 11")'),
      name: z.string().min(1).max(200).optional(),
      email: z.email().max(254).optional(),
    })
    .strict(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const db = t.ctx.database.db;
    const company = await resolveCompany(t, a.company);
    const branch = (await resolveBranch(t, company, a.branch, true))!;
    const service = await resolveService(t, company, branch, a.service);
    const when = parseRequestedStart(a.start, { timeZone: branch.timezone });
    if (!when?.hasTime) throw invalidParams(`start: cannot read a start time from "${a.start}"`);
    if (when.start.getTime() <= Date.now()) throw invalidParams(`start: ${when.start.toISOString()} is in the past`);
    calcomKey(t, company);
    const job = await manualBookingJob(db, { companyId: company.id, branchId: branch.id, service, phone: a.phone, name: a.name, email: a.email, start: when.start, source: 'mcp' });
    const start = job.start;
    await audit(db, { companyId: company.id, actor: t.actor, action: 'booking.create', target: `service:${service.slug}`, details: { tool: 'booking_create', start, branch: branch.slug } });
    try {
      const r = await executeBooking(t.booking(), job, t.signal);
      return ok({ ...r, local: localTime(r.start, branch.timezone), timeZone: branch.timezone, company: company.slug, branch: branch.slug, service: service.slug });
    } catch (err) {
      const failure = calcomFailure(err, 'not booked');
      if (failure) return failure;
      throw err;
    }
  },
});

const bookingFind = defineTool({
  name: 'booking_find',
  title: 'Find appointments',
  description: "Upcoming appointments (booked or pending) of the company, soonest first; optionally one customer's (by phone) or one branch's.",
  input: z
    .object({
      company: arg.company.optional(),
      branch: arg.branch.optional(),
      phone: arg.phone.optional().describe("the customer's phone number, E.164"),
    })
    .strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const company = await resolveCompany(t, a.company);
    const branch = await resolveBranch(t, company, a.branch, false);
    const scope: Scope = { companyId: company.id, branchId: branch?.id ?? null, ...(a.phone ? { customerPhone: a.phone } : {}) };
    const found = await findAppointments(t.booking(), scope);
    await audit(t.ctx.database.db, {
      companyId: company.id,
      actor: t.actor,
      action: 'appointments.find',
      target: a.phone ? 'customer' : `company:${company.slug}`,
      details: { tool: 'booking_find', branch: branch?.slug, results: found.length },
    });
    return ok({ company: company.slug, count: found.length, appointments: found.map(view) });
  },
});

/**
 * The scope of an appointment named by id: a token's own company (and branch); for the admin the
 * named company, else the appointment's. Not found when it is outside the scope or missing.
 */
async function appointmentScope(t: ToolContext, companySlug: string | undefined, appointmentId: number): Promise<{ scope: Scope; timezone: string }> {
  const db = t.ctx.database.db;
  const conds = [eq(appointments.id, appointmentId)];
  const own = tokenCompanyId(t);
  if (own !== null) conds.push(eq(appointments.companyId, own));
  const ownBranch = tokenBranchId(t);
  if (ownBranch !== null) conds.push(eq(appointments.branchId, ownBranch));
  if (companySlug !== undefined) {
    const company = await resolveCompany(t, companySlug);
    conds.push(eq(appointments.companyId, company.id));
  }
  const [row] = await db
    .select({ companyId: appointments.companyId, branchId: appointments.branchId, timezone: branches.timezone })
    .from(appointments)
    .innerJoin(branches, and(eq(branches.id, appointments.branchId), eq(branches.companyId, appointments.companyId)))
    .where(and(...conds));
  if (!row) throw notFound(`no appointment ${appointmentId}`);
  return { scope: { companyId: row.companyId, branchId: ownBranch }, timezone: row.timezone };
}

const bookingReschedule = defineTool({
  name: 'booking_reschedule',
  title: 'Move an appointment',
  description: 'Move a booked appointment to a new start in Cal.com. A taken slot fails with the nearest free slots; asking twice for the same start changes nothing.',
  input: z
    .object({
      company: arg.company.optional(),
      appointmentId: arg.appointmentId,
      start: z.string().min(1).max(100).describe('the new start: ISO or spoken, read in the branch time zone'),
    })
    .strict(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const { scope, timezone } = await appointmentScope(t, a.company, a.appointmentId);
    const when = parseRequestedStart(a.start, { timeZone: timezone });
    if (!when?.hasTime) throw invalidParams(`start: cannot read a start time from "${a.start}"`);
    if (when.start.getTime() <= Date.now()) throw invalidParams(`start: ${when.start.toISOString()} is in the past`);
    try {
      const moved = await rescheduleAppointment(t.booking(), scope, { appointmentId: a.appointmentId, start: when.start, actor: t.actor });
      return ok({ appointment: view(moved) });
    } catch (err) {
      if (err instanceof AppointmentNotFound) throw notFound(`no booked appointment ${a.appointmentId}`);
      const failure = calcomFailure(err, 'not moved');
      if (failure) return failure;
      throw err;
    }
  },
});

const bookingCancel = defineTool({
  name: 'booking_cancel',
  title: 'Cancel an appointment',
  description: 'Cancel a booked appointment in Cal.com and here. Cancelling one already cancelled in Cal.com converges.',
  input: z
    .object({
      company: arg.company.optional(),
      appointmentId: arg.appointmentId,
      reason: z.string().min(1).max(500).optional(),
    })
    .strict(),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const { scope } = await appointmentScope(t, a.company, a.appointmentId);
    try {
      const cancelled = await cancelAppointment(t.booking(), scope, { appointmentId: a.appointmentId, reason: a.reason ?? 'cancelled by an operator', actor: t.actor });
      return ok({ appointment: view(cancelled) });
    } catch (err) {
      if (err instanceof AppointmentNotFound) throw notFound(`no booked appointment ${a.appointmentId}`);
      const failure = calcomFailure(err, 'not cancelled');
      if (failure) return failure;
      throw err;
    }
  },
});

export const bookingTools: ToolDef[] = [availabilityCheck, bookingCreate, bookingFind, bookingReschedule, bookingCancel];
