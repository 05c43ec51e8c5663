/**
 * MinuteCounter against the machine's real Redis: counts per key and minute, shared by two
 * connections (two processes), the key expires with its minute. Keys under a random prefix,
 * deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deletePrefixed } from '../redis';
import { MinuteCounter } from './minute-counter';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:minute:${randomUUID()}:`;
const a = new Redis(REDIS_URL);
const b = new Redis(REDIS_URL);

afterAll(async () => {
  await deletePrefixed(a, prefix);
  await Promise.all([a.quit(), b.quit()]);
});

describe('MinuteCounter', () => {
  it('counts hits per key and minute across connections, over past the limit, with the seconds left', async () => {
    const now = Date.UTC(2030, 0, 1, 10, 0, 15); // 45 s left in the minute
    const one = new MinuteCounter(a, prefix, 'company', 3);
    const two = new MinuteCounter(b, prefix, 'company', 3);
    const hits = [];
    for (const c of [one, two, one, two]) hits.push(await c.hit(7, now));
    expect(hits.map((h) => [h.count, h.over])).toEqual([[1, false], [2, false], [3, false], [4, true]]);
    expect(hits[3]!.retryAfter).toBe(45);
    expect((await one.hit(8, now)).count).toBe(1); // another key
    expect((await one.hit(7, now + 60_000)).count).toBe(1); // the next minute
    expect(await two.peek(7, now)).toBe(4);
  });

  it('gives a minute key its expiry on the first hit (61 s), and keeps it', async () => {
    const counter = new MinuteCounter(a, prefix, 'authfail', 10);
    const now = Date.now();
    await counter.hit('203.0.113.9', now);
    const key = `${prefix}ratelimit:authfail:203.0.113.9:${Math.floor(now / 60_000)}`;
    const ttl = await a.pttl(key);
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(61_000);
    await counter.hit('203.0.113.9', now);
    expect(await a.pttl(key)).toBeGreaterThan(0);
    expect(await a.pttl(key)).toBeLessThanOrEqual(ttl);
  });
});
