/**
 * The memoised offsets equal luxon's own, everywhere: every 7 minutes over 2026–2027 and at each
 * transition ± 1 ms, in zones with DST, half-hour DST (Lord Howe), 45-minute offsets (Kathmandu,
 * Chatham) and none; and DateTimes built on the memoising zone print exactly what luxon prints
 * with the zone's name.
 */
import { DateTime, IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { luxonZone, zoneOffset } from './zone';

const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/St_Johns', 'Europe/London', 'Asia/Tokyo'];
const FROM = Date.UTC(2026, 0, 1);
const TO = Date.UTC(2028, 0, 1);

describe('zoneOffset', () => {
  it.each(ZONES)('%s: equals luxon every 7 minutes of 2026–2027 and around each transition', (zone) => {
    const exact = IANAZone.create(zone);
    const transitions: number[] = [];
    let prev = exact.offset(FROM);
    for (let t = FROM; t < TO; t += 7 * 60_000) {
      const want = exact.offset(t);
      if (zoneOffset(zone, t) !== want) throw new Error(`${zone} at ${new Date(t).toISOString()}: ${zoneOffset(zone, t)} ≠ ${want}`);
      if (want !== prev) transitions.push(t);
      prev = want;
    }
    if (zone !== 'Asia/Kathmandu' && zone !== 'Asia/Tokyo') expect(transitions.length).toBeGreaterThanOrEqual(4);
    for (const around of transitions) {
      // Find the exact transition millisecond in the 7 minutes before `around`, then check ± 1 ms.
      let lo = around - 7 * 60_000;
      let hi = around;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (exact.offset(mid) === exact.offset(lo)) lo = mid;
        else hi = mid;
      }
      for (const t of [lo - 1, lo, hi, hi + 1]) expect(zoneOffset(zone, t)).toBe(exact.offset(t));
    }
  });

  it('is NaN for an unknown zone or instant, as luxon', () => {
    expect(zoneOffset('Mars/Olympus', Date.now())).toBeNaN();
    expect(zoneOffset('Europe/Berlin', NaN)).toBeNaN();
  });
});

describe('luxonZone', () => {
  it('builds DateTimes that print and compute exactly as with the zone name', () => {
    for (const zone of ZONES) {
      for (let t = FROM; t < TO; t += 997 * 60_000) {
        const a = DateTime.fromMillis(t, { zone });
        const b = DateTime.fromMillis(t, { zone: luxonZone(zone) });
        expect(b.toISO()).toBe(a.toISO());
        expect(b.zoneName).toBe(a.zoneName);
        expect(b.toFormat('cccc, d. LLLL HH:mm ZZ z')).toBe(a.toFormat('cccc, d. LLLL HH:mm ZZ z'));
        expect(b.startOf('day').plus({ days: 1 }).toISO()).toBe(a.startOf('day').plus({ days: 1 }).toISO());
        expect(b.equals(a.setZone(zone))).toBe(true);
      }
      const wall = DateTime.fromISO('2026-03-29T02:30', { zone: luxonZone(zone) });
      expect(wall.toISO()).toBe(DateTime.fromISO('2026-03-29T02:30', { zone }).toISO());
    }
  });

  it('leaves names luxon does not read as IANA zones to luxon ("UTC" is a fixed zone, printed with Z)', () => {
    expect(luxonZone('UTC')).toBe('UTC');
    expect(luxonZone('UTC+3')).toBe('UTC+3');
    expect(luxonZone('Mars/Olympus')).toBe('Mars/Olympus');
    expect(DateTime.fromMillis(0, { zone: luxonZone('UTC') }).toISO()).toBe('1970-01-01T00:00:00.000Z');
    expect(typeof luxonZone('Europe/Berlin')).toBe('object');
  });
});
