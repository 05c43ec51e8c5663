/**
 * `book_appointment`: books the caller's wished time now, during the call, through the very
 * function the bookings worker runs (lib/booking/book.ts `executeBooking`) with the very key
 * the webhook pipeline would derive (company, Retell call id, event type, start). So a Retell
 * retry, a second call of the function, or the call's later webhook asking for the same time
 * all land on one appointment row and one Cal.com booking; a webhook asking for a different
 * time is stopped by lib/calls/decide-booking.ts, which sees the call already has its
 * appointment.
 *
 * Args: `when` (with a time), `service`, `customer_name`, `email` (optional).
 */
import { z } from 'zod';
import { executeBooking, type BookingResult } from '../booking/book';
import { BookingDeferred, BookingRejected } from '../booking/errors';
import { isUnknownName } from '../calls/booking-intent';
import { bookingIdempotencyKey } from '../calls/idempotency';
import { ForeignCallError, upsertCall, upsertCustomer } from '../calls/record-call';
import type { BookingJob } from '../queues';
import type { RetellCall } from '../retell/webhook';
import { branchCatalogue, pickService } from './catalogue';
import { noCalendar, unknownService } from './check-availability';
import { callerUnknown, isTransient, nowOf, readStart, unavailable, unusableStart, whenArg } from './common';
import { LiveError } from './context';
import { say, speakSlots, timeView } from './say';
import { defineFunction, type LiveDeps } from './types';

/** A Retell retry that arrives while the first attempt still holds the booking lock waits for it. */
const LOCK_WAIT_MS = 5_000;
const LOCK_POLL_MS = 100;

async function bookWaitingForLock(deps: LiveDeps, job: BookingJob): Promise<BookingResult> {
  const until = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      return await executeBooking(deps.booking, job);
    } catch (err) {
      const locked = err instanceof BookingDeferred && err.reason.startsWith('another attempt');
      if (!locked || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }
}

/**
 * The call as the live booking records it: without the transcript so far. Retell's call object
 * carries it into every function request (bench/live `BENCH_CALL_MINUTES`: about 155 KiB eight
 * minutes in); the call's `call_ended` webhook writes the whole one moments later, so writing (and, for a
 * company that encrypts personal data, sealing) the partial one on every booking was work thrown
 * away.
 */
const withoutTranscript = (call: RetellCall): RetellCall => ({ ...call, transcript: undefined });

export const bookAppointment = defineFunction({
  name: 'book_appointment',
  needsCall: true,
  args: z.object({
    when: whenArg.describe('The day and time the caller agreed to, in their words or ISO: "morgen um 14 Uhr", "2026-12-01T14:00"'),
    service: z.string().trim().max(100).optional().describe('The service the caller wants, in their words; leave out for the branch default'),
    customer_name: z.string().trim().max(100).optional().describe("The caller's full name, when they gave it"),
    email: z.email().max(200).optional().describe("The caller's e-mail address, when they gave it"),
  }),
  async run(deps, call, args) {
    const now = nowOf(deps);
    const l = call.lang;
    const tz = call.where.timezone;
    const { where } = call;
    // needsCall guarantees the call object; its call_id is required by the call schema.
    if (!call.retellCallId || !call.call) throw new LiveError(422, 'call_required', 'book_appointment needs Retell\'s call object');
    if (!call.customerNumber) return callerUnknown(call);
    const start = readStart(call, args.when, now);
    const unusable = unusableStart(call, args.when, start, now);
    if (unusable || !start) return unusable!;

    const cat = await branchCatalogue(deps.booking, where);
    const service = pickService(cat, args.service);
    if (!service) return unknownService(call, cat, args.service);
    if (!cat.calcomKeyEnc) return noCalendar(call);

    // No transaction: both upserts are idempotent, and a customer row without its call is harmless.
    const name = isUnknownName(args.customer_name) ? undefined : args.customer_name;
    const customerId = await upsertCustomer(deps.booking.db, where.companyId, call.customerNumber, name, args.email);
    let callRowId: number;
    try {
      callRowId = await upsertCall(deps.booking.db, { companyId: where.companyId, branchId: where.branchId, customerId, event: 'call_started', call: withoutTranscript(call.call) });
    } catch (err) {
      if (err instanceof ForeignCallError) {
        deps.booking.logger.warn({ companyId: where.companyId, retellCallId: call.retellCallId }, 'live booking refused: the call id belongs to another company');
        throw new LiveError(422, 'foreign_call', err.message, [{ path: 'call.call_id', message: 'belongs to another company' }]);
      }
      throw err;
    }

    const startIso = start.start.toISOString();
    const job: BookingJob = {
      companyId: where.companyId,
      branchId: where.branchId,
      customerId,
      serviceId: service.id,
      callId: callRowId,
      start: startIso,
      idempotencyKey: bookingIdempotencyKey({ companyId: where.companyId, callRef: call.retellCallId, eventTypeId: service.calcomEventTypeId, startIso }),
      source: 'live',
    };
    const requested = timeView(start.start, tz, l);
    const svc = { slug: service.slug, name: service.name, duration_minutes: service.durationMinutes };
    try {
      const result = await bookWaitingForLock(deps, job);
      const booked = timeView(result.start, tz, l);
      return {
        say: say(l, `Gebucht: ${service.name} am ${booked.spoken}.`, `Booked: ${service.name} on ${booked.spoken}.`),
        data: { status: result.status, appointment_id: result.appointmentId, service: svc, start: booked },
      };
    } catch (err) {
      if (err instanceof BookingRejected && err.kind === 'slot_unavailable') {
        const alternatives = err.alternatives;
        return {
          say: alternatives.length
            ? say(l, `${requested.spoken} ist leider vergeben. Frei wäre ${speakSlots(alternatives, tz, l)}.`, `${requested.spoken} is already taken. Free: ${speakSlots(alternatives, tz, l)}.`)
            : say(l, `${requested.spoken} ist leider vergeben, und in den Tagen danach ist nichts frei.`, `${requested.spoken} is already taken, and nothing is free in the days after.`),
          data: { status: 'slot_taken', service: svc, requested, alternatives: alternatives.map((s) => timeView(s, tz, l)) },
        };
      }
      if (err instanceof BookingRejected) {
        return {
          say: say(l, 'Diesen Termin kann ich leider nicht buchen.', "I can't book that appointment."),
          data: { status: 'refused', service: svc, requested, reason: err.reason },
        };
      }
      if (isTransient(err)) return unavailable(call, err, { de: 'buchen', en: 'book' }, now);
      throw err;
    }
  },
});
