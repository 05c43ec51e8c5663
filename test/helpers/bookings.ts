/** Booking jobs and their slots for tests, made in the test database the way the webhooks worker makes them. */
import { DateTime } from 'luxon';
import { bookingIdempotencyKey } from '../../lib/calls/idempotency';
import { servicesForBranch } from '../../lib/calls/match-service';
import { upsertCall, upsertCustomer } from '../../lib/calls/record-call';
import { lookupPhone } from '../../lib/calls/resolve-phone';
import type { Db } from '../../lib/db';
import type { BookingJob } from '../../lib/queues';
import { CALLER, SALON_NUMBER, callId } from './fixtures';

/** The first weekday (Mon–Fri) at least `daysAhead` days after today, Europe/Berlin, at hour:minute local time. */
export function berlinWeekday(daysAhead: number, hour: number, minute = 0): DateTime {
  let d = DateTime.now().setZone('Europe/Berlin').startOf('day').plus({ days: daysAhead });
  while (d.weekday > 5) d = d.plus({ days: 1 });
  return d.set({ hour, minute });
}

/**
 * Distinct weekday slots (Europe/Berlin, eight a day from 9:00, weekdays from three days ahead),
 * one per call, so no two calls of a test file collide.
 */
export function slotSequence(): () => DateTime {
  let seq = 0;
  return () => {
    const i = seq++;
    let d = berlinWeekday(3, 0);
    for (let advanced = 0; advanced < Math.floor(i / 8); ) {
      d = d.plus({ days: 1 });
      if (d.weekday <= 5) advanced++;
    }
    return d.set({ hour: 9 + (i % 8) });
  };
}

export interface BookingJobOpts {
  customerId: number;
  /** The service's slug in the branch. */
  service: string;
  /** The calls row the booking is linked to; undefined for none. */
  callId: number | undefined;
  /** What the idempotency key is made from (a Retell call id). */
  callRef: string;
  /** UTC ISO. */
  start: string;
}

/** The BookingJob queued for a customer of the branch `where` booking `o.service` at `o.start`. */
export async function bookingJobFor(db: Db, where: { companyId: number; branchId: number }, o: BookingJobOpts): Promise<BookingJob> {
  const svc = (await servicesForBranch(db, where.companyId, where.branchId)).find((s) => s.slug === o.service)!;
  return {
    companyId: where.companyId,
    branchId: where.branchId,
    customerId: o.customerId,
    serviceId: svc.id,
    callId: o.callId,
    start: o.start,
    idempotencyKey: bookingIdempotencyKey({ companyId: where.companyId, callRef: o.callRef, eventTypeId: svc.calcomEventTypeId, startIso: o.start }),
    source: 'call',
  };
}

/**
 * A new call of CALLER ("Anna") to `number` (default the salon) asking for `service` (default haircut) at `start` (UTC ISO):
 * the customer and (unless `withCall: false`) the analyzed call in the database, and the BookingJob for them.
 */
export async function bookingJobForNewCall(db: Db, start: string, o: { number?: string; service?: string; withCall?: boolean } = {}): Promise<BookingJob> {
  const where = (await lookupPhone(db, o.number ?? SALON_NUMBER))!;
  const customerId = await upsertCustomer(db, where.companyId, CALLER, 'Anna');
  const retellId = callId();
  const callRowId = o.withCall === false ? undefined : await upsertCall(db, { companyId: where.companyId, branchId: where.branchId, customerId, event: 'call_analyzed', call: { call_id: retellId } });
  return bookingJobFor(db, where, { customerId, service: o.service ?? 'haircut', callId: callRowId, callRef: retellId, start });
}
