/**
 * Tests for the Redis-backed circuit breaker against the machine's real Redis. The state lives in
 * Redis so that every worker process shares it; here two RedisBreaker instances on two separate
 * ioredis connections stand in for two worker processes. Keys are isolated under a random prefix
 * and deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRedis, type RedisProc } from '../../test/chaos/harness';
import { BreakerOpenError, RedisBreaker, breakerStateValue, type BreakerOptions, type BreakerState } from './index';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:breaker:${randomUUID()}:`;

let connA: Redis;
let connB: Redis;

beforeAll(() => {
  connA = new Redis(REDIS_URL, { lazyConnect: false });
  connB = new Redis(REDIS_URL, { lazyConnect: false });
});

afterAll(async () => {
  let cursor = '0';
  do {
    const [next, keys] = await connA.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length) await connA.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await Promise.all([connA.quit(), connB.quit()]);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Change = { service: string; from: BreakerState; to: BreakerState };

let serial = 0;
/** A fresh service name per test, and a breaker for it on connection A and one on connection B. */
function pair(opts: Partial<Omit<BreakerOptions, 'redis' | 'service' | 'keyPrefix'>> = {}) {
  const service = `svc${++serial}`;
  const changes: Change[] = [];
  const onStateChange = (s: string, from: BreakerState, to: BreakerState) => changes.push({ service: s, from, to });
  const base = { service, keyPrefix: prefix, openMs: 200, probeTimeoutMs: 30_000, onStateChange, ...opts };
  const a = new RedisBreaker({ redis: connA, ...base });
  const b = new RedisBreaker({ redis: connB, ...base });
  return { service, a, b, changes, key: `${prefix}mcp:breaker:${service}` };
}

async function fail(br: RedisBreaker, n: number) {
  for (let i = 0; i < n; i++) await br.failure(false);
}

async function redisNowMs(): Promise<number> {
  const [s, us] = await connA.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

async function openAndWait({ a }: { a: RedisBreaker }, waitMs = 250) {
  await fail(a, 5);
  expect((await a.status()).state).toBe('OPEN');
  await sleep(waitMs);
}

describe('RedisBreaker', () => {
  it('opens after exactly 5 consecutive failures, not 4', async () => {
    const { a, key } = pair();
    await fail(a, 4);
    expect(await a.status()).toMatchObject({ state: 'CLOSED', failures: 4 });
    expect(await a.admit()).toEqual({ allowed: true, probe: false });
    await a.failure(false);
    expect(await a.status()).toMatchObject({ state: 'OPEN', failures: 5 });
    expect(await connA.type(key)).toBe('hash');
  });

  it('honours a configured failureThreshold', async () => {
    const { a } = pair({ failureThreshold: 2 });
    await fail(a, 1);
    expect((await a.status()).state).toBe('CLOSED');
    await fail(a, 1);
    expect((await a.status()).state).toBe('OPEN');
  });

  it('a success in between resets the consecutive failure count', async () => {
    const { a, key } = pair();
    await fail(a, 4);
    await a.success(false);
    expect(await a.status()).toMatchObject({ state: 'CLOSED', failures: 0 });
    expect(await connA.exists(key)).toBe(0); // healthy services leave no key behind
    await fail(a, 4);
    expect(await a.status()).toMatchObject({ state: 'CLOSED', failures: 4 });
    await a.failure(false);
    expect((await a.status()).state).toBe('OPEN');
  });

  it('while OPEN, admit refuses with retryAt = openedAt + openMs (Redis server time)', async () => {
    const { a, b } = pair({ openMs: 5_000 });
    const before = await redisNowMs();
    await fail(a, 5);
    const after = await redisNowMs();
    const st = await b.status();
    expect(st.state).toBe('OPEN');
    expect(st.openedAt).toBeGreaterThanOrEqual(before);
    expect(st.openedAt).toBeLessThanOrEqual(after);
    expect(st.retryAt).toBe(st.openedAt! + 5_000);

    for (const br of [a, b]) {
      const adm = await br.admit();
      expect(adm).toEqual({ allowed: false, state: 'OPEN', retryAt: st.retryAt });
    }
    // Failures while OPEN (calls admitted before it opened) change nothing.
    await b.failure(false);
    await b.success(false);
    expect(await a.status()).toEqual(st);
  });

  it('uses the Redis clock, not the process clock', async () => {
    const { a } = pair({ openMs: 200 });
    const spy = vi.spyOn(Date, 'now').mockReturnValue(0); // a wildly skewed process clock
    try {
      await fail(a, 5);
      const adm = await a.admit();
      const serverNow = await redisNowMs();
      expect(adm.allowed).toBe(false);
      if (!adm.allowed) {
        expect(adm.retryAt).toBeGreaterThan(serverNow);
        expect(adm.retryAt).toBeLessThanOrEqual(serverNow + 200);
      }
    } finally {
      spy.mockRestore();
    }
    await sleep(250);
    expect((await a.admit()).allowed).toBe(true);
  });

  it('after openMs exactly one of many concurrent admits across two processes gets the probe', async () => {
    const br = pair({ probeTimeoutMs: 10_000 });
    await openAndWait(br);
    expect((await br.b.status()).state).toBe('HALF_OPEN'); // effective state, nothing written yet

    const calls = Array.from({ length: 60 }, (_, i) => (i % 2 ? br.a : br.b).admit());
    const results = await Promise.all(calls);
    const probes = results.filter((r) => r.allowed && r.probe);
    const allowedNonProbe = results.filter((r) => r.allowed && !r.probe);
    const refused = results.filter((r) => !r.allowed);
    expect(probes).toHaveLength(1);
    expect(allowedNonProbe).toHaveLength(0);
    expect(refused).toHaveLength(59);
    const now = await redisNowMs();
    for (const r of refused) {
      expect(r).toMatchObject({ allowed: false, state: 'HALF_OPEN' });
      if (!r.allowed) {
        expect(r.retryAt).toBeGreaterThan(now + 9_000);
        expect(r.retryAt).toBeLessThanOrEqual(now + 10_000);
      }
    }
    expect(br.changes).toEqual([
      { service: br.service, from: 'CLOSED', to: 'OPEN' },
      { service: br.service, from: 'OPEN', to: 'HALF_OPEN' },
    ]);
  });

  it('probe success closes the breaker and resets the failure count', async () => {
    const br = pair();
    await openAndWait(br);
    const adm = await br.a.admit();
    expect(adm).toEqual({ allowed: true, probe: true });
    await br.a.success(true);
    expect(await br.b.status()).toEqual({ service: br.service, state: 'CLOSED', failures: 0 });
    expect(await br.b.admit()).toEqual({ allowed: true, probe: false });
    expect(await connA.exists(br.key)).toBe(0);
    // Counting starts from zero again.
    await fail(br.b, 4);
    expect((await br.a.status()).state).toBe('CLOSED');
  });

  it('probe failure re-opens for another openMs', async () => {
    const br = pair();
    await openAndWait(br);
    const first = await br.a.status();
    expect(await br.b.admit()).toEqual({ allowed: true, probe: true });
    await br.b.failure(true);
    const st = await br.a.status();
    expect(st.state).toBe('OPEN');
    expect(st.openedAt!).toBeGreaterThan(first.openedAt!);
    expect(st.retryAt).toBe(st.openedAt! + 200);
    expect((await br.a.admit()).allowed).toBe(false);
    await sleep(250);
    expect(await br.a.admit()).toEqual({ allowed: true, probe: true });
    expect(br.changes.map((c) => `${c.from}>${c.to}`)).toEqual([
      'CLOSED>OPEN',
      'OPEN>HALF_OPEN',
      'HALF_OPEN>OPEN',
      'OPEN>HALF_OPEN',
    ]);
  });

  it('non-probe results while HALF_OPEN do not decide the probe', async () => {
    const br = pair();
    await openAndWait(br);
    expect((await br.a.admit()).allowed).toBe(true);
    await br.b.success(false); // a call admitted long ago finishing late
    await br.b.failure(false);
    expect(await br.b.status()).toMatchObject({ state: 'HALF_OPEN' });
    expect((await br.b.admit()).allowed).toBe(false);
  });

  it('a lost probe is replaced after probeTimeoutMs, again by exactly one caller', async () => {
    const br = pair({ probeTimeoutMs: 300 });
    await openAndWait(br);
    expect(await br.a.admit()).toEqual({ allowed: true, probe: true });
    const refused = await br.b.admit();
    expect(refused).toMatchObject({ allowed: false, state: 'HALF_OPEN' });
    await sleep(150);
    expect((await br.b.admit()).allowed).toBe(false);
    await sleep(250);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? br.a : br.b).admit()));
    expect(results.filter((r) => r.allowed && r.probe)).toHaveLength(1);
    expect(results.filter((r) => r.allowed && !r.probe)).toHaveLength(0);
    // Replacing a lost probe is not a state transition.
    expect(br.changes.map((c) => `${c.from}>${c.to}`)).toEqual(['CLOSED>OPEN', 'OPEN>HALF_OPEN']);
  });

  it('two instances on two connections see the same state', async () => {
    const br = pair();
    await fail(br.a, 3);
    await fail(br.b, 2);
    const sa = await br.a.status();
    const sb = await br.b.status();
    expect(sa).toEqual(sb);
    expect(sa.state).toBe('OPEN');
    expect((await br.b.admit()).allowed).toBe(false);
  });

  it('concurrent failures from two processes open it once', async () => {
    const br = pair();
    await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? br.a : br.b).failure(false)));
    expect(br.changes).toEqual([{ service: br.service, from: 'CLOSED', to: 'OPEN' }]);
    expect(await br.a.status()).toMatchObject({ state: 'OPEN', failures: 5 });
  });

  it('run() throws BreakerOpenError when open and does not call fn', async () => {
    const br = pair({ openMs: 60_000 });
    await fail(br.a, 5);
    const fn = vi.fn(async () => 'x');
    const err = await br.b.run(fn).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BreakerOpenError);
    const e = err as BreakerOpenError;
    expect(e.service).toBe(br.service);
    expect(e.retryAt).toBe((await br.a.status()).retryAt);
    expect(e.message).toContain(br.service);
    expect(e.message).toContain(new Date(e.retryAt).toISOString());
    expect(fn).not.toHaveBeenCalled();
  });

  it('run() counts only errors isFailure accepts; others propagate without resetting or counting', async () => {
    const br = pair();
    class Timeout extends Error {}
    class BadRequest extends Error {}
    const isFailure = (e: unknown) => e instanceof Timeout;

    await expect(br.a.run(async () => 42, isFailure)).resolves.toBe(42);
    for (let i = 0; i < 3; i++) {
      await expect(br.a.run(() => Promise.reject(new Timeout('t')), isFailure)).rejects.toBeInstanceOf(Timeout);
    }
    for (let i = 0; i < 10; i++) {
      await expect(br.b.run(() => Promise.reject(new BadRequest('b')), isFailure)).rejects.toBeInstanceOf(BadRequest);
    }
    expect(await br.a.status()).toMatchObject({ state: 'CLOSED', failures: 3 }); // neither reset nor counted
    await expect(br.b.run(async () => 'ok', isFailure)).resolves.toBe('ok');
    expect((await br.a.status()).failures).toBe(0);

    // Default isFailure: every error counts.
    for (let i = 0; i < 5; i++) await expect(br.a.run(() => Promise.reject(new BadRequest('b')))).rejects.toThrow('b');
    expect((await br.a.status()).state).toBe('OPEN');
  });

  it('run(): a success reports itself even when it was admitted with no failures on record (failures recorded meanwhile are reset, not left to add up)', async () => {
    const br = pair();
    let finish!: () => void;
    const slow = br.a.run(() => new Promise<string>((r) => (finish = () => r('ok'))));
    await sleep(20);
    await fail(br.b, 4); // other calls fail while the slow one is on its way
    finish();
    await expect(slow).resolves.toBe('ok');
    await fail(br.b, 1);
    // Five failures, but not consecutive: a success came between them.
    expect(await br.b.status()).toMatchObject({ state: 'CLOSED', failures: 1 });
  });

  it('run() as the probe: success closes, failure re-opens, a neutral error frees the probe slot', async () => {
    const br = pair({ probeTimeoutMs: 60_000 });
    class Neutral extends Error {}
    const isFailure = (e: unknown) => !(e instanceof Neutral);
    await openAndWait(br);

    // Neutral outcome: still HALF_OPEN, but the next caller may probe at once.
    await expect(br.a.run(() => Promise.reject(new Neutral('n')), isFailure)).rejects.toBeInstanceOf(Neutral);
    expect((await br.b.status()).state).toBe('HALF_OPEN');
    // Failing probe re-opens.
    await expect(br.b.run(() => Promise.reject(new Error('down')), isFailure)).rejects.toThrow('down');
    expect((await br.a.status()).state).toBe('OPEN');
    await expect(br.a.run(async () => 1)).rejects.toBeInstanceOf(BreakerOpenError);
    await sleep(250);
    // Succeeding probe closes.
    await expect(br.a.run(async () => 'up', isFailure)).resolves.toBe('up');
    expect(await br.b.status()).toMatchObject({ state: 'CLOSED', failures: 0 });
  });

  it('reset() forces CLOSED from any state and reports the transition once', async () => {
    const br = pair({ openMs: 60_000 });
    await fail(br.a, 5);
    await br.b.reset();
    expect(await br.a.status()).toEqual({ service: br.service, state: 'CLOSED', failures: 0 });
    expect(await connA.exists(br.key)).toBe(0);
    await br.b.reset(); // already closed: no transition
    await fail(br.a, 2);
    await br.a.reset(); // clears failures, still no transition
    expect((await br.a.status()).failures).toBe(0);
    expect(br.changes.map((c) => `${c.from}>${c.to}`)).toEqual(['CLOSED>OPEN', 'OPEN>CLOSED']);

    // From HALF_OPEN with a probe out, too.
    const h = pair();
    await openAndWait(h);
    expect((await h.a.admit()).allowed).toBe(true);
    await h.b.reset();
    expect(await h.a.admit()).toEqual({ allowed: true, probe: false });
    expect(h.changes.map((c) => `${c.from}>${c.to}`)).toEqual(['CLOSED>OPEN', 'OPEN>HALF_OPEN', 'HALF_OPEN>CLOSED']);
  });

  it('onStateChange fires once per transition across both processes, and transitions are logged', async () => {
    const logA = { info: vi.fn(), warn: vi.fn() };
    const logB = { info: vi.fn(), warn: vi.fn() };
    const changes: string[] = [];
    const service = `svc${++serial}`;
    const mk = (redis: Redis, logger: typeof logA) =>
      new RedisBreaker({ redis, service, keyPrefix: prefix, openMs: 200, logger, onStateChange: (_s, f, t) => changes.push(`${f}>${t}`) });
    const a = mk(connA, logA);
    const b = mk(connB, logB);

    await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).failure(false)));
    await sleep(250);
    const adm = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).admit()));
    const probeIdx = adm.findIndex((r) => r.allowed && r.probe);
    expect(probeIdx).toBeGreaterThanOrEqual(0);
    await (probeIdx % 2 ? a : b).success(true);
    await Promise.all([a.success(true), b.success(false)]); // late/duplicate reports: no further transitions

    expect(changes).toEqual(['CLOSED>OPEN', 'OPEN>HALF_OPEN', 'HALF_OPEN>CLOSED']);
    const warns = [...logA.warn.mock.calls, ...logB.warn.mock.calls];
    const infos = [...logA.info.mock.calls, ...logB.info.mock.calls];
    expect(warns).toHaveLength(1);
    expect(warns[0]![0]).toMatchObject({ service, from: 'CLOSED', to: 'OPEN' });
    expect(infos.map((c) => (c[0] as { to: string }).to)).toEqual(['HALF_OPEN', 'CLOSED']);
  });

  it('a throwing onStateChange does not break the call', async () => {
    const logger = { info: vi.fn(), warn: vi.fn() };
    const br = new RedisBreaker({
      redis: connA,
      service: `svc${++serial}`,
      keyPrefix: prefix,
      failureThreshold: 1,
      logger,
      onStateChange: () => {
        throw new Error('boom');
      },
    });
    await expect(br.failure(false)).resolves.toBeUndefined();
    expect((await br.status()).state).toBe('OPEN');
    expect(logger.warn).toHaveBeenCalledWith(expect.objectContaining({ err: expect.any(Error) }), expect.stringContaining('onStateChange'));
  });

  it('rejects nonsense options', () => {
    expect(() => new RedisBreaker({ redis: connA, service: '' })).toThrow(RangeError);
    expect(() => new RedisBreaker({ redis: connA, service: 'x', failureThreshold: 0 })).toThrow(RangeError);
    expect(() => new RedisBreaker({ redis: connA, service: 'x', openMs: -1 })).toThrow(RangeError);
    expect(() => new RedisBreaker({ redis: connA, service: 'x', probeTimeoutMs: 1.5 })).toThrow(RangeError);
  });

  it('breakerStateValue maps states to gauge values', () => {
    expect(breakerStateValue('CLOSED')).toBe(0);
    expect(breakerStateValue('HALF_OPEN')).toBe(1);
    expect(breakerStateValue('OPEN')).toBe(2);
  });
});

describe('RedisBreaker: Redis work per request', () => {
  // A redis-server of this test's own: INFO commandstats counts every client's commands, and the
  // machine's Redis serves other test files at the same time.
  let server: RedisProc;
  let conn: Redis;
  beforeAll(async () => {
    server = await startRedis();
    conn = new Redis(server.url);
  });
  afterAll(async () => {
    conn.disconnect();
    await server.stop();
  });

  const timeCalls = async () => Number(/cmdstat_time:calls=(\d+)/.exec(await conn.info('commandstats'))?.[1] ?? 0);

  it('a CLOSED breaker admits and records successes without reading the clock; opening, a probe and OPEN do read it', async () => {
    const br = new RedisBreaker({ redis: conn, service: 'clock', openMs: 200 });
    const t0 = await timeCalls();
    for (let i = 0; i < 20; i++) await br.run(async () => i);
    await fail(br, 4); // CLOSED, counting
    await br.success(false); // resets the count: CLOSED again
    expect(await timeCalls()).toBe(t0);

    await fail(br, 5); // the fifth opens: openedAt is the server's time
    const opened = await timeCalls();
    expect(opened).toBeGreaterThan(t0);
    const refused = await br.admit(); // OPEN: is its time up?
    expect(refused.allowed).toBe(false);
    expect(await timeCalls()).toBeGreaterThan(opened);
    await sleep(250);
    expect(await br.admit()).toEqual({ allowed: true, probe: true });
    await br.success(true);
    expect((await br.status()).state).toBe('CLOSED');
  });
});
