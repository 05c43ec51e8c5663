/**
 * Applies one verified Cal.com booking webhook to a company's appointments, synchronously (a few
 * small indexed updates). Each delivery goes through the webhook_events inbox (provider
 * `calcom`), so a re-delivery is a no-op, and every update is conditional on the state it
 * changes, so two deliveries racing each other (or callbook's own change racing its echo from
 * Cal.com) change the row once.
 *
 * - BOOKING_CREATED: a booking callbook knows (its own) changes nothing; one made in Cal.com
 *   directly is not recorded as an appointment (there is no customer or call behind it) — only
 *   the availability cache of its day is cleared.
 * - BOOKING_CANCELLED: the appointment with that uid (in this company) → `cancelled`.
 * - BOOKING_RESCHEDULED: the appointment with `rescheduleUid` (old) or `uid` (new) takes the new
 *   uid, start and end, status `booked`; already there (callbook moved it itself) → no-op.
 * Every handled delivery clears the availability cache of the days involved (old and new), in the
 * time zones of the branches offering the event type.
 */
import { and, eq, inArray, isNull, ne, or } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import { appointments, branches, services } from '../../drizzle/schema';
import { audit } from '../audit';
import { cacheKeys, type TieredCache } from '../cache';
import { claimEvent, finishEvent, type InboxKey } from '../calls/webhook-inbox';
import { describeError } from '../errors/redact';
import type { Db } from '../db';
import type { LiveEvent } from '../events';
import type { CalcomBookingWebhook } from './schema';

export interface CalcomWebhookDeps {
  db: Db;
  cache: TieredCache;
  logger: Logger;
  publish?: (event: LiveEvent) => Promise<void>;
}

export type CalcomWebhookOutcome =
  /** This delivery was handled before (same dedupe key): nothing done. */
  | 'duplicate'
  | 'created_elsewhere'
  | 'created_by_callbook'
  | 'cancelled'
  | 'already_cancelled'
  | 'rescheduled'
  | 'already_rescheduled'
  /** Cancelled/rescheduled booking callbook has no appointment for: only the cache is cleared. */
  | 'unknown_booking';

export interface CalcomWebhookResult {
  outcome: CalcomWebhookOutcome;
  appointmentId?: number;
  /** Availability cache keys cleared. */
  invalidated: string[];
}

interface Found {
  id: number;
  branchId: number;
  uid: string | null;
  status: string;
  startAt: Date;
  endAt: Date | null;
  eventTypeId: number;
  timezone: string;
}

const ACTOR = 'calcom:webhook';

export async function handleCalcomWebhook(
  deps: CalcomWebhookDeps,
  input: { companyId: number; webhook: CalcomBookingWebhook; dedupeKey: string; receivedAt?: Date },
): Promise<CalcomWebhookResult> {
  const { companyId, webhook } = input;
  const key: InboxKey = { provider: 'calcom', dedupeKey: input.dedupeKey };
  const fresh = await claimEvent(deps.db, key, { eventType: webhook.triggerEvent, externalId: webhook.payload.uid, receivedAt: input.receivedAt ?? new Date() });
  if (!fresh) return { outcome: 'duplicate', invalidated: [] };
  try {
    const result = await apply(deps, companyId, webhook);
    await finishEvent(deps.db, key, 'processed', { companyId });
    deps.logger.info({ companyId, trigger: webhook.triggerEvent, uid: webhook.payload.uid, outcome: result.outcome, appointmentId: result.appointmentId }, 'cal.com webhook processed');
    return result;
  } catch (err) {
    await finishEvent(deps.db, key, 'failed', { companyId, error: describeError(err) }).catch((e: unknown) =>
      deps.logger.error({ err: e, dedupeKey: key.dedupeKey }, 'could not record the cal.com webhook failure'),
    );
    throw err;
  }
}

async function apply(deps: CalcomWebhookDeps, companyId: number, w: CalcomBookingWebhook): Promise<CalcomWebhookResult> {
  const p = w.payload;
  const uids = [p.uid, ...(p.rescheduleUid ? [p.rescheduleUid] : [])];
  const rows: Found[] = await deps.db
    .select({
      id: appointments.id,
      branchId: appointments.branchId,
      uid: appointments.calcomBookingUid,
      status: appointments.status,
      startAt: appointments.startAt,
      endAt: appointments.endAt,
      eventTypeId: services.calcomEventTypeId,
      timezone: branches.timezone,
    })
    .from(appointments)
    .innerJoin(services, and(eq(services.id, appointments.serviceId), eq(services.companyId, appointments.companyId)))
    .innerJoin(branches, and(eq(branches.id, appointments.branchId), eq(branches.companyId, appointments.companyId)))
    .where(and(eq(appointments.companyId, companyId), inArray(appointments.calcomBookingUid, uids)));
  const current = rows.find((r) => r.uid === p.uid);
  const previous = p.rescheduleUid ? rows.find((r) => r.uid === p.rescheduleUid) : undefined;
  const start = new Date(p.startTime);
  const end = new Date(p.endTime);

  const days: Array<{ eventTypeId: number | null | undefined; at: Date; zone?: string }> = [{ eventTypeId: p.eventTypeId, at: start }];
  const forget = async (appointmentRow?: Found, extra?: Date) => {
    if (appointmentRow) days.push({ eventTypeId: appointmentRow.eventTypeId, at: appointmentRow.startAt, zone: appointmentRow.timezone }, { eventTypeId: appointmentRow.eventTypeId, at: start, zone: appointmentRow.timezone });
    if (extra) days.push({ eventTypeId: p.eventTypeId ?? appointmentRow?.eventTypeId, at: extra });
    return invalidateDays(deps, companyId, days);
  };

  switch (w.triggerEvent) {
    case 'BOOKING_CREATED': {
      if (current) return { outcome: 'created_by_callbook', appointmentId: current.id, invalidated: await forget(current) };
      return { outcome: 'created_elsewhere', invalidated: await forget() };
    }

    case 'BOOKING_CANCELLED': {
      if (!current) return { outcome: 'unknown_booking', invalidated: await forget() };
      const [res] = await deps.db
        .update(appointments)
        .set({ status: 'cancelled' })
        .where(and(eq(appointments.id, current.id), eq(appointments.companyId, companyId), ne(appointments.status, 'cancelled')));
      const invalidated = await forget(current);
      if (res.affectedRows === 0) return { outcome: 'already_cancelled', appointmentId: current.id, invalidated };
      await audit(deps.db, { companyId, actor: ACTOR, action: 'appointment.cancel', target: `appointment:${current.id}`, details: { uid: p.uid, reason: p.cancellationReason ?? null } });
      await deps.publish?.({ type: 'booking.cancelled', companyId, branchId: current.branchId, appointmentId: current.id, start: current.startAt.toISOString() });
      return { outcome: 'cancelled', appointmentId: current.id, invalidated };
    }

    case 'BOOKING_RESCHEDULED': {
      const oldStart = p.rescheduleStartTime ? new Date(p.rescheduleStartTime) : undefined;
      const target = current ?? previous;
      if (!target) return { outcome: 'unknown_booking', invalidated: await forget(undefined, oldStart) };
      const already = current !== undefined && current.status === 'booked' && current.startAt.getTime() === start.getTime() && (current.endAt === null || current.endAt.getTime() === end.getTime());
      if (already) return { outcome: 'already_rescheduled', appointmentId: current.id, invalidated: await forget(current, oldStart) };
      const [res] = await deps.db
        .update(appointments)
        .set({ calcomBookingUid: p.uid, ...(p.bookingId ? { calcomBookingId: p.bookingId } : {}), startAt: start, endAt: end, status: 'booked' })
        .where(and(eq(appointments.id, target.id), eq(appointments.companyId, companyId), eq(appointments.calcomBookingUid, target.uid!)));
      const invalidated = await forget(target, oldStart);
      if (res.affectedRows === 0) return { outcome: 'already_rescheduled', appointmentId: target.id, invalidated };
      await audit(deps.db, { companyId, actor: ACTOR, action: 'appointment.reschedule', target: `appointment:${target.id}`, details: { from: target.startAt.toISOString(), to: start.toISOString(), uid: p.uid, previousUid: target.uid } });
      await deps.publish?.({ type: 'booking.rescheduled', companyId, branchId: target.branchId, appointmentId: target.id, start: start.toISOString() });
      return { outcome: 'rescheduled', appointmentId: target.id, invalidated };
    }
  }
}

/**
 * Clear `mcp:calcom:availability:<event type>:<day>` for each (event type, instant): the day in
 * the given zone, and in the zone of every branch of the company offering that event type.
 */
async function invalidateDays(deps: CalcomWebhookDeps, companyId: number, days: Array<{ eventTypeId: number | null | undefined; at: Date; zone?: string }>): Promise<string[]> {
  const zonesByType = new Map<number, string[]>();
  const keys = new Set<string>();
  for (const d of days) {
    if (!d.eventTypeId || Number.isNaN(d.at.getTime())) continue;
    let zones = zonesByType.get(d.eventTypeId);
    if (!zones) {
      zones = await branchZones(deps.db, companyId, d.eventTypeId);
      zonesByType.set(d.eventTypeId, zones);
    }
    for (const zone of new Set([...zones, ...(d.zone ? [d.zone] : [])])) {
      const day = DateTime.fromJSDate(d.at, { zone }).toISODate();
      if (day) keys.add(cacheKeys.availability(d.eventTypeId, day));
    }
  }
  if (keys.size) await deps.cache.invalidate(...keys);
  return [...keys];
}

/** Time zones of the company's branches that offer `eventTypeId` (a service without a branch: all). */
async function branchZones(db: Db, companyId: number, eventTypeId: number): Promise<string[]> {
  const rows = await db
    .selectDistinct({ zone: branches.timezone })
    .from(services)
    .innerJoin(branches, and(eq(branches.companyId, services.companyId), or(isNull(services.branchId), eq(services.branchId, branches.id))))
    .where(and(eq(services.companyId, companyId), eq(services.calcomEventTypeId, eventTypeId)));
  return rows.map((r) => r.zone);
}
