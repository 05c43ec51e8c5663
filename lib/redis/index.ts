/**
 * Redis connections. Workers need `maxRetriesPerRequest: null` (BullMQ blocks on them); the
 * ingress uses a connection with no offline queue so that, when Redis is down, a webhook fails
 * fast with 503 (Retell retries) instead of hanging past Retell's 10 s timeout.
 *
 * **Redis Cluster.** With `REDIS_CLUSTER_NODES` set, every role gets an ioredis `Cluster`
 * instead (BullMQ takes one as its connection). It is typed as `Redis` on purpose: the commands
 * callbook sends — single-key GET/SET/DEL/INCR, one-key Lua scripts (breaker, rate limiter, lock
 * release), MULTI on one key, PUBLISH — behave the same on both. What does not — SCAN (one node
 * only) and multi-key commands (CROSSSLOT) — goes through the helpers below (`scanKeys`,
 * `deleteKeys`, `getValues`, `masters`), which work on either. BullMQ's keys share the hash tag
 * `{prefix}` (lib/queues), so its multi-key scripts stay in one slot.
 */
import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';

export type { Redis };
export type ConnectionRole = 'worker' | 'producer' | 'client';

/** One Redis server (`url`), or a Redis Cluster (`clusterNodes`; `url` then lends credentials and TLS). */
export interface RedisTarget {
  url: string;
  clusterNodes?: string[];
}

/** The target a config names (REDIS_URL, REDIS_CLUSTER_NODES). */
export function redisTarget(config: { REDIS_URL: string; REDIS_CLUSTER_NODES?: string[] | undefined }): RedisTarget {
  return config.REDIS_CLUSTER_NODES?.length ? { url: config.REDIS_URL, clusterNodes: config.REDIS_CLUSTER_NODES } : { url: config.REDIS_URL };
}

function roleOptions(role: ConnectionRole): RedisOptions {
  const byRole: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: false }
      : role === 'producer'
        ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, commandTimeout: 5_000 }
        : { maxRetriesPerRequest: 2, connectTimeout: 2_000 };
  // A Redis restarting with AOF answers LOADING until its data is back. ioredis's ready check then
  // waits for Redis's own estimate of the load (up to 10 s by default) before it asks again: the
  // ingress answered 503 for 5 s after a 3.5 s load in a chaos run, long enough for every retry
  // of a webhook to fail. Ask again every 250 ms instead (producer and client connections: the
  // worker role skips the ready check and retries its LOADING errors on its own).
  return { ...byRole, maxLoadingRetryTime: 250 };
}

// Back off, capped, and never give up: a restarted Redis must be picked up again.
const backoff = (times: number) => Math.min(times * 100, 2_000);

export function createRedis(target: string | RedisTarget, role: ConnectionRole, extra: RedisOptions = {}): Redis {
  const t = typeof target === 'string' ? { url: target } : target;
  if (t.clusterNodes?.length) return createCluster(t.url, t.clusterNodes, role, extra);
  const redis = new Redis(t.url, {
    ...roleOptions(role),
    retryStrategy: backoff,
    lazyConnect: false,
    ...extra,
  });
  // ioredis emits 'error' on every failed reconnect; without a listener Node would crash.
  redis.on('error', () => {});
  return redis;
}

function parseNode(hostPort: string): ClusterNode {
  const i = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) };
}

function createCluster(url: string, nodes: string[], role: ConnectionRole, extra: RedisOptions): Redis {
  const u = new URL(url);
  const auth: RedisOptions = {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  // Offline queueing, retries and laziness are the cluster's business; the rest goes to each node.
  const { enableOfflineQueue, lazyConnect, retryStrategy: _ignored, ...perNode } = { ...roleOptions(role), ...extra };
  const cluster = new Cluster(nodes.map(parseNode), {
    enableOfflineQueue: enableOfflineQueue ?? true,
    lazyConnect: lazyConnect ?? false,
    clusterRetryStrategy: backoff,
    // A master that restarts comes back on its address: ask again soon rather than fail.
    retryDelayOnClusterDown: 200,
    retryDelayOnFailover: 200,
    slotsRefreshTimeout: 2_000,
    redisOptions: { ...auth, ...perNode },
  });
  cluster.on('error', () => {});
  // Same command surface for everything callbook sends; see the module comment.
  return cluster as unknown as Redis;
}

export function isCluster(redis: Redis): boolean {
  return (redis as { isCluster?: boolean }).isCluster === true;
}

/** Resolves once the connection can take commands (a cluster: once it knows its slots). */
export async function whenReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  // Not events.once: it would reject on the 'error' events a (re)connecting client emits.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** The servers that hold keys: every master of a cluster, or the one server. */
export async function masters(redis: Redis): Promise<Redis[]> {
  if (!isCluster(redis)) return [redis];
  await whenReady(redis);
  return (redis as unknown as Cluster).nodes('master');
}

/**
 * Every key matching `pattern`, by SCAN (never KEYS), on every master of a cluster. `onBatch`
 * sees each non-empty batch as it comes (to delete as it goes); the keys are also returned.
 */
export async function scanKeys(redis: Redis, pattern: string, onBatch?: (keys: string[]) => Promise<void>, count = 1000): Promise<string[]> {
  const all: string[] = [];
  for (const node of await masters(redis)) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (found.length) {
        all.push(...found);
        await onBatch?.(found);
      }
    } while (cursor !== '0');
  }
  return all;
}

const CHUNK = 500;

/**
 * DEL without cross-slot commands: one DEL of many keys on a single server, one DEL per key on
 * a cluster (sent together, so ioredis pipelines them per node). Returns how many went.
 */
export async function deleteKeys(redis: Redis, keys: readonly string[]): Promise<number> {
  let removed = 0;
  for (let i = 0; i < keys.length; i += CHUNK) {
    const chunk = keys.slice(i, i + CHUNK);
    if (!isCluster(redis)) removed += await redis.del(...chunk);
    else removed += (await Promise.all(chunk.map((k) => redis.del(k)))).reduce((a, b) => a + b, 0);
  }
  return removed;
}

/** MGET without cross-slot commands (GET per key on a cluster), in the order of `keys`. */
export async function getValues(redis: Redis, keys: readonly string[]): Promise<Array<string | null>> {
  const out: Array<string | null> = [];
  for (let i = 0; i < keys.length; i += CHUNK) {
    const chunk = keys.slice(i, i + CHUNK);
    out.push(...(isCluster(redis) ? await Promise.all(chunk.map((k) => redis.get(k))) : await redis.mget(...chunk)));
  }
  return out;
}

/**
 * Deletes every key of a REDIS_PREFIX — callbook's `prefix:` keys and BullMQ's `{prefix}` ones —
 * on every master; returns how many. For dropping a test's or a benchmark's state.
 */
export async function deletePrefixed(redis: Redis, prefix: string): Promise<number> {
  let removed = 0;
  for (const pattern of [`${prefix}:*`, `{${prefix}}*`]) {
    await scanKeys(redis, pattern, async (keys) => {
      removed += await deleteKeys(redis, keys);
    });
  }
  return removed;
}

/** BullMQ requires noeviction: an evicted job key is a lost booking. Fails start-up otherwise (checks every master). */
export async function assertNoEviction(redis: Redis): Promise<void> {
  for (const node of await masters(redis)) {
    const reply = (await node.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy && policy !== 'noeviction') {
      const where = isCluster(redis) ? ` on ${node.options.host}:${node.options.port}` : '';
      throw new Error(
        `Redis maxmemory-policy is "${policy}"${where}; BullMQ needs "noeviction" (redis-cli CONFIG SET maxmemory-policy noeviction), or set REDIS_SKIP_POLICY_CHECK=true for a managed Redis you have checked`,
      );
    }
  }
}

const UNAVAILABLE = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);
// ioredis's own words for "no connection", Redis's replies while it loads, a cluster heals, or it
// is full (noeviction); EXECABORT: a MULTI whose queued command hit one of those (a failover);
// "Too many Cluster redirections": ioredis gave up following MOVED / CLUSTERDOWN replies while a
// master restarts (a single command or script meets it where a MULTI met EXECABORT).
const UNAVAILABLE_TEXT =
  /Connection is closed|Stream isn't writeable|enableOfflineQueue|Command timed out|Cluster isn't ready|None of startup nodes is available|Failed to refresh slots cache|Too many Cluster redirections|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|OOM|EXECABORT)\b/;

/** Whether `err` means Redis is out of reach for now (down, restarting, loading, a cluster healing) — retry later. */
export function isRedisUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (UNAVAILABLE.has(e.name) || UNAVAILABLE_TEXT.test(e.message)) return true;
  }
  return false;
}

/** `prefix:` or '' — the namespace for callbook's own (non-queue) keys. */
export function keyNamespace(prefix: string): string {
  return prefix ? `${prefix}:` : '';
}
