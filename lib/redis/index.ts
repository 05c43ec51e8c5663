/**
 * Redis connections. Workers need `maxRetriesPerRequest: null` (BullMQ blocks on them); the
 * ingress uses a connection with no offline queue so that, when Redis is down, a webhook fails
 * fast with 503 (Retell retries) instead of hanging past Retell's 10 s timeout.
 */
import { Redis, type RedisOptions } from 'ioredis';

export type { Redis };
export type ConnectionRole = 'worker' | 'producer' | 'client';

export function createRedis(url: string, role: ConnectionRole, extra: RedisOptions = {}): Redis {
  const base: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: false }
      : role === 'producer'
        ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, commandTimeout: 5_000 }
        : { maxRetriesPerRequest: 2, connectTimeout: 2_000 };
  const redis = new Redis(url, {
    ...base,
    // Back off, capped, and never give up: a restarted Redis must be picked up again.
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    lazyConnect: false,
    ...extra,
  });
  // ioredis emits 'error' on every failed reconnect; without a listener Node would crash.
  redis.on('error', () => {});
  return redis;
}

/** BullMQ requires noeviction: an evicted job key is a lost booking. Fails start-up otherwise. */
export async function assertNoEviction(redis: Redis): Promise<void> {
  const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
  const policy = reply[1];
  if (policy && policy !== 'noeviction') {
    throw new Error(
      `Redis maxmemory-policy is "${policy}"; BullMQ needs "noeviction" (redis-cli CONFIG SET maxmemory-policy noeviction), or set REDIS_SKIP_POLICY_CHECK=true for a managed Redis you have checked`,
    );
  }
}

/** `prefix:` or '' — the namespace for callbook's own (non-queue) keys. */
export function keyNamespace(prefix: string): string {
  return prefix ? `${prefix}:` : '';
}
