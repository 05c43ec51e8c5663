/**
 * A count per key and clock minute in Redis, shared by every process: INCR and its expiry in one
 * round trip, one script (one key, so it works on a Redis Cluster). It was MULTI/INCR/PEXPIRE/EXEC:
 * the same round trip, but four commands and ioredis' pipeline and transaction machinery per
 * request — 3.5 % of the ingress's CPU under bench/live; the script is one command. The ingress's failed-authentication limit
 * and the per-company budgets (Retell and Cal.com routes, and /admin, /mcp, /events through the
 * token gate) are built on it.
 *
 * A budget with a large limit can take its count in leases (`lease`: units per round trip): one
 * INCRBY reserves a block, and the process serves the block's hits from memory. A round trip to
 * Redis costs the ingress 0.1–0.2 ms of CPU when Redis is idle (bench/live, 44 requests/s), more
 * than the rest of the budget's work; a lease of 64 takes it once per 64 requests. The limit
 * still holds across processes — a unit is served only when the count that reserved it is within
 * the limit — but units a process reserved and did not use this minute count as spent, so a
 * company may be refused up to (processes − 1) × (lease − 1) requests before its limit. Budgets
 * are brakes on floods (30,000 a minute by default), so `leaseFor` leases 1 % of the limit, at
 * most 64 and nothing below 200 a minute; the failed-authentication limit is never leased.
 *
 * @example
 *   const budget = new MinuteCounter(redis, ns, 'company', 30_000);
 *   const { over, retryAfter } = await budget.hit(companyId);
 */
import type { Redis } from 'ioredis';
import { withCommand } from '../redis/command';
import { redisKeys } from '../redis/keys';

const WINDOW_MS = 60_000;
const COMMAND = 'callbookMinuteCount';
/** KEYS[1] the minute's key; ARGV[1] its expiry in ms; ARGV[2] the units to count. Returns the count after them. */
const COUNT_LUA = `
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
if n == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`;

type CountCommands = { [COMMAND](key: string, ttlMs: number, units: number): Promise<number> };

/** Units per lease for a budget of `limitPerMinute` (see above): 1 % of it, at most 64; 1 (no lease) below 200. */
export function leaseFor(limitPerMinute: number): number {
  return Math.max(1, Math.min(64, Math.floor(limitPerMinute / 100)));
}

/** Units of one key's count reserved by this process and not yet served. */
interface Lease {
  redisKey: string;
  /** The count the next local hit takes. */
  next: number;
  /** The last count of the block that is within the limit; the limit itself when the block reached it. */
  last: number;
}

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
    /** Units reserved per round trip (1: every hit goes to Redis). */
    private readonly lease = 1,
  ) {
    this.redis = withCommand<CountCommands>(redis, COMMAND, COUNT_LUA);
  }

  private keyOf(key: string | number, now: number): string {
    return `${this.keyPrefix}${redisKeys.rateLimit(this.family, key, Math.floor(now / WINDOW_MS))}`;
  }

  /** The count so far this minute, without counting. */
  async peek(key: string | number, now = Date.now()): Promise<number> {
    return Number((await this.redis.get(this.keyOf(key, now))) ?? 0);
  }

  private readonly leases = new Map<string | number, Lease>();
  /**
   * Per key, the lease being reserved: concurrent hits wait for it instead of each reserving a
   * block. It rejects when the round trip failed, and its waiters fail with it: each retrying in
   * turn would line them up behind one another, every one waiting out its own failed round trip
   * (a Redis outage then held the n-th request n times as long, well past Retell's 10 s).
   */
  private readonly reserving = new Map<string | number, Promise<void>>();

  async hit(key: string | number, now = Date.now()): Promise<MinuteHit> {
    const redisKey = this.keyOf(key, now);
    const retryAfter = Math.max(1, Math.ceil((WINDOW_MS - (now % WINDOW_MS)) / 1000));
    if (this.lease === 1) return this.count(redisKey, retryAfter);
    for (;;) {
      const held = this.leases.get(key);
      if (held && held.redisKey === redisKey) {
        if (held.next <= held.last) return { count: held.next++, over: false, retryAfter };
        // Counts only grow within a minute: once a block reached the limit, the rest of it is refused here.
        if (held.last >= this.limitPerMinute) return { count: this.limitPerMinute + 1, over: true, retryAfter };
      }
      const inFlight = this.reserving.get(key);
      if (!inFlight) break;
      await inFlight; // throws what the reservation threw
    }
    // The map entry is dropped before anyone awaiting it resumes, so a waiter never finds the
    // reservation it waited for still in flight.
    const done = () => {
      if (this.reserving.get(key) === waiters) this.reserving.delete(key);
    };
    const reservation = this.count(redisKey, retryAfter).then(
      (hit) => {
        // Another minute's lease is replaced here: the map holds one per key in use.
        this.leases.set(key, { redisKey, next: hit.count + 1, last: Math.min(hit.count + this.lease - 1, this.limitPerMinute) });
        done();
        return hit;
      },
      (err: unknown) => {
        done();
        throw err;
      },
    );
    const waiters: Promise<void> = reservation.then(() => undefined);
    waiters.catch(() => undefined); // no waiter: nobody else needs to hear of the failure
    this.reserving.set(key, waiters);
    return reservation;
  }

  /** One round trip: counts `this.lease` units and reports the first of them. */
  private async count(redisKey: string, retryAfter: number): Promise<MinuteHit> {
    // The expiry is set by the hit that creates the key (a key never outlives its minute by more
    // than a second); the script is atomic, so no hit can find the key without its expiry.
    const end = Number(await this.redis[COMMAND](redisKey, WINDOW_MS + 1_000, this.lease));
    const count = end - this.lease + 1;
    return { count, over: count > this.limitPerMinute, retryAfter };
  }
}
