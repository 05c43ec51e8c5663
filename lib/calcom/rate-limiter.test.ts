/**
 * Tests of the Redis-backed Cal.com rate limiter against the machine's real Redis (random key prefix,
 * keys deleted afterwards): the N+1th request waits for the window, two instances on two connections
 * share one budget, keys have separate budgets, aborting rejects without spending a slot, and the API
 * key never appears in Redis in clear; background limiters leave the reserve to call limiters, and a
 * deferring one refuses at once with the time a slot frees. Windows are 1 s here instead of 60 s.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCalcomSim, startCalcomSim } from '../../sim/calcom';
import { CalcomClient } from './client';
import { redisKeys } from '../redis/keys';
import { CalcomBudgetSpent, CalcomRateLimiter } from './rate-limiter';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `cbt${randomBytes(4).toString('hex')}:`;
const WINDOW = 1_000;

let connA: Redis;
let connB: Redis;

beforeAll(() => {
  connA = new Redis(REDIS_URL);
  connB = new Redis(REDIS_URL);
});

afterAll(async () => {
  let cursor = '0';
  do {
    const [next, keys] = await connA.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await connA.del(...keys);
  } while (cursor !== '0');
  connA.disconnect();
  connB.disconnect();
});

function limiter(redis: Redis, limitPerMinute = 5): CalcomRateLimiter {
  return new CalcomRateLimiter({ redis, keyPrefix: PREFIX, limitPerMinute, windowMs: WINDOW });
}

function uniqueKey(): string {
  return `cal_live_${randomBytes(8).toString('hex')}`;
}

describe('CalcomRateLimiter', () => {
  it('admits N per window; the N+1th waits until the first leaves the window', async () => {
    const l = limiter(connA);
    const key = uniqueKey();
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) await l.acquire(key);
    expect(Date.now() - t0).toBeLessThan(500);
    await l.acquire(key);
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(WINDOW - 20);
    expect(waited).toBeLessThan(WINDOW + 600);
  });

  it('never admits more than N in any rolling window under concurrency', async () => {
    const l = limiter(connA, 4);
    const key = uniqueKey();
    const times: number[] = [];
    await Promise.all(Array.from({ length: 10 }, () => l.acquire(key).then(() => times.push(Date.now()))));
    times.sort((a, b) => a - b);
    // 10 requests at 4 per second: the 5th and 9th must be at least a window after the 1st and 5th.
    expect(times[4]! - times[0]!).toBeGreaterThanOrEqual(WINDOW - 20);
    expect(times[8]! - times[4]!).toBeGreaterThanOrEqual(WINDOW - 20);
  });

  it('two instances on two Redis connections share one budget', async () => {
    const a = limiter(connA);
    const b = limiter(connB);
    const key = uniqueKey();
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) await a.acquire(key);
    for (let i = 0; i < 2; i++) await b.acquire(key);
    expect(Date.now() - t0).toBeLessThan(500);
    expect(await connA.zcard(a.keyFor(key))).toBe(5);
    await b.acquire(key);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(WINDOW - 20);
  });

  it('different API keys have separate budgets', async () => {
    const l = limiter(connA);
    const k1 = uniqueKey();
    const k2 = uniqueKey();
    for (let i = 0; i < 5; i++) await l.acquire(k1);
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) await l.acquire(k2);
    expect(Date.now() - t0).toBeLessThan(300);
    expect(l.keyFor(k1)).not.toBe(l.keyFor(k2));
  });

  it('abort rejects a waiting acquire with the signal reason and spends no slot', async () => {
    const l = limiter(connA);
    const key = uniqueKey();
    for (let i = 0; i < 5; i++) await l.acquire(key);
    const t0 = Date.now();
    await expect(l.acquire(key, AbortSignal.timeout(100))).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - t0).toBeLessThan(500);
    expect(await connA.zcard(l.keyFor(key))).toBe(5);
    const ac = new AbortController();
    ac.abort(new Error('shutdown'));
    await expect(l.acquire(uniqueKey(), ac.signal)).rejects.toThrow('shutdown');
  });

  it('keys Redis by a hash of the API key, with a TTL', async () => {
    const l = limiter(connA);
    const key = uniqueKey();
    await l.acquire(key);
    const k = l.keyFor(key);
    expect(k).toMatch(new RegExp(`^${PREFIX}mcp:calcom:ratelimit:[0-9a-f]{16}$`));
    expect(k).not.toContain(key);
    const all = await connA.keys(`${PREFIX}*`);
    for (const name of all) expect(name).not.toContain(key.slice(9));
    const ttl = await connA.pttl(k);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(WINDOW);
  });

  it('background limiters stop at the limit less the reserve; a call limiter takes the rest; a deferring one refuses at once', async () => {
    const opts = { keyPrefix: PREFIX, limitPerMinute: 5, windowMs: WINDOW, reservedForCalls: 2 };
    const background = new CalcomRateLimiter({ redis: connA, ...opts });
    const calls = new CalcomRateLimiter({ redis: connB, ...opts, forCalls: true });
    const key = uniqueKey();
    for (let i = 0; i < 3; i++) expect(await background.tryAcquire(key)).toBe(0);
    const t0 = Date.now();
    const refused = await background
      .deferring()
      .acquire(key)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(Date.now() - t0).toBeLessThan(200); // no wait
    expect(refused).toBeInstanceOf(CalcomBudgetSpent);
    // Due when the first request leaves the window (plus up to 25 ms of jitter).
    const due = (refused as CalcomBudgetSpent).retryAt - t0;
    expect(due).toBeGreaterThanOrEqual(WINDOW - 200);
    expect(due).toBeLessThanOrEqual(WINDOW + 25 + 100);
    expect(await connA.zcard(background.keyFor(key))).toBe(3); // a refusal takes nothing
    expect(await calls.tryAcquire(key)).toBe(0);
    expect(await calls.tryAcquire(key)).toBe(0);
    expect(await calls.tryAcquire(key)).toBeGreaterThan(0);
    expect(() => new CalcomRateLimiter({ redis: connA, limitPerMinute: 5, reservedForCalls: 5 })).toThrow(RangeError);
  });

  it('deferred callers get turns one slot\'s share of the window apart, so a backlog comes back one by one', async () => {
    const l = new CalcomRateLimiter({ redis: connA, keyPrefix: PREFIX, limitPerMinute: 4, windowMs: WINDOW, jitterMs: 0 });
    const key = uniqueKey();
    for (let i = 0; i < 4; i++) expect(await l.tryAcquire(key)).toBe(0);
    const deferring = l.deferring();
    const turns: number[] = [];
    for (let i = 0; i < 6; i++) {
      const e = await deferring.acquire(key).then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(CalcomBudgetSpent);
      turns.push((e as CalcomBudgetSpent).retryAt);
    }
    // The first when the window's first request leaves it; each next one 250 ms (1000 / 4) later.
    expect(turns[0]! - Date.now()).toBeGreaterThan(WINDOW - 300);
    for (let i = 1; i < turns.length; i++) expect(turns[i]! - turns[i - 1]!).toBeGreaterThanOrEqual(240);
    expect(turns[5]! - turns[0]!).toBeLessThan(5 * 250 + 100);
    // A caller that waits takes no turn: it is told when the first slot frees.
    expect(await l.tryAcquire(key)).toBeLessThan(WINDOW);
    // The turns key sits beside the window (one Redis Cluster slot) and expires.
    const turnsKey = redisKeys.calcomRateLimitTurns(l.keyFor(key));
    expect(turnsKey).toBe(`{${l.keyFor(key)}}:turns`);
    expect(await connA.pttl(turnsKey)).toBeGreaterThan(0);
  });

  it('paces a CalcomClient', async () => {
    const sim = createCalcomSim();
    const apiKey = uniqueKey();
    sim.addAccount({ apiKey, username: 'paced', timeZone: 'UTC' });
    const run = await startCalcomSim(sim);
    try {
      const c = new CalcomClient({ baseUrl: run.url, apiKey, limiter: limiter(connB, 2) });
      const t0 = Date.now();
      for (let i = 0; i < 3; i++) await c.listEventTypes('paced');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(WINDOW - 20);
      expect(sim.requests()).toHaveLength(3);
    } finally {
      await run.close();
    }
  });
});
