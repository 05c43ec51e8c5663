/**
 * Three limits, sized for Retell's reality: Retell posts every tenant's webhooks from one source
 * address, so a budget per address would throttle the whole platform. Instead:
 *
 * - `floodGuard`: a generous cap per source address before anything else runs (in this process's
 *   memory, bounded: it must not cost a Redis round trip or grow Redis per address);
 * - `AuthFailureLimit`: what fails authentication, counted per source address in Redis (shared by
 *   every ingress process): past the limit a failure is answered 429 instead of 401. Validly
 *   signed requests are never refused by it, so others' wrong keys cannot lock a tenant out;
 * - `CompanyBudget`: validly signed traffic per company per minute, in Redis.
 *
 * All three answer 429 with Retry-After (the seconds left in the minute).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { redisKeys } from '../../../../lib/redis/keys';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { leaseFor, MinuteCounter } from '../../../../lib/ratelimit/minute-counter';
import { isRedisUnavailable } from '../../../../lib/redis';
import { ApiError } from '../../errors';

const WINDOW_MS = 60_000;

const secondsLeft = (now: number) => String(Math.max(1, Math.ceil((WINDOW_MS - (now % WINDOW_MS)) / 1000)));

function limited(c: Context, message: string, now = Date.now()): ApiError {
  c.header('Retry-After', secondsLeft(now));
  return new ApiError(429, 'rate_limited', message);
}

export interface FloodGuardOptions {
  limitPerMinute: number;
  clientKey: (c: Context) => string;
  /** How many addresses are remembered at once (the least recently seen are forgotten). */
  maxAddresses?: number;
  now?: () => number;
}

/** Per source address, per process, fixed one-minute windows; the address map is an LRU. */
export function floodGuard(opts: FloodGuardOptions): MiddlewareHandler {
  const now = opts.now ?? Date.now;
  const windows = new LRUCache<string, { window: number; count: number }>({ max: opts.maxAddresses ?? 50_000 });
  return async (c, next) => {
    const t = now();
    const window = Math.floor(t / WINDOW_MS);
    const ip = opts.clientKey(c);
    let w = windows.get(ip);
    if (!w || w.window !== window) windows.set(ip, (w = { window, count: 0 }));
    if (++w.count > opts.limitPerMinute) throw limited(c, `more than ${opts.limitPerMinute} requests per minute from this source`, t);
    await next();
  };
}

export class AuthFailureLimit {
  private readonly counter: MinuteCounter;

  constructor(redis: Redis, keyPrefix: string, readonly limitPerMinute: number) {
    this.counter = new MinuteCounter(redis, keyPrefix, 'authfail', limitPerMinute);
  }

  /**
   * Count one failed authentication from `ip` and return the error to answer: `reject` (a 401
   * with its reason) while under the limit, a 429 once the address has failed too often.
   */
  async failed(c: Context, ip: string, reject: ApiError): Promise<ApiError> {
    let hit;
    try {
      hit = await this.counter.hit(ip);
    } catch (err) {
      // Counting is best effort; the refusal is not: a bad signature while Redis restarts is
      // still a 401 (a 503 would ask Retell to retry what can never pass).
      if (isRedisUnavailable(err)) return reject;
      throw err;
    }
    if (!hit.over) return reject;
    c.header('Retry-After', String(hit.retryAfter));
    return new ApiError(429, 'rate_limited', `more than ${this.limitPerMinute} failed authentications per minute from this source`);
  }

  /** Whether `ip` is past its limit this minute (a read; counts nothing). */
  async isOver(ip: string): Promise<boolean> {
    try {
      return (await this.counter.peek(ip)) > this.limitPerMinute;
    } catch (err) {
      if (isRedisUnavailable(err)) return false;
      throw err;
    }
  }
}

export class CompanyBudget {
  private readonly counter: MinuteCounter;

  constructor(redis: Redis, keyPrefix: string, readonly limitPerMinute: number) {
    // Leased (see MinuteCounter): one Redis round trip per up to 64 requests at the default 30,000.
    this.counter = new MinuteCounter(redis, keyPrefix, 'company', limitPerMinute, leaseFor(limitPerMinute));
  }

  /** Count one authenticated request of `company` (an id, or a label such as `unknown`); throws 429 past the budget. */
  async spend(c: Context, company: number | string): Promise<void> {
    const hit = await this.counter.hit(company);
    if (!hit.over) return;
    c.header('Retry-After', String(hit.retryAfter));
    throw new ApiError(429, 'rate_limited', `more than ${this.limitPerMinute} requests per minute for this company`);
  }
}
