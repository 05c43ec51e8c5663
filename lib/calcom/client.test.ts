/**
 * Tests of the Cal.com client against the Cal.com simulator over real HTTP: bookings end to end, the
 * cal-api-version of every endpoint, whitelisted bodies only, error classification (taken slot,
 * bounds, past, 401, 404, 429, 500, hang, drop, bad 2xx bodies), slots across the Berlin DST change,
 * the limiter hook and the apiDuration metric.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCalcomSim, startCalcomSim, type CalcomSim, type RunningCalcomSim } from '../../sim/calcom';
import { apiDuration } from '../metrics';
import { CalcomClient, ROUTES, type CalcomClientOptions, type CreateBookingInput } from './client';
import { CalcomError, classify400, isServiceFailure, parseErrorBody, retryAtFromReset } from './errors';

const NOW = new Date('2026-10-20T08:00:00.000Z'); // Tuesday, 10:00 in Berlin
const KEY = 'cal_test_client_berlin';
const TEAM = 77;

let sim: CalcomSim;
let run: RunningCalcomSim;

beforeEach(async () => {
  sim = createCalcomSim({ now: () => NOW });
  sim.addAccount({ apiKey: KEY, username: 'praxis-berlin', timeZone: 'Europe/Berlin', teamIds: [TEAM] });
  // Monday-Friday 9-17 Berlin, 30 min.
  sim.addEventType({ id: 101, slug: 'beratung', title: 'Beratung', lengthInMinutes: 30, ownerApiKey: KEY });
  // Every day 9-12 Berlin, 60 min.
  sim.addEventType({
    id: 102,
    slug: 'behandlung',
    title: 'Behandlung',
    lengthInMinutes: 60,
    ownerApiKey: KEY,
    schedule: { days: [1, 2, 3, 4, 5, 6, 7], startHour: 9, endHour: 12 },
  });
  sim.addEventType({
    id: 201,
    slug: 'team-termin',
    title: 'Team-Termin',
    lengthInMinutes: 30,
    ownerApiKey: KEY,
    teamId: TEAM,
    teamSlug: 'praxis-team',
    schedulingType: 'roundRobin',
  });
  run = await startCalcomSim(sim);
});

afterEach(async () => {
  await run.close();
});

function client(opts: Partial<CalcomClientOptions> = {}): CalcomClient {
  return new CalcomClient({ baseUrl: run.url, apiKey: KEY, ...opts });
}

function input(start: string, overrides: Partial<CreateBookingInput> = {}): CreateBookingInput {
  return {
    start,
    eventTypeId: 101,
    attendee: { name: 'Max Mustermann', phoneNumber: '+4915112345678', timeZone: 'Europe/Berlin', language: 'de' },
    metadata: { callbookKey: `k-${start}` },
    ...overrides,
  };
}

async function caught(p: Promise<unknown>): Promise<CalcomError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CalcomError);
    return err as CalcomError;
  }
  throw new Error('expected a CalcomError, got success');
}

const CREATE_KEYS = ['start', 'eventTypeId', 'attendee', 'metadata', 'lengthInMinutes', 'bookingFieldsResponses', 'location'];
const ATTENDEE_KEYS = ['name', 'timeZone', 'email', 'phoneNumber', 'language'];

describe('bookings', () => {
  it('creates, gets, lists, reschedules and cancels', async () => {
    const c = client();
    const created = await c.createBooking(input('2026-10-21T07:00:00Z'));
    expect(created).toMatchObject({
      status: 'accepted',
      start: '2026-10-21T07:00:00.000Z',
      end: '2026-10-21T07:30:00.000Z',
      eventTypeId: 101,
      metadata: { callbookKey: 'k-2026-10-21T07:00:00Z' },
      attendees: [{ name: 'Max Mustermann', phoneNumber: '+4915112345678', timeZone: 'Europe/Berlin' }],
      duration: 30,
    });
    expect(created.uid).toBeTruthy();

    expect((await c.getBooking(created.uid)).id).toBe(created.id);

    const listed = await c.listBookings({ eventTypeId: 101, afterStart: '2026-10-21T00:00:00Z', beforeEnd: '2026-10-22T00:00:00Z' });
    expect(listed.hasNextPage).toBe(false);
    expect(listed.bookings.map((b) => b.uid)).toEqual([created.uid]);

    const moved = await c.rescheduleBooking(created.uid, { start: '2026-10-21T08:00:00Z', reschedulingReason: 'Anruf' });
    expect(moved.uid).not.toBe(created.uid);
    expect(moved.rescheduledFromUid).toBe(created.uid);
    expect(moved.start).toBe('2026-10-21T08:00:00.000Z');
    const old = await c.getBooking(created.uid);
    expect(old).toMatchObject({ status: 'cancelled', rescheduledToUid: moved.uid });

    const cancelled = await c.cancelBooking(moved.uid, { cancellationReason: 'Patient abgesagt' });
    expect(cancelled.status).toBe('cancelled');
    expect((await c.listBookings({ status: ['upcoming'] })).bookings).toEqual([]);
    expect(await c.cancelBooking(created.uid).catch((e: unknown) => e)).toMatchObject({ kind: 'validation', retryable: false });
  });

  it('listAllBookings walks every page', async () => {
    const c = client();
    const starts = ['07:00', '07:30', '08:00', '08:30', '09:00'].map((t) => `2026-10-21T${t}:00Z`);
    for (const s of starts) await c.createBooking(input(s));
    const first = await c.listBookings({ eventTypeIds: [101], take: 2 });
    expect(first).toMatchObject({ hasNextPage: true });
    expect(first.bookings).toHaveLength(2);
    const all = await c.listAllBookings({ eventTypeIds: [101, 102], take: 2 });
    expect(all.map((b) => b.start)).toEqual(starts.map((s) => s.replace(':00Z', ':00.000Z')));
    const pages = sim.requests().filter((r) => r.path === '/v2/bookings' && r.method === 'GET' && r.query?.eventTypeIds === '101,102');
    expect(pages.map((r) => r.query?.skip)).toEqual(['0', '2', '4']);
  });

  it('sends only whitelisted fields, never teamId, even when the input smuggles extra properties', async () => {
    const c = client();
    const smuggled = {
      ...input('2026-10-21T07:00:00Z', { eventTypeId: 201 }),
      teamId: TEAM,
      companyId: 5,
      attendee: { name: 'Erika', email: 'erika@example.com', timeZone: 'Europe/Berlin', teamId: TEAM, notes: 'x' },
    } as unknown as CreateBookingInput;
    const b = await c.createBooking(smuggled);
    expect(b.eventTypeId).toBe(201);
    await c.createBooking(input('2026-10-21T09:00:00Z', { lengthInMinutes: undefined, bookingFieldsResponses: { notes: 'Rückruf' } }));
    const moved = await c.rescheduleBooking(b.uid, { start: '2026-10-21T10:00:00Z', teamId: TEAM } as unknown as { start: string });
    await c.cancelBooking(moved.uid, { cancellationReason: 'x', teamId: TEAM } as unknown as { cancellationReason: string });

    const posts = sim.requests().filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(4);
    for (const r of posts) {
      expect(r.status).toBeLessThan(300);
      expect(JSON.stringify(r.body)).not.toContain('teamId');
    }
    const creates = posts.filter((r) => r.path === '/v2/bookings');
    for (const r of creates) {
      const body = r.body as Record<string, unknown>;
      for (const k of Object.keys(body)) expect(CREATE_KEYS).toContain(k);
      for (const k of Object.keys(body.attendee as object)) expect(ATTENDEE_KEYS).toContain(k);
    }
    expect(Object.keys(posts.find((r) => r.path.endsWith('/reschedule'))?.body as object).sort()).toEqual(['start']);
    expect(Object.keys(posts.find((r) => r.path.endsWith('/cancel'))?.body as object)).toEqual(['cancellationReason']);
  });
});

describe('cal-api-version and auth headers', () => {
  it('sends the right version on every endpoint (the simulator 400s on a wrong one) and none for team event types', async () => {
    const c = client();
    const b = await c.createBooking(input('2026-10-21T07:00:00Z'));
    await c.getBooking(b.uid);
    await c.listBookings({});
    const moved = await c.rescheduleBooking(b.uid, { start: '2026-10-21T08:00:00Z' });
    await c.cancelBooking(moved.uid, {});
    await c.getSlots({ eventTypeId: 101, start: '2026-10-21', end: '2026-10-21' });
    const ets = await c.listEventTypes('praxis-berlin');
    expect(ets.map((e) => e.id)).toEqual([101, 102]);
    expect(ets[0]).toMatchObject({ slug: 'beratung', title: 'Beratung', lengthInMinutes: 30 });
    expect((await c.getEventType(102)).lengthInMinutes).toBe(60);
    const team = await c.listTeamEventTypes(TEAM);
    expect(team).toHaveLength(1);
    expect(team[0]).toMatchObject({ id: 201, teamId: TEAM, schedulingType: 'roundRobin' });

    const seen = sim.requests().map((r) => [`${r.method} ${r.path}`, r.apiVersion ?? null, r.status, r.apiKey]);
    expect(seen).toEqual([
      ['POST /v2/bookings', '2024-08-13', 201, KEY],
      [`GET /v2/bookings/${b.uid}`, '2024-08-13', 200, KEY],
      ['GET /v2/bookings', '2024-08-13', 200, KEY],
      [`POST /v2/bookings/${b.uid}/reschedule`, '2024-08-13', 201, KEY],
      [`POST /v2/bookings/${moved.uid}/cancel`, '2024-08-13', 200, KEY],
      ['GET /v2/slots', '2024-09-04', 200, KEY],
      ['GET /v2/event-types', '2024-06-14', 200, KEY],
      ['GET /v2/event-types/102', '2024-06-14', 200, KEY],
      [`GET /v2/teams/${TEAM}/event-types`, null, 200, KEY],
    ]);
    expect(ROUTES['GET /teams/:teamId/event-types']).toBeNull();
  });
});

describe('error classification', () => {
  it('a taken slot is slot_unavailable, not retryable, not uncertain', async () => {
    const c = client();
    await c.createBooking(input('2026-10-21T07:00:00Z'));
    const err = await caught(c.createBooking(input('2026-10-21T07:00:00Z')));
    expect(err).toMatchObject({ kind: 'slot_unavailable', status: 400, code: 'BadRequestException', retryable: false, uncertain: false });
    expect(err.message).toBe(
      'Cal.com POST /bookings → 400 BadRequestException: User either already has booking at this time or is not available',
    );
    expect(isServiceFailure(err)).toBe(false);
  });

  it('outside the booking window is out_of_bounds, in the past is in_past, a bad body is validation', async () => {
    const c = client();
    expect(await caught(c.createBooking(input('2026-10-24T07:00:00Z')))).toMatchObject({ kind: 'out_of_bounds', retryable: false });
    expect(await caught(c.createBooking(input('2026-10-19T07:00:00Z')))).toMatchObject({ kind: 'in_past', retryable: false });
    const noContact = input('2026-10-21T07:00:00Z', { attendee: { name: 'A', timeZone: 'Europe/Berlin' } });
    expect(await caught(c.createBooking(noContact))).toMatchObject({ kind: 'validation', status: 400, retryable: false });
  });

  it('unknown event type → not_found; bad key → auth', async () => {
    const nf = await caught(client().createBooking(input('2026-10-21T07:00:00Z', { eventTypeId: 999 })));
    expect(nf).toMatchObject({ kind: 'not_found', status: 404, code: 'NotFoundException', retryable: false, uncertain: false });
    expect(await caught(client().getBooking('nope'))).toMatchObject({ kind: 'not_found', path: '/bookings/nope', route: 'GET /bookings/:uid' });
    const auth = await caught(client({ apiKey: 'cal_wrong' }).listBookings({}));
    expect(auth).toMatchObject({ kind: 'auth', status: 401, code: 'UnauthorizedException', retryable: false });
    expect(isServiceFailure(auth)).toBe(false);
  });

  it('429 → rate_limited with retryAt from X-RateLimit-Reset-Default', async () => {
    sim.setFaults({ burst429: 1, burst429ResetSeconds: 7 });
    const before = Date.now();
    const err = await caught(client().listBookings({}));
    expect(err).toMatchObject({ kind: 'rate_limited', status: 429, code: 'ThrottlerException', retryable: true, uncertain: false });
    expect(err.retryAt).toBeGreaterThanOrEqual(before + 7_000);
    expect(err.retryAt).toBeLessThanOrEqual(Date.now() + 7_000);
    expect(isServiceFailure(err)).toBe(false);
    // Epoch seconds and a missing header.
    expect(retryAtFromReset('1900000000', 0)).toBe(1_900_000_000_000);
    expect(retryAtFromReset(null, 1_000)).toBe(61_000);
    expect(retryAtFromReset('3', 1_000)).toBe(4_000);
  });

  it('the key-wide limit of the simulator is reported the same way', async () => {
    sim.addAccount({ apiKey: 'cal_tiny', username: 'tiny', timeZone: 'UTC', rateLimitPerMinute: 2 });
    const c = client({ apiKey: 'cal_tiny' });
    await c.listEventTypes('tiny');
    await c.listEventTypes('tiny');
    const err = await caught(c.listEventTypes('tiny'));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAt! - Date.now()).toBeGreaterThan(55_000);
  });

  it('500 → server, retryable; uncertain for POST only; bare body parsed', async () => {
    sim.setFaults({ errorRatio: 1 });
    const post = await caught(client().createBooking(input('2026-10-21T07:00:00Z')));
    expect(post).toMatchObject({ kind: 'server', status: 500, retryable: true, uncertain: true });
    expect(post.message).toBe('Cal.com POST /bookings → 500: Internal server error');
    expect(isServiceFailure(post)).toBe(true);
    const get = await caught(client().listBookings({}));
    expect(get).toMatchObject({ kind: 'server', retryable: true, uncertain: false });
    expect(sim.bookings()).toHaveLength(0);
  });

  it('hang → timeout after timeoutMs, uncertain for POST', async () => {
    sim.setFaults({ hangRatio: 1 });
    const c = client({ timeoutMs: 300 });
    const t0 = Date.now();
    const err = await caught(c.createBooking(input('2026-10-21T07:00:00Z')));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(err).toMatchObject({ kind: 'timeout', retryable: true, uncertain: true });
    expect(isServiceFailure(err)).toBe(true);
    expect(await caught(c.getSlots({ eventTypeId: 101, start: '2026-10-21', end: '2026-10-21' }))).toMatchObject({
      kind: 'timeout',
      uncertain: false,
    });
  });

  it("the caller's signal aborts the request; not a service failure", async () => {
    sim.setFaults({ hangRatio: 1 });
    const err = await caught(client().createBooking(input('2026-10-21T07:00:00Z'), AbortSignal.timeout(150)));
    expect(err).toMatchObject({ kind: 'network', code: 'Aborted', aborted: true, uncertain: true });
    expect(isServiceFailure(err)).toBe(false);
    // Aborted before sending: the reason itself, nothing sent.
    const ac = new AbortController();
    ac.abort(new Error('shutdown'));
    await expect(client().listBookings({}, ac.signal)).rejects.toThrow('shutdown');
  });

  it('drop → network, uncertain, and the booking exists', async () => {
    sim.setFaults({ dropAfterOkRatio: 1 });
    const err = await caught(client().createBooking(input('2026-10-21T07:00:00Z')));
    expect(err).toMatchObject({ kind: 'network', retryable: true, uncertain: true });
    expect(isServiceFailure(err)).toBe(true);
    expect(sim.bookings()).toHaveLength(1);
    expect(sim.bookings()[0]?.metadata).toEqual({ callbookKey: 'k-2026-10-21T07:00:00Z' });
  });

  it('connection refused → network, not uncertain (never sent)', async () => {
    await run.close();
    const err = await caught(client({ timeoutMs: 2_000 }).createBooking(input('2026-10-21T07:00:00Z')));
    expect(err).toMatchObject({ kind: 'network', code: 'ECONNREFUSED', retryable: true, uncertain: false });
  });

  it('a 2xx whose body fails the schema → invalid_response', async () => {
    const bad = (body: string, status = 201): typeof fetch =>
      (async () => new Response(body, { status, headers: { 'content-type': 'application/json' } })) as typeof fetch;
    const missingUid = JSON.stringify({ status: 'success', data: { id: 1, status: 'accepted' } });
    const err = await caught(client({ fetch: bad(missingUid) }).createBooking(input('2026-10-21T07:00:00Z')));
    expect(err).toMatchObject({ kind: 'invalid_response', status: 201, retryable: true, uncertain: true });
    expect(err.message).toContain('data.uid');
    expect(isServiceFailure(err)).toBe(true);
    const html = await caught(client({ fetch: bad('<html>gateway</html>', 200) }).listBookings({}));
    expect(html).toMatchObject({ kind: 'invalid_response', uncertain: false });
    const noPagination = JSON.stringify({ status: 'success', data: [] });
    expect(await caught(client({ fetch: bad(noPagination, 200) }).listBookings({}))).toMatchObject({ kind: 'invalid_response' });
    const legacy = JSON.stringify({ status: 'success', data: { slots: {} } });
    expect(await caught(client({ fetch: bad(legacy, 200) }).getSlots({ eventTypeId: 1, start: 'a', end: 'b' }))).toMatchObject({
      kind: 'invalid_response',
    });
  });

  it('parses envelope, bare and non-JSON error bodies', () => {
    expect(parseErrorBody('{"status":"error","error":{"code":"ConflictException","message":"full","details":{"a":1}}}')).toEqual({
      code: 'ConflictException',
      message: 'full',
      details: { a: 1 },
    });
    expect(parseErrorBody('{"statusCode":400,"message":["a","b"],"error":"Bad Request"}')).toEqual({ code: 'Bad Request', message: 'a; b' });
    expect(parseErrorBody('upstream connect error')).toEqual({ message: 'upstream connect error' });
    expect(parseErrorBody('')).toEqual({ message: '(empty body)' });
    expect(classify400('One of the hosts either already has booking at this time or is not available')).toBe('slot_unavailable');
    expect(classify400('Attempting to book a meeting in the past.')).toBe('in_past');
    expect(classify400('Invalid status. Allowed are upcoming, recurring, past, cancelled, unconfirmed')).toBe('validation');
  });
});

describe('slots', () => {
  it('renders slots in Europe/Berlin across the DST change', async () => {
    const slots = await client().getSlots({ eventTypeId: 102, start: '2026-10-24', end: '2026-10-26', timeZone: 'Europe/Berlin' });
    expect(Object.keys(slots)).toEqual(['2026-10-24', '2026-10-25', '2026-10-26']);
    expect(slots['2026-10-24']?.[0]).toEqual({ start: '2026-10-24T09:00:00.000+02:00', end: '2026-10-24T10:00:00.000+02:00' });
    expect(slots['2026-10-25']?.[0]).toEqual({ start: '2026-10-25T09:00:00.000+01:00', end: '2026-10-25T10:00:00.000+01:00' });
    expect(slots['2026-10-26']?.map((s) => s.start)).toEqual([
      '2026-10-26T09:00:00.000+01:00',
      '2026-10-26T10:00:00.000+01:00',
      '2026-10-26T11:00:00.000+01:00',
    ]);
    const utc = await client().getSlots({ eventTypeId: 102, start: '2026-10-26T00:00:00Z', end: '2026-10-26T23:59:59Z' });
    expect(utc['2026-10-26']?.[0]?.start).toBe('2026-10-26T08:00:00.000Z');
  });
});

describe('limiter and metrics', () => {
  it('acquires the limiter with the API key before every request', async () => {
    const calls: string[] = [];
    const c = client({ limiter: { acquire: async (k) => void calls.push(k) } });
    await c.listBookings({});
    await c.getSlots({ eventTypeId: 101, start: '2026-10-21', end: '2026-10-21' });
    expect(calls).toEqual([KEY, KEY]);
  });

  it('observes apiDuration per route template, never a raw uid', async () => {
    const c = client();
    const countOf = async (method: string) =>
      (await apiDuration.get()).values.find(
        (v) => v.metricName === 'mcp_api_duration_seconds_count' && v.labels.service === 'calcom' && v.labels.method === method,
      )?.value ?? 0;
    const postBefore = await countOf('POST /bookings');
    const getBefore = await countOf('GET /bookings/:uid');
    const b = await c.createBooking(input('2026-10-21T07:00:00Z'));
    await c.getBooking(b.uid);
    await c.getBooking('missing').catch(() => undefined);
    expect(await countOf('POST /bookings')).toBe(postBefore + 1);
    expect(await countOf('GET /bookings/:uid')).toBe(getBefore + 2);
    const methods = new Set((await apiDuration.get()).values.filter((v) => v.labels.service === 'calcom').map((v) => String(v.labels.method)));
    for (const m of methods) expect(Object.keys(ROUTES)).toContain(m);
  });
});
