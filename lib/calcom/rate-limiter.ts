/**
 * Keeps each Cal.com API key under N requests per rolling 60 s across every process sharing one Redis
 * (Cal.com: 120 / 60 s per key, then the key is blocked for 60 s).
 *
 * Choice: a sliding-window log in ONE sorted set per key, checked and appended by one Lua script that
 * reads the Redis server clock (`TIME`). Bottleneck 2.19.5's Redis clustering was tried first: it runs
 * with ioredis 6 and two limiters on two connections do share one reservoir, but
 *  - its reservoir refresh is a fixed window: with reservoir 5 / 1 s it let 10 requests through within
 *    ~100 ms across a refresh boundary — up to 2N per rolling window, which is exactly what trips
 *    Cal.com's rolling-window throttler and its 60 s block;
 *  - queued jobs only notice a refresh on the next heartbeat (5 s by default): 1 s windows waited 5 s;
 *  - its scripts touch several keys without a hash tag (not Redis-Cluster-safe) and jobs cannot be
 *    withdrawn by an AbortSignal.
 * The sorted set holds one member per admitted request (score = server ms); the script drops members
 * older than the window, admits when fewer than N remain, and otherwise answers how long until the
 * oldest relevant member expires, so waiters sleep exactly that long (plus jitter) and ask again.
 * Server time means processes with skewed clocks still agree. Key (the API key never appears in clear):
 * `${keyPrefix}mcp:calcom:ratelimit:<sha256(apiKey) first 16 hex>`.
 *
 * Live calls go first. `reservedForCalls` of each key's window belong to live calls: a limiter made
 * `forCalls` (the live-call functions) admits up to the full limit, every other one stops at
 * limit − reserved. A company whose booking jobs spend their share still answers its callers.
 * The bookings worker does not wait at all (`deferring()`): it is refused with CalcomBudgetSpent,
 * and the job moves to delayed until its turn. Deferred callers get turns one slot's share of the
 * window apart (a second key beside the window, `…:turns`), so each comes back about once. (A job
 * that waited here held one of its worker's `CONCURRENCY_BOOKINGS` slots; twenty such waiters made
 * a live request of that company wait 4× longer in review: bench/RESULTS.md, sixth session.)
 *
 * Redis errors propagate from `acquire` (fail closed): the caller's job fails and is retried.
 */
import { createHash, randomUUID } from 'node:crypto';
import { withCommand } from '../redis/command';
import { redisKeys } from '../redis/keys';
import type { Redis } from 'ioredis';
import type { CalcomLimiter } from './client';

export interface CalcomRateLimiterOptions {
  redis: Redis;
  /** Prepended to the key (default ''). */
  keyPrefix?: string;
  /** Requests per window per API key (default 120, Cal.com's default). */
  limitPerMinute?: number;
  /** The window; default 60 000 ms. Shorter only for tests. */
  windowMs?: number;
  /** Upper bound of the random delay added to each wait, spreading waiters' retries (default 25 ms). */
  jitterMs?: number;
  /** Requests of each window only live calls may take (default 0); below `limitPerMinute`. */
  reservedForCalls?: number;
  /** This limiter serves live calls: it may take the reserved requests too (default false). */
  forCalls?: boolean;
}

/** A background request refused without waiting (`deferring()`): nothing was sent. */
export class CalcomBudgetSpent extends Error {
  override readonly name = 'CalcomBudgetSpent';
  constructor(
    /** Epoch ms (this process's clock) when a slot frees. */
    readonly retryAt: number,
  ) {
    super(`the Cal.com request budget for background work is spent until ${new Date(retryAt).toISOString()}`);
  }
}

const COMMAND = 'callbookCalcomRateLimit';

/**
 * KEYS[1] sorted set, KEYS[2] the next deferred turn (same slot); ARGV limit, windowMs, member,
 * takeTurn (0/1). Returns {1, 0} when admitted (member added), else {0, waitMs}: until a slot
 * frees, or, with takeTurn, until this caller's turn — one slot's share of the window
 * (windowMs / limit) after the turn handed out before it, so a backlog of deferred jobs comes back
 * one after another instead of all at once for the first free slot.
 */
const RATE_LIMIT_LUA = `
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
  return {1, 0}
end
local nth = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
local at = tonumber(nth[2]) + window
if ARGV[4] == '1' then
  local last = tonumber(redis.call('GET', KEYS[2]) or '0')
  local turn = math.max(at, last + math.ceil(window / limit))
  redis.call('SET', KEYS[2], turn, 'PX', turn - now + window)
  at = turn
end
local wait = at - now
if wait < 1 then wait = 1 end
return {0, wait}
`;

type RateLimitCommands = {
  [COMMAND](key: string, turnsKey: string, limit: number, windowMs: number, member: string, takeTurn: 0 | 1): Promise<[number, number]>;
};

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`CalcomRateLimiter: ${name} must be a positive integer`);
  return v;
}

/** Sleeps `ms`, rejecting with the signal's reason when it aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class CalcomRateLimiter {
  private readonly redis: Redis & RateLimitCommands;
  private readonly keyPrefix: string;
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly jitterMs: number;

  constructor(opts: CalcomRateLimiterOptions) {
    this.keyPrefix = opts.keyPrefix ?? '';
    const limit = positiveInt('limitPerMinute', opts.limitPerMinute ?? 120);
    const reserved = opts.reservedForCalls ?? 0;
    if (!Number.isSafeInteger(reserved) || reserved < 0 || reserved >= limit) {
      throw new RangeError(`CalcomRateLimiter: reservedForCalls must be an integer from 0 to limitPerMinute − 1 (${limit - 1})`);
    }
    this.limit = opts.forCalls ? limit : limit - reserved;
    this.windowMs = positiveInt('windowMs', opts.windowMs ?? 60_000);
    this.jitterMs = Math.max(0, opts.jitterMs ?? 25);
    this.redis = withCommand<RateLimitCommands>(opts.redis, COMMAND, RATE_LIMIT_LUA, 2);
  }

  /** The Redis key of an API key's window (hashed; never the key in clear). */
  keyFor(apiKey: string): string {
    const hash = createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
    return this.keyPrefix + redisKeys.calcomRateLimit(hash);
  }

  /**
   * Takes a free request of the key's window if there is one: 0, else the ms until one frees (with
   * `takeTurn`, until this caller's turn among the deferred).
   */
  async tryAcquire(apiKey: string, takeTurn = false): Promise<number> {
    const key = this.keyFor(apiKey);
    const [admitted, waitMs] = await this.redis[COMMAND](key, redisKeys.calcomRateLimitTurns(key), this.limit, this.windowMs, randomUUID(), takeTurn ? 1 : 0);
    return Number(admitted) === 1 ? 0 : Number(waitMs);
  }

  /** Waits until the key has a free request in the window and takes it; rejects with the reason if `signal` aborts. */
  async acquire(apiKey: string, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      // The script may run although the caller aborted meanwhile; the slot is spent either way.
      const waitMs = await this.tryAcquire(apiKey);
      if (waitMs === 0) return;
      await sleep(waitMs + this.jitter(), signal);
    }
  }

  /**
   * The same budget, refused at once with CalcomBudgetSpent instead of waited for (the bookings
   * worker). Each refusal takes a turn: the retry time is when this caller's turn comes.
   */
  deferring(): CalcomLimiter {
    return {
      acquire: async (apiKey, signal) => {
        signal?.throwIfAborted();
        const waitMs = await this.tryAcquire(apiKey, true);
        if (waitMs > 0) throw new CalcomBudgetSpent(Date.now() + waitMs + this.jitter());
      },
    };
  }

  /** A random 0…jitterMs added to each wait, spreading callers told the same time. */
  private jitter(): number {
    return Math.floor(Math.random() * (this.jitterMs + 1));
  }
}
