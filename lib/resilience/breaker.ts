/**
 * Circuit breaker whose state lives in Redis.
 *
 * Many worker processes call the same external services (Cal.com, Retell, the database). A
 * per-process breaker would let each process hammer a dead service for its own 5 failures and
 * send its own probe; keeping the state in one Redis hash per service means every process opens,
 * probes and closes together. Every transition is one Lua script (atomic, single key, so it is
 * Redis-Cluster-safe) and all times come from the Redis server clock (`TIME`), so processes with
 * skewed clocks still agree on when the breaker opened and when a probe may go.
 *
 * Hash `${keyPrefix}mcp:breaker:<service>` (absent = CLOSED with no failures):
 *   state       'CLOSED' | 'OPEN' | 'HALF_OPEN'  (stored; an OPEN past openUntil *reads* HALF_OPEN)
 *   failures    consecutive failures
 *   openedAt    server ms when it last opened
 *   openUntil   server ms when the first probe may go (openedAt + openMs of the opener)
 *   probeUntil  server ms after which an outstanding probe counts as lost (stored HALF_OPEN only)
 */
import type { Redis } from 'ioredis';
import { withCommand } from '../redis/command';
import { redisKeys } from '../redis/keys';

export type BreakerState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

export interface BreakerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface BreakerOptions {
  redis: Redis;
  /** External service name: 'calcom', 'retell', 'db', … */
  service: string;
  /** Prepended to the hash key (default ''). */
  keyPrefix?: string;
  /** Consecutive failures that open the breaker (default 5). */
  failureThreshold?: number;
  /** How long the breaker stays OPEN before one probe may go (default 60 000 ms). */
  openMs?: number;
  /** A probe that has not reported back after this long is presumed lost; another may go (default 30 000 ms). */
  probeTimeoutMs?: number;
  logger?: BreakerLogger;
  /** Called by the process that performed the transition (other processes see it on their next admit/status). */
  onStateChange?: (service: string, from: BreakerState, to: BreakerState) => void;
}

export type Admission =
  | { allowed: true; probe: boolean }
  | { allowed: false; state: 'OPEN' | 'HALF_OPEN'; retryAt: number /* epoch ms when a probe may go */ };

export interface BreakerStatus {
  service: string;
  state: BreakerState;
  failures: number;
  openedAt?: number;
  retryAt?: number;
}

export class BreakerOpenError extends Error {
  override readonly name = 'BreakerOpenError';
  readonly service: string;
  readonly state: 'OPEN' | 'HALF_OPEN';
  /** Epoch ms (Redis server clock) when a probe may go. */
  readonly retryAt: number;

  constructor(service: string, retryAt: number, state: 'OPEN' | 'HALF_OPEN' = 'OPEN') {
    const wait = Math.max(0, retryAt - Date.now());
    const why = state === 'OPEN' ? 'is OPEN' : 'is HALF_OPEN with a probe in flight';
    super(`circuit breaker for ${service} ${why}; calls refused until ${new Date(retryAt).toISOString()} (~${Math.ceil(wait / 1000)}s)`);
    this.service = service;
    this.state = state;
    this.retryAt = retryAt;
  }
}

/** Gauge value for mcp_circuit_breaker_state: CLOSED=0, HALF_OPEN=1, OPEN=2 */
export function breakerStateValue(s: BreakerState): number {
  switch (s) {
    case 'CLOSED':
      return 0;
    case 'HALF_OPEN':
      return 1;
    case 'OPEN':
      return 2;
  }
}

/**
 * One script for every operation: KEYS[1] = hash; ARGV = op, isProbe (0/1), failureThreshold,
 * openMs, probeTimeoutMs. Returns
 *   { allowed, probe, effectiveState, failures, openedAt, retryAt, transitionFrom, transitionTo }
 * with 0 / '' for "none". Ops: admit | success | failure | release | status | reset.
 */
const BREAKER_LUA = `
local key = KEYS[1]
local op = ARGV[1]
local isProbe = ARGV[2] == '1'
local threshold = tonumber(ARGV[3])
local openMs = tonumber(ARGV[4])
local probeMs = tonumber(ARGV[5])

-- The server's clock, read once and only when a decision needs it: CLOSED admits and reports
-- successes without it (every Cal.com request's two calls on a healthy day: two commands fewer).
local clock
local function now()
  if not clock then
    local t = redis.call('TIME')
    clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return clock
end

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
  if now() >= openUntil then state = 'HALF_OPEN' end
end

local allowed, probe = 0, 0
local from, to = '', ''

local function transition(newState)
  if state ~= newState then from = state; to = newState end
  state = newState
end

local function open()
  openedAt = now()
  openUntil = openedAt + openMs
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
  elseif state == 'HALF_OPEN' and now() >= probeUntil then
    -- Either the open period just ran out (probeUntil 0) or the previous probe is presumed lost.
    allowed = 1; probe = 1
    probeUntil = now() + probeMs
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

const COMMAND = 'callbookCircuitBreaker';

type Op = 'admit' | 'success' | 'failure' | 'release' | 'status' | 'reset';
type RawReply = [number, number, string, number, number, number, string, string];

interface BreakerCommands {
  [COMMAND](key: string, op: Op, isProbe: 0 | 1, threshold: number, openMs: number, probeMs: number): Promise<RawReply>;
}

interface Outcome {
  allowed: boolean;
  probe: boolean;
  state: BreakerState;
  failures: number;
  openedAt: number;
  retryAt: number;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`breaker ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function asState(s: string): BreakerState {
  if (s === 'CLOSED' || s === 'OPEN' || s === 'HALF_OPEN') return s;
  throw new Error(`circuit breaker: unexpected state ${JSON.stringify(s)} in Redis`);
}

export class RedisBreaker {
  readonly service: string;
  readonly key: string;
  private readonly redis: Redis & BreakerCommands;
  private readonly failureThreshold: number;
  private readonly openMs: number;
  private readonly probeTimeoutMs: number;
  private readonly logger: BreakerLogger | undefined;
  private readonly onStateChange: BreakerOptions['onStateChange'];

  constructor(opts: BreakerOptions) {
    if (!opts.service) throw new RangeError('breaker service name is required');
    this.service = opts.service;
    this.key = (opts.keyPrefix ?? '') + redisKeys.breaker(opts.service);
    this.failureThreshold = positiveInt('failureThreshold', opts.failureThreshold ?? 5);
    this.openMs = positiveInt('openMs', opts.openMs ?? 60_000);
    this.probeTimeoutMs = positiveInt('probeTimeoutMs', opts.probeTimeoutMs ?? 30_000);
    this.logger = opts.logger;
    this.onStateChange = opts.onStateChange;

    this.redis = withCommand<BreakerCommands>(opts.redis, COMMAND, BREAKER_LUA);
  }

  /** Ask before calling the service. `probe: true` means this call is the single HALF_OPEN probe and must report back. */
  async admit(): Promise<Admission> {
    const o = await this.exec('admit', false);
    if (o.allowed) return { allowed: true, probe: o.probe };
    return { allowed: false, state: o.state === 'OPEN' ? 'OPEN' : 'HALF_OPEN', retryAt: o.retryAt };
  }

  /** The call succeeded. In CLOSED this resets the failure count; a probe's success closes the breaker. */
  async success(probe: boolean): Promise<void> {
    await this.exec('success', probe);
  }

  /** The call failed. In CLOSED this counts towards the threshold; a probe's failure re-opens for openMs. */
  async failure(probe: boolean): Promise<void> {
    await this.exec('failure', probe);
  }

  /**
   * The call ended with an outcome that says nothing about the service's health (neither success
   * nor failure). For a probe this frees the probe slot so the next admit() may probe at once;
   * otherwise it is a no-op.
   */
  async release(probe: boolean): Promise<void> {
    if (probe) await this.exec('release', true);
  }

  /**
   * admit → run fn → record. Throws BreakerOpenError when refused. `isFailure` decides which errors
   * count (default: all); errors that don't count still propagate but are recorded neutrally (the
   * failure count is neither reset nor incremented; a probe slot is released). Errors while
   * recording the outcome are logged, never mask fn's own result or error.
   */
  async run<T>(fn: () => Promise<T>, isFailure: (err: unknown) => boolean = () => true): Promise<T> {
    const adm = await this.admit();
    if (!adm.allowed) throw new BreakerOpenError(this.service, adm.retryAt, adm.state);
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      let counts: boolean;
      try {
        counts = isFailure(err);
      } catch {
        counts = true;
      }
      await this.record(counts ? 'failure' : 'release', adm.probe);
      throw err;
    }
    await this.record('success', adm.probe);
    return result;
  }

  /** Effective state as every process sees it (an OPEN whose time has passed reads HALF_OPEN). */
  async status(): Promise<BreakerStatus> {
    const o = await this.exec('status', false);
    const s: BreakerStatus = { service: this.service, state: o.state, failures: o.failures };
    if (o.state !== 'CLOSED') {
      s.openedAt = o.openedAt;
      s.retryAt = o.retryAt;
    }
    return s;
  }

  /** Force CLOSED with no failures (operator command). */
  async reset(): Promise<void> {
    await this.exec('reset', false);
  }

  private async record(op: 'success' | 'failure' | 'release', probe: boolean): Promise<void> {
    try {
      await this.exec(op, probe);
    } catch (err) {
      this.logger?.warn({ service: this.service, op, probe, err }, 'circuit breaker: could not record call outcome');
    }
  }

  private async exec(op: Op, probe: boolean): Promise<Outcome> {
    const r = await this.redis[COMMAND](this.key, op, probe ? 1 : 0, this.failureThreshold, this.openMs, this.probeTimeoutMs);
    const [allowed, isProbe, state, failures, openedAt, retryAt, from, to] = r;
    const out: Outcome = {
      allowed: allowed === 1,
      probe: isProbe === 1,
      state: asState(state),
      failures: Number(failures),
      openedAt: Number(openedAt),
      retryAt: Number(retryAt),
    };
    if (from && to) this.transitioned(asState(from), asState(to), out);
    return out;
  }

  private transitioned(from: BreakerState, to: BreakerState, o: Outcome): void {
    const obj = { service: this.service, from, to, failures: o.failures, ...(to === 'OPEN' ? { retryAt: o.retryAt } : {}) };
    if (to === 'OPEN') this.logger?.warn(obj, `circuit breaker for ${this.service} opened`);
    else if (to === 'CLOSED') this.logger?.info(obj, `circuit breaker for ${this.service} closed`);
    else this.logger?.info(obj, `circuit breaker for ${this.service} half-open: sending one probe`);
    try {
      this.onStateChange?.(this.service, from, to);
    } catch (err) {
      this.logger?.warn({ service: this.service, err }, 'circuit breaker: onStateChange threw');
    }
  }
}
