/**
 * Typed client of the Cal.com API v2 (bookings, slots, event types) for one API key.
 *
 * - One table (`ROUTES`) holds every endpoint with its `cal-api-version`; a missing or wrong version
 *   silently selects Cal.com's legacy controllers, so no request is built without it.
 * - Request bodies are built field by field from the typed input: Cal.com rejects unknown properties
 *   (e.g. `teamId`) with a 400, so nothing the caller passes along by accident is ever sent.
 * - Each request waits for `limiter.acquire(apiKey)` (when given), then runs under
 *   `AbortSignal.any([timeout, callerSignal])`; its duration is observed in `apiDuration` labelled
 *   with the route template (never a raw uid).
 * - Every failure of the HTTP exchange is a `CalcomError` (see errors.ts); 2xx answers are checked
 *   against schemas.ts. Two exceptions, both before anything is sent: a caller signal that is already
 *   aborted (or aborts while waiting for the limiter) rejects with its own reason, and limiter errors
 *   (Redis down) propagate unchanged. A caller abort during the exchange is a `CalcomError` with
 *   `aborted: true` (kind network, code Aborted), which `isServiceFailure` does not count.
 * - No retries here: the worker/queue owns retries and reconciliation of `uncertain` failures.
 */
import type { z } from 'zod';
import { fetchTransport, NOT_SENT_CODES, type HttpAnswer, type HttpTransport } from '../http/transport';
import { apiDuration } from '../metrics';
import { CalcomError, errorFromResponse, isUnsafeMethod } from './errors';
import {
  bookingListResponseSchema,
  bookingResponseSchema,
  eventTypeListResponseSchema,
  eventTypeResponseSchema,
  slotsResponseSchema,
  teamEventTypeListResponseSchema,
  type CalEventType,
  type CalTeamEventType,
} from './schemas';

export type { CalEventType, CalTeamEventType } from './schemas';

/** `cal-api-version` per endpoint; `null` = send none (team event types). */
export const ROUTES = {
  'POST /bookings': '2024-08-13',
  'GET /bookings': '2024-08-13',
  'GET /bookings/:uid': '2024-08-13',
  'POST /bookings/:uid/reschedule': '2024-08-13',
  'POST /bookings/:uid/cancel': '2024-08-13',
  'GET /slots': '2024-09-04',
  'GET /event-types': '2024-06-14',
  'GET /event-types/:id': '2024-06-14',
  'GET /teams/:teamId/event-types': null,
} as const satisfies Record<string, string | null>;

export type CalcomRoute = keyof typeof ROUTES;

export interface CalcomLimiter {
  acquire(apiKey: string, signal?: AbortSignal): Promise<void>;
}

export interface CalcomClientOptions {
  /** e.g. `https://api.cal.com/v2` */
  baseUrl: string;
  apiKey: string;
  /** Per request, after the limiter admitted it; default 10 000. */
  timeoutMs?: number;
  limiter?: CalcomLimiter;
  /** How requests go out (lib/http/keep-alive `keepAliveRequest` in the processes); default: over `fetch`. */
  transport?: HttpTransport;
  /** A fetch to send through when no `transport` is given (tests); default the global one. */
  fetch?: typeof fetch;
}

export interface CalcomAttendeeInput {
  name: string;
  /** IANA zone. */
  timeZone: string;
  email?: string;
  /** E.164. */
  phoneNumber?: string;
  /** e.g. "de". */
  language?: string;
}

export interface CreateBookingInput {
  /** UTC ISO, e.g. 2026-10-21T07:00:00Z. */
  start: string;
  eventTypeId: number;
  attendee: CalcomAttendeeInput;
  /** ≤ 50 keys, key ≤ 40 chars, value ≤ 500 chars. */
  metadata?: Record<string, string>;
  lengthInMinutes?: number;
  bookingFieldsResponses?: Record<string, unknown>;
  location?: unknown;
}

export interface ListBookingsFilter {
  eventTypeId?: number;
  eventTypeIds?: number[];
  afterStart?: string;
  beforeEnd?: string;
  /** upcoming, recurring, past, cancelled, unconfirmed */
  status?: string[];
  attendeeEmail?: string;
  attendeeName?: string;
  bookingUid?: string;
  teamId?: number;
  take?: number;
  skip?: number;
}

export interface GetSlotsQuery {
  eventTypeId: number;
  /** UTC ISO or YYYY-MM-DD. */
  start: string;
  end: string;
  timeZone?: string;
  duration?: number;
}

export type CalBooking = {
  id: number;
  uid: string;
  status: string;
  start: string;
  end: string;
  eventTypeId: number;
  metadata: Record<string, string>;
  attendees: Array<{ name: string; email?: string; timeZone: string; phoneNumber?: string }>;
  rescheduledToUid?: string;
  rescheduledFromUid?: string;
  title?: string;
  duration?: number;
};

export type CalSlots = Record<string, Array<{ start: string; end?: string }>>;

/** A request's timeout when none is given (CALCOM_TIMEOUT_MS defaults to the same). */
export const DEFAULT_TIMEOUT_MS = 10_000;
const LIST_PAGE_SIZE = 100;
/** listAllBookings stops with an error beyond this many pages (a runaway query, not a real tenant). */
const LIST_MAX_PAGES = 100;

/**
 * node:http refusing to build the request (a header value with a line break or a non-Latin-1
 * character — a pasted API key with its newline): nothing was sent, and no retry can succeed.
 * Reported as 'auth' so that neither the job's retries nor the shared Cal.com breaker count it.
 */
const UNSENDABLE_CODES = new Set(['ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN', 'ERR_INVALID_ARG_VALUE', 'ERR_UNESCAPED_CHARACTERS']);

interface RequestSpec<S extends z.ZodType> {
  route: CalcomRoute;
  /** Path below the base URL, params already encoded. */
  path: string;
  query?: URLSearchParams;
  body?: Record<string, unknown>;
  schema: S;
}

function causeCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

function setIf(q: URLSearchParams, name: string, v: string | number | undefined): void {
  if (v !== undefined && v !== '') q.set(name, String(v));
}

export class CalcomClient {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly limiter: CalcomLimiter | undefined;
  private readonly transport: HttpTransport;

  constructor(opts: CalcomClientOptions) {
    if (!opts.baseUrl) throw new RangeError('CalcomClient: baseUrl is required');
    if (!opts.apiKey) throw new RangeError('CalcomClient: apiKey is required');
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.apiKey = opts.apiKey;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.limiter = opts.limiter;
    this.transport = opts.transport ?? fetchTransport(opts.fetch ?? globalThis.fetch);
  }

  /**
   * Books `start` for an event type (POST /bookings); the body holds only whitelisted fields.
   * `budgetTaken`: the caller took this request's slot from the limiter already (the booking path
   * takes it before it marks the row "request sent"), so it is not taken twice.
   */
  async createBooking(input: CreateBookingInput, signal?: AbortSignal, budgetTaken = false): Promise<CalBooking> {
    const a = input.attendee;
    const attendee: Record<string, unknown> = { name: a.name, timeZone: a.timeZone };
    if (a.email !== undefined) attendee.email = a.email;
    if (a.phoneNumber !== undefined) attendee.phoneNumber = a.phoneNumber;
    if (a.language !== undefined) attendee.language = a.language;
    const body: Record<string, unknown> = { start: input.start, eventTypeId: input.eventTypeId, attendee };
    if (input.metadata !== undefined) {
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(input.metadata)) metadata[k] = String(v);
      body.metadata = metadata;
    }
    if (input.lengthInMinutes !== undefined) body.lengthInMinutes = input.lengthInMinutes;
    if (input.bookingFieldsResponses !== undefined) body.bookingFieldsResponses = { ...input.bookingFieldsResponses };
    if (input.location !== undefined) body.location = input.location;
    const res = await this.request(
      { route: 'POST /bookings', path: '/bookings', body, schema: bookingResponseSchema },
      signal,
      budgetTaken,
    );
    return res.data;
  }

  /** Takes one request's slot from the limiter now (waiting, or refused, as the limiter does), for a later `createBooking(…, true)`. */
  async takeBudget(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.limiter) await this.limiter.acquire(this.apiKey, signal);
  }

  /** One booking by uid (404 → not_found). */
  async getBooking(uid: string, signal?: AbortSignal): Promise<CalBooking> {
    const res = await this.request(
      { route: 'GET /bookings/:uid', path: `/bookings/${encodeURIComponent(uid)}`, schema: bookingResponseSchema },
      signal,
    );
    return res.data;
  }

  /** One page of bookings matching the filter (GET /bookings; no phone filter exists — match client-side). */
  async listBookings(filter: ListBookingsFilter, signal?: AbortSignal): Promise<{ bookings: CalBooking[]; hasNextPage: boolean }> {
    const q = new URLSearchParams();
    setIf(q, 'eventTypeId', filter.eventTypeId);
    if (filter.eventTypeIds?.length) q.set('eventTypeIds', filter.eventTypeIds.join(','));
    setIf(q, 'afterStart', filter.afterStart);
    setIf(q, 'beforeEnd', filter.beforeEnd);
    if (filter.status?.length) q.set('status', filter.status.join(','));
    setIf(q, 'attendeeEmail', filter.attendeeEmail);
    setIf(q, 'attendeeName', filter.attendeeName);
    setIf(q, 'bookingUid', filter.bookingUid);
    setIf(q, 'teamId', filter.teamId);
    setIf(q, 'take', filter.take);
    setIf(q, 'skip', filter.skip);
    const res = await this.request(
      { route: 'GET /bookings', path: '/bookings', query: q, schema: bookingListResponseSchema },
      signal,
    );
    return { bookings: res.data, hasNextPage: res.pagination.hasNextPage };
  }

  /** Every page of bookings matching the filter (deduplicated by uid; `take` is the page size). */
  async listAllBookings(filter: Omit<ListBookingsFilter, 'skip'> & { skip?: number }, signal?: AbortSignal): Promise<CalBooking[]> {
    const take = filter.take ?? LIST_PAGE_SIZE;
    let skip = filter.skip ?? 0;
    const seen = new Set<string>();
    const all: CalBooking[] = [];
    for (let page = 0; ; page++) {
      if (page >= LIST_MAX_PAGES) {
        throw new CalcomError({
          kind: 'invalid_response',
          method: 'GET',
          path: '/bookings',
          route: 'GET /bookings',
          detail: `more than ${LIST_MAX_PAGES} pages of ${take} bookings; narrow the filter`,
          retryable: false,
          uncertain: false,
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
  async rescheduleBooking(uid: string, body: { start: string; reschedulingReason?: string }, signal?: AbortSignal): Promise<CalBooking> {
    const sent: Record<string, unknown> = { start: body.start };
    if (body.reschedulingReason !== undefined) sent.reschedulingReason = body.reschedulingReason;
    const res = await this.request(
      {
        route: 'POST /bookings/:uid/reschedule',
        path: `/bookings/${encodeURIComponent(uid)}/reschedule`,
        body: sent,
        schema: bookingResponseSchema,
      },
      signal,
    );
    return res.data;
  }

  /** Cancels a booking (POST /bookings/:uid/cancel). */
  async cancelBooking(uid: string, body: { cancellationReason?: string } = {}, signal?: AbortSignal): Promise<CalBooking> {
    const sent: Record<string, unknown> = {};
    if (body.cancellationReason !== undefined) sent.cancellationReason = body.cancellationReason;
    const res = await this.request(
      {
        route: 'POST /bookings/:uid/cancel',
        path: `/bookings/${encodeURIComponent(uid)}/cancel`,
        body: sent,
        schema: bookingResponseSchema,
      },
      signal,
    );
    return res.data;
  }

  /** Free slots by local date, rendered in `timeZone` (default UTC), with `end` (format=range). */
  async getSlots(q: GetSlotsQuery, signal?: AbortSignal): Promise<CalSlots> {
    const query = new URLSearchParams();
    query.set('eventTypeId', String(q.eventTypeId));
    query.set('start', q.start);
    query.set('end', q.end);
    setIf(query, 'timeZone', q.timeZone);
    setIf(query, 'duration', q.duration);
    query.set('format', 'range');
    const res = await this.request({ route: 'GET /slots', path: '/slots', query, schema: slotsResponseSchema }, signal);
    return res.data;
  }

  /** A user's (non-team) event types (GET /event-types?username=). */
  async listEventTypes(username: string, signal?: AbortSignal): Promise<CalEventType[]> {
    const query = new URLSearchParams({ username });
    const res = await this.request(
      { route: 'GET /event-types', path: '/event-types', query, schema: eventTypeListResponseSchema },
      signal,
    );
    return res.data;
  }

  /** One event type by id. */
  async getEventType(id: number, signal?: AbortSignal): Promise<CalEventType> {
    const res = await this.request(
      { route: 'GET /event-types/:id', path: `/event-types/${encodeURIComponent(String(id))}`, schema: eventTypeResponseSchema },
      signal,
    );
    return res.data;
  }

  /** A team's event types, with teamId, schedulingType and hosts (a managed parent cannot be booked). */
  async listTeamEventTypes(teamId: number, signal?: AbortSignal): Promise<CalTeamEventType[]> {
    const res = await this.request(
      {
        route: 'GET /teams/:teamId/event-types',
        path: `/teams/${encodeURIComponent(String(teamId))}/event-types`,
        schema: teamEventTypeListResponseSchema,
      },
      signal,
    );
    return res.data;
  }

  private async request<S extends z.ZodType>(spec: RequestSpec<S>, signal?: AbortSignal, budgetTaken = false): Promise<z.output<S>> {
    const method = spec.route.slice(0, spec.route.indexOf(' '));
    const version = ROUTES[spec.route];
    const fail = (init: Omit<ConstructorParameters<typeof CalcomError>[0], 'method' | 'path' | 'route'>) =>
      new CalcomError({ ...init, method, path: spec.path, route: spec.route });

    if (!budgetTaken) await this.takeBudget(signal);
    signal?.throwIfAborted();

    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: 'application/json' };
    if (version !== null) headers['cal-api-version'] = version;
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers['content-type'] = 'application/json';
    }
    const qs = spec.query?.toString();
    const url = `${this.baseUrl}${spec.path}${qs ? `?${qs}` : ''}`;
    // A timer we clear when the answer is in: AbortSignal.timeout cannot be cleared, so every
    // request left a 10 s timer that fired (and built a DOMException) long after it was answered.
    const ctrl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort(new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError'));
    }, this.timeoutMs);
    const onCallerAbort = () => ctrl.abort(signal?.reason);
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    const unsafe = isUnsafeMethod(method);
    const endTimer = apiDuration.startTimer({ service: 'calcom', method: spec.route });

    let status: number;
    let text: string;
    let resHeaders: HttpAnswer['headers'];
    try {
      const res = await this.transport(url, { method, headers, body, signal: ctrl.signal });
      status = res.status;
      resHeaders = res.headers;
      text = res.text;
    } catch (err) {
      if (signal?.aborted && !timedOut) {
        throw fail({
          kind: 'network',
          code: 'Aborted',
          detail: `aborted by the caller (${describe(signal.reason)})`,
          retryable: true,
          uncertain: unsafe,
          aborted: true,
          cause: signal.reason,
        });
      }
      if (timedOut) {
        throw fail({
          kind: 'timeout',
          detail: `no answer within ${this.timeoutMs} ms`,
          retryable: true,
          uncertain: unsafe,
          cause: err,
        });
      }
      const code = causeCode(err);
      if (code !== undefined && UNSENDABLE_CODES.has(code)) {
        throw fail({
          kind: 'auth',
          code,
          detail: `the request cannot be sent (${code}): is the company's Cal.com API key pasted with a line break or a non-ASCII character? Fix it in the tenants file`,
          retryable: false,
          uncertain: false,
          cause: err,
        });
      }
      throw fail({
        kind: 'network',
        code,
        detail: describe(err),
        retryable: true,
        uncertain: unsafe && !(code !== undefined && NOT_SENT_CODES.has(code)),
        cause: err,
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCallerAbort);
      endTimer();
    }

    if (status < 200 || status >= 300) {
      throw errorFromResponse({ method, path: spec.path, route: spec.route, status, bodyText: text, headers: resHeaders });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw fail({
        kind: 'invalid_response',
        status,
        detail: `2xx body is not JSON: ${text.slice(0, 200)}`,
        retryable: true,
        uncertain: unsafe,
      });
    }
    const parsed = spec.schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw fail({
        kind: 'invalid_response',
        status,
        detail: `2xx body does not match the expected shape: ${issues}`,
        retryable: true,
        uncertain: unsafe,
        cause: parsed.error,
      });
    }
    return parsed.data;
  }
}
