/**
 * Per-source fixed-window rate limit counted in Redis, so every ingress process shares one
 * budget per client address. Over the limit → 429 with Retry-After.
 */
import { createMiddleware } from 'hono/factory';
import type { Redis } from 'ioredis';
import { ApiError } from '../../errors';

export interface RateLimitOptions {
  redis: Redis;
  keyPrefix: string;
  limitPerMinute: number;
  clientKey: (c: Parameters<Parameters<typeof createMiddleware>[0]>[0]) => string;
}

export const rateLimit = (opts: RateLimitOptions) =>
  createMiddleware(async (c, next) => {
    const windowStart = Math.floor(Date.now() / 60_000);
    const key = `${opts.keyPrefix}ratelimit:webhook:${opts.clientKey(c)}:${windowStart}`;
    let count: number;
    try {
      const replies = (await opts.redis.multi().incr(key).pexpire(key, 61_000).exec()) as Array<[Error | null, number]>;
      count = replies[0]![1];
    } catch (err) {
      throw new ApiError(503, 'redis_unavailable', `rate limiter unavailable: ${(err as Error).message}`);
    }
    if (count > opts.limitPerMinute) {
      c.header('Retry-After', String(60 - Math.floor((Date.now() / 1000) % 60)));
      throw new ApiError(429, 'rate_limited', `more than ${opts.limitPerMinute} requests per minute from this source`);
    }
    await next();
  });
