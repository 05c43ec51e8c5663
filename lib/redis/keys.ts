/**
 * Every Redis key callbook writes, by name, without the namespace (`REDIS_PREFIX:`, prepended by
 * whoever writes). One place, so the keys a path touches — and its round trips — can be counted
 * and merged with confidence; test/redis-keys.test.ts refuses key literals anywhere else.
 * BullMQ's own keys (`{prefix}:<queue>:…`) are BullMQ's: lib/queues names only their prefix.
 */
export const redisKeys = {
  // Caches (lib/cache TieredCache): values boxed as JSON, with a TTL.
  phoneResolution: (e164: string) => `mcp:phone:resolution:${e164}`,
  eventTypes: (companyId: number) => `mcp:calcom:event_types:${companyId}`,
  availability: (eventTypeId: number, date: string) => `mcp:calcom:availability:${eventTypeId}:${date}`,
  /** Every day of one event type's availability (for invalidatePrefix). */
  availabilityPrefix: (eventTypeId: number) => `mcp:calcom:availability:${eventTypeId}:`,
  retellAgents: (companyId: number | null) => `mcp:retell:agents:${companyId ?? 'global'}`,
  /** The company owning a number and its encrypted Retell key (Redis only for known numbers). */
  retellWebhookKey: (e164: string) => `mcp:retell:company_key:${e164}`,
  /** Whether any company signs with a Retell key of its own (one flag for all). */
  retellOwnKeysExist: () => 'mcp:retell:own_keys_exist',
  inboundBranch: (branchId: number) => `mcp:inbound:branch:${branchId}`,
  authToken: (tokenHash: string) => `auth:token:${tokenHash}`,

  // Booking guards (lib/booking/book.ts).
  /** The Cal.com uid of a booking, written the moment Cal.com answers (24 h). */
  booking: (idempotencyKey: string) => `mcp:calcom:booking:${idempotencyKey}`,
  /** The lease of one booking attempt. */
  bookingLock: (idempotencyKey: string) => `mcp:calcom:booking-lock:${idempotencyKey}`,

  // Shared state.
  /** Circuit breaker hash per outside service (lib/resilience). */
  breaker: (service: string) => `mcp:breaker:${service}`,
  /** Cal.com sliding window per API key, by the key's hash (lib/calcom/rate-limiter). */
  calcomRateLimit: (apiKeyHash: string) => `mcp:calcom:ratelimit:${apiKeyHash}`,
  /** Beside a window (its full key, namespace included): when the next deferred job's turn comes. */
  calcomRateLimitTurns: (windowKey: string) => sameSlotKey(windowKey, ':turns'),
  /**
   * Counts per minute window (lib/ratelimit/minute-counter): families `company` and `operator`
   * (budgets per company) and `authfail` (failed authentications per address).
   */
  rateLimit: (family: string, key: number | string, window: number) => `ratelimit:${family}:${key}:${window}`,
  /** A worker process's published metrics (lib/metrics/publish); `metricsProcessPattern` finds them all. */
  metricsProcess: (host: string, pid: number) => `metrics:proc:${host}:${pid}`,
  metricsProcessPattern: () => 'metrics:proc:*',
  /** The ids of a call's `calls replay` jobs, which the GDPR erase cannot derive from the call id (lib/calls/enqueue-webhook). */
  replayJobs: (retellCallId: string) => `replay:jobs:${retellCallId}`,
  /** Pub/sub channel of a company's live events (lib/events). */
  eventsChannel: (companyId: number) => `events:company:${companyId}`,
};

/**
 * `key` + `suffix` in the same Redis Cluster slot as `key`, for a script that touches both. Redis
 * hashes the first `{…}` with something inside, else the whole key: a key with such a tag keeps it;
 * one without becomes its own tag, which only works without braces in it (REDIS_PREFIX allows
 * braces only as one such tag, lib/config).
 */
export function sameSlotKey(key: string, suffix: string): string {
  const open = key.indexOf('{');
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
  if (close > open + 1) return key + suffix;
  if (/[{}]/.test(key)) throw new Error(`no key beside ${key} can share its Redis Cluster slot: it has braces but no hash tag`);
  return `{${key}}${suffix}`;
}
