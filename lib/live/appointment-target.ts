/**
 * Which of the caller's appointments a reschedule or cancel means: the one named by
 * `appointment_id`, or — when none is named — the caller's only upcoming appointment. An id
 * that does not exist and an id that belongs to someone else get the very same answer, so a
 * caller cannot probe for other people's appointments.
 */
import type { LiveCall } from './context';
import { callersAppointments, speakAppointment, appointmentData } from './find-appointments';
import { say } from './say';
import type { LiveAnswer, LiveDeps } from './types';

export function notFound(call: LiveCall, id: number | undefined): LiveAnswer {
  return {
    say: say(call.lang, 'Einen solchen Termin finde ich unter Ihrer Nummer nicht.', "I can't find that appointment under your number."),
    data: { status: 'not_found', appointment_id: id ?? null },
  };
}

/** The id to act on, or the answer to give instead (nothing found, or which one?). */
export async function targetAppointment(deps: LiveDeps, call: LiveCall & { customerNumber: string }, id: number | undefined): Promise<number | LiveAnswer> {
  // A named id goes straight to lib/appointments/manage.ts, which scopes it by company and caller.
  if (id !== undefined) return id;
  const upcoming = await callersAppointments(deps, call);
  if (upcoming.length === 1) return upcoming[0]!.id;
  if (!upcoming.length) return notFound(call, undefined);
  const l = call.lang;
  const list = upcoming.slice(0, 3).map((a) => speakAppointment(a, l)).join('; ');
  return {
    say: say(l, `Sie haben ${upcoming.length} Termine: ${list}. Welchen meinen Sie?`, `You have ${upcoming.length} appointments: ${list}. Which one do you mean?`),
    data: { status: 'ambiguous', appointments: upcoming.map((a) => appointmentData(a, l)) },
  };
}
