import {
  cacheHitsTotal
} from "./chunk-AQ2OROU7.js";

// lib/redis/index.ts
import { Cluster, Redis } from "ioredis";
function redisTarget(config) {
  return config.REDIS_CLUSTER_NODES?.length ? { url: config.REDIS_URL, clusterNodes: config.REDIS_CLUSTER_NODES } : { url: config.REDIS_URL };
}
function roleOptions(role) {
  return role === "worker" ? { maxRetriesPerRequest: null, enableReadyCheck: false } : role === "producer" ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2e3, commandTimeout: 5e3 } : { maxRetriesPerRequest: 2, connectTimeout: 2e3 };
}
var backoff = (times) => Math.min(times * 100, 2e3);
function createRedis(target, role, extra = {}) {
  const t = typeof target === "string" ? { url: target } : target;
  if (t.clusterNodes?.length) return createCluster(t.url, t.clusterNodes, role, extra);
  const redis = new Redis(t.url, {
    ...roleOptions(role),
    retryStrategy: backoff,
    lazyConnect: false,
    ...extra
  });
  redis.on("error", () => {
  });
  return redis;
}
function parseNode(hostPort) {
  const i = hostPort.lastIndexOf(":");
  return { host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) };
}
function createCluster(url, nodes, role, extra) {
  const u = new URL(url);
  const auth = {
    ...u.username ? { username: decodeURIComponent(u.username) } : {},
    ...u.password ? { password: decodeURIComponent(u.password) } : {},
    ...u.protocol === "rediss:" ? { tls: {} } : {}
  };
  const { enableOfflineQueue, lazyConnect, retryStrategy: _ignored, ...perNode } = { ...roleOptions(role), ...extra };
  const cluster = new Cluster(nodes.map(parseNode), {
    enableOfflineQueue: enableOfflineQueue ?? true,
    lazyConnect: lazyConnect ?? false,
    clusterRetryStrategy: backoff,
    // A master that restarts comes back on its address: ask again soon rather than fail.
    retryDelayOnClusterDown: 200,
    retryDelayOnFailover: 200,
    slotsRefreshTimeout: 2e3,
    redisOptions: { ...auth, ...perNode }
  });
  cluster.on("error", () => {
  });
  return cluster;
}
function isCluster(redis) {
  return redis.isCluster === true;
}
async function whenReady(redis, timeoutMs = 1e4) {
  if (redis.status === "ready") return;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once("ready", onReady);
  });
}
async function masters(redis) {
  if (!isCluster(redis)) return [redis];
  await whenReady(redis);
  return redis.nodes("master");
}
async function scanKeys(redis, pattern, onBatch, count = 1e3) {
  const all = [];
  for (const node of await masters(redis)) {
    let cursor = "0";
    do {
      const [next, found] = await node.scan(cursor, "MATCH", pattern, "COUNT", count);
      cursor = next;
      if (found.length) {
        all.push(...found);
        await onBatch?.(found);
      }
    } while (cursor !== "0");
  }
  return all;
}
var CHUNK = 500;
async function deleteKeys(redis, keys) {
  let removed = 0;
  for (let i = 0; i < keys.length; i += CHUNK) {
    const chunk = keys.slice(i, i + CHUNK);
    if (!isCluster(redis)) removed += await redis.del(...chunk);
    else removed += (await Promise.all(chunk.map((k) => redis.del(k)))).reduce((a, b) => a + b, 0);
  }
  return removed;
}
async function getValues(redis, keys) {
  const out = [];
  for (let i = 0; i < keys.length; i += CHUNK) {
    const chunk = keys.slice(i, i + CHUNK);
    out.push(...isCluster(redis) ? await Promise.all(chunk.map((k) => redis.get(k))) : await redis.mget(...chunk));
  }
  return out;
}
async function assertNoEviction(redis) {
  for (const node of await masters(redis)) {
    const reply = await node.config("GET", "maxmemory-policy");
    const policy = reply[1];
    if (policy && policy !== "noeviction") {
      const where = isCluster(redis) ? ` on ${node.options.host}:${node.options.port}` : "";
      throw new Error(
        `Redis maxmemory-policy is "${policy}"${where}; BullMQ needs "noeviction" (redis-cli CONFIG SET maxmemory-policy noeviction), or set REDIS_SKIP_POLICY_CHECK=true for a managed Redis you have checked`
      );
    }
  }
}
var UNAVAILABLE = /* @__PURE__ */ new Set(["MaxRetriesPerRequestError", "ClusterAllFailedError"]);
var UNAVAILABLE_TEXT = /Connection is closed|Stream isn't writeable|enableOfflineQueue|Command timed out|Cluster isn't ready|None of startup nodes is available|Failed to refresh slots cache|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN)\b/;
function isRedisUnavailable(err) {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (UNAVAILABLE.has(e.name) || UNAVAILABLE_TEXT.test(e.message)) return true;
  }
  return false;
}
function keyNamespace(prefix) {
  return prefix ? `${prefix}:` : "";
}

// lib/cache/index.ts
import { LRUCache } from "lru-cache";
var L1_MAX_TTL_MS = 3e4;
var TieredCache = class {
  constructor(redis, ns, maxBytes = 16 * 1024 * 1024) {
    this.redis = redis;
    this.ns = ns;
    this.l1 = new LRUCache({
      maxSize: maxBytes,
      sizeCalculation: (value, key) => key.length + (JSON.stringify(value).length || 1)
    });
  }
  redis;
  ns;
  l1;
  /** Read through both levels; `load` runs on a miss and its result (null included) is cached. */
  async getOrLoad(key, ttlMs, load) {
    const local = this.l1.get(key);
    if (local) {
      cacheHitsTotal.inc({ cache: "l1" });
      return local.v;
    }
    const remote = await this.redis.get(this.ns + key);
    if (remote !== null) {
      cacheHitsTotal.inc({ cache: "l2" });
      const boxed = JSON.parse(remote);
      this.l1.set(key, boxed, { ttl: Math.min(ttlMs, L1_MAX_TTL_MS) });
      return boxed.v;
    }
    const value = await load();
    await this.set(key, value, ttlMs);
    return value;
  }
  async set(key, value, ttlMs) {
    const boxed = { v: value };
    this.l1.set(key, boxed, { ttl: Math.min(ttlMs, L1_MAX_TTL_MS) });
    await this.redis.set(this.ns + key, JSON.stringify(boxed), "PX", ttlMs);
  }
  /** Drop keys from both levels; returns how many existed in L2. */
  async invalidate(...keys) {
    for (const k of keys) this.l1.delete(k);
    return keys.length ? deleteKeys(this.redis, keys.map((k) => this.ns + k)) : 0;
  }
  /** Drop every key under a prefix (both levels; L2 by SCAN on every master, never KEYS). Returns how many L2 keys went. */
  async invalidatePrefix(prefix) {
    for (const k of this.l1.keys()) if (k.startsWith(prefix)) this.l1.delete(k);
    let removed = 0;
    await scanKeys(this.redis, `${this.ns}${prefix}*`, async (found) => {
      removed += await deleteKeys(this.redis, found);
    }, 500);
    return removed;
  }
};
var cacheKeys = {
  phoneResolution: (e164) => `mcp:phone:resolution:${e164}`,
  eventTypes: (companyId) => `mcp:calcom:event_types:${companyId}`,
  availability: (eventTypeId, date) => `mcp:calcom:availability:${eventTypeId}:${date}`,
  booking: (idempotencyKey) => `mcp:calcom:booking:${idempotencyKey}`,
  retellAgents: (companyId) => `mcp:retell:agents:${companyId}`,
  /** The encrypted Retell key of the company owning a number (null: none of its own). */
  retellWebhookKey: (e164) => `mcp:retell:webhook_key:${e164}`
};
var TTL_MS = {
  phoneResolution: 10 * 6e4,
  eventTypes: 5 * 6e4,
  availability: 5 * 6e4,
  booking: 24 * 36e5,
  retellAgents: 10 * 6e4,
  retellWebhookKey: 10 * 6e4
};

export {
  redisTarget,
  createRedis,
  getValues,
  assertNoEviction,
  isRedisUnavailable,
  keyNamespace,
  TieredCache,
  cacheKeys,
  TTL_MS
};
//# sourceMappingURL=chunk-XN5S2XO3.js.map
