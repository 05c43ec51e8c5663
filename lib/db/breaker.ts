/**
 * The database's circuit breaker, one per process (per pool). Unlike the Cal.com breaker its
 * state is not in Redis: it guards this process's own pool, and checking Redis on every query
 * would double the cost of every query. Opens after `threshold` consecutive connection failures
 * or timeouts — never on constraint violations or SQL errors, which prove the server is up.
 */
export type DbBreakerState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

export class DbUnavailableError extends Error {
  override readonly name = 'DbUnavailableError';
  constructor(readonly retryAt: number, cause?: unknown) {
    super(`database unavailable (circuit open until ${new Date(retryAt).toISOString()})`, { cause });
  }
}

/** The DbUnavailableError behind `err`, if any (drizzle wraps driver errors in its own, with `cause`). */
export function dbUnavailable(err: unknown): DbUnavailableError | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DbUnavailableError) return e;
  }
  return undefined;
}

const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'POOL_CLOSED',
]);

/** Connection-level trouble (the server is unreachable or not answering), as opposed to a query the server rejected. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; fatal?: boolean; message?: string } | undefined;
  if (!e) return false;
  if (e.code && CONNECTION_ERRORS.has(e.code)) return true;
  return /connect ETIMEDOUT|Connection lost|Pool is closed|Too many connections/i.test(e.message ?? '');
}

export class DbBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private stateValue: DbBreakerState = 'CLOSED';

  constructor(
    private readonly threshold = 5,
    private readonly openMs = 30_000,
    private readonly onChange?: (from: DbBreakerState, to: DbBreakerState) => void,
  ) {}

  get state(): DbBreakerState {
    if (this.stateValue === 'OPEN' && Date.now() >= this.openedAt + this.openMs) return 'HALF_OPEN';
    return this.stateValue;
  }

  get retryAt(): number {
    return this.openedAt + this.openMs;
  }

  /** Throws DbUnavailableError while open; in half-open lets one probe through. Returns whether this call is the probe. */
  admit(): boolean {
    const s = this.state;
    if (s === 'CLOSED') return false;
    if (s === 'HALF_OPEN' && !this.probing) {
      this.probing = true;
      return true;
    }
    throw new DbUnavailableError(s === 'OPEN' ? this.retryAt : Date.now() + 1_000);
  }

  success(probe: boolean): void {
    if (probe) this.probing = false;
    this.failures = 0;
    if (this.stateValue !== 'CLOSED') this.move('CLOSED');
  }

  failure(probe: boolean): void {
    if (probe) this.probing = false;
    this.failures++;
    if (probe || (this.stateValue === 'CLOSED' && this.failures >= this.threshold)) {
      this.openedAt = Date.now();
      this.move('OPEN');
    }
  }

  /** A query the server answered (even with an error): not evidence against the connection. */
  neutral(probe: boolean): void {
    this.success(probe);
  }

  private move(to: DbBreakerState): void {
    const from = this.stateValue;
    this.stateValue = to;
    if (from !== to) this.onChange?.(from, to);
  }
}
