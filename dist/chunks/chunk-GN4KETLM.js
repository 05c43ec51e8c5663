// lib/datetime/spoken.ts
import * as chrono from "chrono-node";
import { DateTime } from "luxon";
var DAY_PART_HOURS = {
  morning: [8, 12],
  noon: [12, 14],
  afternoon: [12, 18],
  evening: [18, 22]
};
function parseRequestedStart(input, opts) {
  const zone = checkZone(opts.timeZone);
  try {
    const structured = parseStructured(input, zone);
    if (structured === "invalid") return null;
    if (structured) return { start: structured.dt.toJSDate(), hasTime: structured.hasTime, source: "iso" };
    const resolved = parseSpoken(input, zone, opts);
    if (!resolved) return null;
    return { start: resolved.start.toJSDate(), hasTime: resolved.hasTime, source: "spoken" };
  } catch {
    return null;
  }
}
function parseRequestedRange(input, opts) {
  const zone = checkZone(opts.timeZone);
  try {
    const now = nowIn(zone, opts.now);
    let from;
    let to;
    const structured = parseStructured(input, zone);
    if (structured === "invalid") return null;
    if (structured) {
      from = structured.dt.setZone(zone).startOf("day");
      to = from.plus({ days: 1 }).startOf("day");
    } else {
      const resolved = parseSpoken(input, zone, opts);
      if (!resolved) return null;
      ({ from, to } = resolved);
    }
    if (from < now && now < to) from = now;
    return { from: from.toJSDate(), to: to.toJSDate() };
  } catch {
    return null;
  }
}
function parseDateAndTime(date, time, opts) {
  const d = (date ?? "").trim();
  const t = (time ?? "").trim();
  if (!d && !t) return null;
  if (!d || !t) return parseRequestedStart(d || t, opts);
  const joined = parseRequestedStart(`${d} ${t}`, opts);
  if (joined?.hasTime) return joined;
  const langs = opts.lang ? [opts.lang] : ["de", "en"];
  for (const lang of langs) {
    const glued = parseRequestedStart(`${d} ${lang === "de" ? "um" : "at"} ${t}`, opts);
    if (glued?.hasTime) return glued;
  }
  return joined ?? parseRequestedStart(d, opts);
}
function toZonedIso(date, timeZone) {
  const iso = DateTime.fromJSDate(date, { zone: checkZone(timeZone) }).toISO();
  if (!iso) throw new RangeError(`toZonedIso: invalid date ${String(date)}`);
  return iso;
}
function speakTime(date, timeZone, lang) {
  const dt = DateTime.fromJSDate(date, { zone: checkZone(timeZone) });
  if (!dt.isValid) throw new RangeError(`speakTime: invalid date ${String(date)}`);
  return lang === "de" ? dt.setLocale("de-DE").toFormat("cccc, d. LLLL 'um' HH:mm") : dt.setLocale("en-US").toFormat("cccc, LLLL d 'at' h:mm a");
}
var ISO_RE = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:t|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(z|[+-]\d{2}(?::?\d{2})?)?$/i;
var DOTTED_RE = /^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s*(?:um\s+)?(\d{1,2})[:.](\d{2})(?:\s*uhr)?)?$/i;
function parseStructured(input, zone) {
  const s = input.trim();
  const iso = ISO_RE.exec(s);
  if (iso) {
    const [, y, mo, d, h, mi, sec, frac, off] = iso;
    let text = `${y}-${pad(mo)}-${pad(d)}`;
    if (h !== void 0) {
      text += `T${pad(h)}:${mi}:${sec ?? "00"}${frac ? `.${frac.slice(0, 3)}` : ""}`;
      if (off) text += off.toUpperCase();
    }
    const dt = DateTime.fromISO(text, { zone });
    return dt.isValid ? { dt, hasTime: h !== void 0 } : "invalid";
  }
  const dotted = DOTTED_RE.exec(s);
  if (dotted) {
    const [, d, mo, y, h, mi] = dotted;
    const dt = DateTime.fromObject(
      { year: Number(y), month: Number(mo), day: Number(d), hour: h ? Number(h) : 0, minute: mi ? Number(mi) : 0 },
      { zone }
    );
    return dt.isValid ? { dt, hasTime: h !== void 0 } : "invalid";
  }
  return null;
}
function parseSpoken(input, zone, opts) {
  const now = nowIn(zone, opts.now);
  const said = readSpoken(input, now, opts.lang);
  return said ? resolve(said, now, zone) : null;
}
var WEEKDAYS = {
  montag: 1,
  dienstag: 2,
  mittwoch: 3,
  donnerstag: 4,
  freitag: 5,
  samstag: 6,
  sonnabend: 6,
  sonntag: 7,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
  sunday: 7
};
var WEEKDAY_ALT = Object.keys(WEEKDAYS).join("|");
var FULL_WEEKDAY_RE = new RegExp(`\\b(${WEEKDAY_ALT})\\b`);
var HOUR_WORDS = {
  eins: 1,
  zwei: 2,
  drei: 3,
  vier: 4,
  f\u00FCnf: 5,
  sechs: 6,
  sieben: 7,
  acht: 8,
  neun: 9,
  zehn: 10,
  elf: 11,
  zw\u00F6lf: 12,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12
};
var HOUR = `(\\d{1,2}|${Object.keys(HOUR_WORDS).join("|")})`;
var HOUR_WORD = `(${Object.keys(HOUR_WORDS).join("|")})`;
function hourValue(token) {
  return HOUR_WORDS[token] ?? Number(token);
}
function hourBefore(h) {
  return h <= 1 ? 12 : h - 1;
}
function normalise(input) {
  let t = ` ${input.toLowerCase().replace(/[,;!?]+/g, " ").replace(/\s+/g, " ").trim()} `;
  const out = { text: "", next: false, last: false };
  t = t.replace(/naechst/g, "n\xE4chst").replace(/uebermorgen/g, "\xFCbermorgen").replace(/frueh/g, "fr\xFCh").replace(/fuenf/g, "f\xFCnf").replace(/zwoelf/g, "zw\xF6lf").replace(/’/g, "'");
  t = t.replace(/(?:\bden\s+)?\b(\d{1,2})\.\s?(\d{1,2})\.(?:(\d{2}|\s?\d{4})(?![\d:.]|\s*uhr))?/, (m, d, mo, yRaw) => {
    const y = yRaw?.trim();
    if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31) return m;
    const year = y === void 0 ? void 0 : y.length === 2 ? 2e3 + Number(y) : Number(y);
    out.date = { day: Number(d), month: Number(mo), ...year === void 0 ? {} : { year } };
    return " ";
  });
  t = t.replace(/\b(?:in\s+der\s+|in\s+)?(?:diese[rn]?|this)\s+(?:woche|week)\b/, () => {
    out.week = "this";
    return " ";
  });
  t = t.replace(/\b(?:in\s+der\s+|in\s+)?(?:nächste[nr]?|kommende[nr]?|next|the\s+coming|coming)\s+(?:woche|week)\b/, () => {
    out.week = "next";
    return " ";
  });
  const part = (p) => out.dayPart ??= p;
  t = t.replace(/\bthis\s+(morning|afternoon|evening)\b/, " today $1 ").replace(/\bat\s+(?:noon|midday)\b/, " at 12:00 ").replace(/\btonight\b/, () => (part("evening"), " today ")).replace(/\bmorgen\s+(?:früh|morgen)\b/, () => (part("morning"), " morgen ")).replace(new RegExp(`(?<=\\s)(heute|\xFCbermorgen|${WEEKDAY_ALT})\\s+morgen\\b`), (_m, day) => (part("morning"), ` ${day} `)).replace(/\b(?:am|in\s+der)\s+(?:morgen|früh)\b/, () => (part("morning"), " ")).replace(/\b(?:am\s+|in\s+the\s+)?(?:früh|morgens|vormittags?|morning)\b/, () => (part("morning"), " ")).replace(/\b(?:am\s+|zur\s+)?(?:mittags?|mittagszeit|midday|noon|lunchtime)\b/, () => (part("noon"), " ")).replace(/\b(?:am\s+|in\s+the\s+)?(?:nachmittags?|afternoon)\b/, () => (part("afternoon"), " ")).replace(/\b(?:am\s+|in\s+the\s+)?(?:abends?|evening)\b/, () => (part("evening"), " "));
  t = t.replace(new RegExp(`\\b(?:n\xE4chste[nrms]?|kommende[nrms]?|next|coming)\\s+(?=(?:${WEEKDAY_ALT})\\b)`), () => {
    out.next = true;
    return " ";
  });
  t = t.replace(new RegExp(`\\b(?:letzte[nrms]?|vergangene[nrms]?|last|past)\\s+(?=(?:${WEEKDAY_ALT})\\b)`), () => {
    out.last = true;
    return " ";
  });
  t = t.replace(new RegExp(`\\b(?:diese[nrms]?|this)\\s+(?=(?:${WEEKDAY_ALT})\\b)`), " ");
  t = t.replace(/\b(?:so\s+)?(?:gegen|circa|ca\.?|etwa|ungefähr)\s+(?=\d|um\b)/g, " um ").replace(/\b(?:around|about|approximately|roughly)\s+(?=\d)/g, " at ").replace(/\bum\s+um\b/g, "um");
  t = t.replace(new RegExp(`\\bhalb\\s+${HOUR}\\b`, "g"), (_m, h) => ` ${hourBefore(hourValue(h))}:30 `).replace(new RegExp(`\\bviertel\\s+nach\\s+${HOUR}\\b`, "g"), (_m, h) => ` ${hourValue(h)}:15 `).replace(new RegExp(`\\b(?:viertel\\s+vor|dreiviertel)\\s+${HOUR}\\b`, "g"), (_m, h) => ` ${hourBefore(hourValue(h))}:45 `).replace(new RegExp(`\\bhalf\\s+past\\s+${HOUR}\\b`, "g"), (_m, h) => ` ${hourValue(h)}:30 `).replace(new RegExp(`\\b(?:a\\s+)?quarter\\s+(?:past|after)\\s+${HOUR}\\b`, "g"), (_m, h) => ` ${hourValue(h)}:15 `).replace(new RegExp(`\\b(?:a\\s+)?quarter\\s+(?:to|before|of)\\s+${HOUR}\\b`, "g"), (_m, h) => ` ${hourBefore(hourValue(h))}:45 `).replace(new RegExp(`\\b${HOUR_WORD}\\s+(uhr|o'?clock)\\b`, "g"), (_m, h, w) => ` ${hourValue(h)} ${w} `).replace(/\bein\s+uhr\b/g, " 1 uhr ").replace(new RegExp(`\\b(um|at)\\s+${HOUR_WORD}\\b`, "g"), (_m, w, h) => ` ${w} ${hourValue(h)} `).replace(/\b(\d{1,2})\s*uhr\s+(\d{1,2})\b/g, (_m, h, mi) => ` ${h}:${mi.padStart(2, "0")} uhr `);
  out.text = t.replace(/\s+/g, " ").trim();
  return out;
}
function readWithChrono(text, lang, ref) {
  const said = { score: 0 };
  if (!text) return said;
  const parser = lang === "de" ? chrono.de.casual : chrono.en.casual;
  const results = parser.parse(text, ref);
  for (const r of results) {
    const c = r.start;
    const month = c.get("month");
    const day = c.get("day");
    if (!said.date && c.isCertain("day") && month !== null && day !== null) {
      const year = c.isCertain("year") ? c.get("year") : null;
      said.date = { month, day, ...year !== null ? { year } : {} };
      said.score += 2 + (year !== null ? 1 : 0);
    } else if (!said.date && said.weekday === void 0 && c.isCertain("weekday") && FULL_WEEKDAY_RE.test(r.text.toLowerCase())) {
      const wd = c.get("weekday");
      if (wd !== null) {
        said.weekday = wd === 0 ? 7 : wd;
        said.score += 1;
      }
    }
    if (!said.time && c.isCertain("hour")) {
      const hour = c.get("hour");
      if (hour !== null) {
        said.time = { hour, minute: c.get("minute") ?? 0, meridiemCertain: c.isCertain("meridiem") };
        said.score += 1 + (c.isCertain("minute") ? 1 : 0) + (c.isCertain("meridiem") ? 1 : 0);
      }
    }
  }
  return said;
}
function readSpoken(input, now, lang) {
  if (typeof input !== "string" || !input.trim()) return null;
  const norm = normalise(input);
  const ref = chronoReference(now);
  const langs = lang ? [lang] : ["de", "en"];
  let best = null;
  for (const l of langs) {
    const got = readWithChrono(norm.text, l, ref);
    if (!best || got.score > best.score) best = got;
  }
  const said = {
    score: best?.score ?? 0,
    next: norm.next,
    last: norm.last,
    ...best?.time ? { time: best.time } : {},
    ...norm.week ? { week: norm.week } : {},
    ...norm.dayPart ? { dayPart: norm.dayPart } : {}
  };
  if (norm.date) said.date = norm.date;
  else if (best?.date) said.date = best.date;
  else if (best?.weekday !== void 0) said.weekday = best.weekday;
  if (!said.date && said.weekday === void 0 && !said.time && !said.week && !said.dayPart) return null;
  return said;
}
function resolve(said, now, zone) {
  const today = now.startOf("day");
  let time;
  if (said.time) {
    let { hour } = said.time;
    const { minute, meridiemCertain } = said.time;
    if (!meridiemCertain && hour < 12) {
      if (said.dayPart === "afternoon" || said.dayPart === "evening") hour += 12;
      else if (said.dayPart !== "morning" && hour >= 1 && hour <= 7) hour += 12;
    }
    if (hour > 23 || minute > 59) return null;
    time = { hour, minute };
  }
  const at = (day2) => time ? localTime(day2, time.hour, time.minute, zone) : day2;
  const endOfPeriod = (day2) => said.dayPart ? localTime(day2, DAY_PART_HOURS[said.dayPart][1], 0, zone) : nextDay(day2);
  let day;
  if (said.date) {
    const { month, day: d } = said.date;
    if (said.date.year !== void 0) {
      day = DateTime.fromObject({ year: said.date.year, month, day: d }, { zone });
    } else {
      day = DateTime.fromObject({ year: now.year, month, day: d }, { zone });
      if (day.isValid && (time ? at(day) : endOfPeriod(day)) <= now) {
        day = DateTime.fromObject({ year: now.year + 1, month, day: d }, { zone });
      }
    }
    if (!day.isValid || day.month !== month || day.day !== d) return null;
  } else if (said.weekday !== void 0) {
    if (said.week === "next") {
      day = today.startOf("week").plus({ weeks: 1, days: said.weekday - 1 });
    } else if (said.last) {
      day = today.minus({ days: (now.weekday - said.weekday + 7) % 7 || 7 });
    } else {
      let delta = (said.weekday - now.weekday + 7) % 7;
      if (delta === 0) {
        delta = !said.next && time && at(today) > now ? 0 : 7;
      }
      day = today.plus({ days: delta });
    }
  } else if (said.week) {
    if (time || said.dayPart) {
      day = said.week === "next" ? today.startOf("week").plus({ weeks: 1 }) : today;
    } else {
      const from2 = said.week === "next" ? today.startOf("week").plus({ weeks: 1 }) : now;
      const to2 = (said.week === "next" ? from2 : today).startOf("week").plus({ weeks: 1 });
      return { start: from2, hasTime: false, from: from2, to: to2 };
    }
  } else {
    day = (time ? at(today) : endOfPeriod(today)) <= now ? today.plus({ days: 1 }) : today;
  }
  day = day.startOf("day");
  const from = said.dayPart ? localTime(day, DAY_PART_HOURS[said.dayPart][0], 0, zone) : day;
  const to = endOfPeriod(day);
  return { start: time ? at(day) : from, hasTime: time !== void 0, from, to };
}
function checkZone(timeZone) {
  if (!DateTime.local({ zone: timeZone }).isValid) throw new RangeError(`Invalid IANA time zone: ${timeZone}`);
  return timeZone;
}
function nowIn(zone, now) {
  return DateTime.fromJSDate(now ?? /* @__PURE__ */ new Date(), { zone });
}
function localTime(day, hour, minute, zone) {
  return DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour, minute }, { zone });
}
function nextDay(day) {
  return day.plus({ days: 1 }).startOf("day");
}
function chronoReference(now) {
  const d = new Date(now.year, now.month - 1, now.day, now.hour, now.minute, now.second);
  if (d.getDate() === now.day && d.getHours() === now.hour) return d;
  return new Date(now.year, now.month - 1, now.day, 12, 0, 0);
}
function pad(n) {
  return (n ?? "").padStart(2, "0");
}

export {
  parseRequestedStart,
  parseRequestedRange,
  parseDateAndTime,
  toZonedIso,
  speakTime
};
//# sourceMappingURL=chunk-GN4KETLM.js.map
