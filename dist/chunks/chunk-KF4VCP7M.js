import {
  connectDatabase
} from "./chunk-AFPE6KLN.js";
import {
  TieredCache,
  createRedis,
  keyNamespace,
  redisTarget
} from "./chunk-XN5S2XO3.js";
import {
  configurePii
} from "./chunk-RUAA5PEO.js";
import {
  closeQueues,
  createQueues
} from "./chunk-Z42SQZT6.js";
import {
  Cipher
} from "./chunk-E5ZFRTTD.js";

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

export {
  ConfigError,
  loadConfig,
  createLogger,
  createContext
};
//# sourceMappingURL=chunk-KF4VCP7M.js.map
