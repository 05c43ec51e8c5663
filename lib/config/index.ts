/**
 * The environment, read once and validated with zod. A missing or bad value stops start-up with
 * the variable's name and what was expected, so an operator knows exactly what to change.
 */
import { z } from 'zod';
import { smtpUrlProblem } from './smtp-url';

const csv = z
  .string()
  .transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean));

const base64Key32 = z
  .string()
  .refine((s) => Buffer.from(s, 'base64').length === 32, 'must be 32 bytes encoded as base64 (openssl rand -base64 32)');

export const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^mysql:\/\//, 'must be a mysql:// URL, e.g. mysql://root@127.0.0.1:3306/callbook'),
  /** Required unless REDIS_CLUSTER_NODES is set (then it defaults to the first node; see loadConfig). */
  REDIS_URL: z
    .string('must be set: a redis:// URL, e.g. redis://127.0.0.1:6379 (or set REDIS_CLUSTER_NODES for a Redis Cluster)')
    .regex(/^rediss?:\/\//, 'must be a redis:// URL, e.g. redis://127.0.0.1:6379'),
  /**
   * A Redis Cluster: comma-separated `host:port` of some of its nodes (ioredis finds the rest).
   * Every connection — cache, breakers, queues, workers — then talks to the cluster; REDIS_URL,
   * if also set, only lends its username/password/TLS (`rediss://`) to the cluster connections.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .refine(
      (s) => {
        const parts = s.split(',').map((p) => p.trim()).filter(Boolean);
        return parts.length > 0 && parts.every((p) => /^[^\s:/]+:\d{1,5}$/.test(p));
      },
      'must be comma-separated host:port pairs, e.g. 10.0.0.1:7000,10.0.0.2:7000',
    )
    .transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean))
    .optional(),
  /** Namespace for every Redis key and queue; tests use one per run. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_{}-]*$/, 'letters, digits, _ - { } only')
    // A brace elsewhere would change which Redis Cluster slot a key beside another lands in (lib/redis/keys sameSlotKey).
    .refine((p) => !/[{}]/.test(p) || /^[^{}]*\{[^{}]+\}[^{}]*$/.test(p), 'braces only as one Redis Cluster hash tag with something inside, e.g. {callbook}')
    .default('callbook'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: z.string().url().optional(),
  RETELL_API_KEY: z.string().min(1, 'must be set: the Retell API key that signs webhooks'),
  RETELL_API_URL: z.string().url().default('https://api.retellai.com'),
  CALCOM_API_URL: z.string().url().default('https://api.cal.com/v2'),
  CALCOM_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(120),
  /** Of each key's CALCOM_RATE_LIMIT_PER_MINUTE, how many only live calls may use; unset: a sixth, rounded up (see reservedForCalls). */
  CALCOM_RATE_LIMIT_RESERVED_FOR_CALLS: z.coerce.number().int().min(0).optional(),
  // The booking lock's lease is this + 8 s: a worker killed mid-booking holds its booking that long.
  CALCOM_TIMEOUT_MS: z.coerce.number().int().positive().max(30_000, 'at most 30000 (30 s): the booking lock is held this long plus 8 s after a worker dies').default(10_000),
  ENCRYPTION_KEY: base64Key32,
  /** Earlier ENCRYPTION_KEYs (comma-separated base64), still accepted for decryption while `callbook keys rotate` runs. */
  ENCRYPTION_KEYS_PREVIOUS: csv
    .refine((keys) => keys.every((k) => Buffer.from(k, 'base64').length === 32), 'each key must be 32 bytes encoded as base64')
    .optional(),
  /** HMAC-SHA256 key of the phone blind index (customers.phone_index, calls.caller_index); required once PII encryption is on. */
  BLIND_INDEX_KEY: base64Key32.optional(),
  /** PII encryption for companies whose tenants entry does not say (piiEncryption). */
  PII_ENCRYPTION_DEFAULT: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  WEBHOOK_IP_ALLOWLIST: csv.optional(),
  /**
   * How many proxies of your own stand in front of the ingress (each appends to
   * X-Forwarded-For); the client is the right-most address none of them wrote. 0: the socket's
   * peer is the client. `true` means 1, `false` 0.
   */
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|\d{1,2})$/, 'must be the number of trusted proxy hops (0, 1, 2 …), or true (1) / false (0)')
    .default('0')
    .transform((v) => (v === 'true' ? 1 : v === 'false' ? 0 : Number(v))),
  /** Per source address and ingress process, every public route, before anything else runs. */
  RATE_LIMIT_FLOOD_PER_MINUTE: z.coerce.number().int().positive().default(60_000),
  /** Failed authentications per source address (all processes): past it, 429 instead of 401. */
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().positive().default(60),
  /**
   * Authenticated requests per company per minute on every route (all processes). The default is
   * about twice what bench/e2e measured a whole 2-core deployment to take (~13,000 webhooks a minute).
   */
  RATE_LIMIT_COMPANY_PER_MINUTE: z.coerce.number().int().positive().default(30_000),
  /** Open /events streams per token (the admin token counts as one token), across every ingress process. */
  EVENTS_MAX_STREAMS_PER_TOKEN: z.coerce.number().int().positive().default(20),
  /**
   * Retell's webhook and function bodies carry the call's transcript with each word's timing
   * (about 20 KB a minute of conversation: test/helpers/transcript): 1 MiB holds a call of about
   * 50 minutes. Not more by default: every body is held in memory while it is read and parsed
   * before its signature can be checked against a company's own key (README, "Live-call functions").
   */
  WEBHOOK_MAX_BODY_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  /**
   * A deadline from a request's first byte until its body has been read whole (Node's
   * requestTimeout; 408 and the connection closed after it, checked every quarter of it, so up to
   * 1.25× late). Not an idle timeout: a kept-alive connection's wait between requests and a long
   * answer (an /events stream) do not count. Node's own default is 300 s.
   */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(300_000).default(30_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DB_POOL_SIZE: z.coerce.number().int().positive().default(10),
  /** Statements slower than this are logged by operation name and duration (never values). */
  DB_SLOW_QUERY_MS: z.coerce.number().int().positive().default(200),
  CONCURRENCY_WEBHOOKS: z.coerce.number().int().positive().default(10),
  /**
   * A booking job mostly waits on Cal.com, and one past its company's Cal.com budget is deferred
   * rather than waiting here (lib/calcom/rate-limiter), so a process keeps 20 in flight: with Cal.com
   * answering in 200 ms that is 85 bookings a second against 23 with 5 (bench/RESULTS.md).
   */
  CONCURRENCY_BOOKINGS: z.coerce.number().int().positive().default(20),
  CONCURRENCY_SYNC: z.coerce.number().int().positive().default(1),
  CONCURRENCY_NOTIFICATIONS: z.coerce.number().int().positive().default(5),
  CONCURRENCY_DEFAULT: z.coerce.number().int().positive().default(2),
  /**
   * How long a worker's hold on a job lasts without renewal (BullMQ's lockDuration; renewed at
   * half of it while the job runs). The stalled-job check runs at the same interval, so the
   * jobs of a worker that died (kill -9, OOM) go to another worker within about twice this.
   */
  WORKER_LOCK_MS: z.coerce.number().int().min(1_000).default(30_000),
  /**
   * A worker that starts no job for this long while its queue has jobs waiting and it has a
   * free slot is wedged, and is replaced by a fresh one on a fresh connection (workers/supervise).
   */
  WORKER_WEDGE_MS: z.coerce.number().int().min(1_000).default(20_000),
  /** Where confirmations and alerts go: log (default), smtp (SMTP_URL), http (NOTIFY_HTTP_URL). */
  NOTIFY_TRANSPORT: z.enum(['log', 'smtp', 'http']).default('log'),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .superRefine((url, ctx) => {
      const problem = smtpUrlProblem(url);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  SMTP_FROM: z.string().default('callbook <noreply@localhost>'),
  NOTIFY_HTTP_URL: z.string().url().optional(),
  NOTIFY_HTTP_TOKEN: z.string().optional(),
  /** Who hears of an opened circuit breaker; empty = every company's operators. */
  OPERATOR_ALERT_EMAILS: csv.optional(),
  /** The inbound-call webhook answers empty rather than later than this (Retell waits before ringing). */
  INBOUND_DEADLINE_MS: z.coerce.number().int().min(0).default(80),
  /** How often every process publishes its metrics to Redis for /api/metrics to serve. */
  METRICS_PUBLISH_INTERVAL_MS: z.coerce.number().int().min(100).default(5_000),
  /** Bearer token Prometheus presents at /api/metrics; unset: every scrape is refused (401). */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters (openssl rand -hex 24)').optional(),
  /** How long /api/metrics serves the same rendered answer. */
  METRICS_CACHE_MS: z.coerce.number().int().min(0).default(1_000),
  /** After SIGTERM the web process answers /readyz 503 this long before it stops accepting connections. */
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).default(5_000),
  SYNC_INTERVAL_MS: z.coerce.number().int().min(10_000).default(600_000),
  /** Reconcile schedule (lib/calls/reconcile): how often Retell's call list is compared with what callbook processed. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(10_000).default(300_000),
  /** The furthest back one reconcile run looks (an outage longer than this needs `calls reconcile --since`). */
  RECONCILE_MAX_WINDOW_MS: z.coerce.number().int().min(60_000).default(72 * 3_600_000),
  RETENTION_CRON: z.string().default('0 3 * * *'),
  GDPR_EXPORT_DIR: z.string().default('./exports'),
  /** Whether to skip the Redis `maxmemory-policy noeviction` start-up check (managed Redis that hides CONFIG). */
  REDIS_SKIP_POLICY_CHECK: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});

export type Config = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Requests per key and minute only live calls may take (lib/calcom/rate-limiter): the setting, or a
 * sixth of the budget rounded up (20 of Cal.com's 120; at least 1 while background work keeps 1),
 * so a company's booking jobs never leave its callers waiting for Cal.com.
 */
export function reservedForCalls(config: Pick<Config, 'CALCOM_RATE_LIMIT_PER_MINUTE' | 'CALCOM_RATE_LIMIT_RESERVED_FOR_CALLS'>): number {
  const limit = config.CALCOM_RATE_LIMIT_PER_MINUTE;
  return config.CALCOM_RATE_LIMIT_RESERVED_FOR_CALLS ?? Math.min(Math.ceil(limit / 6), limit - 1);
}

/** Parse an environment (default process.env); throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`SMTP_URL=` in a compose file) means "not set", as it does in most tools.
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  // With a cluster, REDIS_URL is optional: the first node stands in for it (live-event
  // subscriptions connect there; classic pub/sub reaches every node of a cluster).
  if (given.REDIS_URL === undefined && given.REDIS_CLUSTER_NODES) {
    const first = given.REDIS_CLUSTER_NODES.split(',').map((p) => p.trim()).find(Boolean);
    if (first) given.REDIS_URL = `redis://${first}`;
  }
  if (given.WEBHOOK_RATE_LIMIT_PER_MINUTE !== undefined) {
    // Renamed, not silently ignored: it meant a budget per source address, which throttled every
    // tenant at once behind Retell's one sending address.
    throw new ConfigError([
      'WEBHOOK_RATE_LIMIT_PER_MINUTE is no longer read: use RATE_LIMIT_AUTH_FAILURES_PER_MINUTE (per address, failed authentications), RATE_LIMIT_COMPANY_PER_MINUTE (per company) or RATE_LIMIT_FLOOD_PER_MINUTE (per address, everything)',
    ]);
  }
  const result = envSchema.safeParse(given);
  if (result.success) {
    const reserved = result.data.CALCOM_RATE_LIMIT_RESERVED_FOR_CALLS;
    if (reserved !== undefined && reserved >= result.data.CALCOM_RATE_LIMIT_PER_MINUTE) {
      throw new ConfigError([
        `CALCOM_RATE_LIMIT_RESERVED_FOR_CALLS is invalid: must be below CALCOM_RATE_LIMIT_PER_MINUTE (${result.data.CALCOM_RATE_LIMIT_PER_MINUTE}), or background work could never reach Cal.com`,
      ]);
    }
    if (result.data.PII_ENCRYPTION_DEFAULT && !result.data.BLIND_INDEX_KEY) {
      throw new ConfigError(['BLIND_INDEX_KEY is missing: PII_ENCRYPTION_DEFAULT=true needs it (32 bytes, base64: openssl rand -base64 32)']);
    }
    return result.data;
  }
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const got = env[name];
    const what = got === undefined ? 'is missing' : 'is invalid';
    return `${name} ${what}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}
