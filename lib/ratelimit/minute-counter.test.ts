/**
 * MinuteCounter against the machine's real Redis: counts per key and minute, shared by two
 * connections (two processes), the key expires with its minute. Keys under a random prefix,
 * deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis, deletePrefixed } from '../redis';
import { leaseFor, MinuteCounter } from './minute-counter';

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

  it('leased: serves a block from memory per round trip, never past the limit across processes, and starts again each minute', async () => {
    const now = Date.UTC(2030, 0, 1, 11, 0, 5);
    const key = `${prefix}ratelimit:company:9:${Math.floor(now / 60_000)}`;
    const one = new MinuteCounter(a, prefix, 'company', 10, 4);
    const two = new MinuteCounter(b, prefix, 'company', 10, 4);
    expect((await one.hit(9, now)).count).toBe(1);
    expect(await a.get(key)).toBe('4'); // one round trip reserved four
    expect([(await one.hit(9, now)).count, (await one.hit(9, now)).count, (await one.hit(9, now)).count]).toEqual([2, 3, 4]);
    expect(await a.get(key)).toBe('4'); // served from memory
    expect((await two.hit(9, now)).count).toBe(5); // the other process takes 5–8
    expect((await one.hit(9, now)).count).toBe(9); // the next block straddles the limit: 9, 10 are within it
    expect((await one.hit(9, now)).over).toBe(false);
    const refused = await one.hit(9, now);
    expect(refused.over).toBe(true);
    // Two's reserved 6–8 are still its to serve; then it is over too.
    expect([(await two.hit(9, now)).over, (await two.hit(9, now)).over, (await two.hit(9, now)).over, (await two.hit(9, now)).over]).toEqual([false, false, false, true]);
    expect((await one.hit(9, now + 60_000)).count).toBe(1); // a new minute, a new lease
  });

  it('leased, under concurrent hits from three processes: never more than the limit served, at most (processes − 1) × (lease − 1) refused early', async () => {
    const now = Date.UTC(2030, 0, 1, 12, 0, 5);
    const counters = [new MinuteCounter(a, prefix, 'company', 40, 5), new MinuteCounter(b, prefix, 'company', 40, 5), new MinuteCounter(a, prefix, 'company', 40, 5)];
    const hits = await Promise.all(Array.from({ length: 120 }, (_, i) => counters[i % 3]!.hit(10, now)));
    const served = hits.filter((h) => !h.over).length;
    expect(served).toBeLessThanOrEqual(40);
    expect(served).toBeGreaterThanOrEqual(40 - 2 * 4);
  });

  it('leases 1 % of a budget, at most 64, and nothing below 200 a minute', () => {
    expect([leaseFor(5), leaseFor(199), leaseFor(200), leaseFor(3_000), leaseFor(30_000), leaseFor(1_000_000)]).toEqual([1, 1, 2, 30, 64, 64]);
  });

  it('leased, while Redis is away: the hits waiting for the block in flight fail with it, at once, instead of each retrying in turn', async () => {
    // The ingress's counters use its 'client' connection (offline queue, 2 retries per command):
    // each failed round trip takes a reconnect cycle or two. Queued one behind the other, the
    // tenth of ten concurrent webhooks used to wait ~39 s for its 503; now all fail together.
    const dead = createRedis('redis://127.0.0.1:1', 'client');
    try {
      const counter = new MinuteCounter(dead, prefix, 'company', 30_000, 64);
      const ends: number[] = [];
      const t0 = Date.now();
      const settled = await Promise.allSettled(Array.from({ length: 10 }, () => counter.hit(11).finally(() => ends.push(Date.now() - t0))));
      expect(settled.map((r) => r.status)).toEqual(Array(10).fill('rejected'));
      expect(Math.max(...ends) - Math.min(...ends)).toBeLessThan(250);
    } finally {
      dead.disconnect();
    }
  }, 30_000);

  it('leased: a failed reservation is shared by its waiters (one round trip), and the next hit reserves again', async () => {
    const c = new Redis(REDIS_URL);
    try {
      const now = Date.UTC(2030, 0, 1, 13, 0, 5);
      const counter = new MinuteCounter(c, prefix, 'company', 100, 8);
      const real = (c as unknown as Record<string, (...a: unknown[]) => Promise<number>>).callbookMinuteCount!.bind(c);
      let calls = 0;
      (c as unknown as Record<string, unknown>).callbookMinuteCount = async (...args: unknown[]) => {
        if (calls++ === 0) {
          await new Promise((r) => setTimeout(r, 50));
          throw new Error('Connection is closed.');
        }
        return real(...args);
      };
      const first = await Promise.allSettled(Array.from({ length: 6 }, () => counter.hit(12, now)));
      expect(first.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'served'))).toEqual(Array(6).fill('Connection is closed.'));
      expect(calls).toBe(1);
      const again = await Promise.all(Array.from({ length: 6 }, () => counter.hit(12, now)));
      expect(again.map((h) => [h.count, h.over])).toEqual([1, 2, 3, 4, 5, 6].map((n) => [n, false]));
      expect(calls).toBe(2);
    } finally {
      c.disconnect();
    }
  });
});
