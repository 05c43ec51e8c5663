/**
 * Instants written for people and APIs in a branch's timezone (luxon only). Apart from the parser
 * in ./spoken so that what only formats times — confirmations, inbound answers — does not load
 * chrono-node (bench/RESULTS.md, "Lean processes").
 */
import { DateTime, type Zone } from 'luxon';
import { luxonZone } from './zone';

export type Lang = 'de' | 'en';

/**
 * The zone to hand luxon, or a RangeError naming it: for an IANA name the memoising zone of
 * ./zone (its offsets come from a memo instead of an Intl round per DateTime — bench/live: the
 * largest item of a cached check_availability), which also means a zone found valid once is not
 * checked again. Other names luxon reads ("UTC", "UTC+3") are checked and passed on as they are.
 */
export function checkZone(timeZone: string): Zone | string {
  const z = luxonZone(timeZone);
  if (typeof z !== 'string') return z;
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
