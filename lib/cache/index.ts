/**
 * Two-level cache: L1 an in-process LRU capped in bytes, L2 Redis. L1 entries live at most
 * L1_MAX_TTL_MS so a change invalidated in Redis by another process is seen soon everywhere;
 * `invalidate` clears both levels here and L2 for all.
 *
 * @example
 *   const branch = await cache.getOrLoad(`mcp:phone:resolution:${e164}`, 600_000, () => lookup(e164));
 */
import { LRUCache } from 'lru-cache';
import type { Redis } from 'ioredis';
import { deleteKeys, scanKeys } from '../redis';
import { redisKeys } from '../redis/keys';
import { cacheHitsTotal } from '../metrics';

const L1_MAX_TTL_MS = 30_000;

type Boxed<T> = { v: T };

export class TieredCache {
  private readonly l1: LRUCache<string, Boxed<unknown>>;

  constructor(
    private readonly redis: Redis,
    /** Namespace prepended to every key (REDIS_PREFIX + ':'). */
    private readonly ns: string,
    maxBytes = 16 * 1024 * 1024,
  ) {
    this.l1 = new LRUCache<string, Boxed<unknown>>({
      maxSize: maxBytes,
      sizeCalculation: (value, key) => key.length + (JSON.stringify(value).length || 1),
    });
  }

  /**
   * Read through both levels; `load` runs on a miss and its result (null included) is cached.
   * `shareIf` false keeps a loaded value in this process's L1 only: for lookups keyed by
   * unauthenticated input, whose misses must not grow Redis.
   */
  async getOrLoad<T>(key: string, ttlMs: number, load: () => Promise<T>, opts: { shareIf?: (value: T) => boolean } = {}): Promise<T> {
    const local = this.l1.get(key);
    if (local) {
      cacheHitsTotal.inc({ cache: 'l1' });
      return local.v as T;
    }
    const remote = await this.redis.get(this.ns + key);
    if (remote !== null) {
      cacheHitsTotal.inc({ cache: 'l2' });
      const boxed = JSON.parse(remote) as Boxed<T>;
      this.l1.set(key, boxed, { ttl: Math.min(ttlMs, L1_MAX_TTL_MS) });
      return boxed.v;
    }
    const value = await load();
    if (opts.shareIf && !opts.shareIf(value)) this.l1.set(key, { v: value }, { ttl: Math.min(ttlMs, L1_MAX_TTL_MS) });
    else await this.set(key, value, ttlMs);
    return value;
  }

  async set<T>(key: string, value: T, ttlMs: number): Promise<void> {
    const boxed: Boxed<T> = { v: value };
    this.l1.set(key, boxed, { ttl: Math.min(ttlMs, L1_MAX_TTL_MS) });
    await this.redis.set(this.ns + key, JSON.stringify(boxed), 'PX', ttlMs);
  }

  /** Drop keys from both levels; returns how many existed in L2. */
  async invalidate(...keys: string[]): Promise<number> {
    for (const k of keys) this.l1.delete(k);
    // One DEL per key on a cluster: the keys usually live in different slots.
    return keys.length ? deleteKeys(this.redis, keys.map((k) => this.ns + k)) : 0;
  }

  /** Drop every key under a prefix (both levels; L2 by SCAN on every master, never KEYS). Returns how many L2 keys went. */
  async invalidatePrefix(prefix: string): Promise<number> {
    for (const k of this.l1.keys()) if (k.startsWith(prefix)) this.l1.delete(k);
    let removed = 0;
    // On a cluster SCAN walks every master; deletes go per key (no CROSSSLOT).
    await scanKeys(this.redis, `${this.ns}${prefix}*`, async (found) => {
      removed += await deleteKeys(this.redis, found);
    }, 500);
    return removed;
  }
}

/** The cache's keys, named in the one registry of Redis keys (lib/redis/keys). */
export const cacheKeys = {
  phoneResolution: redisKeys.phoneResolution,
  eventTypes: redisKeys.eventTypes,
  availability: redisKeys.availability,
  availabilityPrefix: redisKeys.availabilityPrefix,
  booking: redisKeys.booking,
  retellAgents: redisKeys.retellAgents,
  retellWebhookKey: redisKeys.retellWebhookKey,
  retellOwnKeysExist: redisKeys.retellOwnKeysExist,
};

export { redisKeys };

export const TTL_MS = {
  phoneResolution: 10 * 60_000,
  eventTypes: 5 * 60_000,
  availability: 5 * 60_000,
  booking: 24 * 3600_000,
  retellAgents: 10 * 60_000,
  retellWebhookKey: 10 * 60_000,
  /** Either answer lasts this long; a `false` only in process memory (lib/retell/company-key). */
  retellOwnKeysExist: 5_000,
};
