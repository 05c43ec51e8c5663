/**
 * A count per key and clock minute in Redis, shared by every process: INCR and its expiry in one
 * round trip (one key, so it works on a Redis Cluster). The ingress's failed-authentication limit
 * and the per-company budgets (Retell and Cal.com routes, and /admin, /mcp, /events through the
 * token gate) are built on it.
 *
 * @example
 *   const budget = new MinuteCounter(redis, ns, 'company', 30_000);
 *   const { over, retryAfter } = await budget.hit(companyId);
 */
import type { Redis } from 'ioredis';

const WINDOW_MS = 60_000;

export interface MinuteHit {
  count: number;
  over: boolean;
  /** Seconds until the window ends (at least 1). */
  retryAfter: number;
}

export class MinuteCounter {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    /** The key family: `<prefix>ratelimit:<family>:<key>:<minute>`. */
    private readonly family: string,
    readonly limitPerMinute: number,
  ) {}

  private keyOf(key: string | number, now: number): string {
    return `${this.keyPrefix}ratelimit:${this.family}:${key}:${Math.floor(now / WINDOW_MS)}`;
  }

  /** The count so far this minute, without counting. */
  async peek(key: string | number, now = Date.now()): Promise<number> {
    return Number((await this.redis.get(this.keyOf(key, now))) ?? 0);
  }

  async hit(key: string | number, now = Date.now()): Promise<MinuteHit> {
    const redisKey = this.keyOf(key, now);
    const replies = (await this.redis.multi().incr(redisKey).pexpire(redisKey, WINDOW_MS + 1_000).exec()) as Array<[Error | null, number]>;
    const failed = replies.find(([err]) => err);
    if (failed) throw failed[0];
    const count = replies[0]![1];
    return { count, over: count > this.limitPerMinute, retryAfter: Math.max(1, Math.ceil((WINDOW_MS - (now % WINDOW_MS)) / 1000)) };
  }
}
