/**
 * At most N open /events streams per token, counted across every ingress process in Redis: one
 * sorted set per token (`events:streams:<token>`) whose members are the open streams, scored
 * with the time their lease runs out. A stream takes a slot when it opens, renews the lease on
 * every heartbeat and gives the slot back when it closes; the slot of a process that died lapses
 * with its lease, so a crash never leaks the cap. One key per script: Redis-Cluster safe.
 *
 * @example
 *   const slot = await slots.acquire('token:12', 20);   // null: the token holds 20 streams already
 *   …heartbeat: await slot.renew();  …close: await slot.release();
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** KEYS[1] the token's set; ARGV: now, lease end, cap, member, key TTL. Returns 1 taken, 0 full. */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

/** Renew only a member still present (a lapsed lease is not brought back past the cap). */
const RENEW = `
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0`;

export interface StreamSlot {
  renew(): Promise<void>;
  release(): Promise<void>;
}

export class StreamSlots {
  constructor(
    private readonly redis: Redis,
    private readonly ns: string,
    /** How long a slot outlives its last renewal: a few heartbeats. */
    private readonly leaseMs: number,
  ) {}

  private key(holder: string): string {
    return `${this.ns}events:streams:${holder}`;
  }

  /** Takes a slot for `holder` (e.g. `token:12`, `admin`), or null when it holds `cap` already. */
  async acquire(holder: string, cap: number): Promise<StreamSlot | null> {
    const key = this.key(holder);
    const member = randomBytes(9).toString('base64url');
    const now = Date.now();
    const taken = await this.redis.eval(ACQUIRE, 1, key, now, now + this.leaseMs, cap, member, this.leaseMs * 2);
    if (Number(taken) !== 1) return null;
    return {
      renew: async () => {
        await this.redis.eval(RENEW, 1, key, Date.now() + this.leaseMs, member, this.leaseMs * 2);
      },
      release: async () => {
        await this.redis.zrem(key, member);
      },
    };
  }

  /** Open streams of a holder (for tests). */
  async count(holder: string): Promise<number> {
    return this.redis.zcount(this.key(holder), Date.now(), '+inf');
  }
}
