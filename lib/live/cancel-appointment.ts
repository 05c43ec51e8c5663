/**
 * `cancel_appointment`: cancels one of the caller's appointments in Cal.com and here. Scoped by
 * lib/appointments/manage.ts to the dialled company and the caller's number.
 *
 * Args: `appointment_id` (optional when the caller has exactly one upcoming appointment),
 * `reason` (optional, passed to Cal.com).
 */
import { z } from 'zod';
import { AppointmentNotFound, cancelAppointment } from '../appointments/manage';
import { BookingRejected } from '../booking/errors';
import { CalcomError } from '../calcom';
import { callerUnknown, idArg, isTransient, nowOf, unavailable } from './common';
import { notFound, targetAppointment } from './appointment-target';
import { appointmentData, speakAppointment } from './find-appointments';
import { say } from './say';
import { defineFunction } from './types';

export const cancelAppointmentFn = defineFunction({
  name: 'cancel_appointment',
  needsCall: true,
  args: z.object({
    appointment_id: idArg.optional().describe('The appointment to cancel, from find_appointments; leave out when the caller has only one'),
    reason: z.string().trim().max(300).optional().describe('Why the caller cancels, when they said'),
  }),
  async run(deps, call, args) {
    const l = call.lang;
    if (!call.customerNumber) return callerUnknown(call);
    const id = await targetAppointment(deps, { ...call, customerNumber: call.customerNumber }, args.appointment_id);
    if (typeof id !== 'number') return id;
    const scope = { companyId: call.where.companyId, customerPhone: call.customerNumber };
    try {
      const cancelled = await cancelAppointment(deps.booking, scope, { appointmentId: id, reason: args.reason, actor: `caller:retell:${call.retellCallId ?? 'unknown'}` });
      return {
        say: say(l, `Storniert: ${speakAppointment(cancelled, l)}.`, `Cancelled: ${speakAppointment(cancelled, l)}.`),
        data: { status: 'cancelled', appointment: appointmentData(cancelled, l) },
      };
    } catch (err) {
      if (err instanceof AppointmentNotFound) return notFound(call, args.appointment_id);
      if (isTransient(err)) return unavailable(call, err, { de: 'Termine stornieren', en: 'cancel appointments' }, nowOf(deps));
      if (err instanceof BookingRejected || err instanceof CalcomError) {
        return { say: say(l, 'Diesen Termin kann ich leider nicht stornieren.', "I can't cancel that appointment."), data: { status: 'refused', appointment_id: id, reason: err.message } };
      }
      throw err;
    }
  },
});
