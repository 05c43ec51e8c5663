/**
 * `find_appointments`: the caller's upcoming appointments in the dialled company — found by
 * the caller's own number, never by anything the caller says, so nobody can list someone
 * else's appointments. No args.
 */
import { z } from 'zod';
import type { Lang } from '../datetime';
import { findAppointments, type AppointmentView } from '../appointments/manage';
import { callerUnknown, nowOf } from './common';
import type { LiveCall } from './context';
import { say, timeView } from './say';
import { defineFunction, type LiveDeps } from './types';

const SPOKEN = 3;

export function appointmentData(a: AppointmentView, lang: Lang) {
  return {
    id: a.id,
    status: a.status,
    service: { slug: a.service.slug, name: a.service.name },
    branch: a.branch.name,
    start: timeView(a.start, a.branch.timezone, lang),
  };
}

/** "Haircut am Dienstag, 1. Dezember um 14:00" / "Check-up on Tuesday, December 1 at 2:00 PM". */
export function speakAppointment(a: AppointmentView, lang: Lang): string {
  const when = timeView(a.start, a.branch.timezone, lang).spoken;
  return lang === 'de' ? `${a.service.name} am ${when}` : `${a.service.name} on ${when}`;
}

/** The caller's upcoming appointments in the dialled company (their number, that company). */
export function callersAppointments(deps: LiveDeps, call: LiveCall & { customerNumber: string }): Promise<AppointmentView[]> {
  return findAppointments(deps.booking, { companyId: call.where.companyId, customerPhone: call.customerNumber }, nowOf(deps));
}

export const findAppointmentsFn = defineFunction({
  name: 'find_appointments',
  needsCall: true,
  args: z.object({}),
  async run(deps, call) {
    const l = call.lang;
    if (!call.customerNumber) return callerUnknown(call);
    const found = await callersAppointments(deps, { ...call, customerNumber: call.customerNumber });
    const appointments = found.map((a) => appointmentData(a, l));
    if (!found.length) {
      return { say: say(l, 'Unter Ihrer Nummer finde ich keinen anstehenden Termin.', "I can't find an upcoming appointment under your number."), data: { status: 'none', appointments } };
    }
    const spoken = found.slice(0, SPOKEN).map((a) => speakAppointment(a, l));
    const more = found.length > SPOKEN ? say(l, ` und ${found.length - SPOKEN} weitere`, ` and ${found.length - SPOKEN} more`) : '';
    return {
      say:
        found.length === 1
          ? say(l, `Sie haben einen Termin: ${spoken[0]}.`, `You have one appointment: ${spoken[0]}.`)
          : say(l, `Sie haben ${found.length} Termine: ${spoken.join('; ')}${more}.`, `You have ${found.length} appointments: ${spoken.join('; ')}${more}.`),
      data: { status: 'ok', appointments },
    };
  },
});
