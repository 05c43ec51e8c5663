import { describe, it, expect } from 'vitest';
import {
  parseDateAndTime,
  parseRequestedRange,
  parseRequestedStart,
  speakTime,
  toZonedIso,
  type Lang,
} from './index';

const BERLIN = 'Europe/Berlin';
/** Friday 2026-10-23 12:00 CEST; Berlin falls back to CET on Sunday 2026-10-25. */
const FRI = new Date('2026-10-23T10:00:00Z');
/** Tuesday 2026-12-01 12:00 CET. */
const TUE = new Date('2026-12-01T11:00:00Z');
/** Friday 2027-03-26 11:00 CET; Berlin springs forward to CEST on Sunday 2027-03-28. */
const SPRING = new Date('2027-03-26T10:00:00Z');

function start(input: string, now = FRI, timeZone = BERLIN, lang?: Lang): string | null {
  const r = parseRequestedStart(input, { timeZone, now, ...(lang ? { lang } : {}) });
  return r ? r.start.toISOString() : null;
}

function range(input: string, now = FRI, timeZone = BERLIN): [string, string] | null {
  const r = parseRequestedRange(input, { timeZone, now });
  return r ? [r.from.toISOString(), r.to.toISOString()] : null;
}

describe('parseRequestedStart: structured input', () => {
  it('takes ISO with an offset as an absolute instant', () => {
    expect(parseRequestedStart('2026-10-26T11:00:00+01:00', { timeZone: BERLIN, now: FRI })).toEqual({
      start: new Date('2026-10-26T10:00:00.000Z'),
      hasTime: true,
      source: 'iso',
    });
    expect(start('2026-10-26T11:00:00Z')).toBe('2026-10-26T11:00:00.000Z');
    expect(start('2026-10-26T11:00:00.000-04:00', FRI, 'Asia/Tokyo')).toBe('2026-10-26T15:00:00.000Z');
  });

  it('takes ISO without an offset as wall time in the branch timezone', () => {
    expect(start('2026-10-26T11:00')).toBe('2026-10-26T10:00:00.000Z'); // CET
    expect(start('2026-07-01T11:00:00')).toBe('2026-07-01T09:00:00.000Z'); // CEST
    expect(start('2026-12-01 11:00')).toBe('2026-12-01T10:00:00.000Z');
  });

  it('takes an ISO date alone as the start of that local day without a time', () => {
    expect(parseRequestedStart('2026-12-01', { timeZone: BERLIN, now: FRI })).toEqual({
      start: new Date('2026-11-30T23:00:00.000Z'),
      hasTime: false,
      source: 'iso',
    });
  });

  it('reads DD.MM.YYYY with and without a time, day first whatever the language', () => {
    expect(start('01.12.2026 11:00')).toBe('2026-12-01T10:00:00.000Z');
    expect(start('01.12.2026 11:00', FRI, BERLIN, 'en')).toBe('2026-12-01T10:00:00.000Z');
    expect(parseRequestedStart('01.12.2026', { timeZone: BERLIN, now: FRI })).toEqual({
      start: new Date('2026-11-30T23:00:00.000Z'),
      hasTime: false,
      source: 'iso',
    });
  });
});

describe('parseRequestedStart: German', () => {
  it.each([
    ['morgen um 14 Uhr', '2026-10-24T12:00:00.000Z'],
    ['übermorgen um 10', '2026-10-25T09:00:00.000Z'], // already CET
    ['Dienstag um 11', '2026-10-27T10:00:00.000Z'],
    ['am 3. Dezember um 9:30', '2026-12-03T08:30:00.000Z'],
    ['11 Uhr 30', '2026-10-24T09:30:00.000Z'], // 11:30 today has passed -> tomorrow
    ['halb zehn', '2026-10-24T07:30:00.000Z'],
    ['morgen um halb zehn', '2026-10-24T07:30:00.000Z'],
    ['viertel nach zehn', '2026-10-24T08:15:00.000Z'],
    ['viertel vor elf', '2026-10-24T08:45:00.000Z'],
    ['morgen früh um 9', '2026-10-24T07:00:00.000Z'],
    ['Montag morgen um 9', '2026-10-26T08:00:00.000Z'],
    ['Dienstag, den 1.12. um 11 Uhr', '2026-12-01T10:00:00.000Z'],
    ['so gegen 10 Uhr', '2026-10-24T08:00:00.000Z'],
    ['um zehn Uhr', '2026-10-24T08:00:00.000Z'],
  ])('%s', (input, expected) => {
    expect(start(input)).toBe(expected);
  });

  it('marks spoken results and whether a time was said', () => {
    expect(parseRequestedStart('morgen um 14 Uhr', { timeZone: BERLIN, now: FRI })).toEqual({
      start: new Date('2026-10-24T12:00:00.000Z'),
      hasTime: true,
      source: 'spoken',
    });
    expect(parseRequestedStart('Montag', { timeZone: BERLIN, now: FRI })).toEqual({
      start: new Date('2026-10-25T23:00:00.000Z'), // Monday 00:00 CET
      hasTime: false,
      source: 'spoken',
    });
  });

  it('rolls a date without a year that has passed into next year', () => {
    expect(start('am 3. März')).toBe('2027-03-02T23:00:00.000Z');
    expect(start('March 3rd at 10')).toBe('2027-03-03T09:00:00.000Z');
  });
});

describe('parseRequestedStart: English', () => {
  it.each([
    ['Tuesday at 11', '2026-10-27T10:00:00.000Z'],
    ['tomorrow at 2pm', '2026-10-24T12:00:00.000Z'],
    ['December 3rd at 9:30', '2026-12-03T08:30:00.000Z'],
    ['at half past ten tomorrow', '2026-10-24T08:30:00.000Z'],
    ['quarter to eleven tomorrow', '2026-10-24T08:45:00.000Z'],
    ['this afternoon at 4', '2026-10-23T14:00:00.000Z'],
  ])('%s', (input, expected) => {
    expect(start(input)).toBe(expected);
  });

  it('honours an explicit lang', () => {
    expect(start('Tuesday at 11', FRI, BERLIN, 'en')).toBe('2026-10-27T10:00:00.000Z');
    expect(start('Dienstag um 11', FRI, BERLIN, 'de')).toBe('2026-10-27T10:00:00.000Z');
    expect(start('Dienstag um 11 Uhr', FRI, BERLIN, 'en')).toBeNull();
  });
});

describe('business-hour heuristic', () => {
  it('reads 1-7 without am/pm as afternoon', () => {
    expect(start('um 3')).toBe('2026-10-23T13:00:00.000Z'); // 15:00 CEST today
    expect(start('at 3')).toBe('2026-10-23T13:00:00.000Z');
    expect(start('um 7 Uhr')).toBe('2026-10-23T17:00:00.000Z');
    expect(start('morgen um halb drei')).toBe('2026-10-24T12:30:00.000Z');
    expect(start('Montag um 1')).toBe('2026-10-26T12:00:00.000Z'); // 13:00 CET
  });

  it('keeps morning hours when am/morgens/früh was said, and 8-12 as they are', () => {
    expect(start('um 3 Uhr morgens')).toBe('2026-10-24T01:00:00.000Z');
    expect(start('um 7 Uhr früh')).toBe('2026-10-24T05:00:00.000Z');
    expect(start('at 3am')).toBe('2026-10-24T01:00:00.000Z');
    expect(start('um 11')).toBe('2026-10-24T09:00:00.000Z'); // 11:00 tomorrow, today's has passed
    expect(start('um 8')).toBe('2026-10-24T06:00:00.000Z');
  });

  it('reads hours after "nachmittag"/"abends" as pm', () => {
    expect(start('morgen nachmittag um 3')).toBe('2026-10-24T13:00:00.000Z');
    expect(start('heute abend um 8')).toBe('2026-10-23T18:00:00.000Z');
  });
});

describe('weekday resolution', () => {
  it('said on the same weekday: today while the time is ahead, otherwise next week', () => {
    expect(start('Dienstag um 15', TUE)).toBe('2026-12-01T14:00:00.000Z');
    expect(start('Dienstag um 11', TUE)).toBe('2026-12-08T10:00:00.000Z');
    expect(start('Tuesday at 11', TUE)).toBe('2026-12-08T10:00:00.000Z');
    expect(start('Dienstag', TUE)).toBe('2026-12-07T23:00:00.000Z');
  });

  it('"nächsten"/"next" weekday is the next occurrence after today', () => {
    expect(start('nächsten Dienstag um 15', TUE)).toBe('2026-12-08T14:00:00.000Z');
    expect(start('next Tuesday at 3pm', TUE)).toBe('2026-12-08T14:00:00.000Z');
    expect(start('nächsten Donnerstag um 10', TUE)).toBe('2026-12-03T09:00:00.000Z');
    expect(start('Dienstag nächste Woche um 10')).toBe('2026-10-27T09:00:00.000Z');
  });
});

describe('DST in Europe/Berlin', () => {
  it('autumn: CEST -> CET on 2026-10-25', () => {
    expect(start('Montag um 11')).toBe('2026-10-26T10:00:00.000Z');
    expect(start('Sonntag um 11')).toBe('2026-10-25T10:00:00.000Z');
    expect(start('Samstag um 11')).toBe('2026-10-24T09:00:00.000Z');
  });

  it('spring: CET -> CEST on 2027-03-28', () => {
    expect(start('Montag um 11', SPRING)).toBe('2027-03-29T09:00:00.000Z');
    expect(start('Sonntag um 11', SPRING)).toBe('2027-03-28T09:00:00.000Z');
    expect(start('Samstag um 11', SPRING)).toBe('2027-03-27T10:00:00.000Z');
  });

  it('whole days are 25 and 23 hours long', () => {
    expect(range('morgen', new Date('2026-10-24T10:00:00Z'))).toEqual([
      '2026-10-24T22:00:00.000Z',
      '2026-10-25T23:00:00.000Z',
    ]);
    expect(range('morgen', new Date('2027-03-27T10:00:00Z'))).toEqual([
      '2027-03-27T23:00:00.000Z',
      '2027-03-28T22:00:00.000Z',
    ]);
  });
});

describe('America/New_York', () => {
  it('resolves across the US DST change', () => {
    const now = new Date('2026-10-30T14:00:00Z'); // Friday 10:00 EDT; EST from Sunday 2026-11-01
    expect(start('Monday at 11', now, 'America/New_York')).toBe('2026-11-02T16:00:00.000Z');
    expect(start('tomorrow at 2pm', now, 'America/New_York')).toBe('2026-10-31T18:00:00.000Z');
  });
});

describe('parseRequestedRange', () => {
  it.each([
    ['tomorrow', '2026-10-23T22:00:00.000Z', '2026-10-24T22:00:00.000Z'],
    ['morgen', '2026-10-23T22:00:00.000Z', '2026-10-24T22:00:00.000Z'],
    ['Montag', '2026-10-25T23:00:00.000Z', '2026-10-26T23:00:00.000Z'],
    ['next Tuesday afternoon', '2026-10-27T11:00:00.000Z', '2026-10-27T17:00:00.000Z'],
    ['morgen vormittag', '2026-10-24T06:00:00.000Z', '2026-10-24T10:00:00.000Z'],
    ['morgen nachmittag', '2026-10-24T10:00:00.000Z', '2026-10-24T16:00:00.000Z'],
    ['nächsten Montag vormittag', '2026-10-26T07:00:00.000Z', '2026-10-26T11:00:00.000Z'],
    ['this week', '2026-10-23T10:00:00.000Z', '2026-10-25T23:00:00.000Z'],
    ['diese Woche', '2026-10-23T10:00:00.000Z', '2026-10-25T23:00:00.000Z'],
    ['nächste Woche', '2026-10-25T23:00:00.000Z', '2026-11-01T23:00:00.000Z'],
    ['heute', '2026-10-23T10:00:00.000Z', '2026-10-23T22:00:00.000Z'], // begins now
    ['2026-12-01', '2026-11-30T23:00:00.000Z', '2026-12-01T23:00:00.000Z'],
    ['morgen um 14 Uhr', '2026-10-23T22:00:00.000Z', '2026-10-24T22:00:00.000Z'], // the day of a time
  ])('%s', (input, from, to) => {
    expect(range(input)).toEqual([from, to]);
  });

  it('moves a part of day that is over today to tomorrow', () => {
    expect(range('vormittags')).toEqual(['2026-10-24T06:00:00.000Z', '2026-10-24T10:00:00.000Z']);
    expect(range('nachmittags')).toEqual(['2026-10-23T10:00:00.000Z', '2026-10-23T16:00:00.000Z']);
  });
});

describe('parseDateAndTime', () => {
  const opts = { timeZone: BERLIN, now: FRI };
  it('combines separately collected variables', () => {
    expect(parseDateAndTime('2026-12-01', '11:00', opts)).toEqual({
      start: new Date('2026-12-01T10:00:00.000Z'),
      hasTime: true,
      source: 'iso',
    });
    expect(parseDateAndTime('01.12.2026', '11:00', opts)?.start.toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(parseDateAndTime('Dienstag', '11 Uhr', opts)?.start.toISOString()).toBe('2026-10-27T10:00:00.000Z');
    expect(parseDateAndTime('Dienstag', '11', opts)?.start.toISOString()).toBe('2026-10-27T10:00:00.000Z');
    expect(parseDateAndTime('Tuesday', '2pm', opts)?.start.toISOString()).toBe('2026-10-27T13:00:00.000Z');
    expect(parseDateAndTime('3. Dezember', 'halb zehn', opts)?.start.toISOString()).toBe('2026-12-03T08:30:00.000Z');
    expect(parseDateAndTime('2026-12-01', '11 Uhr', opts)?.start.toISOString()).toBe('2026-12-01T10:00:00.000Z');
  });

  it('works with only one part', () => {
    expect(parseDateAndTime('morgen', undefined, opts)).toEqual({
      start: new Date('2026-10-23T22:00:00.000Z'),
      hasTime: false,
      source: 'spoken',
    });
    expect(parseDateAndTime(undefined, '14:00', opts)?.start.toISOString()).toBe('2026-10-23T12:00:00.000Z');
    expect(parseDateAndTime(undefined, undefined, opts)).toBeNull();
    expect(parseDateAndTime('', ' ', opts)).toBeNull();
  });
});

describe('toZonedIso', () => {
  it('renders local ISO with the offset in force', () => {
    expect(toZonedIso(new Date('2026-10-26T10:00:00Z'), BERLIN)).toBe('2026-10-26T11:00:00.000+01:00');
    expect(toZonedIso(new Date('2026-07-01T09:00:00Z'), BERLIN)).toBe('2026-07-01T11:00:00.000+02:00');
    expect(toZonedIso(new Date('2026-11-02T16:00:00Z'), 'America/New_York')).toBe('2026-11-02T11:00:00.000-05:00');
  });
});

describe('speakTime', () => {
  it('speaks German', () => {
    expect(speakTime(new Date('2026-12-01T10:00:00Z'), BERLIN, 'de')).toBe('Dienstag, 1. Dezember um 11:00');
    expect(speakTime(new Date('2026-10-25T13:30:00Z'), BERLIN, 'de')).toBe('Sonntag, 25. Oktober um 14:30');
  });

  it('speaks English', () => {
    expect(speakTime(new Date('2026-12-01T10:00:00Z'), BERLIN, 'en')).toBe('Tuesday, December 1 at 11:00 AM');
    expect(speakTime(new Date('2026-10-27T13:30:00Z'), BERLIN, 'en')).toBe('Tuesday, October 27 at 2:30 PM');
  });
});

describe('garbage', () => {
  it.each(['', '   ', 'asdf', 'whenever', 'ich weiß nicht', 'so', 'um 25 Uhr', '2026-13-01', '31.02.2027'])(
    '%j -> null',
    (input) => {
      expect(parseRequestedStart(input, { timeZone: BERLIN, now: FRI })).toBeNull();
      expect(parseRequestedRange(input, { timeZone: BERLIN, now: FRI })).toBeNull();
    },
  );

  it('rejects an unknown time zone loudly (a configuration error, not caller input)', () => {
    expect(() => parseRequestedStart('morgen', { timeZone: 'Mars/Olympus', now: FRI })).toThrow(RangeError);
    // Valid zones are remembered; an invalid one is refused every time, before and after them.
    expect(parseRequestedStart('morgen', { timeZone: BERLIN, now: FRI })).not.toBeNull();
    expect(() => parseRequestedRange('morgen', { timeZone: 'Mars/Olympus', now: FRI })).toThrow(RangeError);
    expect(() => speakTime(FRI, 'Mars/Olympus', 'de')).toThrow(RangeError);
  });
});
