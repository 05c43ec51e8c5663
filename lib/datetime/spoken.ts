/**
 * Reads the appointment time a caller asked for, as a Retell voice agent collected it
 * ("Dienstag um 11", "tomorrow at 2pm", "2026-12-01T11:00"), in the branch's IANA timezone.
 *
 * Why: agents pass callers' words through almost verbatim; the server's own timezone is
 * irrelevant (and may be UTC), relative days must resolve into the future, an hour like
 * "um 3" at a business means 15:00, and wall times must survive DST changes. chrono-node
 * only extracts the spoken components here; every instant is built with luxon in the
 * branch timezone.
 */
// Only the two locales read here: the package's index loads every locale (~20 MiB of RSS in a
// worker against ~8 MiB for these two; bench/RESULTS.md, "Lean processes").
import * as chronoDe from 'chrono-node/de';
import * as chronoEn from 'chrono-node/en';
import { DateTime, type Zone } from 'luxon';

import { checkZone, type Lang } from './format';

export type { Lang };

export interface RequestedStart {
  /** The UTC instant. */
  start: Date;
  /** false when only a day (or part of a day) was said. */
  hasTime: boolean;
  source: 'iso' | 'spoken';
}

/** UTC instants, [from, to). */
export interface RequestedRange {
  from: Date;
  to: Date;
}

interface ParseOptions {
  timeZone: string;
  now?: Date;
  lang?: Lang;
}

type DayPart = 'morning' | 'noon' | 'afternoon' | 'evening';

/** Local [fromHour, toHour) of each part of a day. */
const DAY_PART_HOURS: Record<DayPart, readonly [number, number]> = {
  morning: [8, 12],
  noon: [12, 14],
  afternoon: [12, 18],
  evening: [18, 22],
};

/** What a spoken phrase said, before it is resolved against 'now'. */
interface Said {
  /** A calendar date (explicit, or already made absolute by chrono as with "morgen"). */
  date?: { year?: number; month: number; day: number };
  /** ISO weekday 1 (Monday) .. 7 (Sunday). */
  weekday?: number;
  /** "nächsten Dienstag" / "next Tuesday". */
  next: boolean;
  /** "letzten Dienstag" / "last Tuesday" (resolves into the past). */
  last: boolean;
  week?: 'this' | 'next';
  time?: { hour: number; minute: number; meridiemCertain: boolean };
  dayPart?: DayPart;
  /** Number of certain components found; used to pick between languages. */
  score: number;
}

/** A said phrase resolved against 'now' in the branch timezone. */
interface Resolved {
  start: DateTime;
  hasTime: boolean;
  from: DateTime;
  to: DateTime;
}

// ---------------------------------------------------------------------------
// Public API

/** Parse a requested start (ISO, 'YYYY-MM-DD HH:mm', 'DD.MM.YYYY HH:mm' or spoken de/en) into a UTC instant; null when nothing usable. */
export function parseRequestedStart(input: string, opts: ParseOptions): RequestedStart | null {
  const zone = checkZone(opts.timeZone);
  try {
    const structured = parseStructured(input, zone);
    if (structured === 'invalid') return null;
    if (structured) return { start: structured.dt.toJSDate(), hasTime: structured.hasTime, source: 'iso' };
    const resolved = parseSpoken(input, zone, opts);
    if (!resolved) return null;
    return { start: resolved.start.toJSDate(), hasTime: resolved.hasTime, source: 'spoken' };
  } catch {
    return null;
  }
}

/** Parse a spoken/ISO day, part of day or week into a UTC range [from, to); null when nothing usable. */
export function parseRequestedRange(input: string, opts: ParseOptions): RequestedRange | null {
  const zone = checkZone(opts.timeZone);
  try {
    const now = nowIn(zone, opts.now);
    let from: DateTime;
    let to: DateTime;
    const structured = parseStructured(input, zone);
    if (structured === 'invalid') return null;
    if (structured) {
      from = structured.dt.setZone(zone).startOf('day');
      to = from.plus({ days: 1 }).startOf('day');
    } else {
      const resolved = parseSpoken(input, zone, opts);
      if (!resolved) return null;
      ({ from, to } = resolved);
    }
    // A range that has already begun starts now; one entirely in the past is returned as said.
    if (from < now && now < to) from = now;
    return { from: from.toJSDate(), to: to.toJSDate() };
  } catch {
    return null;
  }
}

/** Combine separately collected date and time variables ("2026-12-01" + "11:00", "Dienstag" + "11 Uhr") and parse them as one start. */
export function parseDateAndTime(
  date: string | undefined,
  time: string | undefined,
  opts: ParseOptions,
): RequestedStart | null {
  const d = (date ?? '').trim();
  const t = (time ?? '').trim();
  if (!d && !t) return null;
  if (!d || !t) return parseRequestedStart(d || t, opts);
  const joined = parseRequestedStart(`${d} ${t}`, opts);
  if (joined?.hasTime) return joined;
  // "Dienstag" + "11" reads better with a joining word; try both languages' forms.
  const langs: Lang[] = opts.lang ? [opts.lang] : ['de', 'en'];
  for (const lang of langs) {
    const glued = parseRequestedStart(`${d} ${lang === 'de' ? 'um' : 'at'} ${t}`, opts);
    if (glued?.hasTime) return glued;
  }
  return joined ?? parseRequestedStart(d, opts);
}

// ---------------------------------------------------------------------------
// Structured formats

const ISO_RE =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:t|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(z|[+-]\d{2}(?::?\d{2})?)?$/i;
const DOTTED_RE = /^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s*(?:um\s+)?(\d{1,2})[:.](\d{2})(?:\s*uhr)?)?$/i;

/** ISO 8601 (offset = absolute, none = wall time in zone), 'YYYY-MM-DD HH:mm' or 'DD.MM.YYYY[ HH:mm]'; 'invalid' for e.g. month 13. */
function parseStructured(input: string, zone: Zone | string): { dt: DateTime; hasTime: boolean } | 'invalid' | null {
  const s = input.trim();
  const iso = ISO_RE.exec(s);
  if (iso) {
    const [, y, mo, d, h, mi, sec, frac, off] = iso;
    let text = `${y}-${pad(mo)}-${pad(d)}`;
    if (h !== undefined) {
      text += `T${pad(h)}:${mi}:${sec ?? '00'}${frac ? `.${frac.slice(0, 3)}` : ''}`;
      if (off) text += off.toUpperCase();
    }
    const dt = DateTime.fromISO(text, { zone });
    return dt.isValid ? { dt, hasTime: h !== undefined } : 'invalid';
  }
  const dotted = DOTTED_RE.exec(s);
  if (dotted) {
    const [, d, mo, y, h, mi] = dotted;
    const dt = DateTime.fromObject(
      { year: Number(y), month: Number(mo), day: Number(d), hour: h ? Number(h) : 0, minute: mi ? Number(mi) : 0 },
      { zone },
    );
    return dt.isValid ? { dt, hasTime: h !== undefined } : 'invalid';
  }
  return null;
}

// ---------------------------------------------------------------------------
// Spoken phrases

function parseSpoken(input: string, zone: Zone | string, opts: ParseOptions): Resolved | null {
  const now = nowIn(zone, opts.now);
  const said = readSpoken(input, now, opts.lang);
  return said ? resolve(said, now, zone) : null;
}

const WEEKDAYS: Record<string, number> = {
  montag: 1, dienstag: 2, mittwoch: 3, donnerstag: 4, freitag: 5, samstag: 6, sonnabend: 6, sonntag: 7,
  monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6, sunday: 7,
};
const WEEKDAY_ALT = Object.keys(WEEKDAYS).join('|');
const FULL_WEEKDAY_RE = new RegExp(`\\b(${WEEKDAY_ALT})\\b`);

const HOUR_WORDS: Record<string, number> = {
  eins: 1, zwei: 2, drei: 3, vier: 4, fünf: 5, sechs: 6, sieben: 7, acht: 8, neun: 9, zehn: 10, elf: 11, zwölf: 12,
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
};
const HOUR = `(\\d{1,2}|${Object.keys(HOUR_WORDS).join('|')})`;
/** Only the words: digits already are what chrono wants, and "um 9:30" must stay whole. */
const HOUR_WORD = `(${Object.keys(HOUR_WORDS).join('|')})`;

function hourValue(token: string): number {
  return HOUR_WORDS[token] ?? Number(token);
}
/** The hour before h on a 12-hour dial ("halb eins" = 12:30). */
function hourBefore(h: number): number {
  return h <= 1 ? 12 : h - 1;
}

/** Pre-normalised text plus what the normalisation itself recognised. */
interface Normalised {
  text: string;
  date?: { year?: number; month: number; day: number };
  next: boolean;
  last: boolean;
  week?: 'this' | 'next';
  dayPart?: DayPart;
}

/** Lower-case and rewrite what chrono's de/en parsers miss, pulling out parts of day, week phrases and dotted dates. */
function normalise(input: string): Normalised {
  let t = ` ${input.toLowerCase().replace(/[,;!?]+/g, ' ').replace(/\s+/g, ' ').trim()} `;
  const out: Normalised = { text: '', next: false, last: false };

  t = t
    .replace(/naechst/g, 'nächst')
    .replace(/uebermorgen/g, 'übermorgen')
    .replace(/frueh/g, 'früh')
    .replace(/fuenf/g, 'fünf')
    .replace(/zwoelf/g, 'zwölf')
    .replace(/’/g, "'");

  // Dotted numeric dates ("1.12.", "01.12.2026") are day-first whatever the language.
  t = t.replace(/(?:\bden\s+)?\b(\d{1,2})\.\s?(\d{1,2})\.(?:(\d{2}|\s?\d{4})(?![\d:.]|\s*uhr))?/, (m: string, d: string, mo: string, yRaw?: string) => {
    const y = yRaw?.trim();
    if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31) return m; // e.g. "um 9.30."
    const year = y === undefined ? undefined : y.length === 2 ? 2000 + Number(y) : Number(y);
    out.date = { day: Number(d), month: Number(mo), ...(year === undefined ? {} : { year }) };
    return ' ';
  });

  // Week phrases.
  t = t.replace(/\b(?:in\s+der\s+|in\s+)?(?:diese[rn]?|this)\s+(?:woche|week)\b/, () => {
    out.week = 'this';
    return ' ';
  });
  t = t.replace(/\b(?:in\s+der\s+|in\s+)?(?:nächste[nr]?|kommende[nr]?|next|the\s+coming|coming)\s+(?:woche|week)\b/, () => {
    out.week = 'next';
    return ' ';
  });

  // Parts of the day. German "morgen" is "tomorrow" unless it follows a day word or "am".
  const part = (p: DayPart) => (out.dayPart ??= p);
  t = t
    .replace(/\bthis\s+(morning|afternoon|evening)\b/, ' today $1 ')
    .replace(/\bat\s+(?:noon|midday)\b/, ' at 12:00 ')
    .replace(/\btonight\b/, () => (part('evening'), ' today '))
    .replace(/\bmorgen\s+(?:früh|morgen)\b/, () => (part('morning'), ' morgen '))
    .replace(new RegExp(`(?<=\\s)(heute|übermorgen|${WEEKDAY_ALT})\\s+morgen\\b`), (_m, day: string) => (part('morning'), ` ${day} `))
    .replace(/\b(?:am|in\s+der)\s+(?:morgen|früh)\b/, () => (part('morning'), ' '))
    .replace(/\b(?:am\s+|in\s+the\s+)?(?:früh|morgens|vormittags?|morning)\b/, () => (part('morning'), ' '))
    .replace(/\b(?:am\s+|zur\s+)?(?:mittags?|mittagszeit|midday|noon|lunchtime)\b/, () => (part('noon'), ' '))
    .replace(/\b(?:am\s+|in\s+the\s+)?(?:nachmittags?|afternoon)\b/, () => (part('afternoon'), ' '))
    .replace(/\b(?:am\s+|in\s+the\s+)?(?:abends?|evening)\b/, () => (part('evening'), ' '));

  // "nächsten Dienstag" / "next Tuesday": remember the modifier, let chrono see the bare weekday.
  t = t.replace(new RegExp(`\\b(?:nächste[nrms]?|kommende[nrms]?|next|coming)\\s+(?=(?:${WEEKDAY_ALT})\\b)`), () => {
    out.next = true;
    return ' ';
  });
  t = t.replace(new RegExp(`\\b(?:letzte[nrms]?|vergangene[nrms]?|last|past)\\s+(?=(?:${WEEKDAY_ALT})\\b)`), () => {
    out.last = true;
    return ' ';
  });
  t = t.replace(new RegExp(`\\b(?:diese[nrms]?|this)\\s+(?=(?:${WEEKDAY_ALT})\\b)`), ' ');

  // Approximate times: "so gegen 10", "around 10".
  t = t
    .replace(/\b(?:so\s+)?(?:gegen|circa|ca\.?|etwa|ungefähr)\s+(?=\d|um\b)/g, ' um ')
    .replace(/\b(?:around|about|approximately|roughly)\s+(?=\d)/g, ' at ')
    .replace(/\bum\s+um\b/g, 'um');

  // Clock phrases: "halb zehn", "viertel nach zehn", "viertel vor elf", "half past ten", "quarter to eleven".
  t = t
    .replace(new RegExp(`\\bhalb\\s+${HOUR}\\b`, 'g'), (_m, h: string) => ` ${hourBefore(hourValue(h))}:30 `)
    .replace(new RegExp(`\\bviertel\\s+nach\\s+${HOUR}\\b`, 'g'), (_m, h: string) => ` ${hourValue(h)}:15 `)
    .replace(new RegExp(`\\b(?:viertel\\s+vor|dreiviertel)\\s+${HOUR}\\b`, 'g'), (_m, h: string) => ` ${hourBefore(hourValue(h))}:45 `)
    .replace(new RegExp(`\\bhalf\\s+past\\s+${HOUR}\\b`, 'g'), (_m, h: string) => ` ${hourValue(h)}:30 `)
    .replace(new RegExp(`\\b(?:a\\s+)?quarter\\s+(?:past|after)\\s+${HOUR}\\b`, 'g'), (_m, h: string) => ` ${hourValue(h)}:15 `)
    .replace(new RegExp(`\\b(?:a\\s+)?quarter\\s+(?:to|before|of)\\s+${HOUR}\\b`, 'g'), (_m, h: string) => ` ${hourBefore(hourValue(h))}:45 `)
    // Hour words in clock context: "zehn Uhr", "um zehn", "ein Uhr", "ten o'clock", "at ten".
    .replace(new RegExp(`\\b${HOUR_WORD}\\s+(uhr|o'?clock)\\b`, 'g'), (_m, h: string, w: string) => ` ${hourValue(h)} ${w} `)
    .replace(/\bein\s+uhr\b/g, ' 1 uhr ')
    .replace(new RegExp(`\\b(um|at)\\s+${HOUR_WORD}\\b`, 'g'), (_m, w: string, h: string) => ` ${w} ${hourValue(h)} `)
    // "11 Uhr 30" -> "11:30 Uhr".
    .replace(/\b(\d{1,2})\s*uhr\s+(\d{1,2})\b/g, (_m, h: string, mi: string) => ` ${h}:${mi.padStart(2, '0')} uhr `);

  out.text = t.replace(/\s+/g, ' ').trim();
  return out;
}

/** Collect chrono's certain components from all results of one language (first date, else first weekday, and first time win). */
function readWithChrono(text: string, lang: Lang, ref: Date): Omit<Said, 'next' | 'last' | 'week' | 'dayPart'> {
  const said: Omit<Said, 'next' | 'last' | 'week' | 'dayPart'> = { score: 0 };
  if (!text) return said;
  const parser = lang === 'de' ? chronoDe.casual : chronoEn.casual;
  const results = parser.parse(text, ref);
  for (const r of results) {
    const c = r.start;
    const month = c.get('month');
    const day = c.get('day');
    if (!said.date && c.isCertain('day') && month !== null && day !== null) {
      const year = c.isCertain('year') ? c.get('year') : null;
      said.date = { month, day, ...(year !== null ? { year } : {}) };
      said.score += 2 + (year !== null ? 1 : 0);
    } else if (!said.date && said.weekday === undefined && c.isCertain('weekday') && FULL_WEEKDAY_RE.test(r.text.toLowerCase())) {
      // Ignore two-letter abbreviations: German "so"/"do" are everyday words.
      const wd = c.get('weekday');
      if (wd !== null) {
        said.weekday = wd === 0 ? 7 : wd;
        said.score += 1;
      }
    }
    if (!said.time && c.isCertain('hour')) {
      const hour = c.get('hour');
      if (hour !== null) {
        said.time = { hour, minute: c.get('minute') ?? 0, meridiemCertain: c.isCertain('meridiem') };
        said.score += 1 + (c.isCertain('minute') ? 1 : 0) + (c.isCertain('meridiem') ? 1 : 0);
      }
    }
  }
  return said;
}

/** Read a spoken phrase in the given language, or in whichever of de/en understood more. */
function readSpoken(input: string, now: DateTime, lang: Lang | undefined): Said | null {
  if (typeof input !== 'string' || !input.trim()) return null;
  const norm = normalise(input);
  const ref = chronoReference(now);
  const langs: Lang[] = lang ? [lang] : ['de', 'en'];
  let best: Omit<Said, 'next' | 'last' | 'week' | 'dayPart'> | null = null;
  for (const l of langs) {
    const got = readWithChrono(norm.text, l, ref);
    if (!best || got.score > best.score) best = got;
  }
  const said: Said = {
    score: best?.score ?? 0,
    next: norm.next,
    last: norm.last,
    ...(best?.time ? { time: best.time } : {}),
    ...(norm.week ? { week: norm.week } : {}),
    ...(norm.dayPart ? { dayPart: norm.dayPart } : {}),
  };
  if (norm.date) said.date = norm.date;
  else if (best?.date) said.date = best.date;
  else if (best?.weekday !== undefined) said.weekday = best.weekday;
  if (!said.date && said.weekday === undefined && !said.time && !said.week && !said.dayPart) return null;
  return said;
}

/** Turn what was said into concrete local times, future-biased relative to now. */
function resolve(said: Said, now: DateTime, zone: Zone | string): Resolved | null {
  const today = now.startOf('day');

  // Time of day, with the business-hour heuristic.
  let time: { hour: number; minute: number } | undefined;
  if (said.time) {
    let { hour } = said.time;
    const { minute, meridiemCertain } = said.time;
    if (!meridiemCertain && hour < 12) {
      if (said.dayPart === 'afternoon' || said.dayPart === 'evening') hour += 12;
      else if (said.dayPart !== 'morning' && hour >= 1 && hour <= 7) hour += 12;
    }
    if (hour > 23 || minute > 59) return null;
    time = { hour, minute };
  }
  const at = (day: DateTime): DateTime =>
    time ? localTime(day, time.hour, time.minute, zone) : day;
  const endOfPeriod = (day: DateTime): DateTime =>
    said.dayPart ? localTime(day, DAY_PART_HOURS[said.dayPart][1], 0, zone) : nextDay(day);

  let day: DateTime;
  if (said.date) {
    const { month, day: d } = said.date;
    if (said.date.year !== undefined) {
      day = DateTime.fromObject({ year: said.date.year, month, day: d }, { zone });
    } else {
      day = DateTime.fromObject({ year: now.year, month, day: d }, { zone });
      // A date without a year that would be in the past means next year.
      if (day.isValid && (time ? at(day) : endOfPeriod(day)) <= now) {
        day = DateTime.fromObject({ year: now.year + 1, month, day: d }, { zone });
      }
    }
    if (!day.isValid || day.month !== month || day.day !== d) return null;
  } else if (said.weekday !== undefined) {
    if (said.week === 'next') {
      day = today.startOf('week').plus({ weeks: 1, days: said.weekday - 1 });
    } else if (said.last) {
      day = today.minus({ days: (now.weekday - said.weekday + 7) % 7 || 7 });
    } else {
      let delta = (said.weekday - now.weekday + 7) % 7;
      if (delta === 0) {
        // Same weekday: today only for a time still ahead; "next"/bare day without a time = next week.
        delta = !said.next && time && at(today) > now ? 0 : 7;
      }
      day = today.plus({ days: delta });
    }
  } else if (said.week) {
    if (time || said.dayPart) {
      day = said.week === 'next' ? today.startOf('week').plus({ weeks: 1 }) : today;
    } else {
      const from = said.week === 'next' ? today.startOf('week').plus({ weeks: 1 }) : now;
      const to = (said.week === 'next' ? from : today).startOf('week').plus({ weeks: 1 });
      return { start: from, hasTime: false, from, to };
    }
  } else {
    // Only a time or part of day: today if still ahead, else tomorrow.
    day = (time ? at(today) : endOfPeriod(today)) <= now ? today.plus({ days: 1 }) : today;
  }
  day = day.startOf('day');

  const from = said.dayPart ? localTime(day, DAY_PART_HOURS[said.dayPart][0], 0, zone) : day;
  const to = endOfPeriod(day);
  return { start: time ? at(day) : from, hasTime: time !== undefined, from, to };
}

// ---------------------------------------------------------------------------
// Helpers

function nowIn(zone: Zone | string, now: Date | undefined): DateTime {
  return DateTime.fromJSDate(now ?? new Date(), { zone });
}

/** Wall time on a local day; luxon moves times in a spring-forward gap forward. */
function localTime(day: DateTime, hour: number, minute: number, zone: Zone | string): DateTime {
  return DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour, minute }, { zone });
}

function nextDay(day: DateTime): DateTime {
  return day.plus({ days: 1 }).startOf('day');
}

/**
 * chrono computes relative days with the process's local-time getters. Hand it a Date whose
 * process-local wall time equals the branch's wall time now, so "morgen" is the branch's
 * tomorrow whatever TZ the process runs in (noon if that wall time is a local DST gap).
 */
function chronoReference(now: DateTime): Date {
  const d = new Date(now.year, now.month - 1, now.day, now.hour, now.minute, now.second);
  if (d.getDate() === now.day && d.getHours() === now.hour) return d;
  return new Date(now.year, now.month - 1, now.day, 12, 0, 0);
}

function pad(n: string | undefined): string {
  return (n ?? '').padStart(2, '0');
}
