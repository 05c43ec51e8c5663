import {
  apiDuration,
  appointments,
  appointmentsCreatedTotal,
  auditLog,
  bookingTotal,
  branches,
  cacheHitsTotal,
  calls,
  callsProcessedTotal,
  circuitBreakerState,
  companies,
  connectDatabase,
  customers,
  phoneNumbers,
  retellPhoneNumbers,
  services,
  syncRuns
} from "./chunk-NUTL6YPA.js";

// lib/config/index.ts
import { z } from "zod";
var csv = z.string().transform((s) => s.split(",").map((p) => p.trim()).filter(Boolean));
var base64Key32 = z.string().refine((s) => Buffer.from(s, "base64").length === 32, "must be 32 bytes encoded as base64 (openssl rand -base64 32)");
var envSchema = z.object({
  DATABASE_URL: z.string().regex(/^mysql:\/\//, "must be a mysql:// URL, e.g. mysql://root@127.0.0.1:3306/callbook"),
  /** Required unless REDIS_CLUSTER_NODES is set (then it defaults to the first node; see loadConfig). */
  REDIS_URL: z.string("must be set: a redis:// URL, e.g. redis://127.0.0.1:6379 (or set REDIS_CLUSTER_NODES for a Redis Cluster)").regex(/^rediss?:\/\//, "must be a redis:// URL, e.g. redis://127.0.0.1:6379"),
  /**
   * A Redis Cluster: comma-separated `host:port` of some of its nodes (ioredis finds the rest).
   * Every connection — cache, breakers, queues, workers — then talks to the cluster; REDIS_URL,
   * if also set, only lends its username/password/TLS (`rediss://`) to the cluster connections.
   */
  REDIS_CLUSTER_NODES: z.string().refine(
    (s) => {
      const parts = s.split(",").map((p) => p.trim()).filter(Boolean);
      return parts.length > 0 && parts.every((p) => /^[^\s:/]+:\d{1,5}$/.test(p));
    },
    "must be comma-separated host:port pairs, e.g. 10.0.0.1:7000,10.0.0.2:7000"
  ).transform((s) => s.split(",").map((p) => p.trim()).filter(Boolean)).optional(),
  /** Namespace for every Redis key and queue; tests use one per run. */
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_{}-]*$/, "letters, digits, _ - { } only").default("callbook"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3e3),
  HOST: z.string().default("0.0.0.0"),
  PUBLIC_URL: z.string().url().optional(),
  RETELL_API_KEY: z.string().min(1, "must be set: the Retell API key that signs webhooks"),
  RETELL_API_URL: z.string().url().default("https://api.retellai.com"),
  CALCOM_API_URL: z.string().url().default("https://api.cal.com/v2"),
  CALCOM_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(120),
  CALCOM_TIMEOUT_MS: z.coerce.number().int().positive().default(1e4),
  ENCRYPTION_KEY: base64Key32,
  /** Earlier ENCRYPTION_KEYs (comma-separated base64), still accepted for decryption while `callbook keys rotate` runs. */
  ENCRYPTION_KEYS_PREVIOUS: csv.refine((keys) => keys.every((k) => Buffer.from(k, "base64").length === 32), "each key must be 32 bytes encoded as base64").optional(),
  /** HMAC-SHA256 key of the phone blind index (customers.phone_index, calls.caller_index); required once PII encryption is on. */
  BLIND_INDEX_KEY: base64Key32.optional(),
  /** PII encryption for companies whose tenants entry does not say (piiEncryption). */
  PII_ENCRYPTION_DEFAULT: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters"),
  WEBHOOK_IP_ALLOWLIST: csv.optional(),
  /** Trust X-Forwarded-For for the client address (only behind a proxy you control). */
  TRUST_PROXY: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  WEBHOOK_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
  WEBHOOK_MAX_BODY_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DB_POOL_SIZE: z.coerce.number().int().positive().default(10),
  /** Statements slower than this are logged by operation name and duration (never values). */
  DB_SLOW_QUERY_MS: z.coerce.number().int().positive().default(200),
  CONCURRENCY_WEBHOOKS: z.coerce.number().int().positive().default(10),
  CONCURRENCY_BOOKINGS: z.coerce.number().int().positive().default(5),
  CONCURRENCY_SYNC: z.coerce.number().int().positive().default(1),
  CONCURRENCY_NOTIFICATIONS: z.coerce.number().int().positive().default(5),
  CONCURRENCY_DEFAULT: z.coerce.number().int().positive().default(2),
  /**
   * How long a worker's hold on a job lasts without renewal (BullMQ's lockDuration; renewed at
   * half of it while the job runs). The stalled-job check runs at the same interval, so the
   * jobs of a worker that died (kill -9, OOM) go to another worker within about twice this.
   */
  WORKER_LOCK_MS: z.coerce.number().int().min(1e3).default(3e4),
  /** Where confirmations and alerts go: log (default), smtp (SMTP_URL), http (NOTIFY_HTTP_URL). */
  NOTIFY_TRANSPORT: z.enum(["log", "smtp", "http"]).default("log"),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, "must be an smtp:// or smtps:// URL").optional(),
  SMTP_FROM: z.string().default("callbook <noreply@localhost>"),
  NOTIFY_HTTP_URL: z.string().url().optional(),
  NOTIFY_HTTP_TOKEN: z.string().optional(),
  /** Who hears of an opened circuit breaker; empty = every company's operators. */
  OPERATOR_ALERT_EMAILS: csv.optional(),
  /** The inbound-call webhook answers empty rather than later than this (Retell waits before ringing). */
  INBOUND_DEADLINE_MS: z.coerce.number().int().min(0).default(80),
  /** How often every process publishes its metrics to Redis for /api/metrics to serve. */
  METRICS_PUBLISH_INTERVAL_MS: z.coerce.number().int().min(100).default(5e3),
  /** Bearer token Prometheus presents at /api/metrics; unset: every scrape is refused (401). */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters (openssl rand -hex 24)").optional(),
  /** How long /api/metrics serves the same rendered answer. */
  METRICS_CACHE_MS: z.coerce.number().int().min(0).default(1e3),
  /** After SIGTERM the web process answers /readyz 503 this long before it stops accepting connections. */
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).default(5e3),
  SYNC_INTERVAL_MS: z.coerce.number().int().min(1e4).default(6e5),
  RETENTION_CRON: z.string().default("0 3 * * *"),
  GDPR_EXPORT_DIR: z.string().default("./exports"),
  /** Whether to skip the Redis `maxmemory-policy noeviction` start-up check (managed Redis that hides CONFIG). */
  REDIS_SKIP_POLICY_CHECK: z.enum(["true", "false"]).default("false").transform((v) => v === "true")
});
var ConfigError = class extends Error {
  constructor(problems) {
    super(`Invalid configuration:
${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = problems;
    this.name = "ConfigError";
  }
  problems;
};
function loadConfig(env = process.env) {
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ""));
  if (given.REDIS_URL === void 0 && given.REDIS_CLUSTER_NODES) {
    const first = given.REDIS_CLUSTER_NODES.split(",").map((p) => p.trim()).find(Boolean);
    if (first) given.REDIS_URL = `redis://${first}`;
  }
  const result = envSchema.safeParse(given);
  if (result.success) {
    if (result.data.PII_ENCRYPTION_DEFAULT && !result.data.BLIND_INDEX_KEY) {
      throw new ConfigError(["BLIND_INDEX_KEY is missing: PII_ENCRYPTION_DEFAULT=true needs it (32 bytes, base64: openssl rand -base64 32)"]);
    }
    return result.data;
  }
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join(".");
    const got = env[name];
    const what = got === void 0 ? "is missing" : "is invalid";
    return `${name} ${what}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}

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
  await new Promise((resolve2, reject2) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      reject2(new Error(`Redis not ready after ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve2();
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

// lib/logger/index.ts
import { pino } from "pino";

// lib/tracing/context.ts
import { trace } from "@opentelemetry/api";
var INVALID = "00000000000000000000000000000000";
function currentTraceId() {
  const id = trace.getActiveSpan()?.spanContext().traceId;
  return id && id !== INVALID ? id : void 0;
}

// lib/logger/index.ts
function createLogger(level = process.env.LOG_LEVEL ?? "info", bindings = {}, opts = {}) {
  return pino({
    level,
    base: { pid: process.pid, ...bindings },
    mixin() {
      const traceId = currentTraceId();
      return traceId ? { traceId } : {};
    },
    // Job payloads carry ids only; these paths catch PII that slips into a log object anyway.
    redact: { paths: ["*.phone", "*.from_number", "*.transcript", "headers.authorization", "*.apiKey"], censor: "[redacted]" },
    ...opts.pretty ? { transport: { target: "pino-pretty", options: { colorize: process.stdout.isTTY, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" } } } : {}
  });
}

// lib/queues/names.ts
var QUEUE_NAMES = ["webhooks", "bookings", "sync", "notifications", "default"];
var JOB_TIMEOUT_MS = {
  webhooks: 6e4,
  bookings: 12e4,
  sync: 3e5,
  notifications: 6e4,
  default: 18e4
};
function concurrencyOf(config, queue) {
  return config[CONCURRENCY_SETTING[queue]];
}
var CONCURRENCY_SETTING = {
  webhooks: "CONCURRENCY_WEBHOOKS",
  bookings: "CONCURRENCY_BOOKINGS",
  sync: "CONCURRENCY_SYNC",
  notifications: "CONCURRENCY_NOTIFICATIONS",
  default: "CONCURRENCY_DEFAULT"
};
function isQueueName(s) {
  return QUEUE_NAMES.includes(s);
}
function idPart(s) {
  return s.replace(/[^A-Za-z0-9_.-]/g, "_");
}
var jobIds = {
  retellWebhook: (callId, event) => `retell-${idPart(callId)}-${idPart(event)}`,
  booking: (idempotencyKey) => `booking-${idempotencyKey}`,
  /** One message per appointment and event, however often it is asked for. */
  notification: (kind, ref) => `notify-${idPart(kind)}-${idPart(String(ref))}`
};
function bullPrefix(prefix) {
  return `{${prefix || "callbook"}}`;
}

// lib/queues/index.ts
import { Queue } from "bullmq";

// lib/queues/payloads.ts
import { z as z2 } from "zod";
var webhookJobSchema = z2.object({
  provider: z2.literal("retell"),
  event: z2.string(),
  callId: z2.string(),
  receivedAt: z2.number(),
  /** AES-256-GCM of the raw webhook body (lib/crypto). */
  sealedBody: z2.string()
});
var bookingJobSchema = z2.object({
  companyId: z2.number().int().positive(),
  branchId: z2.number().int().positive(),
  customerId: z2.number().int().positive(),
  serviceId: z2.number().int().positive(),
  /** Internal calls.id; absent for bookings not made from a call (CLI, MCP). */
  callId: z2.number().int().positive().optional(),
  /** Requested start, UTC ISO. */
  start: z2.string().datetime(),
  idempotencyKey: z2.string().regex(/^[0-9a-f]{64}$/),
  source: z2.enum(["call", "live", "cli", "mcp"])
});
var notificationJobSchema = z2.object({
  kind: z2.enum(["booking_confirmed", "booking_failed", "breaker_opened"]),
  companyId: z2.number().int().positive().optional(),
  appointmentId: z2.number().int().positive().optional(),
  /** breaker_opened: which service. */
  service: z2.string().optional(),
  at: z2.number().optional()
});
var syncJobSchema = z2.object({
  /** full = all of the below */
  kind: z2.enum(["full", "retell_numbers", "retell_agents", "calcom_event_types"]),
  /** Limit to one company; absent = every company (and the global Retell key). */
  companyId: z2.number().int().positive().optional()
});
var defaultJobSchema = z2.discriminatedUnion("kind", [
  z2.object({ kind: z2.literal("retention_purge"), companyId: z2.number().int().positive().optional() }),
  z2.object({ kind: z2.literal("gdpr_export"), companyId: z2.number().int().positive(), customerId: z2.number().int().positive(), requestedBy: z2.string() }),
  z2.object({
    kind: z2.literal("gdpr_erase"),
    companyId: z2.number().int().positive(),
    customerId: z2.number().int().positive(),
    requestedBy: z2.string(),
    /** Cancel the customer's upcoming Cal.com bookings (true) or keep them (false). */
    cancelBookings: z2.boolean()
  })
]);

// lib/queues/index.ts
var keepCompleted = { age: 24 * 3600, count: 5e3 };
var keepFailed = { age: 14 * 24 * 3600, count: 5e4 };
var DEFAULT_JOB_OPTIONS = {
  webhooks: { attempts: 5, backoff: { type: "exponential", delay: 1e3, jitter: 0.5 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
  // 3 attempts at 1 s / 2 s / 4 s (+ jitter), as the design says.
  bookings: { attempts: 3, backoff: { type: "exponential", delay: 1e3, jitter: 0.5 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
  sync: { attempts: 3, backoff: { type: "exponential", delay: 5e3 }, removeOnComplete: { count: 100 }, removeOnFail: { count: 1e3 } },
  notifications: { attempts: 5, backoff: { type: "exponential", delay: 2e3, jitter: 0.5 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
  default: { attempts: 3, backoff: { type: "exponential", delay: 5e3 }, removeOnComplete: { count: 1e3 }, removeOnFail: keepFailed }
};
function createQueues(connection, prefix) {
  const entries = QUEUE_NAMES.map((name) => [
    name,
    new Queue(name, { connection, prefix: bullPrefix(prefix), defaultJobOptions: DEFAULT_JOB_OPTIONS[name] })
  ]);
  return Object.fromEntries(entries);
}
async function closeQueues(queues) {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}

// lib/pii/index.ts
import { createHmac } from "node:crypto";
import { eq } from "drizzle-orm";

// lib/crypto/index.ts
import { createCipheriv, createDecipheriv, createHash, randomFillSync, timingSafeEqual } from "node:crypto";
function keyIdOf(key) {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}
var IV_BYTES = 12;
var ivPool = Buffer.alloc(IV_BYTES * 256);
var ivOffset = ivPool.length;
function nextIv() {
  if (ivOffset >= ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}
function parseKey(base64Key) {
  const key = Buffer.from(base64Key, "base64");
  if (key.length !== 32) throw new Error(`encryption key must be 32 bytes, got ${key.length}`);
  return key;
}
var CT = /^v1:[0-9a-f]{8}:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]*$/;
function isCiphertext(value) {
  return CT.test(value);
}
function ciphertextKeyId(value) {
  return isCiphertext(value) ? value.split(":")[1] : null;
}
var Keyring = class {
  keyId;
  key;
  keys = /* @__PURE__ */ new Map();
  constructor(base64Key, previous = []) {
    this.key = parseKey(base64Key);
    this.keyId = keyIdOf(this.key);
    this.keys.set(this.keyId, this.key);
    for (const p of previous) {
      const k = parseKey(p);
      const id = keyIdOf(k);
      if (!this.keys.has(id)) this.keys.set(id, k);
    }
  }
  /** Key ids this keyring can decrypt, the current one first. */
  get keyIds() {
    return [...this.keys.keys()];
  }
  encrypt(plaintext) {
    const iv = nextIv();
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return ["v1", this.keyId, iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(":");
  }
  decrypt(token) {
    const parts = token.split(":");
    if (parts.length !== 5 || parts[0] !== "v1") throw new Error("not a callbook ciphertext");
    const [, keyId, iv, tag, body] = parts;
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`ciphertext was made with key ${keyId}, which is neither the current key (${this.keyId}) nor in ENCRYPTION_KEYS_PREVIOUS`);
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
  }
  /** True when `token` is a ciphertext made with a key other than the current one. */
  needsRotation(token) {
    const id = ciphertextKeyId(token);
    return id !== null && id !== this.keyId;
  }
};
var Cipher = Keyring;
function safeEqual(a, b) {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

// lib/pii/index.ts
var settings = null;
function configurePii(config, keyring) {
  settings = {
    keyring,
    blindIndexKey: config.BLIND_INDEX_KEY ? Buffer.from(config.BLIND_INDEX_KEY, "base64") : null,
    defaultOn: config.PII_ENCRYPTION_DEFAULT
  };
  flagCache.clear();
}
var NOT_CONFIGURED = "PII codec not configured: createContext (lib/context) or configurePii must run first";
function piiSettings() {
  if (settings) return settings;
  return {
    get keyring() {
      throw new Error(NOT_CONFIGURED);
    },
    blindIndexKey: null,
    defaultOn: false
  };
}
function blindIndexKeyMissing() {
  return settings !== null && settings.blindIndexKey === null;
}
function sealPii(keyring, companyPiiOn2, value) {
  if (value === null || value === void 0) return null;
  if (!companyPiiOn2 || isCiphertext(value)) return value;
  return keyring.encrypt(value);
}
function openPii(keyring, value) {
  if (value === null || value === void 0) return null;
  return isCiphertext(value) ? keyring.decrypt(value) : value;
}
function open(value) {
  if (value === null || value === void 0 || !isCiphertext(value)) return value ?? null;
  return piiSettings().keyring.decrypt(value);
}
var JSON_KEY = "$pii";
function sealPiiJson(keyring, companyPiiOn2, value) {
  if (value === null || value === void 0) return null;
  if (!companyPiiOn2 || isSealedJson(value)) return value;
  return { [JSON_KEY]: keyring.encrypt(JSON.stringify(value)) };
}
function isSealedJson(value) {
  return typeof value === "object" && value !== null && typeof value[JSON_KEY] === "string" && Object.keys(value).length === 1;
}
function openJson(value) {
  if (value === null || value === void 0) return null;
  return isSealedJson(value) ? JSON.parse(piiSettings().keyring.decrypt(value.$pii)) : value;
}
var missingKey = (what) => new Error(`BLIND_INDEX_KEY is missing: ${what} has PII encryption on and phone lookups need the blind index key (32 bytes, base64: openssl rand -base64 32)`);
function phoneIndex(companyId, e1642) {
  const key = piiSettings().blindIndexKey;
  if (!key) return e1642;
  return createHmac("sha256", key).update(`${companyId}:${e1642}`).digest("hex");
}
function phoneIndexCandidates(companyId, e1642) {
  const idx = phoneIndex(companyId, e1642);
  return idx === e1642 ? [e1642] : [idx, e1642];
}
var FLAG_TTL_MS = 3e4;
var flagCache = /* @__PURE__ */ new Map();
async function companyPiiOn(db, companyId) {
  const s = piiSettings();
  const hit = flagCache.get(companyId);
  let on;
  if (hit && Date.now() - hit.at < FLAG_TTL_MS) on = hit.on;
  else {
    const [row] = await db.select({ on: companies.piiEncryption }).from(companies).where(eq(companies.id, companyId));
    on = row?.on ?? s.defaultOn;
    flagCache.set(companyId, { on, at: Date.now() });
  }
  if (on && !settings) throw new Error(NOT_CONFIGURED);
  if (on && !s.blindIndexKey) throw missingKey(`company ${companyId}`);
  return on;
}
function forgetPiiFlags() {
  flagCache.clear();
}
async function piiSealer(db, companyId) {
  const on = await companyPiiOn(db, companyId);
  const s = piiSettings();
  return ((value) => on ? sealPii(s.keyring, true, value) : value ?? null);
}
async function piiJsonSealer(db, companyId) {
  const on = await companyPiiOn(db, companyId);
  const s = piiSettings();
  return (value) => on ? sealPiiJson(s.keyring, true, value) : value ?? null;
}
async function assertPiiKeys(db) {
  const s = piiSettings();
  if (s.blindIndexKey) return;
  if (s.defaultOn) throw missingKey("PII_ENCRYPTION_DEFAULT");
  const rows = await db.select({ slug: companies.slug, on: companies.piiEncryption }).from(companies);
  const on = rows.filter((r) => r.on === true);
  if (on.length) throw missingKey(`company ${on.map((r) => r.slug).join(", ")}`);
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
  phoneResolution: (e1642) => `mcp:phone:resolution:${e1642}`,
  eventTypes: (companyId) => `mcp:calcom:event_types:${companyId}`,
  availability: (eventTypeId, date) => `mcp:calcom:availability:${eventTypeId}:${date}`,
  booking: (idempotencyKey) => `mcp:calcom:booking:${idempotencyKey}`,
  retellAgents: (companyId) => `mcp:retell:agents:${companyId}`,
  /** The encrypted Retell key of the company owning a number (null: none of its own). */
  retellWebhookKey: (e1642) => `mcp:retell:webhook_key:${e1642}`
};
var TTL_MS = {
  phoneResolution: 10 * 6e4,
  eventTypes: 5 * 6e4,
  availability: 5 * 6e4,
  booking: 24 * 36e5,
  retellAgents: 10 * 6e4,
  retellWebhookKey: 10 * 6e4
};

// lib/context.ts
function createContext(config, logger = createLogger(config.LOG_LEVEL)) {
  const database = connectDatabase(config.DATABASE_URL, config.DB_POOL_SIZE, { slowMs: config.DB_SLOW_QUERY_MS, logger });
  const redis = createRedis(redisTarget(config), "client");
  const queueConnection = createRedis(redisTarget(config), "producer");
  const queues = createQueues(queueConnection, config.REDIS_PREFIX);
  for (const q of Object.values(queues)) q.on("error", (err) => logger.debug({ queue: q.name, err: err.message }, "queue connection error"));
  const ns = keyNamespace(config.REDIS_PREFIX);
  const cipher = new Cipher(config.ENCRYPTION_KEY, config.ENCRYPTION_KEYS_PREVIOUS ?? []);
  configurePii(config, cipher);
  return {
    config,
    logger,
    database,
    redis,
    ns,
    queues,
    cache: new TieredCache(redis, ns),
    cipher,
    async close() {
      await closeQueues(queues);
      queueConnection.disconnect();
      redis.disconnect();
      await database.close();
    }
  };
}

// lib/events/index.ts
function eventsChannel(ns, companyId) {
  return `${ns}events:company:${companyId}`;
}
async function publishEvent(redis, ns, event, onError) {
  try {
    await redis.publish(eventsChannel(ns, event.companyId), JSON.stringify({ ...event, at: (/* @__PURE__ */ new Date()).toISOString() }));
  } catch (err) {
    onError?.(err);
  }
}

// lib/retell/webhook.ts
import { z as z3 } from "zod";
var HANDLED_EVENTS = ["call_started", "call_ended", "call_analyzed"];
var e164 = z3.string().regex(/^\+[1-9]\d{5,14}$/, "must be an E.164 number like +4930123456");
var vars = z3.record(z3.string(), z3.unknown());
var callSchema = z3.looseObject({
  call_id: z3.string().min(1).max(100),
  agent_id: z3.string().max(100).optional(),
  call_type: z3.string().optional(),
  call_status: z3.string().optional(),
  direction: z3.enum(["inbound", "outbound"]).optional(),
  from_number: e164.optional(),
  to_number: e164.optional(),
  start_timestamp: z3.number().int().nonnegative().optional(),
  end_timestamp: z3.number().int().nonnegative().optional(),
  duration_ms: z3.number().int().nonnegative().optional(),
  transcript: z3.string().optional(),
  recording_url: z3.string().max(1e3).optional(),
  disconnection_reason: z3.string().max(64).optional(),
  retell_llm_dynamic_variables: vars.optional(),
  collected_dynamic_variables: vars.optional(),
  metadata: z3.unknown().optional(),
  call_analysis: z3.looseObject({
    call_summary: z3.string().optional(),
    user_sentiment: z3.string().optional(),
    call_successful: z3.boolean().optional(),
    in_voicemail: z3.boolean().optional(),
    custom_analysis_data: vars.optional()
  }).optional()
});
var webhookSchema = z3.looseObject({ event: z3.string().min(1).max(64), call: callSchema.optional(), data: callSchema.optional() }).refine((w) => w.call ?? w.data, { message: "call is required", path: ["call"] }).transform((w) => ({ event: w.event, call: w.call ?? w.data }));
function isHandledEvent(event) {
  return HANDLED_EVENTS.includes(event);
}
function describeIssues(error) {
  return error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(root)", message: i.message }));
}

// lib/resilience/breaker.ts
var BreakerOpenError = class extends Error {
  name = "BreakerOpenError";
  service;
  state;
  /** Epoch ms (Redis server clock) when a probe may go. */
  retryAt;
  constructor(service, retryAt, state = "OPEN") {
    const wait = Math.max(0, retryAt - Date.now());
    const why = state === "OPEN" ? "is OPEN" : "is HALF_OPEN with a probe in flight";
    super(`circuit breaker for ${service} ${why}; calls refused until ${new Date(retryAt).toISOString()} (~${Math.ceil(wait / 1e3)}s)`);
    this.service = service;
    this.state = state;
    this.retryAt = retryAt;
  }
};
function breakerStateValue(s) {
  switch (s) {
    case "CLOSED":
      return 0;
    case "HALF_OPEN":
      return 1;
    case "OPEN":
      return 2;
  }
}
var BREAKER_LUA = `
local key = KEYS[1]
local op = ARGV[1]
local isProbe = ARGV[2] == '1'
local threshold = tonumber(ARGV[3])
local openMs = tonumber(ARGV[4])
local probeMs = tonumber(ARGV[5])

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local h = redis.call('HMGET', key, 'state', 'failures', 'openedAt', 'openUntil', 'probeUntil')
local stored = h[1] or 'CLOSED'
local failures = tonumber(h[2]) or 0
local openedAt = tonumber(h[3]) or 0
local openUntil = tonumber(h[4]) or 0
local probeUntil = tonumber(h[5]) or 0

-- Effective state: an OPEN whose time has passed is HALF_OPEN with no probe out.
local state = stored
if stored == 'OPEN' then
  probeUntil = 0
  if now >= openUntil then state = 'HALF_OPEN' end
end

local allowed, probe = 0, 0
local from, to = '', ''

local function transition(newState)
  if state ~= newState then from = state; to = newState end
  state = newState
end

local function open()
  openedAt = now
  openUntil = now + openMs
  probeUntil = 0
  redis.call('HSET', key, 'state', 'OPEN', 'failures', failures, 'openedAt', openedAt, 'openUntil', openUntil)
  redis.call('HDEL', key, 'probeUntil')
  transition('OPEN')
end

local function close()
  -- CLOSED with zero failures is represented by the key's absence.
  redis.call('DEL', key)
  failures = 0; openedAt = 0; openUntil = 0; probeUntil = 0
  transition('CLOSED')
end

if op == 'admit' then
  if state == 'CLOSED' then
    allowed = 1
  elseif state == 'HALF_OPEN' and now >= probeUntil then
    -- Either the open period just ran out (probeUntil 0) or the previous probe is presumed lost.
    allowed = 1; probe = 1
    probeUntil = now + probeMs
    redis.call('HSET', key, 'state', 'HALF_OPEN', 'probeUntil', probeUntil)
    if stored == 'OPEN' then from = 'OPEN'; to = 'HALF_OPEN' end
  end
elseif op == 'success' then
  if stored == 'CLOSED' then
    if failures > 0 then close() end
  elseif isProbe and stored == 'HALF_OPEN' then
    close()
  end
  -- Non-probe results while OPEN/HALF_OPEN (calls admitted before it opened) are ignored.
elseif op == 'failure' then
  if stored == 'CLOSED' then
    failures = failures + 1
    if failures >= threshold then
      open()
    else
      redis.call('HSET', key, 'state', 'CLOSED', 'failures', failures)
    end
  elseif isProbe and stored == 'HALF_OPEN' then
    failures = failures + 1
    open()
  end
elseif op == 'release' then
  -- The probe ended with an outcome that says nothing about the service: free the slot now
  -- instead of waiting out probeTimeoutMs.
  if isProbe and stored == 'HALF_OPEN' then
    probeUntil = 0
    redis.call('HSET', key, 'probeUntil', 0)
  end
elseif op == 'reset' then
  if redis.call('EXISTS', key) == 1 then close() end
elseif op ~= 'status' then
  return redis.error_reply('unknown breaker op ' .. tostring(op))
end

local retryAt = 0
if state == 'OPEN' then
  retryAt = openUntil
elseif state == 'HALF_OPEN' then
  if probeUntil > 0 then retryAt = probeUntil else retryAt = openUntil end
end

return { allowed, probe, state, failures, openedAt, retryAt, from, to }
`;
var COMMAND = "callbookCircuitBreaker";
function positiveInt(name, value) {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`breaker ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
function asState(s) {
  if (s === "CLOSED" || s === "OPEN" || s === "HALF_OPEN") return s;
  throw new Error(`circuit breaker: unexpected state ${JSON.stringify(s)} in Redis`);
}
var RedisBreaker = class {
  service;
  key;
  redis;
  failureThreshold;
  openMs;
  probeTimeoutMs;
  logger;
  onStateChange;
  constructor(opts) {
    if (!opts.service) throw new RangeError("breaker service name is required");
    this.service = opts.service;
    this.key = `${opts.keyPrefix ?? ""}mcp:breaker:${opts.service}`;
    this.failureThreshold = positiveInt("failureThreshold", opts.failureThreshold ?? 5);
    this.openMs = positiveInt("openMs", opts.openMs ?? 6e4);
    this.probeTimeoutMs = positiveInt("probeTimeoutMs", opts.probeTimeoutMs ?? 3e4);
    this.logger = opts.logger;
    this.onStateChange = opts.onStateChange;
    const redis = opts.redis;
    if (typeof redis[COMMAND] !== "function") {
      redis.defineCommand(COMMAND, { lua: BREAKER_LUA, numberOfKeys: 1 });
    }
    this.redis = redis;
  }
  /** Ask before calling the service. `probe: true` means this call is the single HALF_OPEN probe and must report back. */
  async admit() {
    const o = await this.exec("admit", false);
    if (o.allowed) return { allowed: true, probe: o.probe };
    return { allowed: false, state: o.state === "OPEN" ? "OPEN" : "HALF_OPEN", retryAt: o.retryAt };
  }
  /** The call succeeded. In CLOSED this resets the failure count; a probe's success closes the breaker. */
  async success(probe) {
    await this.exec("success", probe);
  }
  /** The call failed. In CLOSED this counts towards the threshold; a probe's failure re-opens for openMs. */
  async failure(probe) {
    await this.exec("failure", probe);
  }
  /**
   * The call ended with an outcome that says nothing about the service's health (neither success
   * nor failure). For a probe this frees the probe slot so the next admit() may probe at once;
   * otherwise it is a no-op.
   */
  async release(probe) {
    if (probe) await this.exec("release", true);
  }
  /**
   * admit → run fn → record. Throws BreakerOpenError when refused. `isFailure` decides which errors
   * count (default: all); errors that don't count still propagate but are recorded neutrally (the
   * failure count is neither reset nor incremented; a probe slot is released). Errors while
   * recording the outcome are logged, never mask fn's own result or error.
   */
  async run(fn, isFailure = () => true) {
    const adm = await this.admit();
    if (!adm.allowed) throw new BreakerOpenError(this.service, adm.retryAt, adm.state);
    let result;
    try {
      result = await fn();
    } catch (err) {
      let counts;
      try {
        counts = isFailure(err);
      } catch {
        counts = true;
      }
      await this.record(counts ? "failure" : "release", adm.probe);
      throw err;
    }
    await this.record("success", adm.probe);
    return result;
  }
  /** Effective state as every process sees it (an OPEN whose time has passed reads HALF_OPEN). */
  async status() {
    const o = await this.exec("status", false);
    const s = { service: this.service, state: o.state, failures: o.failures };
    if (o.state !== "CLOSED") {
      s.openedAt = o.openedAt;
      s.retryAt = o.retryAt;
    }
    return s;
  }
  /** Force CLOSED with no failures (operator command). */
  async reset() {
    await this.exec("reset", false);
  }
  async record(op, probe) {
    try {
      await this.exec(op, probe);
    } catch (err) {
      this.logger?.warn({ service: this.service, op, probe, err }, "circuit breaker: could not record call outcome");
    }
  }
  async exec(op, probe) {
    const r = await this.redis[COMMAND](this.key, op, probe ? 1 : 0, this.failureThreshold, this.openMs, this.probeTimeoutMs);
    const [allowed, isProbe, state, failures, openedAt, retryAt, from, to] = r;
    const out = {
      allowed: allowed === 1,
      probe: isProbe === 1,
      state: asState(state),
      failures: Number(failures),
      openedAt: Number(openedAt),
      retryAt: Number(retryAt)
    };
    if (from && to) this.transitioned(asState(from), asState(to), out);
    return out;
  }
  transitioned(from, to, o) {
    const obj = { service: this.service, from, to, failures: o.failures, ...to === "OPEN" ? { retryAt: o.retryAt } : {} };
    if (to === "OPEN") this.logger?.warn(obj, `circuit breaker for ${this.service} opened`);
    else if (to === "CLOSED") this.logger?.info(obj, `circuit breaker for ${this.service} closed`);
    else this.logger?.info(obj, `circuit breaker for ${this.service} half-open: sending one probe`);
    try {
      this.onStateChange?.(this.service, from, to);
    } catch (err) {
      this.logger?.warn({ service: this.service, err }, "circuit breaker: onStateChange threw");
    }
  }
};

// lib/resilience/service-breakers.ts
function serviceBreaker(service, deps, overrides = {}) {
  return new RedisBreaker({
    redis: deps.redis,
    service,
    keyPrefix: deps.ns,
    logger: deps.logger.child({ component: "breaker" }),
    ...overrides,
    onStateChange: deps.onStateChange
  });
}
async function exportBreakerState(breaker) {
  const st = await breaker.status();
  circuitBreakerState.set({ service: st.service }, breakerStateValue(st.state));
}

// lib/audit.ts
async function audit(db, entry) {
  await db.insert(auditLog).values({
    companyId: entry.companyId ?? null,
    actor: entry.actor.slice(0, 100),
    action: entry.action.slice(0, 100),
    target: entry.target?.slice(0, 200) ?? null,
    details: entry.details ?? null
  });
}

// lib/calcom/errors.ts
var CalcomError = class extends Error {
  name = "CalcomError";
  kind;
  status;
  /** Cal.com's exception name, e.g. `BadRequestException`, `ThrottlerException`. */
  code;
  method;
  path;
  route;
  /** Trying again (later) can succeed: server, timeout, network, rate_limited, invalid_response on a 2xx. */
  retryable;
  /** The request may have reached Cal.com and been acted on: reconcile before re-posting. */
  uncertain;
  /** rate_limited: epoch ms when the key's window frees up again. */
  retryAt;
  /** `error.details` of Cal.com's envelope, when present. */
  details;
  /** The caller's signal aborted the request; not counted as a service failure. */
  aborted;
  constructor(init) {
    const head = [init.status ?? init.kind, init.code].filter((x) => x !== void 0 && x !== "").join(" ");
    super(`Cal.com ${init.method} ${init.path} \u2192 ${head}: ${init.detail}`, init.cause !== void 0 ? { cause: init.cause } : void 0);
    this.kind = init.kind;
    this.method = init.method;
    this.path = init.path;
    this.retryable = init.retryable;
    this.uncertain = init.uncertain;
    this.aborted = init.aborted ?? false;
    if (init.route !== void 0) this.route = init.route;
    if (init.status !== void 0) this.status = init.status;
    if (init.code !== void 0) this.code = init.code;
    if (init.retryAt !== void 0) this.retryAt = init.retryAt;
    if (init.details !== void 0) this.details = init.details;
  }
};
function isServiceFailure(err) {
  if (!(err instanceof CalcomError) || err.aborted) return false;
  return err.kind === "server" || err.kind === "timeout" || err.kind === "network" || err.kind === "invalid_response";
}
function isUnsafeMethod(method) {
  return method !== "GET" && method !== "HEAD" && method !== "OPTIONS";
}
var MAX_DETAIL = 500;
function truncate(s) {
  return s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL)}\u2026` : s;
}
function messageOf(v) {
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.join("; ");
  return void 0;
}
function parseErrorBody(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    const trimmed = text.trim();
    return { message: trimmed ? truncate(trimmed) : "(empty body)" };
  }
  if (typeof body === "object" && body !== null) {
    const o = body;
    const env = o.error;
    if (typeof env === "object" && env !== null) {
      const e = env;
      const out = {
        message: truncate(messageOf(e.message) ?? JSON.stringify(env))
      };
      if (typeof e.code === "string") out.code = e.code;
      if (e.details !== void 0) out.details = e.details;
      return out;
    }
    const msg = messageOf(o.message);
    if (msg !== void 0) {
      const out = { message: truncate(msg) };
      if (typeof o.error === "string") out.code = o.error;
      return out;
    }
  }
  return { message: truncate(text.trim() || "(empty body)") };
}
var OUT_OF_BOUNDS = /can[’']t be booked at the "start"/i;
var IN_PAST = /\bin the past\b/i;
var TAKEN = /already has booking|not available/i;
function classify400(message) {
  if (OUT_OF_BOUNDS.test(message)) return "out_of_bounds";
  if (IN_PAST.test(message)) return "in_past";
  if (TAKEN.test(message)) return "slot_unavailable";
  return "validation";
}
function retryAtFromReset(header, now = Date.now()) {
  const v = header === null || header === void 0 || header.trim() === "" ? NaN : Number(header);
  if (!Number.isFinite(v) || v < 0) return now + 6e4;
  if (v > 1e12) return v;
  if (v > 1e9) return v * 1e3;
  return now + Math.ceil(v * 1e3);
}
function errorFromResponse(f) {
  const { code, message, details } = parseErrorBody(f.bodyText);
  const base = { method: f.method, path: f.path, route: f.route, status: f.status, code, detail: message, details };
  const s = f.status;
  if (s === 429) {
    return new CalcomError({
      ...base,
      kind: "rate_limited",
      retryable: true,
      uncertain: false,
      retryAt: retryAtFromReset(f.headers.get("x-ratelimit-reset-default"), f.now)
    });
  }
  if (s >= 500) {
    return new CalcomError({ ...base, kind: "server", retryable: true, uncertain: isUnsafeMethod(f.method) });
  }
  if (s === 408) {
    return new CalcomError({ ...base, kind: "timeout", retryable: true, uncertain: isUnsafeMethod(f.method) });
  }
  const kind = s === 400 || s === 422 ? classify400(message) : s === 401 ? "auth" : s === 403 ? "forbidden" : s === 404 ? "not_found" : s === 409 ? "conflict" : s >= 400 ? "validation" : "invalid_response";
  return new CalcomError({ ...base, kind, retryable: false, uncertain: false });
}

// lib/calcom/schemas.ts
import { z as z4 } from "zod";
var nullishString = z4.string().nullish().transform((v) => v ?? void 0);
var attendeeSchema = z4.looseObject({
  name: z4.string(),
  email: nullishString,
  timeZone: z4.string(),
  phoneNumber: nullishString
});
var metadataSchema = z4.record(z4.string(), z4.union([z4.string(), z4.number(), z4.boolean()])).nullish().transform((m) => {
  const out = {};
  for (const [k, v] of Object.entries(m ?? {})) out[k] = String(v);
  return out;
});
var bookingSchema = z4.looseObject({
  id: z4.number().int(),
  uid: z4.string().min(1),
  status: z4.string(),
  start: z4.string(),
  end: z4.string(),
  eventTypeId: z4.number().int(),
  metadata: metadataSchema,
  attendees: z4.array(attendeeSchema),
  rescheduledToUid: nullishString,
  rescheduledFromUid: nullishString,
  title: nullishString,
  duration: z4.number().nullish().transform((v) => v ?? void 0)
});
var paginationSchema = z4.looseObject({ hasNextPage: z4.boolean() });
var slotSchema = z4.looseObject({ start: z4.string(), end: z4.string().optional() });
var slotsMapSchema = z4.record(z4.string(), z4.array(slotSchema));
var eventTypeSchema = z4.looseObject({
  id: z4.number().int(),
  slug: z4.string(),
  title: z4.string(),
  lengthInMinutes: z4.number(),
  lengthInMinutesOptions: z4.array(z4.number()).nullish(),
  hidden: z4.boolean().optional(),
  minimumBookingNotice: z4.number().nullish(),
  slotInterval: z4.number().nullish(),
  bookingFields: z4.array(z4.unknown()).optional(),
  teamId: z4.number().int().nullish(),
  schedulingType: z4.string().nullish(),
  hosts: z4.array(z4.unknown()).optional()
});
var teamEventTypeSchema = eventTypeSchema.extend({
  teamId: z4.number().int(),
  schedulingType: z4.string().nullable(),
  hosts: z4.array(z4.unknown())
});
function successEnvelope(data) {
  return z4.looseObject({ status: z4.literal("success"), data });
}
var bookingResponseSchema = successEnvelope(bookingSchema);
var bookingListResponseSchema = z4.looseObject({
  status: z4.literal("success"),
  data: z4.array(bookingSchema),
  pagination: paginationSchema
});
var slotsResponseSchema = successEnvelope(slotsMapSchema);
var eventTypeResponseSchema = successEnvelope(eventTypeSchema);
var eventTypeListResponseSchema = successEnvelope(z4.array(eventTypeSchema));
var teamEventTypeListResponseSchema = successEnvelope(z4.array(teamEventTypeSchema));

// lib/calcom/client.ts
var ROUTES = {
  "POST /bookings": "2024-08-13",
  "GET /bookings": "2024-08-13",
  "GET /bookings/:uid": "2024-08-13",
  "POST /bookings/:uid/reschedule": "2024-08-13",
  "POST /bookings/:uid/cancel": "2024-08-13",
  "GET /slots": "2024-09-04",
  "GET /event-types": "2024-06-14",
  "GET /event-types/:id": "2024-06-14",
  "GET /teams/:teamId/event-types": null
};
var DEFAULT_TIMEOUT_MS = 1e4;
var LIST_PAGE_SIZE = 100;
var LIST_MAX_PAGES = 100;
var NOT_SENT_CODES = /* @__PURE__ */ new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "ERR_INVALID_URL"]);
function causeCode(err) {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const code = e.code;
    if (typeof code === "string") return code;
    e = e.cause;
  }
  return void 0;
}
function describe(err) {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message}${cause}`;
}
function setIf(q, name, v) {
  if (v !== void 0 && v !== "") q.set(name, String(v));
}
var CalcomClient = class {
  baseUrl;
  apiKey;
  timeoutMs;
  limiter;
  fetchImpl;
  constructor(opts) {
    if (!opts.baseUrl) throw new RangeError("CalcomClient: baseUrl is required");
    if (!opts.apiKey) throw new RangeError("CalcomClient: apiKey is required");
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.apiKey = opts.apiKey;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.limiter = opts.limiter;
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
  }
  /** Books `start` for an event type (POST /bookings); the body holds only whitelisted fields. */
  async createBooking(input, signal) {
    const a = input.attendee;
    const attendee = { name: a.name, timeZone: a.timeZone };
    if (a.email !== void 0) attendee.email = a.email;
    if (a.phoneNumber !== void 0) attendee.phoneNumber = a.phoneNumber;
    if (a.language !== void 0) attendee.language = a.language;
    const body = { start: input.start, eventTypeId: input.eventTypeId, attendee };
    if (input.metadata !== void 0) {
      const metadata = {};
      for (const [k, v] of Object.entries(input.metadata)) metadata[k] = String(v);
      body.metadata = metadata;
    }
    if (input.lengthInMinutes !== void 0) body.lengthInMinutes = input.lengthInMinutes;
    if (input.bookingFieldsResponses !== void 0) body.bookingFieldsResponses = { ...input.bookingFieldsResponses };
    if (input.location !== void 0) body.location = input.location;
    const res = await this.request(
      { route: "POST /bookings", path: "/bookings", body, schema: bookingResponseSchema },
      signal
    );
    return res.data;
  }
  /** One booking by uid (404 → not_found). */
  async getBooking(uid, signal) {
    const res = await this.request(
      { route: "GET /bookings/:uid", path: `/bookings/${encodeURIComponent(uid)}`, schema: bookingResponseSchema },
      signal
    );
    return res.data;
  }
  /** One page of bookings matching the filter (GET /bookings; no phone filter exists — match client-side). */
  async listBookings(filter, signal) {
    const q = new URLSearchParams();
    setIf(q, "eventTypeId", filter.eventTypeId);
    if (filter.eventTypeIds?.length) q.set("eventTypeIds", filter.eventTypeIds.join(","));
    setIf(q, "afterStart", filter.afterStart);
    setIf(q, "beforeEnd", filter.beforeEnd);
    if (filter.status?.length) q.set("status", filter.status.join(","));
    setIf(q, "attendeeEmail", filter.attendeeEmail);
    setIf(q, "attendeeName", filter.attendeeName);
    setIf(q, "bookingUid", filter.bookingUid);
    setIf(q, "teamId", filter.teamId);
    setIf(q, "take", filter.take);
    setIf(q, "skip", filter.skip);
    const res = await this.request(
      { route: "GET /bookings", path: "/bookings", query: q, schema: bookingListResponseSchema },
      signal
    );
    return { bookings: res.data, hasNextPage: res.pagination.hasNextPage };
  }
  /** Every page of bookings matching the filter (deduplicated by uid; `take` is the page size). */
  async listAllBookings(filter, signal) {
    const take = filter.take ?? LIST_PAGE_SIZE;
    let skip = filter.skip ?? 0;
    const seen = /* @__PURE__ */ new Set();
    const all = [];
    for (let page = 0; ; page++) {
      if (page >= LIST_MAX_PAGES) {
        throw new CalcomError({
          kind: "invalid_response",
          method: "GET",
          path: "/bookings",
          route: "GET /bookings",
          detail: `more than ${LIST_MAX_PAGES} pages of ${take} bookings; narrow the filter`,
          retryable: false,
          uncertain: false
        });
      }
      const { bookings, hasNextPage } = await this.listBookings({ ...filter, take, skip }, signal);
      for (const b of bookings) {
        if (seen.has(b.uid)) continue;
        seen.add(b.uid);
        all.push(b);
      }
      if (!hasNextPage || bookings.length === 0) return all;
      skip += take;
    }
  }
  /** Moves a booking (POST /bookings/:uid/reschedule); Cal.com answers with a new booking (new uid). */
  async rescheduleBooking(uid, body, signal) {
    const sent = { start: body.start };
    if (body.reschedulingReason !== void 0) sent.reschedulingReason = body.reschedulingReason;
    const res = await this.request(
      {
        route: "POST /bookings/:uid/reschedule",
        path: `/bookings/${encodeURIComponent(uid)}/reschedule`,
        body: sent,
        schema: bookingResponseSchema
      },
      signal
    );
    return res.data;
  }
  /** Cancels a booking (POST /bookings/:uid/cancel). */
  async cancelBooking(uid, body = {}, signal) {
    const sent = {};
    if (body.cancellationReason !== void 0) sent.cancellationReason = body.cancellationReason;
    const res = await this.request(
      {
        route: "POST /bookings/:uid/cancel",
        path: `/bookings/${encodeURIComponent(uid)}/cancel`,
        body: sent,
        schema: bookingResponseSchema
      },
      signal
    );
    return res.data;
  }
  /** Free slots by local date, rendered in `timeZone` (default UTC), with `end` (format=range). */
  async getSlots(q, signal) {
    const query = new URLSearchParams();
    query.set("eventTypeId", String(q.eventTypeId));
    query.set("start", q.start);
    query.set("end", q.end);
    setIf(query, "timeZone", q.timeZone);
    setIf(query, "duration", q.duration);
    query.set("format", "range");
    const res = await this.request({ route: "GET /slots", path: "/slots", query, schema: slotsResponseSchema }, signal);
    return res.data;
  }
  /** A user's (non-team) event types (GET /event-types?username=). */
  async listEventTypes(username, signal) {
    const query = new URLSearchParams({ username });
    const res = await this.request(
      { route: "GET /event-types", path: "/event-types", query, schema: eventTypeListResponseSchema },
      signal
    );
    return res.data;
  }
  /** One event type by id. */
  async getEventType(id, signal) {
    const res = await this.request(
      { route: "GET /event-types/:id", path: `/event-types/${encodeURIComponent(String(id))}`, schema: eventTypeResponseSchema },
      signal
    );
    return res.data;
  }
  /** A team's event types, with teamId, schedulingType and hosts (a managed parent cannot be booked). */
  async listTeamEventTypes(teamId, signal) {
    const res = await this.request(
      {
        route: "GET /teams/:teamId/event-types",
        path: `/teams/${encodeURIComponent(String(teamId))}/event-types`,
        schema: teamEventTypeListResponseSchema
      },
      signal
    );
    return res.data;
  }
  async request(spec, signal) {
    const method = spec.route.slice(0, spec.route.indexOf(" "));
    const version = ROUTES[spec.route];
    const fail = (init) => new CalcomError({ ...init, method, path: spec.path, route: spec.route });
    signal?.throwIfAborted();
    if (this.limiter) await this.limiter.acquire(this.apiKey, signal);
    signal?.throwIfAborted();
    const headers = { authorization: `Bearer ${this.apiKey}`, accept: "application/json" };
    if (version !== null) headers["cal-api-version"] = version;
    let body;
    if (spec.body !== void 0) {
      body = JSON.stringify(spec.body);
      headers["content-type"] = "application/json";
    }
    const qs = spec.query?.toString();
    const url = `${this.baseUrl}${spec.path}${qs ? `?${qs}` : ""}`;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
    const unsafe = isUnsafeMethod(method);
    const endTimer = apiDuration.startTimer({ service: "calcom", method: spec.route });
    let status;
    let text;
    let resHeaders;
    try {
      const res = await this.fetchImpl(url, { method, headers, body, signal: combined, redirect: "manual" });
      status = res.status;
      resHeaders = res.headers;
      text = await res.text();
    } catch (err) {
      if (signal?.aborted && !timeout.aborted) {
        throw fail({
          kind: "network",
          code: "Aborted",
          detail: `aborted by the caller (${describe(signal.reason)})`,
          retryable: true,
          uncertain: unsafe,
          aborted: true,
          cause: signal.reason
        });
      }
      if (timeout.aborted) {
        throw fail({
          kind: "timeout",
          detail: `no answer within ${this.timeoutMs} ms`,
          retryable: true,
          uncertain: unsafe,
          cause: err
        });
      }
      const code = causeCode(err);
      throw fail({
        kind: "network",
        code,
        detail: describe(err),
        retryable: true,
        uncertain: unsafe && !(code !== void 0 && NOT_SENT_CODES.has(code)),
        cause: err
      });
    } finally {
      endTimer();
    }
    if (status < 200 || status >= 300) {
      throw errorFromResponse({ method, path: spec.path, route: spec.route, status, bodyText: text, headers: resHeaders });
    }
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      throw fail({
        kind: "invalid_response",
        status,
        detail: `2xx body is not JSON: ${text.slice(0, 200)}`,
        retryable: true,
        uncertain: unsafe
      });
    }
    const parsed = spec.schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
      throw fail({
        kind: "invalid_response",
        status,
        detail: `2xx body does not match the expected shape: ${issues}`,
        retryable: true,
        uncertain: unsafe,
        cause: parsed.error
      });
    }
    return parsed.data;
  }
};

// lib/calcom/rate-limiter.ts
import { createHash as createHash2, randomUUID } from "node:crypto";
var COMMAND2 = "callbookCalcomRateLimit";
var RATE_LIMIT_LUA = `
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
  return {1, 0}
end
local nth = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
local wait = tonumber(nth[2]) + window - now
if wait < 1 then wait = 1 end
return {0, wait}
`;
function positiveInt2(name, v) {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`CalcomRateLimiter: ${name} must be a positive integer`);
  return v;
}
function sleep(ms2, signal) {
  return new Promise((resolve2, reject2) => {
    if (signal?.aborted) return reject2(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject2(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve2();
    }, ms2);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
var CalcomRateLimiter = class {
  redis;
  keyPrefix;
  limit;
  windowMs;
  jitterMs;
  constructor(opts) {
    this.keyPrefix = opts.keyPrefix ?? "";
    this.limit = positiveInt2("limitPerMinute", opts.limitPerMinute ?? 120);
    this.windowMs = positiveInt2("windowMs", opts.windowMs ?? 6e4);
    this.jitterMs = Math.max(0, opts.jitterMs ?? 25);
    const redis = opts.redis;
    if (typeof redis[COMMAND2] !== "function") {
      redis.defineCommand(COMMAND2, { lua: RATE_LIMIT_LUA, numberOfKeys: 1 });
    }
    this.redis = redis;
  }
  /** The Redis key of an API key's window (hashed; never the key in clear). */
  keyFor(apiKey) {
    const hash = createHash2("sha256").update(apiKey).digest("hex").slice(0, 16);
    return `${this.keyPrefix}mcp:calcom:ratelimit:${hash}`;
  }
  /** Waits until the key has a free request in the window and takes it; rejects with the reason if `signal` aborts. */
  async acquire(apiKey, signal) {
    const key = this.keyFor(apiKey);
    for (; ; ) {
      signal?.throwIfAborted();
      const [admitted, waitMs] = await this.redis[COMMAND2](key, this.limit, this.windowMs, randomUUID());
      if (Number(admitted) === 1) {
        return;
      }
      await sleep(Number(waitMs) + Math.floor(Math.random() * (this.jitterMs + 1)), signal);
    }
  }
};

// lib/http/keep-alive.ts
import { Agent, fetch as undiciFetch } from "undici";
var outboundAgent = new Agent({
  keepAliveTimeout: 3e4,
  keepAliveMaxTimeout: 10 * 6e4,
  connections: 64,
  connect: { timeout: 5e3 }
});
var keepAliveFetch = ((input, init) => undiciFetch(input, { ...init, dispatcher: outboundAgent }));

// lib/notifications/breaker-alert.ts
function breakerAlertRef(service, at) {
  return `${service}-${Math.floor(at / 6e4)}`;
}
function breakerOpenedAlert(queue, logger) {
  return (service, from, to) => {
    if (to !== "OPEN" || from !== "CLOSED") return;
    try {
      const at = Date.now();
      const job = { kind: "breaker_opened", service, at };
      queue.add("breaker_opened", job, { jobId: jobIds.notification("breaker_opened", breakerAlertRef(service, at)) }).catch((err) => logger.error({ err, service }, "could not queue the breaker_opened notification"));
    } catch (err) {
      logger.error({ err, service }, "could not queue the breaker_opened notification");
    }
  };
}

// lib/booking/deps.ts
function bookingDeps(ctx, extra = {}) {
  const limiter = new CalcomRateLimiter({ redis: ctx.redis, keyPrefix: ctx.ns, limitPerMinute: ctx.config.CALCOM_RATE_LIMIT_PER_MINUTE });
  const clients = /* @__PURE__ */ new Map();
  return {
    db: ctx.database.db,
    redis: ctx.redis,
    ns: ctx.ns,
    cipher: ctx.cipher,
    cache: ctx.cache,
    logger: ctx.logger.child({ component: "booking" }),
    breaker: serviceBreaker("calcom", {
      redis: ctx.redis,
      ns: ctx.ns,
      logger: ctx.logger,
      // CLOSED → OPEN queues one breaker_opened alert; never throws inside the transition.
      onStateChange: breakerOpenedAlert(ctx.queues.notifications, ctx.logger)
    }),
    notificationsQueue: ctx.queues.notifications,
    publish: (e) => publishEvent(ctx.redis, ctx.ns, e, (err) => ctx.logger.warn({ err }, "live event not published")),
    clientFor: (apiKey) => {
      let client = clients.get(apiKey);
      if (!client) {
        client = new CalcomClient({ baseUrl: ctx.config.CALCOM_API_URL, apiKey, limiter, timeoutMs: ctx.config.CALCOM_TIMEOUT_MS, fetch: keepAliveFetch });
        clients.set(apiKey, client);
      }
      return client;
    },
    ...extra
  };
}

// lib/booking/errors.ts
var BookingRejected = class extends Error {
  constructor(reason, kind, alternatives = []) {
    super(reason);
    this.reason = reason;
    this.kind = kind;
    this.alternatives = alternatives;
  }
  reason;
  kind;
  alternatives;
  name = "BookingRejected";
};
var BookingDeferred = class extends Error {
  constructor(reason, retryAt) {
    super(`${reason}; retry at ${new Date(retryAt).toISOString()}`);
    this.reason = reason;
    this.retryAt = retryAt;
  }
  reason;
  retryAt;
  name = "BookingDeferred";
};

// lib/booking/book.ts
import { randomBytes } from "node:crypto";
import { DateTime as DateTime2 } from "luxon";

// lib/booking/alternatives.ts
import { DateTime } from "luxon";
async function nearestFreeSlots(client, q, signal) {
  const day = DateTime.fromJSDate(q.requested).setZone(q.timeZone).startOf("day");
  const slots = await client.getSlots(
    { eventTypeId: q.eventTypeId, start: day.toUTC().toISO(), end: day.plus({ days: 3 }).toUTC().toISO(), timeZone: q.timeZone },
    signal
  );
  const now = (q.now ?? /* @__PURE__ */ new Date()).getTime();
  const wanted = q.requested.getTime();
  return Object.values(slots).flat().map((s) => new Date(s.start)).filter((d) => d.getTime() > now && d.getTime() !== wanted).sort((a, b) => Math.abs(a.getTime() - wanted) - Math.abs(b.getTime() - wanted) || b.getTime() - a.getTime()).slice(0, q.count ?? 3).sort((a, b) => a.getTime() - b.getTime()).map((d) => d.toISOString());
}
function describeSlots(slots, requested, timeZone) {
  const day = DateTime.fromJSDate(requested).setZone(timeZone).toISODate();
  return slots.map((s) => {
    const t = DateTime.fromISO(s).setZone(timeZone);
    return t.toISODate() === day ? t.toFormat("HH:mm") : t.toFormat("ccc dd.MM. HH:mm", { locale: "en" });
  }).join(", ");
}

// lib/booking/appointment-store.ts
import { and, eq as eq2, sql } from "drizzle-orm";
async function findByKey(db, companyId, key) {
  const [row] = await db.select().from(appointments).where(and(eq2(appointments.companyId, companyId), eq2(appointments.idempotencyKey, key)));
  return row;
}
async function ensurePending(db, job, endAt) {
  await db.insert(appointments).values({
    companyId: job.companyId,
    branchId: job.branchId,
    customerId: job.customerId,
    callId: job.callId ?? null,
    serviceId: job.serviceId,
    idempotencyKey: job.idempotencyKey,
    startAt: new Date(job.start),
    endAt,
    status: "pending",
    source: job.source
  }).onDuplicateKeyUpdate({ set: { idempotencyKey: sql`${appointments.idempotencyKey}` } });
  const row = await findByKey(db, job.companyId, job.idempotencyKey);
  if (!row) throw new Error(`appointment ${job.idempotencyKey} belongs to another company`);
  return row;
}
async function markRequestSent(db, id) {
  await db.update(appointments).set({ calcomRequestSentAt: /* @__PURE__ */ new Date(), attempts: sql`${appointments.attempts} + 1`, status: "pending", failureReason: null }).where(eq2(appointments.id, id));
}
async function markBooked(db, row, booking) {
  const now = /* @__PURE__ */ new Date();
  const status = booking.status === "cancelled" ? "cancelled" : "booked";
  await db.execute(sql`
    UPDATE ${appointments} a
    LEFT JOIN ${calls} c ON c.id = ${row.callId ?? null} AND c.company_id = a.company_id
    SET a.status = ${status}, a.calcom_booking_uid = ${booking.uid}, a.calcom_booking_id = ${booking.id},
        a.start_at = ${new Date(booking.start)}, a.end_at = ${new Date(booking.end)},
        a.failure_reason = NULL, a.alternatives = NULL, a.updated_at = ${now},
        c.appointment_id = a.id, c.updated_at = ${now}
    WHERE a.id = ${row.id}`);
}
async function markFailed(db, id, reason, alternatives) {
  await db.update(appointments).set({ status: "failed", failureReason: reason.slice(0, 1e3), alternatives: alternatives ?? null }).where(eq2(appointments.id, id));
}

// lib/booking/event-types.ts
async function loadCatalogue(cache, client, company, teamIds, signal) {
  const key = cacheKeys.eventTypes(company.id);
  const teams = [...new Set(teamIds)].sort((a, b) => a - b);
  const cached = await cache.getOrLoad(key, TTL_MS.eventTypes, async () => null);
  if (cached && teams.every((t) => cached.teams.includes(t)) && cached.hasUserTypes === Boolean(company.calcomUsername)) return cached;
  const eventTypes = [];
  if (company.calcomUsername) {
    for (const e of await client.listEventTypes(company.calcomUsername, signal)) {
      eventTypes.push({ id: e.id, slug: e.slug, lengthInMinutes: e.lengthInMinutes, teamId: null });
    }
  }
  for (const teamId of teams) {
    for (const e of await client.listTeamEventTypes(teamId, signal)) {
      eventTypes.push({ id: e.id, slug: e.slug, lengthInMinutes: e.lengthInMinutes, teamId });
    }
  }
  const catalogue = { hasUserTypes: Boolean(company.calcomUsername), teams, eventTypes };
  await cache.set(key, catalogue, TTL_MS.eventTypes);
  return catalogue;
}
function checkService(catalogue, service) {
  const found = catalogue.eventTypes.find((e) => e.id === service.calcomEventTypeId);
  if (service.calcomTeamId !== null) {
    if (!found) return `event type ${service.calcomEventTypeId} (service ${service.slug}) is not an event type of Cal.com team ${service.calcomTeamId}`;
    if (found.teamId !== service.calcomTeamId) return `event type ${service.calcomEventTypeId} belongs to ${found.teamId ? `team ${found.teamId}` : "a user"}, not team ${service.calcomTeamId}`;
    return null;
  }
  if (catalogue.hasUserTypes && !found) return `event type ${service.calcomEventTypeId} (service ${service.slug}) does not exist in the company's Cal.com account`;
  return null;
}

// lib/booking/load.ts
import { and as and2, eq as eq3 } from "drizzle-orm";
var BookingInputError = class extends Error {
  name = "BookingInputError";
};
async function loadBookingContext(db, cipher, job) {
  const c = job.companyId;
  const [[company], [branch], [service], [customer]] = await Promise.all([
    db.select().from(companies).where(eq3(companies.id, c)),
    db.select().from(branches).where(and2(eq3(branches.id, job.branchId), eq3(branches.companyId, c))),
    db.select().from(services).where(and2(eq3(services.id, job.serviceId), eq3(services.companyId, c))),
    db.select().from(customers).where(and2(eq3(customers.id, job.customerId), eq3(customers.companyId, c)))
  ]);
  if (!company) throw new BookingInputError(`company ${c} does not exist`);
  if (!branch) throw new BookingInputError(`branch ${job.branchId} is not a branch of company ${company.slug}`);
  if (!service) throw new BookingInputError(`service ${job.serviceId} is not a service of company ${company.slug}`);
  if (!customer) throw new BookingInputError(`customer ${job.customerId} is not a customer of company ${company.slug}`);
  if (customer.erasedAt) throw new BookingInputError(`customer ${job.customerId} was erased (GDPR) before this booking ran`);
  if (service.branchId !== null && service.branchId !== branch.id) {
    throw new BookingInputError(`service ${service.slug} is not offered at branch ${branch.name}`);
  }
  if (!company.calcomApiKeyEnc) throw new BookingInputError(`company ${company.slug} has no Cal.com API key (add calcomApiKey to its tenants entry)`);
  return {
    company: { id: company.id, slug: company.slug, calcomApiKey: cipher.decrypt(company.calcomApiKeyEnc), calcomUsername: company.calcomUsername },
    branch: { id: branch.id, name: branch.name, timezone: branch.timezone, language: branch.language },
    service,
    // PII may be stored encrypted (lib/pii): the attendee needs the plaintext.
    customer: { id: customer.id, phone: openPii(cipher, customer.phone), name: openPii(cipher, customer.name), email: openPii(cipher, customer.email) }
  };
}

// lib/booking/book.ts
var LOCK_LEASE_MS = 15e3;
var LOCK_RENEW_MS = 5e3;
var LOCK_RETRY_MS = 2e3;
var RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
var RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";
var PERMANENT = /* @__PURE__ */ new Set(["slot_unavailable", "out_of_bounds", "in_past", "validation", "auth", "forbidden", "not_found", "conflict"]);
function done(row) {
  if (row.calcomBookingUid && row.status !== "pending" && row.status !== "failed") {
    return { status: "already_booked", appointmentId: row.id, uid: row.calcomBookingUid, start: row.startAt.toISOString() };
  }
  return null;
}
async function executeBooking(deps, job, signal) {
  const log = deps.logger.child({ booking: job.idempotencyKey.slice(0, 12), companyId: job.companyId });
  const existing = await findByKey(deps.db, job.companyId, job.idempotencyKey);
  const early = existing && done(existing);
  if (early) {
    bookingTotal.inc({ status: "cached" });
    await confirmOnce(deps, existing);
    return early;
  }
  const lockKey = `${deps.ns}mcp:calcom:booking-lock:${job.idempotencyKey}`;
  const token = randomBytes(8).toString("hex");
  if (await deps.redis.set(lockKey, token, "PX", LOCK_LEASE_MS, "NX") !== "OK") {
    throw new BookingDeferred("another attempt for this booking is in progress", Date.now() + LOCK_RETRY_MS);
  }
  const renew = setInterval(() => {
    deps.redis.eval(RENEW, 1, lockKey, token, LOCK_LEASE_MS).then(
      (held) => Number(held) === 1 || log.warn("booking lock lapsed while the attempt ran"),
      (err) => log.warn({ err }, "could not renew booking lock")
    );
  }, LOCK_RENEW_MS);
  renew.unref();
  try {
    return await bookLocked(deps, job, log, signal);
  } finally {
    clearInterval(renew);
    await deps.redis.eval(RELEASE, 1, lockKey, token).catch((err) => log.warn({ err }, "could not release booking lock"));
  }
}
async function bookLocked(deps, job, log, signal) {
  let ctx;
  try {
    ctx = await loadBookingContext(deps.db, deps.cipher, job);
  } catch (err) {
    if (err instanceof BookingInputError) throw new BookingRejected(err.message, "input");
    throw err;
  }
  const start = new Date(job.start);
  const end = new Date(start.getTime() + ctx.service.durationMinutes * 6e4);
  const row = await ensurePending(deps.db, job, end);
  const already = done(row);
  if (already) {
    bookingTotal.inc({ status: "cached" });
    await confirmOnce(deps, row);
    return already;
  }
  const client = guard(deps, deps.clientFor(ctx.company.calcomApiKey));
  const uidKey = deps.ns + cacheKeys.booking(job.idempotencyKey);
  const knownUid = await deps.redis.get(uidKey);
  if (knownUid) {
    const booking2 = await client.getBooking(knownUid, signal);
    log.info({ uid: knownUid }, "recovered a booking Cal.com had accepted before a crash");
    return commit(deps, job, ctx, row, booking2, log);
  }
  if (row.calcomRequestSentAt) {
    const found = await reconcile(client, job, ctx, start, end, signal);
    if (found) {
      log.info({ uid: found.uid }, "reconciled: Cal.com already has this booking");
      await deps.redis.set(uidKey, found.uid, "PX", TTL_MS.booking);
      return commit(deps, job, ctx, row, found, log);
    }
  }
  const catalogue = await loadCatalogue(
    deps.cache,
    client,
    { id: ctx.company.id, calcomUsername: ctx.company.calcomUsername },
    ctx.service.calcomTeamId ? [ctx.service.calcomTeamId] : [],
    signal
  );
  const invalid = checkService(catalogue, ctx.service);
  if (invalid) return reject(deps, row, new BookingRejected(invalid, "event_type"));
  await markRequestSent(deps.db, row.id);
  let booking;
  try {
    booking = await client.createBooking(
      {
        start: start.toISOString(),
        eventTypeId: ctx.service.calcomEventTypeId,
        attendee: {
          name: ctx.customer.name ?? ctx.customer.phone,
          timeZone: ctx.branch.timezone,
          phoneNumber: ctx.customer.phone,
          ...ctx.customer.email ? { email: ctx.customer.email } : {},
          language: ctx.branch.language
        },
        // Our key travels with the booking: the only way to find it again after an uncertain outcome.
        metadata: { callbook_key: job.idempotencyKey, callbook_company: ctx.company.slug, ...job.callId ? { callbook_call: String(job.callId) } : {} }
      },
      signal
    );
  } catch (err) {
    if (err instanceof CalcomError && err.kind === "slot_unavailable") {
      const alternatives = await nearestFreeSlots(client, { eventTypeId: ctx.service.calcomEventTypeId, requested: start, timeZone: ctx.branch.timezone }, signal).catch(
        (e) => (log.warn({ err: e }, "could not look up free slots"), [])
      );
      const when = DateTime2.fromJSDate(start).setZone(ctx.branch.timezone).toFormat("dd.MM.yyyy HH:mm");
      const reason = `slot taken (${when}); ${alternatives.length ? `free: ${describeSlots(alternatives, start, ctx.branch.timezone)}` : "no free slot nearby"}`;
      return reject(deps, row, new BookingRejected(reason, err.kind, alternatives));
    }
    if (err instanceof CalcomError && PERMANENT.has(err.kind)) {
      return reject(deps, row, new BookingRejected(`Cal.com refused the booking (${err.kind}): ${err.message}`, err.kind));
    }
    throw err;
  }
  await deps.redis.set(uidKey, booking.uid, "PX", TTL_MS.booking);
  await deps.afterCalcomAccepted?.(booking.uid);
  return commit(deps, job, ctx, row, booking, log);
}
function guard(deps, c) {
  return {
    getBooking: (...a) => callCalcom(deps, () => c.getBooking(...a)),
    listAllBookings: (...a) => callCalcom(deps, () => c.listAllBookings(...a)),
    listEventTypes: (...a) => callCalcom(deps, () => c.listEventTypes(...a)),
    listTeamEventTypes: (...a) => callCalcom(deps, () => c.listTeamEventTypes(...a)),
    createBooking: (...a) => callCalcom(deps, () => c.createBooking(...a)),
    getSlots: (...a) => callCalcom(deps, () => c.getSlots(...a))
  };
}
async function callCalcom(deps, fn) {
  try {
    return await deps.breaker.run(fn, isServiceFailure);
  } catch (err) {
    if (err instanceof BreakerOpenError) throw new BookingDeferred(`Cal.com circuit breaker is ${err.state}`, err.retryAt);
    if (err instanceof CalcomError && err.kind === "rate_limited") {
      throw new BookingDeferred("Cal.com rate limit reached", err.retryAt ?? Date.now() + 6e4);
    }
    throw err;
  }
}
async function reconcile(client, job, ctx, start, end, signal) {
  const bookings = await client.listAllBookings(
    {
      eventTypeId: ctx.service.calcomEventTypeId,
      afterStart: new Date(start.getTime() - 6e4).toISOString(),
      beforeEnd: new Date(end.getTime() + 6e4).toISOString()
    },
    signal
  );
  return bookings.find((b) => b.metadata?.callbook_key === job.idempotencyKey) ?? null;
}
async function reject(deps, row, rejection) {
  await markFailed(deps.db, row.id, rejection.reason, rejection.alternatives);
  bookingTotal.inc({ status: "failed" });
  if (row.callId) callsProcessedTotal.inc({ outcome: "failed" });
  await deps.publish?.({ type: "booking.failed", companyId: row.companyId, branchId: row.branchId, appointmentId: row.id, reason: rejection.reason });
  throw rejection;
}
async function commit(deps, job, ctx, row, booking, log) {
  await markBooked(deps.db, row, booking);
  const day = DateTime2.fromISO(booking.start).setZone(ctx.branch.timezone).toISODate();
  await deps.cache.invalidate(cacheKeys.availability(ctx.service.calcomEventTypeId, day));
  bookingTotal.inc({ status: "created" });
  appointmentsCreatedTotal.inc({ source: job.source });
  if (row.callId) callsProcessedTotal.inc({ outcome: "booked" });
  await confirmOnce(deps, { ...row, status: "booked" });
  await deps.publish?.({ type: "booking.booked", companyId: row.companyId, branchId: row.branchId, appointmentId: row.id, start: booking.start });
  log.info({ appointmentId: row.id, uid: booking.uid, start: booking.start }, "booked");
  return { status: "booked", appointmentId: row.id, uid: booking.uid, start: booking.start };
}
async function confirmOnce(deps, row) {
  if (!deps.notificationsQueue || row.status !== "booked") return;
  const note = { kind: "booking_confirmed", companyId: row.companyId, appointmentId: row.id };
  await deps.notificationsQueue.add("booking_confirmed", note, { jobId: jobIds.notification("booking_confirmed", row.id) });
}
async function recordFinalFailure(deps, job, reason) {
  const row = await findByKey(deps.db, job.companyId, job.idempotencyKey);
  if (!row || row.status === "booked") return;
  await markFailed(deps.db, row.id, reason);
  bookingTotal.inc({ status: "failed" });
  if (row.callId) callsProcessedTotal.inc({ outcome: "failed" });
  await deps.publish?.({ type: "booking.failed", companyId: row.companyId, branchId: row.branchId, appointmentId: row.id, reason });
  if (deps.notificationsQueue) {
    const note = { kind: "booking_failed", companyId: job.companyId, appointmentId: row.id };
    await deps.notificationsQueue.add("booking_failed", note, { jobId: jobIds.notification("booking_failed", row.id) });
  }
}

// lib/datetime/spoken.ts
import * as chrono from "chrono-node";
import { DateTime as DateTime3 } from "luxon";
var DAY_PART_HOURS = {
  morning: [8, 12],
  noon: [12, 14],
  afternoon: [12, 18],
  evening: [18, 22]
};
function parseRequestedStart(input, opts) {
  const zone = checkZone(opts.timeZone);
  try {
    const structured = parseStructured(input, zone);
    if (structured === "invalid") return null;
    if (structured) return { start: structured.dt.toJSDate(), hasTime: structured.hasTime, source: "iso" };
    const resolved = parseSpoken(input, zone, opts);
    if (!resolved) return null;
    return { start: resolved.start.toJSDate(), hasTime: resolved.hasTime, source: "spoken" };
  } catch {
    return null;
  }
}
function parseRequestedRange(input, opts) {
  const zone = checkZone(opts.timeZone);
  try {
    const now = nowIn(zone, opts.now);
    let from;
    let to;
    const structured = parseStructured(input, zone);
    if (structured === "invalid") return null;
    if (structured) {
      from = structured.dt.setZone(zone).startOf("day");
      to = from.plus({ days: 1 }).startOf("day");
    } else {
      const resolved = parseSpoken(input, zone, opts);
      if (!resolved) return null;
      ({ from, to } = resolved);
    }
    if (from < now && now < to) from = now;
    return { from: from.toJSDate(), to: to.toJSDate() };
  } catch {
    return null;
  }
}
function parseDateAndTime(date, time, opts) {
  const d = (date ?? "").trim();
  const t = (time ?? "").trim();
  if (!d && !t) return null;
  if (!d || !t) return parseRequestedStart(d || t, opts);
  const joined = parseRequestedStart(`${d} ${t}`, opts);
  if (joined?.hasTime) return joined;
  const langs = opts.lang ? [opts.lang] : ["de", "en"];
  for (const lang of langs) {
    const glued = parseRequestedStart(`${d} ${lang === "de" ? "um" : "at"} ${t}`, opts);
    if (glued?.hasTime) return glued;
  }
  return joined ?? parseRequestedStart(d, opts);
}
function toZonedIso(date, timeZone) {
  const iso = DateTime3.fromJSDate(date, { zone: checkZone(timeZone) }).toISO();
  if (!iso) throw new RangeError(`toZonedIso: invalid date ${String(date)}`);
  return iso;
}
function speakTime(date, timeZone, lang) {
  const dt = DateTime3.fromJSDate(date, { zone: checkZone(timeZone) });
  if (!dt.isValid) throw new RangeError(`speakTime: invalid date ${String(date)}`);
  return lang === "de" ? dt.setLocale("de-DE").toFormat("cccc, d. LLLL 'um' HH:mm") : dt.setLocale("en-US").toFormat("cccc, LLLL d 'at' h:mm a");
}
var ISO_RE = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:t|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(z|[+-]\d{2}(?::?\d{2})?)?$/i;
var DOTTED_RE = /^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s*(?:um\s+)?(\d{1,2})[:.](\d{2})(?:\s*uhr)?)?$/i;
function parseStructured(input, zone) {
  const s = input.trim();
  const iso = ISO_RE.exec(s);
  if (iso) {
    const [, y, mo, d, h, mi, sec, frac, off] = iso;
    let text = `${y}-${pad(mo)}-${pad(d)}`;
    if (h !== void 0) {
      text += `T${pad(h)}:${mi}:${sec ?? "00"}${frac ? `.${frac.slice(0, 3)}` : ""}`;
      if (off) text += off.toUpperCase();
    }
    const dt = DateTime3.fromISO(text, { zone });
    return dt.isValid ? { dt, hasTime: h !== void 0 } : "invalid";
  }
  const dotted = DOTTED_RE.exec(s);
  if (dotted) {
    const [, d, mo, y, h, mi] = dotted;
    const dt = DateTime3.fromObject(
      { year: Number(y), month: Number(mo), day: Number(d), hour: h ? Number(h) : 0, minute: mi ? Number(mi) : 0 },
      { zone }
    );
    return dt.isValid ? { dt, hasTime: h !== void 0 } : "invalid";
  }
  return null;
}
function parseSpoken(input, zone, opts) {
  const now = nowIn(zone, opts.now);
  const said = readSpoken(input, now, opts.lang);
  return said ? resolve(said, now, zone) : null;
}
var WEEKDAYS = {
  montag: 1,
  dienstag: 2,
  mittwoch: 3,
  donnerstag: 4,
  freitag: 5,
  samstag: 6,
  sonnabend: 6,
  sonntag: 7,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
  sunday: 7
};
var WEEKDAY_ALT = Object.keys(WEEKDAYS).join("|");
var FULL_WEEKDAY_RE = new RegExp(`\\b(${WEEKDAY_ALT})\\b`);
var HOUR_WORDS = {
  eins: 1,
  zwei: 2,
  drei: 3,
  vier: 4,
  f\u00FCnf: 5,
  sechs: 6,
  sieben: 7,
  acht: 8,
  neun: 9,
  zehn: 10,
  elf: 11,
  zw\u00F6lf: 12,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12
};
var HOUR = `(\\d{1,2}|${Object.keys(HOUR_WORDS).join("|")})`;
var HOUR_WORD = `(${Object.keys(HOUR_WORDS).join("|")})`;
function hourValue(token) {
  return HOUR_WORDS[token] ?? Number(token);
}
function hourBefore(h) {
  return h <= 1 ? 12 : h - 1;
}
function normalise(input) {
  let t = ` ${input.toLowerCase().replace(/[,;!?]+/g, " ").replace(/\s+/g, " ").trim()} `;
  const out = { text: "", next: false, last: false };
  t = t.replace(/naechst/g, "n\xE4chst").replace(/uebermorgen/g, "\xFCbermorgen").replace(/frueh/g, "fr\xFCh").replace(/fuenf/g, "f\xFCnf").replace(/zwoelf/g, "zw\xF6lf").replace(/’/g, "'");
  t = t.replace(/(?:\bden\s+)?\b(\d{1,2})\.\s?(\d{1,2})\.(?:(\d{2}|\s?\d{4})(?![\d:.]|\s*uhr))?/, (m, d, mo, yRaw) => {
    const y = yRaw?.trim();
    if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31) return m;
    const year = y === void 0 ? void 0 : y.length === 2 ? 2e3 + Number(y) : Number(y);
    out.date = { day: Number(d), month: Number(mo), ...year === void 0 ? {} : { year } };
    return " ";
  });
  t = t.replace(/\b(?:in\s+der\s+|in\s+)?(?:diese[rn]?|this)\s+(?:woche|week)\b/, () => {
    out.week = "this";
    return " ";
  });
  t = t.replace(/\b(?:in\s+der\s+|in\s+)?(?:nächste[nr]?|kommende[nr]?|next|the\s+coming|coming)\s+(?:woche|week)\b/, () => {
    out.week = "next";
    return " ";
  });
  const part = (p) => out.dayPart ??= p;
  t = t.replace(/\bthis\s+(morning|afternoon|evening)\b/, " today $1 ").replace(/\bat\s+(?:noon|midday)\b/, " at 12:00 ").replace(/\btonight\b/, () => (part("evening"), " today ")).replace(/\bmorgen\s+(?:früh|morgen)\b/, () => (part("morning"), " morgen ")).replace(new RegExp(`(?<=\\s)(heute|\xFCbermorgen|${WEEKDAY_ALT})\\s+morgen\\b`), (_m, day) => (part("morning"), ` ${day} `)).replace(/\b(?:am|in\s+der)\s+(?:morgen|früh)\b/, () => (part("morning"), " ")).replace(/\b(?:am\s+|in\s+the\s+)?(?:früh|morgens|vormittags?|morning)\b/, () => (part("morning"), " ")).replace(/\b(?:am\s+|zur\s+)?(?:mittags?|mittagszeit|midday|noon|lunchtime)\b/, () => (part("noon"), " ")).replace(/\b(?:am\s+|in\s+the\s+)?(?:nachmittags?|afternoon)\b/, () => (part("afternoon"), " ")).replace(/\b(?:am\s+|in\s+the\s+)?(?:abends?|evening)\b/, () => (part("evening"), " "));
  t = t.replace(new RegExp(`\\b(?:n\xE4chste[nrms]?|kommende[nrms]?|next|coming)\\s+(?=(?:${WEEKDAY_ALT})\\b)`), () => {
    out.next = true;
    return " ";
  });
  t = t.replace(new RegExp(`\\b(?:letzte[nrms]?|vergangene[nrms]?|last|past)\\s+(?=(?:${WEEKDAY_ALT})\\b)`), () => {
    out.last = true;
    return " ";
  });
  t = t.replace(new RegExp(`\\b(?:diese[nrms]?|this)\\s+(?=(?:${WEEKDAY_ALT})\\b)`), " ");
  t = t.replace(/\b(?:so\s+)?(?:gegen|circa|ca\.?|etwa|ungefähr)\s+(?=\d|um\b)/g, " um ").replace(/\b(?:around|about|approximately|roughly)\s+(?=\d)/g, " at ").replace(/\bum\s+um\b/g, "um");
  t = t.replace(new RegExp(`\\bhalb\\s+${HOUR}\\b`, "g"), (_m, h) => ` ${hourBefore(hourValue(h))}:30 `).replace(new RegExp(`\\bviertel\\s+nach\\s+${HOUR}\\b`, "g"), (_m, h) => ` ${hourValue(h)}:15 `).replace(new RegExp(`\\b(?:viertel\\s+vor|dreiviertel)\\s+${HOUR}\\b`, "g"), (_m, h) => ` ${hourBefore(hourValue(h))}:45 `).replace(new RegExp(`\\bhalf\\s+past\\s+${HOUR}\\b`, "g"), (_m, h) => ` ${hourValue(h)}:30 `).replace(new RegExp(`\\b(?:a\\s+)?quarter\\s+(?:past|after)\\s+${HOUR}\\b`, "g"), (_m, h) => ` ${hourValue(h)}:15 `).replace(new RegExp(`\\b(?:a\\s+)?quarter\\s+(?:to|before|of)\\s+${HOUR}\\b`, "g"), (_m, h) => ` ${hourBefore(hourValue(h))}:45 `).replace(new RegExp(`\\b${HOUR_WORD}\\s+(uhr|o'?clock)\\b`, "g"), (_m, h, w) => ` ${hourValue(h)} ${w} `).replace(/\bein\s+uhr\b/g, " 1 uhr ").replace(new RegExp(`\\b(um|at)\\s+${HOUR_WORD}\\b`, "g"), (_m, w, h) => ` ${w} ${hourValue(h)} `).replace(/\b(\d{1,2})\s*uhr\s+(\d{1,2})\b/g, (_m, h, mi) => ` ${h}:${mi.padStart(2, "0")} uhr `);
  out.text = t.replace(/\s+/g, " ").trim();
  return out;
}
function readWithChrono(text, lang, ref) {
  const said = { score: 0 };
  if (!text) return said;
  const parser = lang === "de" ? chrono.de.casual : chrono.en.casual;
  const results = parser.parse(text, ref);
  for (const r of results) {
    const c = r.start;
    const month = c.get("month");
    const day = c.get("day");
    if (!said.date && c.isCertain("day") && month !== null && day !== null) {
      const year = c.isCertain("year") ? c.get("year") : null;
      said.date = { month, day, ...year !== null ? { year } : {} };
      said.score += 2 + (year !== null ? 1 : 0);
    } else if (!said.date && said.weekday === void 0 && c.isCertain("weekday") && FULL_WEEKDAY_RE.test(r.text.toLowerCase())) {
      const wd = c.get("weekday");
      if (wd !== null) {
        said.weekday = wd === 0 ? 7 : wd;
        said.score += 1;
      }
    }
    if (!said.time && c.isCertain("hour")) {
      const hour = c.get("hour");
      if (hour !== null) {
        said.time = { hour, minute: c.get("minute") ?? 0, meridiemCertain: c.isCertain("meridiem") };
        said.score += 1 + (c.isCertain("minute") ? 1 : 0) + (c.isCertain("meridiem") ? 1 : 0);
      }
    }
  }
  return said;
}
function readSpoken(input, now, lang) {
  if (typeof input !== "string" || !input.trim()) return null;
  const norm = normalise(input);
  const ref = chronoReference(now);
  const langs = lang ? [lang] : ["de", "en"];
  let best = null;
  for (const l of langs) {
    const got = readWithChrono(norm.text, l, ref);
    if (!best || got.score > best.score) best = got;
  }
  const said = {
    score: best?.score ?? 0,
    next: norm.next,
    last: norm.last,
    ...best?.time ? { time: best.time } : {},
    ...norm.week ? { week: norm.week } : {},
    ...norm.dayPart ? { dayPart: norm.dayPart } : {}
  };
  if (norm.date) said.date = norm.date;
  else if (best?.date) said.date = best.date;
  else if (best?.weekday !== void 0) said.weekday = best.weekday;
  if (!said.date && said.weekday === void 0 && !said.time && !said.week && !said.dayPart) return null;
  return said;
}
function resolve(said, now, zone) {
  const today = now.startOf("day");
  let time;
  if (said.time) {
    let { hour } = said.time;
    const { minute, meridiemCertain } = said.time;
    if (!meridiemCertain && hour < 12) {
      if (said.dayPart === "afternoon" || said.dayPart === "evening") hour += 12;
      else if (said.dayPart !== "morning" && hour >= 1 && hour <= 7) hour += 12;
    }
    if (hour > 23 || minute > 59) return null;
    time = { hour, minute };
  }
  const at = (day2) => time ? localTime(day2, time.hour, time.minute, zone) : day2;
  const endOfPeriod = (day2) => said.dayPart ? localTime(day2, DAY_PART_HOURS[said.dayPart][1], 0, zone) : nextDay(day2);
  let day;
  if (said.date) {
    const { month, day: d } = said.date;
    if (said.date.year !== void 0) {
      day = DateTime3.fromObject({ year: said.date.year, month, day: d }, { zone });
    } else {
      day = DateTime3.fromObject({ year: now.year, month, day: d }, { zone });
      if (day.isValid && (time ? at(day) : endOfPeriod(day)) <= now) {
        day = DateTime3.fromObject({ year: now.year + 1, month, day: d }, { zone });
      }
    }
    if (!day.isValid || day.month !== month || day.day !== d) return null;
  } else if (said.weekday !== void 0) {
    if (said.week === "next") {
      day = today.startOf("week").plus({ weeks: 1, days: said.weekday - 1 });
    } else if (said.last) {
      day = today.minus({ days: (now.weekday - said.weekday + 7) % 7 || 7 });
    } else {
      let delta = (said.weekday - now.weekday + 7) % 7;
      if (delta === 0) {
        delta = !said.next && time && at(today) > now ? 0 : 7;
      }
      day = today.plus({ days: delta });
    }
  } else if (said.week) {
    if (time || said.dayPart) {
      day = said.week === "next" ? today.startOf("week").plus({ weeks: 1 }) : today;
    } else {
      const from2 = said.week === "next" ? today.startOf("week").plus({ weeks: 1 }) : now;
      const to2 = (said.week === "next" ? from2 : today).startOf("week").plus({ weeks: 1 });
      return { start: from2, hasTime: false, from: from2, to: to2 };
    }
  } else {
    day = (time ? at(today) : endOfPeriod(today)) <= now ? today.plus({ days: 1 }) : today;
  }
  day = day.startOf("day");
  const from = said.dayPart ? localTime(day, DAY_PART_HOURS[said.dayPart][0], 0, zone) : day;
  const to = endOfPeriod(day);
  return { start: time ? at(day) : from, hasTime: time !== void 0, from, to };
}
function checkZone(timeZone) {
  if (!DateTime3.local({ zone: timeZone }).isValid) throw new RangeError(`Invalid IANA time zone: ${timeZone}`);
  return timeZone;
}
function nowIn(zone, now) {
  return DateTime3.fromJSDate(now ?? /* @__PURE__ */ new Date(), { zone });
}
function localTime(day, hour, minute, zone) {
  return DateTime3.fromObject({ year: day.year, month: day.month, day: day.day, hour, minute }, { zone });
}
function nextDay(day) {
  return day.plus({ days: 1 }).startOf("day");
}
function chronoReference(now) {
  const d = new Date(now.year, now.month - 1, now.day, now.hour, now.minute, now.second);
  if (d.getDate() === now.day && d.getHours() === now.hour) return d;
  return new Date(now.year, now.month - 1, now.day, 12, 0, 0);
}
function pad(n) {
  return (n ?? "").padStart(2, "0");
}

// lib/sync/run.ts
import { eq as eq8 } from "drizzle-orm";

// lib/retell/client.ts
import { eq as eq4, isNotNull, and as and3 } from "drizzle-orm";
import Retell, { APIConnectionError, APIError, APIUserAbortError } from "retell-sdk";
var RETELL_TIMEOUT_MS = 1e4;
function createRetellClient(apiKey, baseURL) {
  return new Retell({ apiKey, baseURL, maxRetries: 0, timeout: RETELL_TIMEOUT_MS, fetch: keepAliveFetch });
}
async function retellKeysByAccount(ctx, opts = {}) {
  const global = { companyId: null, label: "global", apiKey: ctx.config.RETELL_API_KEY };
  const where = opts.companyId === void 0 ? isNotNull(companies.retellApiKeyEnc) : and3(isNotNull(companies.retellApiKeyEnc), eq4(companies.id, opts.companyId));
  const rows = await ctx.database.db.select({ id: companies.id, slug: companies.slug, keyEnc: companies.retellApiKeyEnc }).from(companies).where(where).orderBy(companies.id);
  const seen = /* @__PURE__ */ new Set([global.apiKey]);
  const own = [];
  for (const row of rows) {
    if (!row.keyEnc) continue;
    let apiKey;
    try {
      apiKey = ctx.cipher.decrypt(row.keyEnc);
    } catch (err) {
      opts.onError?.({ companyId: row.id, label: row.slug }, err);
      continue;
    }
    if (seen.has(apiKey)) {
      if (opts.companyId !== void 0) return [global];
      continue;
    }
    seen.add(apiKey);
    own.push({ companyId: row.id, label: row.slug, apiKey });
  }
  if (opts.companyId !== void 0) return rows.length > 0 ? own : [global];
  return [global, ...own];
}
function isRetellServiceFailure(err) {
  if (err instanceof APIUserAbortError) return false;
  if (err instanceof APIConnectionError) return true;
  if (err instanceof APIError) return err.status === void 0 || err.status >= 500;
  return false;
}
function isRetellNotFound(err) {
  return err instanceof APIError && (err.status === 404 || err.status === 422);
}
function describeRetellError(err) {
  if (err instanceof APIConnectionError) return `Retell unreachable: ${err.message}`;
  if (err instanceof APIError && err.status !== void 0) {
    const body = err.error;
    const message = typeof body?.message === "string" ? body.message : err.message;
    return `Retell answered ${err.status}: ${message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
function openRetellSession(ctx, account, signal, breaker = serviceBreaker("retell", { redis: ctx.redis, ns: ctx.ns, logger: ctx.logger })) {
  const client = createRetellClient(account.apiKey, ctx.config.RETELL_API_URL);
  const opts = signal ? { signal } : {};
  return {
    account,
    client,
    call: (fn) => breaker.run(async () => fn(client, opts), isRetellServiceFailure)
  };
}

// lib/sync/agents.ts
import { eq as eq6, isNull } from "drizzle-orm";

// lib/sync/phone-numbers.ts
import { eq as eq5 } from "drizzle-orm";
var RETELL_PAGE_SIZE = 1e3;
var UNMAPPED_HINT = "unmapped: add to a branch in the tenants file";
function agentIds(list, single) {
  const ids = (list ?? []).map((a) => a.agent_id).filter((id) => typeof id === "string" && id !== "");
  if (single && !ids.includes(single)) ids.push(single);
  return ids;
}
async function listAllPhoneNumbers(session, pageSize = RETELL_PAGE_SIZE) {
  const all = [];
  const seenKeys = /* @__PURE__ */ new Set();
  let paginationKey;
  for (; ; ) {
    const query = { limit: pageSize, ...paginationKey ? { pagination_key: paginationKey } : {} };
    const page = await session.call((c, opts) => c.phoneNumber.list(query, opts));
    all.push(...page.items);
    if (!page.has_more || !page.pagination_key || seenKeys.has(page.pagination_key)) break;
    seenKeys.add(page.pagination_key);
    paginationKey = page.pagination_key;
  }
  return all;
}
async function syncPhoneNumbers(db, session, opts = {}) {
  const { account } = session;
  const numbers = await listAllPhoneNumbers(session, opts.pageSize);
  const now = opts.now ?? /* @__PURE__ */ new Date();
  const result = { imported: 0, updatedMappings: 0, unmapped: [], conflicts: [] };
  for (const n of numbers) {
    const e1642 = n.phone_number;
    const inbound = agentIds(n.inbound_agents, n.inbound_agent_id);
    const outbound = agentIds(n.outbound_agents, n.outbound_agent_id);
    const nickname = n.nickname ?? null;
    const lastModifiedAt = typeof n.last_modification_timestamp === "number" ? new Date(n.last_modification_timestamp) : null;
    const row = {
      companyId: account.companyId,
      e164: e1642,
      nickname: nickname?.slice(0, 200) ?? null,
      inboundAgentIds: inbound,
      outboundAgentIds: outbound,
      inboundWebhookUrl: n.inbound_webhook_url?.slice(0, 500) ?? null,
      lastModifiedAt,
      syncedAt: now
    };
    await db.insert(retellPhoneNumbers).values(row).onDuplicateKeyUpdate({
      set: {
        companyId: row.companyId,
        nickname: row.nickname,
        inboundAgentIds: row.inboundAgentIds,
        outboundAgentIds: row.outboundAgentIds,
        inboundWebhookUrl: row.inboundWebhookUrl,
        lastModifiedAt: row.lastModifiedAt,
        syncedAt: row.syncedAt
      }
    });
    result.imported++;
    const [mapping] = await db.select({ id: phoneNumbers.id, companyId: phoneNumbers.companyId, retellAgentId: phoneNumbers.retellAgentId, nickname: phoneNumbers.nickname }).from(phoneNumbers).where(eq5(phoneNumbers.e164, e1642)).limit(1);
    if (!mapping) {
      result.unmapped.push({ e164: e1642, account: account.label, nickname, inboundAgentIds: inbound, problem: UNMAPPED_HINT });
      continue;
    }
    if (account.companyId !== null && mapping.companyId !== account.companyId) {
      const [owner] = await db.select({ slug: companies.slug }).from(companies).where(eq5(companies.id, mapping.companyId)).limit(1);
      const mappedTo = owner?.slug ?? `company ${mapping.companyId}`;
      result.conflicts.push({
        e164: e1642,
        account: account.label,
        mappedTo,
        problem: `number is in the Retell account of ${account.label} but the tenants file maps it to ${mappedTo}: mapping left unchanged`
      });
      continue;
    }
    const retellAgentId = inbound[0]?.slice(0, 100) ?? null;
    const nick = row.nickname;
    if (mapping.retellAgentId === retellAgentId && mapping.nickname === nick) continue;
    await db.update(phoneNumbers).set({ retellAgentId, nickname: nick }).where(eq5(phoneNumbers.id, mapping.id));
    result.updatedMappings++;
  }
  return result;
}

// lib/sync/agents.ts
var REQUIRED_WEBHOOK_EVENTS = ["call_started", "call_ended", "call_analyzed"];
var WEBHOOK_PATHS = ["/webhooks/retell", "/api/mcp/retell/webhook"];
function agentsCacheKey(companyId) {
  return companyId === null ? "mcp:retell:agents:global" : cacheKeys.retellAgents(companyId);
}
async function listAllAgentIds(session, pageSize = RETELL_PAGE_SIZE) {
  const all = [];
  const seenKeys = /* @__PURE__ */ new Set();
  let paginationKey;
  for (; ; ) {
    const params = { limit: pageSize, ...paginationKey ? { pagination_key: paginationKey } : {} };
    const page = await session.call((c, opts) => c.agent.list(params, opts));
    for (const item of page.items) all.push({ agent_id: item.agent_id, agent_name: item.agent_name });
    if (!page.has_more || !page.pagination_key || seenKeys.has(page.pagination_key)) break;
    seenKeys.add(page.pagination_key);
    paginationKey = page.pagination_key;
  }
  return all;
}
async function fetchAgents(session, pageSize) {
  const agents = [];
  const seen = /* @__PURE__ */ new Set();
  for (const item of await listAllAgentIds(session, pageSize)) {
    if (seen.has(item.agent_id)) continue;
    seen.add(item.agent_id);
    let a;
    try {
      a = await session.call((c, opts) => c.agent.retrieve(item.agent_id, null, opts));
    } catch (err) {
      if (isRetellNotFound(err)) continue;
      throw err;
    }
    const engine = a.response_engine;
    agents.push({
      agentId: a.agent_id,
      agentName: a.agent_name ?? (item.agent_name || null),
      version: typeof a.version === "number" ? a.version : null,
      responseEngine: { type: engine.type, llmId: engine.type === "retell-llm" ? engine.llm_id ?? null : null },
      webhookUrl: a.webhook_url ?? null,
      webhookEvents: a.webhook_events ? [...a.webhook_events] : null,
      webhookTimeoutMs: a.webhook_timeout_ms ?? null
    });
  }
  return agents;
}
function checkAgentWebhook(agent, account, publicUrl) {
  const out = [];
  const base = { agentId: agent.agentId, agentName: agent.agentName, account };
  if (!publicUrl) {
    out.push({ ...base, problem: "cannot check webhook_url: set PUBLIC_URL", expected: null, actual: agent.webhookUrl });
  } else {
    const root = publicUrl.replace(/\/+$/, "");
    const accepted = WEBHOOK_PATHS.map((p) => root + p);
    if (!agent.webhookUrl || !accepted.includes(agent.webhookUrl.replace(/\/+$/, ""))) {
      out.push({
        ...base,
        problem: agent.webhookUrl ? "webhook_url does not point at callbook" : "webhook_url is not set on the agent",
        expected: accepted[0],
        actual: agent.webhookUrl
      });
    }
  }
  if (agent.webhookEvents !== null) {
    const missing = REQUIRED_WEBHOOK_EVENTS.filter((e) => !agent.webhookEvents.includes(e));
    if (missing.length > 0) {
      out.push({
        ...base,
        problem: `webhook_events lacks ${missing.join(", ")}`,
        expected: REQUIRED_WEBHOOK_EVENTS.join(", "),
        actual: agent.webhookEvents.join(", ")
      });
    }
  }
  return out;
}
async function syncAgents(deps, session, opts = {}) {
  const { account } = session;
  const agents = await fetchAgents(session, opts.pageSize);
  await deps.cache.set(agentsCacheKey(account.companyId), agents, TTL_MS.retellAgents);
  const mismatches = agents.flatMap((a) => checkAgentWebhook(a, account.label, deps.publicUrl));
  const known = new Map(agents.map((a) => [a.agentId, a]));
  const numbers = await deps.db.select({ e164: retellPhoneNumbers.e164, inboundAgentIds: retellPhoneNumbers.inboundAgentIds }).from(retellPhoneNumbers).where(account.companyId === null ? isNull(retellPhoneNumbers.companyId) : eq6(retellPhoneNumbers.companyId, account.companyId)).orderBy(retellPhoneNumbers.e164);
  const missing = /* @__PURE__ */ new Map();
  for (const n of numbers) {
    for (const agentId of n.inboundAgentIds) {
      if (known.has(agentId)) continue;
      let gone = missing.get(agentId);
      if (gone === void 0) {
        try {
          await session.call((c, o) => c.agent.retrieve(agentId, null, o));
          gone = false;
        } catch (err) {
          if (!isRetellNotFound(err)) throw err;
          gone = true;
        }
        missing.set(agentId, gone);
      }
      if (gone) {
        mismatches.push({
          agentId,
          agentName: null,
          account: account.label,
          problem: `inbound agent of ${n.e164} not found in the Retell account`,
          expected: "an existing agent",
          actual: null
        });
      }
    }
  }
  return { count: agents.length, mismatches };
}

// lib/sync/event-types.ts
import { and as and4, eq as eq7, isNotNull as isNotNull2 } from "drizzle-orm";
async function syncEventTypes(ctx, opts = {}) {
  const deps = bookingDeps(ctx);
  const log = ctx.logger.child({ component: "sync", part: "event_types" });
  const where = opts.companyId === void 0 ? isNotNull2(companies.calcomApiKeyEnc) : and4(isNotNull2(companies.calcomApiKeyEnc), eq7(companies.id, opts.companyId));
  const rows = await ctx.database.db.select({ id: companies.id, slug: companies.slug, keyEnc: companies.calcomApiKeyEnc, calcomUsername: companies.calcomUsername }).from(companies).where(where).orderBy(companies.id);
  const result = { companies: rows.length, checked: 0, problems: [], errors: [] };
  for (const company of rows) {
    try {
      opts.signal?.throwIfAborted();
      const client = deps.clientFor(ctx.cipher.decrypt(company.keyEnc));
      const guarded = {
        listEventTypes: (...a) => deps.breaker.run(() => client.listEventTypes(...a), isServiceFailure),
        listTeamEventTypes: (...a) => deps.breaker.run(() => client.listTeamEventTypes(...a), isServiceFailure)
      };
      const list = await ctx.database.db.select().from(services).where(eq7(services.companyId, company.id)).orderBy(services.slug);
      const teamIds = list.flatMap((s) => s.calcomTeamId === null ? [] : [s.calcomTeamId]);
      await ctx.cache.invalidate(cacheKeys.eventTypes(company.id));
      const catalogue = await loadCatalogue(ctx.cache, guarded, { id: company.id, calcomUsername: company.calcomUsername }, teamIds, opts.signal);
      for (const service of list) {
        result.checked++;
        const problem = checkService(catalogue, service);
        if (!problem) continue;
        const entry = {
          companyId: company.id,
          company: company.slug,
          service: service.slug,
          eventTypeId: service.calcomEventTypeId,
          teamId: service.calcomTeamId,
          problem
        };
        result.problems.push(entry);
        log.warn(entry, `service ${company.slug}/${service.slug}: ${problem}`);
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      result.errors.push({ company: company.slug, message });
      log.error({ company: company.slug, err: message }, "Cal.com event types could not be refreshed");
    }
  }
  return result;
}

// lib/sync/run.ts
function messageOf2(err) {
  return describeRetellError(err);
}
async function runSync(ctx, job, opts = {}) {
  const db = ctx.database.db;
  const log = ctx.logger.child({ component: "sync" });
  const started = /* @__PURE__ */ new Date();
  const [inserted] = await db.insert(syncRuns).values({ companyId: job.companyId ?? null, status: "running", startedAt: started }).$returningId();
  const runId = inserted.id;
  const report = {
    runId,
    kind: job.kind,
    companyId: job.companyId ?? null,
    status: "ok",
    startedAt: started.toISOString(),
    finishedAt: started.toISOString(),
    accounts: [],
    numbers: { imported: 0, updatedMappings: 0, unmapped: [], conflicts: [] },
    agents: { count: 0, mismatches: [] },
    eventTypes: { checked: 0, problems: [] },
    errors: []
  };
  const doNumbers = job.kind === "full" || job.kind === "retell_numbers";
  const doAgents = job.kind === "full" || job.kind === "retell_agents";
  const doEventTypes = job.kind === "full" || job.kind === "calcom_event_types";
  let attempted = 0;
  let failedParts = 0;
  try {
    if (job.companyId !== void 0) {
      const [company] = await db.select({ id: companies.id }).from(companies).where(eq8(companies.id, job.companyId)).limit(1);
      if (!company) throw new Error(`company ${job.companyId} does not exist`);
    }
    if (doNumbers || doAgents) {
      const accounts = await retellKeysByAccount(ctx, {
        ...job.companyId !== void 0 ? { companyId: job.companyId } : {},
        onError: (a, err) => {
          attempted++;
          failedParts++;
          report.errors.push({ part: "accounts", account: a.label, message: `company's Retell key cannot be decrypted (${err.message}): re-import it from the tenants file` });
        }
      });
      report.accounts = accounts.map((a) => a.label);
      for (const account of accounts) {
        opts.signal?.throwIfAborted();
        const session = openRetellSession(ctx, account, opts.signal);
        if (doNumbers) {
          attempted++;
          try {
            const r = await syncPhoneNumbers(db, session, { pageSize: opts.pageSize });
            report.numbers.imported += r.imported;
            report.numbers.updatedMappings += r.updatedMappings;
            report.numbers.unmapped.push(...r.unmapped);
            report.numbers.conflicts.push(...r.conflicts);
          } catch (err) {
            failedParts++;
            report.errors.push({ part: "numbers", account: account.label, message: messageOf2(err) });
            log.error({ account: account.label, err: messageOf2(err) }, "Retell phone numbers could not be synced");
            if (doAgents) {
              attempted++;
              failedParts++;
              report.errors.push({ part: "agents", account: account.label, message: "skipped: the account's phone numbers failed" });
            }
            continue;
          }
        }
        if (doAgents) {
          attempted++;
          try {
            const r = await syncAgents({ db, cache: ctx.cache, publicUrl: ctx.config.PUBLIC_URL }, session, { pageSize: opts.pageSize });
            report.agents.count += r.count;
            report.agents.mismatches.push(...r.mismatches);
          } catch (err) {
            failedParts++;
            report.errors.push({ part: "agents", account: account.label, message: messageOf2(err) });
            log.error({ account: account.label, err: messageOf2(err) }, "Retell agents could not be synced");
          }
        }
      }
    }
    if (doEventTypes) {
      const r = await syncEventTypes(ctx, { ...job.companyId !== void 0 ? { companyId: job.companyId } : {}, ...opts.signal ? { signal: opts.signal } : {} });
      report.eventTypes.checked = r.checked;
      report.eventTypes.problems = r.problems;
      attempted += r.companies;
      failedParts += r.errors.length;
      for (const e of r.errors) report.errors.push({ part: "event_types", account: e.company, message: e.message });
    }
    const hasProblems = report.errors.length > 0 || report.numbers.unmapped.length > 0 || report.numbers.conflicts.length > 0 || report.agents.mismatches.length > 0 || report.eventTypes.problems.length > 0;
    report.status = attempted > 0 && failedParts >= attempted ? "failed" : hasProblems ? "problems" : "ok";
  } catch (err) {
    report.status = "failed";
    report.errors.push({ part: "accounts", message: messageOf2(err) });
  }
  const finished = /* @__PURE__ */ new Date();
  report.finishedAt = finished.toISOString();
  await db.update(syncRuns).set({ status: report.status, report, finishedAt: finished }).where(eq8(syncRuns.id, runId));
  const summary = {
    runId,
    kind: job.kind,
    companyId: job.companyId ?? null,
    status: report.status,
    accounts: report.accounts,
    numbersImported: report.numbers.imported,
    mappingsUpdated: report.numbers.updatedMappings,
    unmapped: report.numbers.unmapped.length,
    conflicts: report.numbers.conflicts.length,
    agents: report.agents.count,
    agentMismatches: report.agents.mismatches.length,
    servicesChecked: report.eventTypes.checked,
    eventTypeProblems: report.eventTypes.problems.length,
    errors: report.errors.length,
    ms: finished.getTime() - started.getTime()
  };
  if (report.status === "ok") log.info(summary, "sync finished");
  else log.warn({ ...summary, problems: problemLines(report) }, `sync finished with ${report.status}`);
  return report;
}
function problemLines(report) {
  const lines = [];
  for (const u of report.numbers.unmapped) lines.push(`${u.e164} (${u.account}): ${u.problem}`);
  for (const c of report.numbers.conflicts) lines.push(`${c.e164} (${c.account}): ${c.problem}`);
  for (const m of report.agents.mismatches) {
    const who = m.agentName ? `${m.agentId} "${m.agentName}"` : m.agentId;
    const diff = m.expected !== null || m.actual !== null ? ` (expected ${m.expected ?? "\u2013"}, actual ${m.actual ?? "\u2013"})` : "";
    lines.push(`agent ${who} (${m.account}): ${m.problem}${diff}`);
  }
  for (const p of report.eventTypes.problems) lines.push(`service ${p.company}/${p.service}: ${p.problem}`);
  for (const e of report.errors) lines.push(`error in ${e.part}${e.account ? ` (${e.account})` : ""}: ${e.message}`);
  return lines;
}

// lib/calls/idempotency.ts
import { createHash as createHash3 } from "node:crypto";
function bookingIdempotencyKey(parts) {
  const start = new Date(parts.startIso).toISOString();
  return createHash3("sha256").update(`${parts.companyId}|${parts.callRef}|${parts.eventTypeId}|${start}`).digest("hex");
}

// lib/calls/record-call.ts
import { and as and5, eq as eq9, sql as sql2 } from "drizzle-orm";
async function upsertCustomer(db, companyId, phone, name, email) {
  const seal = await piiSealer(db, companyId);
  const index = phoneIndex(companyId, phone);
  if (index !== phone) await upgradeLegacyIndex(db, companyId, phone, index);
  const [res] = await db.insert(customers).values({ companyId, phone: seal(phone), phoneIndex: index, name: seal(name ?? null), email: seal(email ?? null) }).onDuplicateKeyUpdate({
    set: {
      // LAST_INSERT_ID(id) makes insertId the existing row's id on the update path.
      id: sql2`LAST_INSERT_ID(${customers.id})`,
      name: sql2`COALESCE(VALUES(${customers.name}), ${customers.name})`,
      email: sql2`COALESCE(VALUES(${customers.email}), ${customers.email})`
    }
  });
  return Number(res.insertId);
}
async function upgradeLegacyIndex(db, companyId, phone, index) {
  const [legacy] = await db.select({ id: customers.id }).from(customers).where(and5(eq9(customers.companyId, companyId), eq9(customers.phoneIndex, phone)));
  if (!legacy) return;
  try {
    await db.update(customers).set({ phoneIndex: index }).where(and5(eq9(customers.id, legacy.id), eq9(customers.phoneIndex, phone)));
  } catch (err) {
    if (err.code !== "ER_DUP_ENTRY" && err.cause?.code !== "ER_DUP_ENTRY") throw err;
  }
}
var STATUS_BY_EVENT = { call_started: "ongoing", call_ended: "ended", call_analyzed: "analyzed" };
var ms = (v) => v === void 0 ? null : new Date(v);
async function upsertCall(db, w) {
  const c = w.call;
  const analysis = c.call_analysis;
  const vars2 = { ...c.retell_llm_dynamic_variables ?? {}, ...c.collected_dynamic_variables ?? {} };
  const keep = (col) => sql2.raw(`COALESCE(VALUES(\`${col.name}\`), \`${col.name}\`)`);
  const keepUnlessPurged = (col) => sql2.raw(`IF(\`purged_at\` IS NULL, COALESCE(VALUES(\`${col.name}\`), \`${col.name}\`), \`${col.name}\`)`);
  const seal = await piiSealer(db, w.companyId);
  const sealJson = await piiJsonSealer(db, w.companyId);
  const callerNumber = c.direction === "outbound" ? c.to_number : c.from_number;
  const [res] = await db.insert(calls).values({
    retellCallId: c.call_id,
    companyId: w.companyId,
    branchId: w.branchId,
    customerId: w.customerId,
    agentId: c.agent_id ?? null,
    direction: c.direction ?? null,
    fromNumber: seal(c.from_number ?? null),
    toNumber: seal(c.to_number ?? null),
    callerIndex: callerNumber ? phoneIndex(w.companyId, callerNumber) : null,
    status: STATUS_BY_EVENT[w.event] ?? "ongoing",
    startedAt: ms(c.start_timestamp),
    endedAt: ms(c.end_timestamp),
    durationMs: c.duration_ms ?? null,
    disconnectionReason: c.disconnection_reason ?? null,
    transcript: seal(c.transcript ?? null),
    summary: seal(analysis?.call_summary ?? null),
    sentiment: analysis?.user_sentiment ?? null,
    recordingUrl: seal(c.recording_url ?? null),
    dynamicVariables: sealJson(Object.keys(vars2).length ? vars2 : null),
    analysisData: sealJson(analysis?.custom_analysis_data ?? null)
  }).onDuplicateKeyUpdate({
    set: {
      id: sql2`LAST_INSERT_ID(${calls.id})`,
      customerId: keep(calls.customerId),
      agentId: keep(calls.agentId),
      direction: keep(calls.direction),
      fromNumber: keepUnlessPurged(calls.fromNumber),
      toNumber: keepUnlessPurged(calls.toNumber),
      callerIndex: keepUnlessPurged(calls.callerIndex),
      startedAt: keep(calls.startedAt),
      endedAt: keep(calls.endedAt),
      durationMs: keep(calls.durationMs),
      disconnectionReason: keep(calls.disconnectionReason),
      transcript: keepUnlessPurged(calls.transcript),
      summary: keepUnlessPurged(calls.summary),
      sentiment: keep(calls.sentiment),
      recordingUrl: keepUnlessPurged(calls.recordingUrl),
      dynamicVariables: keepUnlessPurged(calls.dynamicVariables),
      analysisData: keepUnlessPurged(calls.analysisData),
      // Only forward: ongoing < ended < analyzed, whatever order the events arrive in.
      status: sql2.raw(
        "IF(FIELD(VALUES(`status`),'ongoing','ended','analyzed') > FIELD(`status`,'ongoing','ended','analyzed'), VALUES(`status`), `status`)"
      )
    }
  });
  return Number(res.insertId);
}

export {
  ConfigError,
  loadConfig,
  redisTarget,
  createRedis,
  getValues,
  assertNoEviction,
  isRedisUnavailable,
  cacheKeys,
  TTL_MS,
  isCiphertext,
  safeEqual,
  createLogger,
  QUEUE_NAMES,
  JOB_TIMEOUT_MS,
  concurrencyOf,
  isQueueName,
  jobIds,
  bullPrefix,
  webhookJobSchema,
  bookingJobSchema,
  notificationJobSchema,
  syncJobSchema,
  defaultJobSchema,
  piiSettings,
  blindIndexKeyMissing,
  sealPii,
  openPii,
  open,
  sealPiiJson,
  isSealedJson,
  openJson,
  phoneIndex,
  phoneIndexCandidates,
  forgetPiiFlags,
  assertPiiKeys,
  createContext,
  eventsChannel,
  publishEvent,
  HANDLED_EVENTS,
  callSchema,
  webhookSchema,
  isHandledEvent,
  describeIssues,
  BreakerOpenError,
  serviceBreaker,
  exportBreakerState,
  audit,
  CalcomError,
  isServiceFailure,
  breakerAlertRef,
  bookingDeps,
  nearestFreeSlots,
  describeSlots,
  BookingRejected,
  BookingDeferred,
  executeBooking,
  callCalcom,
  recordFinalFailure,
  bookingIdempotencyKey,
  upsertCustomer,
  upsertCall,
  parseRequestedStart,
  parseRequestedRange,
  parseDateAndTime,
  toZonedIso,
  speakTime,
  retellKeysByAccount,
  isRetellNotFound,
  describeRetellError,
  openRetellSession,
  WEBHOOK_PATHS,
  agentsCacheKey,
  fetchAgents,
  checkAgentWebhook,
  runSync,
  problemLines
};
//# sourceMappingURL=chunk-PSMONT7N.js.map
