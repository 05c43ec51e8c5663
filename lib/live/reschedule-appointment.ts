/**
 * `reschedule_appointment`: moves one of the caller's appointments to a new time, read in the
 * branch's time zone. Scoped by lib/appointments/manage.ts to the dialled company and the
 * caller's number. A taken time is answered with the three nearest free slots.
 *
 * Args: `when` (with a time), `appointment_id` (optional when the caller has exactly one
 * upcoming appointment).
 */
import { z } from 'zod';
import { AppointmentNotFound, rescheduleAppointment } from '../appointments/manage';
import { BookingRejected } from '../booking/errors';
import { callerUnknown, idArg, isTransient, nowOf, readStart, unavailable, unusableStart, whenArg } from './common';
import { notFound, targetAppointment } from './appointment-target';
import { appointmentData, speakAppointment } from './find-appointments';
import { say, speakSlots, timeView } from './say';
import { defineFunction } from './types';

export const rescheduleAppointmentFn = defineFunction({
  name: 'reschedule_appointment',
  needsCall: true,
  args: z.object({
    when: whenArg.describe('The new day and time, in the caller\'s words or ISO'),
    appointment_id: idArg.optional().describe('The appointment to move, from find_appointments; leave out when the caller has only one'),
  }),
  async run(deps, call, args) {
    const now = nowOf(deps);
    const l = call.lang;
    const tz = call.where.timezone;
    if (!call.customerNumber) return callerUnknown(call);
    const start = readStart(call, args.when, now);
    const unusable = unusableStart(call, args.when, start, now);
    if (unusable || !start) return unusable!;
    const id = await targetAppointment(deps, { ...call, customerNumber: call.customerNumber }, args.appointment_id);
    if (typeof id !== 'number') return id;
    const scope = { companyId: call.where.companyId, customerPhone: call.customerNumber };
    try {
      const moved = await rescheduleAppointment(deps.booking, scope, { appointmentId: id, start: start.start, actor: `caller:retell:${call.retellCallId ?? 'unknown'}` });
      return {
        say: say(l, `Verschoben: ${speakAppointment(moved, l)}.`, `Moved: ${speakAppointment(moved, l)}.`),
        data: { status: 'rescheduled', appointment: appointmentData(moved, l) },
      };
    } catch (err) {
      if (err instanceof AppointmentNotFound) return notFound(call, args.appointment_id);
      const requested = timeView(start.start, tz, l);
      if (err instanceof BookingRejected && err.kind === 'slot_unavailable') {
        const alt = err.alternatives;
        return {
          say: alt.length
            ? say(l, `${requested.spoken} ist leider vergeben. Frei wäre ${speakSlots(alt, tz, l)}.`, `${requested.spoken} is already taken. Free: ${speakSlots(alt, tz, l)}.`)
            : say(l, `${requested.spoken} ist leider vergeben.`, `${requested.spoken} is already taken.`),
          data: { status: 'slot_taken', appointment_id: id, requested, alternatives: alt.map((s) => timeView(s, tz, l)) },
        };
      }
      if (err instanceof BookingRejected) {
        return { say: say(l, 'Diesen Termin kann ich leider nicht verschieben.', "I can't move that appointment."), data: { status: 'refused', appointment_id: id, requested, reason: err.reason } };
      }
      if (isTransient(err)) return unavailable(call, err, { de: 'Termine verschieben', en: 'move appointments' }, now);
      throw err;
    }
  },
});
