/**
 * Instants written for people and APIs in a branch's timezone (luxon only). Apart from the parser
 * in ./spoken so that what only formats times — confirmations, inbound answers — does not load
 * chrono-node (bench/RESULTS.md, "Lean processes").
 */
import { DateTime } from 'luxon';

export type Lang = 'de' | 'en';

/** The zone, or a RangeError naming it when it is not an IANA time zone. */
export function checkZone(timeZone: string): string {
  if (!DateTime.local({ zone: timeZone }).isValid) throw new RangeError(`Invalid IANA time zone: ${timeZone}`);
  return timeZone;
}

/** Render a UTC instant as local ISO with offset in timeZone, e.g. 2026-10-26T11:00:00.000+01:00. */
export function toZonedIso(date: Date, timeZone: string): string {
  const iso = DateTime.fromJSDate(date, { zone: checkZone(timeZone) }).toISO();
  if (!iso) throw new RangeError(`toZonedIso: invalid date ${String(date)}`);
  return iso;
}

/** Short spoken form of a time for answers to a caller: de "Dienstag, 1. Dezember um 11:00", en "Tuesday, December 1 at 11:00 AM". */
export function speakTime(date: Date, timeZone: string, lang: Lang): string {
  const dt = DateTime.fromJSDate(date, { zone: checkZone(timeZone) });
  if (!dt.isValid) throw new RangeError(`speakTime: invalid date ${String(date)}`);
  return lang === 'de'
    ? dt.setLocale('de-DE').toFormat("cccc, d. LLLL 'um' HH:mm")
    : dt.setLocale('en-US').toFormat("cccc, LLLL d 'at' h:mm a");
}
