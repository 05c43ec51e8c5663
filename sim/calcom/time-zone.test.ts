import { IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { isValidTimeZone } from './time-zone';

describe('isValidTimeZone', () => {
  it('answers as luxon’s uncached check does, the first time and again', () => {
    for (const name of ['Europe/Berlin', 'america/new_york', 'UTC', 'Mars/Base', 'Europe/Berlin ', 'Etc/GMT+99', '../etc/passwd']) {
      const expected = IANAZone.isValidZone(name);
      expect([name, isValidTimeZone(name)]).toEqual([name, expected]);
      expect([name, isValidTimeZone(name)]).toEqual([name, expected]);
    }
  });

  it('refuses the empty name', () => {
    expect(isValidTimeZone('')).toBe(false);
  });
});
