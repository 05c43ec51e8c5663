import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Cipher, safeEqual } from './index';

describe('Cipher', () => {
  const c = new Cipher(randomBytes(32).toString('base64'));
  it('round-trips and never repeats a ciphertext', () => {
    const a = c.encrypt('cal_live_secret');
    expect(a).not.toContain('cal_live_secret');
    expect(a).not.toBe(c.encrypt('cal_live_secret'));
    expect(c.decrypt(a)).toBe('cal_live_secret');
  });
  it('uses a fresh IV for every encryption, across refills of the IV batch', () => {
    const ivs = Array.from({ length: 2000 }, () => c.encrypt('same').split(':')[2]!);
    expect(new Set(ivs).size).toBe(ivs.length);
    expect(ivs.every((iv) => Buffer.from(iv, 'base64').length === 12)).toBe(true);
    const sealed = Array.from({ length: 600 }, (_, i) => c.encrypt(`value ${i}`));
    expect(sealed.map((t) => c.decrypt(t))).toEqual(sealed.map((_, i) => `value ${i}`));
  });
  it('refuses a tampered ciphertext and a foreign key', () => {
    const a = c.encrypt('x');
    const parts = a.split(':');
    parts[4] = Buffer.from('y').toString('base64');
    expect(() => c.decrypt(parts.join(':'))).toThrow();
    expect(() => new Cipher(randomBytes(32).toString('base64')).decrypt(a)).toThrow(/made with key/);
  });
  it('compares tokens', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
  });
});
