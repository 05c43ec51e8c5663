/**
 * A count per key and clock minute in Redis, shared by every process: INCR and its expiry in one
 * round trip, one script (one key, so it works on a Redis Cluster). It was MULTI/INCR/PEXPIRE/EXEC:
 * the same round trip, but four commands and ioredis' pipeline and transaction machinery per
 * request — 3.5 % of the ingress's CPU under bench/live; the script is one command. The ingress's failed-authentication limit
 * and the per-company budgets (Retell and Cal.com routes, and /admin, /mcp, /events through the
 * token gate) are built on it.
 *
 * @example
 *   const budget = new MinuteCounter(redis, ns, 'company', 30_000);
 *   const { over, retryAfter } = await budget.hit(companyId);
 */
import type { Redis } from 'ioredis';
import { withCommand } from '../redis/command';

const WINDOW_MS = 60_000;
const COMMAND = 'callbookMinuteCount';
/** KEYS[1] the minute's key; ARGV[1] its expiry in ms. Returns the count after this hit. */
const COUNT_LUA = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`;

type CountCommands = { [COMMAND](key: string, ttlMs: number): Promise<number> };

export interface MinuteHit {
  count: number;
  over: boolean;
  /** Seconds until the window ends (at least 1). */
  retryAfter: number;
}

export class MinuteCounter {
  private readonly redis: Redis & CountCommands;

  constructor(
    redis: Redis,
    private readonly keyPrefix: string,
    /** The key family: `<prefix>ratelimit:<family>:<key>:<minute>`. */
    private readonly family: string,
    readonly limitPerMinute: number,
  ) {
    this.redis = withCommand<CountCommands>(redis, COMMAND, COUNT_LUA);
  }

  private keyOf(key: string | number, now: number): string {
    return `${this.keyPrefix}ratelimit:${this.family}:${key}:${Math.floor(now / WINDOW_MS)}`;
  }

  /** The count so far this minute, without counting. */
  async peek(key: string | number, now = Date.now()): Promise<number> {
    return Number((await this.redis.get(this.keyOf(key, now))) ?? 0);
  }

  async hit(key: string | number, now = Date.now()): Promise<MinuteHit> {
    const redisKey = this.keyOf(key, now);
    // The expiry is set by the hit that creates the key (a key never outlives its minute by more
    // than a second); the script is atomic, so no hit can find the key without its expiry.
    const count = Number(await this.redis[COMMAND](redisKey, WINDOW_MS + 1_000));
    return { count, over: count > this.limitPerMinute, retryAfter: Math.max(1, Math.ceil((WINDOW_MS - (now % WINDOW_MS)) / 1000)) };
  }
}
