/**
 * Short spoken sentences for live-call answers, in German or English. The voice agent reads
 * them out (or rephrases them), so they name local times the way people say them and never
 * more than a few at once; the structured data beside them carries the full detail.
 */
import type { Lang } from '../datetime';
import { zoneOffset } from '../datetime/zone';

/** A slot or appointment time as data: UTC instant, local time with offset, spoken form. */
export interface TimeView {
  start: string;
  local: string;
  spoken: string;
}

// Answers name many times (a dozen slots per availability check); luxon costs about 150 µs for
// one time's local ISO plus spoken form (measured under load), which made formatting the
// largest item of ours in the ingress's CPU profile. The zone's offset (memoised) gives the
// wall-clock fields; the rest is arithmetic, producing exactly what luxon's
// `toISO()` and lib/datetime `speakTime` produce (test/live-functions.test.ts compares).

const WEEKDAYS = {
  de: ['Montag', 'Dienstag', 'Mittwoch', 'Donnerstag', 'Freitag', 'Samstag', 'Sonntag'],
  en: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'],
} as const;
const MONTHS = {
  de: ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober', 'November', 'Dezember'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
} as const;

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  /** Minutes east of UTC. */
  offset: number;
  /** 0 = Monday … 6 = Sunday. */
  weekday: number;
}

/**
 * Wall-clock fields of `d` in `timeZone`: the zone's offset at that instant (lib/datetime/zone,
 * memoised, equal to Intl's), then UTC arithmetic on the shifted instant.
 */
export function wallTime(d: Date, timeZone: string): Wall {
  const t = d.getTime();
  const offset = zoneOffset(timeZone, t);
  if (Number.isNaN(offset)) throw new RangeError(`Invalid time zone specified: ${timeZone}`);
  const l = new Date(t + offset * 60_000);
  return {
    year: l.getUTCFullYear(),
    month: l.getUTCMonth() + 1,
    day: l.getUTCDate(),
    hour: l.getUTCHours(),
    minute: l.getUTCMinutes(),
    second: l.getUTCSeconds(),
    ms: l.getUTCMilliseconds(),
    offset: Math.round(offset),
    weekday: (l.getUTCDay() + 6) % 7,
  };
}

const pad = (v: number, w = 2) => String(v).padStart(w, '0');

function isoOf(w: Wall, timeZone: string): string {
  const fixedUtc = /^(?:Etc\/)?(?:UTC|GMT|Zulu|UCT)$/i.test(timeZone);
  const sign = w.offset < 0 ? '-' : '+';
  const off = Math.abs(w.offset);
  const zone = fixedUtc && w.offset === 0 ? 'Z' : `${sign}${pad(Math.floor(off / 60))}:${pad(off % 60)}`;
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}.${pad(w.ms, 3)}${zone}`;
}

const clockOf = (w: Wall, lang: Lang) =>
  lang === 'de' ? `${pad(w.hour)}:${pad(w.minute)}` : `${w.hour % 12 || 12}:${pad(w.minute)} ${w.hour < 12 ? 'AM' : 'PM'}`;

const dayOf = (w: Wall, lang: Lang) =>
  lang === 'de' ? `${WEEKDAYS.de[w.weekday]}, ${w.day}. ${MONTHS.de[w.month - 1]}` : `${WEEKDAYS.en[w.weekday]}, ${MONTHS.en[w.month - 1]} ${w.day}`;

/** "Dienstag, 1. Dezember um 14:00" / "Tuesday, December 1 at 2:00 PM" (as lib/datetime speakTime). */
export const spokenOf = (w: Wall, lang: Lang): string => `${dayOf(w, lang)} ${lang === 'de' ? 'um' : 'at'} ${clockOf(w, lang)}`;

export function timeView(iso: string | Date, timeZone: string, lang: Lang): TimeView {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  const w = wallTime(d, timeZone);
  return { start: d.toISOString(), local: isoOf(w, timeZone), spoken: spokenOf(w, lang) };
}

/** "14:30" / "2:30 PM". */
export function clock(d: Date, timeZone: string, lang: Lang): string {
  return clockOf(wallTime(d, timeZone), lang);
}

/** "Dienstag, 1. Dezember" / "Tuesday, December 1". */
export function day(d: Date, timeZone: string, lang: Lang): string {
  return dayOf(wallTime(d, timeZone), lang);
}

/** "a, b oder c" / "a, b or c". */
export function joinWords(items: string[], lang: Lang, word: 'or' | 'and'): string {
  const last = lang === 'de' ? (word === 'or' ? 'oder' : 'und') : word;
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} ${last} ${items[items.length - 1]}`;
}

/**
 * Times grouped by local day: "am Dienstag, 1. Dezember um 13:30, 14:30 oder 15:00" /
 * "Tuesday, December 1 at 1:30 PM or 3:00 PM and Wednesday, December 2 at 9:00 AM".
 */
export function speakSlots(slots: string[], timeZone: string, lang: Lang, word: 'or' | 'and' = 'or'): string {
  const groups: Array<{ day: string; times: string[] }> = [];
  for (const s of slots) {
    const w = wallTime(new Date(s), timeZone);
    const name = dayOf(w, lang);
    const last = groups[groups.length - 1];
    if (last?.day === name) last.times.push(clockOf(w, lang));
    else groups.push({ day: name, times: [clockOf(w, lang)] });
  }
  return joinWords(
    groups.map((g) => (lang === 'de' ? `am ${g.day} um ${joinWords(g.times, lang, word)}` : `${g.day} at ${joinWords(g.times, lang, word)}`)),
    lang,
    word,
  );
}

/** Pick the sentence for the call's language. */
export const say = (lang: Lang, de: string, en: string): string => (lang === 'de' ? de : en);
