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

  it('keeps answering right past its memo’s size and for names longer than any zone’s', () => {
    for (let i = 0; i < 600; i++) expect(isValidTimeZone(`Nowhere/Place${i}`)).toBe(false);
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone(`Europe/${'x'.repeat(100_000)}`)).toBe(false);
    expect(isValidTimeZone('America/Argentina/ComodRivadavia')).toBe(IANAZone.isValidZone('America/Argentina/ComodRivadavia'));
  });
});
