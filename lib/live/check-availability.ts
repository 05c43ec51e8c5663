/**
 * `check_availability`: free slots of a service for what the caller said — a day or a spoken
 * range ("morgen vormittag", "next Tuesday afternoon", "2026-12-01") or one time ("morgen um
 * 14 Uhr"). A range answers with its first few free slots; a time answers whether it is free,
 * and when it is not, with the three nearest free slots. All from the per-day availability
 * cache, read in the branch's time zone.
 *
 * Args: `when` (required), `service` (slug, name or alias; default: the branch's default).
 */
import { z } from 'zod';
import { DateTime } from 'luxon';
import { luxonZone } from '../datetime/zone';
import { calcomFor, branchCatalogue, pickService, type BranchCatalogue } from './catalogue';
import { isTransient, nowOf, readRange, readStart, unavailable, whenArg } from './common';
import type { LiveCall } from './context';
import { freeSlotsBetween, MAX_RANGE_DAYS, nearestFree } from './slots';
import { say, speakSlots, timeView } from './say';
import { defineFunction, type LiveAnswer } from './types';

/** Slots said aloud; the data carries up to DATA_SLOTS. */
const SPOKEN_SLOTS = 3;
const DATA_SLOTS = 12;

export function unknownService(call: LiveCall, cat: BranchCatalogue, named: string | undefined): LiveAnswer {
  const names = cat.services.map((s) => s.name).join(', ');
  return {
    say: named
      ? say(call.lang, `„${named}“ bieten wir hier nicht an. Möglich sind: ${names}.`, `We don't offer "${named}" here. Available: ${names}.`)
      : say(call.lang, `Für welche Leistung? Möglich sind: ${names}.`, `For which service? Available: ${names}.`),
    data: { status: 'unknown_service', service: named ?? null, services: cat.services.map((s) => s.slug) },
  };
}

export const noCalendar = (call: LiveCall): LiveAnswer => ({
  say: say(call.lang, 'Für diesen Standort ist kein Kalender verbunden.', 'No calendar is connected for this location.'),
  data: { status: 'no_calendar' },
});

export const checkAvailability = defineFunction({
  name: 'check_availability',
  needsCall: false,
  args: z.object({
    when: whenArg.describe('The day or range the caller asked about, in their words: "morgen vormittag", "next Tuesday afternoon", "2026-12-01", or one time'),
    service: z.string().trim().max(100).optional().describe('The service the caller wants, in their words; leave out for the branch default'),
  }),
  async run(deps, call, args) {
    const now = nowOf(deps);
    const l = call.lang;
    const tz = call.where.timezone;
    const cat = await branchCatalogue(deps.booking, call.where);
    const service = pickService(cat, args.service);
    if (!service) return unknownService(call, cat, args.service);
    const client = calcomFor(deps.booking, cat);
    if (!client) return noCalendar(call);
    const svc = { slug: service.slug, name: service.name, duration_minutes: service.durationMinutes };
    const q = { eventTypeId: service.calcomEventTypeId, timeZone: tz, now };

    try {
      const start = readStart(call, args.when, now);
      if (start?.hasTime) {
        const requested = timeView(start.start, tz, l);
        if (start.start.getTime() <= now.getTime()) {
          return { say: say(l, 'Dieser Zeitpunkt liegt in der Vergangenheit.', 'That time is in the past.'), data: { status: 'in_past', service: svc, requested } };
        }
        const dayEnd = DateTime.fromJSDate(start.start, { zone: luxonZone(tz) }).plus({ days: 1 }).startOf('day').toJSDate();
        const free = await freeSlotsBetween(deps.booking, client, { ...q, from: start.start, to: dayEnd });
        if (free[0] === requested.start) {
          return { say: say(l, `${requested.spoken} ist frei.`, `${requested.spoken} is available.`), data: { status: 'available', service: svc, requested, available: true } };
        }
        const alternatives = await nearestFree(deps.booking, client, { ...q, requested: start.start });
        return {
          say: alternatives.length
            ? say(l, `${requested.spoken} ist leider nicht frei. Frei wäre ${speakSlots(alternatives, tz, l)}.`, `${requested.spoken} is not available. Free: ${speakSlots(alternatives, tz, l)}.`)
            : say(l, `${requested.spoken} ist leider nicht frei, und in den Tagen danach auch nichts.`, `${requested.spoken} is not available, and nothing is free in the days after.`),
          data: { status: 'taken', service: svc, requested, available: false, alternatives: alternatives.map((s) => timeView(s, tz, l)) },
        };
      }

      const range = readRange(call, args.when, now);
      if (!range) {
        return { say: say(l, `Ich habe „${args.when}“ nicht als Tag verstanden. Welcher Tag?`, `I couldn't read "${args.when}" as a day. Which day?`), data: { status: 'unreadable_time', when: args.when } };
      }
      if (range.to.getTime() <= now.getTime()) {
        return { say: say(l, 'Dieser Zeitraum liegt in der Vergangenheit.', 'That time is in the past.'), data: { status: 'in_past', when: args.when } };
      }
      const to = new Date(Math.min(range.to.getTime(), range.from.getTime() + MAX_RANGE_DAYS * 86_400_000));
      const rangeData = { from: timeView(range.from, tz, l).local, to: timeView(to, tz, l).local };
      const slots = await freeSlotsBetween(deps.booking, client, { ...q, from: range.from, to });
      if (slots.length) {
        const more = slots.length - SPOKEN_SLOTS;
        const extra = more > 0 ? say(l, ` (und ${more} weitere)`, ` (and ${more} more)`) : '';
        return {
          say: say(l, `Frei ist ${speakSlots(slots.slice(0, SPOKEN_SLOTS), tz, l)}${extra}.`, `Available: ${speakSlots(slots.slice(0, SPOKEN_SLOTS), tz, l)}${extra}.`),
          data: { status: 'available', service: svc, range: rangeData, total: slots.length, slots: slots.slice(0, DATA_SLOTS).map((s) => timeView(s, tz, l)) },
        };
      }
      // Nothing in the range: the next free slots in the week after it.
      const later = (await freeSlotsBetween(deps.booking, client, { ...q, from: to, to: new Date(to.getTime() + 7 * 86_400_000) })).slice(0, SPOKEN_SLOTS);
      return {
        say: later.length
          ? say(l, `Da ist leider nichts frei. Die nächsten freien Termine: ${speakSlots(later, tz, l)}.`, `Nothing is free then. The next free times: ${speakSlots(later, tz, l)}.`)
          : say(l, 'Da und in der Woche danach ist leider nichts frei.', 'Nothing is free then, nor in the week after.'),
        data: { status: 'none', service: svc, range: rangeData, total: 0, slots: [], next: later.map((s) => timeView(s, tz, l)) },
      };
    } catch (err) {
      if (isTransient(err)) return unavailable(call, err, { de: 'in den Kalender sehen', en: 'check the calendar' }, now);
      throw err;
    }
  },
});
