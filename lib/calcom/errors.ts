/**
 * Errors of the Cal.com API v2 client. Every failure of a request (HTTP error, timeout, dropped
 * connection, unparseable 2xx) becomes one `CalcomError` whose `kind` says what happened, `retryable`
 * whether trying again can help, and `uncertain` whether Cal.com may have acted on it anyway (so the
 * caller must reconcile, e.g. list bookings by event type and time, before posting again). Cal.com
 * answers a taken slot with a plain 400, so 400s are classified by their message text.
 */

export type CalcomErrorKind =
  | 'slot_unavailable'
  | 'out_of_bounds'
  | 'in_past'
  | 'validation'
  | 'auth'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'server'
  | 'timeout'
  | 'network'
  | 'invalid_response';

export interface CalcomErrorInit {
  kind: CalcomErrorKind;
  method: string;
  /** Path below the base URL, without the query string (e.g. `/bookings/abc/cancel`). */
  path: string;
  /** Route template (e.g. `POST /bookings/:uid/cancel`), the same value the metrics are labelled with. */
  route?: string;
  status?: number;
  code?: string;
  /** Cal.com's message, or a description of the failure. */
  detail: string;
  retryable: boolean;
  uncertain: boolean;
  retryAt?: number;
  details?: unknown;
  /** The caller's own signal aborted the request (not a Cal.com failure). */
  aborted?: boolean;
  cause?: unknown;
}

export class CalcomError extends Error {
  override readonly name = 'CalcomError';
  readonly kind: CalcomErrorKind;
  readonly status?: number;
  /** Cal.com's exception name, e.g. `BadRequestException`, `ThrottlerException`. */
  readonly code?: string;
  readonly method: string;
  readonly path: string;
  readonly route?: string;
  /** Trying again (later) can succeed: server, timeout, network, rate_limited, invalid_response on a 2xx. */
  readonly retryable: boolean;
  /** The request may have reached Cal.com and been acted on: reconcile before re-posting. */
  readonly uncertain: boolean;
  /** rate_limited: epoch ms when the key's window frees up again. */
  readonly retryAt?: number;
  /** `error.details` of Cal.com's envelope, when present. */
  readonly details?: unknown;
  /** The caller's signal aborted the request; not counted as a service failure. */
  readonly aborted: boolean;

  constructor(init: CalcomErrorInit) {
    const head = [init.status ?? init.kind, init.code].filter((x) => x !== undefined && x !== '').join(' ');
    super(`Cal.com ${init.method} ${init.path} → ${head}: ${init.detail}`, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.kind = init.kind;
    this.method = init.method;
    this.path = init.path;
    this.retryable = init.retryable;
    this.uncertain = init.uncertain;
    this.aborted = init.aborted ?? false;
    if (init.route !== undefined) this.route = init.route;
    if (init.status !== undefined) this.status = init.status;
    if (init.code !== undefined) this.code = init.code;
    if (init.retryAt !== undefined) this.retryAt = init.retryAt;
    if (init.details !== undefined) this.details = init.details;
  }
}

/** Does this error count against the circuit breaker? server/timeout/network/invalid_response yes; 4xx (incl. 429) no. */
export function isServiceFailure(err: unknown): boolean {
  if (!(err instanceof CalcomError) || err.aborted) return false;
  return err.kind === 'server' || err.kind === 'timeout' || err.kind === 'network' || err.kind === 'invalid_response';
}

/** Methods whose effect a lost answer leaves in doubt. */
export function isUnsafeMethod(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}

const MAX_DETAIL = 500;

function truncate(s: string): string {
  return s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL)}…` : s;
}

function messageOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join('; ');
  return undefined;
}

/** Code, message and details of an error body: the envelope, Nest's bare `{statusCode,message}`, or text. */
export function parseErrorBody(text: string): { code?: string; message: string; details?: unknown } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const trimmed = text.trim();
    return { message: trimmed ? truncate(trimmed) : '(empty body)' };
  }
  if (typeof body === 'object' && body !== null) {
    const o = body as Record<string, unknown>;
    const env = o.error;
    if (typeof env === 'object' && env !== null) {
      const e = env as Record<string, unknown>;
      const out: { code?: string; message: string; details?: unknown } = {
        message: truncate(messageOf(e.message) ?? JSON.stringify(env)),
      };
      if (typeof e.code === 'string') out.code = e.code;
      if (e.details !== undefined) out.details = e.details;
      return out;
    }
    const msg = messageOf(o.message);
    if (msg !== undefined) {
      const out: { code?: string; message: string } = { message: truncate(msg) };
      if (typeof o.error === 'string') out.code = o.error;
      return out;
    }
  }
  return { message: truncate(text.trim() || '(empty body)') };
}

const OUT_OF_BOUNDS = /can[’']t be booked at the "start"/i;
const IN_PAST = /\bin the past\b/i;
const TAKEN = /already has booking|not available/i;

/** Kind of a 400/422 by Cal.com's message: taken slot, outside the booking window, in the past, or invalid. */
export function classify400(message: string): Extract<CalcomErrorKind, 'slot_unavailable' | 'out_of_bounds' | 'in_past' | 'validation'> {
  if (OUT_OF_BOUNDS.test(message)) return 'out_of_bounds';
  if (IN_PAST.test(message)) return 'in_past';
  if (TAKEN.test(message)) return 'slot_unavailable';
  return 'validation';
}

/**
 * Epoch ms from `X-RateLimit-Reset-Default`: seconds remaining (Cal.com's code), or epoch seconds when
 * the value is > 1e9 (as one third-party page describes it); `now + 60 s` when absent or unreadable.
 */
export function retryAtFromReset(header: string | null | undefined, now: number = Date.now()): number {
  const v = header === null || header === undefined || header.trim() === '' ? NaN : Number(header);
  if (!Number.isFinite(v) || v < 0) return now + 60_000;
  if (v > 1e12) return v; // already epoch ms
  if (v > 1e9) return v * 1000;
  return now + Math.ceil(v * 1000);
}

export interface HttpFailure {
  method: string;
  path: string;
  route?: string;
  status: number;
  bodyText: string;
  headers: Pick<Headers, 'get'>;
  now?: number;
}

/** The `CalcomError` for a non-2xx answer. */
export function errorFromResponse(f: HttpFailure): CalcomError {
  const { code, message, details } = parseErrorBody(f.bodyText);
  const base = { method: f.method, path: f.path, route: f.route, status: f.status, code, detail: message, details };
  const s = f.status;
  if (s === 429) {
    return new CalcomError({
      ...base,
      kind: 'rate_limited',
      retryable: true,
      uncertain: false,
      retryAt: retryAtFromReset(f.headers.get('x-ratelimit-reset-default'), f.now),
    });
  }
  if (s >= 500) {
    return new CalcomError({ ...base, kind: 'server', retryable: true, uncertain: isUnsafeMethod(f.method) });
  }
  if (s === 408) {
    return new CalcomError({ ...base, kind: 'timeout', retryable: true, uncertain: isUnsafeMethod(f.method) });
  }
  const kind: CalcomErrorKind =
    s === 400 || s === 422
      ? classify400(message)
      : s === 401
        ? 'auth'
        : s === 403
          ? 'forbidden'
          : s === 404
            ? 'not_found'
            : s === 409
              ? 'conflict'
              : s >= 400
                ? 'validation'
                : 'invalid_response'; // 1xx/3xx: not an answer this client can use (e.g. a redirect)
  return new CalcomError({ ...base, kind, retryable: false, uncertain: false });
}
