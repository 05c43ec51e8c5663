/**
 * Contract tests of the Cal.com API v2 simulator over real HTTP (startCalcomSim + fetch): auth, version
 * gate, bookings and their validation, slots across the Europe/Berlin DST change, listing, reschedule,
 * cancel, rate limits, every fault, and signed outgoing webhooks.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CALCOM_MESSAGES, createCalcomSim, startCalcomSim, type CalcomSim, type RunningCalcomSim } from './index';

const NOW = new Date('2026-10-20T08:00:00.000Z'); // Tuesday, 10:00 in Berlin
const KEY = 'cal_test_berlin';
const OTHER = 'cal_test_newyork';
const ALL_DAYS = [1, 2, 3, 4, 5, 6, 7];
const V = { bookings: '2024-08-13', slots: '2024-09-04', eventTypes: '2024-06-14' } as const;

let clock: Date;
let sim: CalcomSim;
let run: RunningCalcomSim;

beforeEach(async () => {
  clock = NOW;
  sim = createCalcomSim({ now: () => clock });
  sim.addAccount({ apiKey: KEY, username: 'praxis-berlin', timeZone: 'Europe/Berlin', name: 'Praxis Berlin' });
  sim.addAccount({ apiKey: OTHER, username: 'office-ny', timeZone: 'America/New_York' });
  // Monday-Friday 9-17 Berlin, 30 min.
  sim.addEventType({ id: 101, slug: 'beratung', title: 'Beratung', lengthInMinutes: 30, ownerApiKey: KEY });
  // Every day 9-12 Berlin, 60 min.
  sim.addEventType({
    id: 102,
    slug: 'behandlung',
    title: 'Behandlung',
    lengthInMinutes: 60,
    ownerApiKey: KEY,
    schedule: { days: ALL_DAYS, startHour: 9, endHour: 12 },
  });
  sim.addEventType({
    id: 103,
    slug: 'vorlauf',
    title: 'Mit Vorlauf',
    lengthInMinutes: 60,
    ownerApiKey: KEY,
    minimumBookingNoticeMinutes: 120,
    schedule: { days: ALL_DAYS, startHour: 9, endHour: 17 },
  });
  // 60 min on a 30 min grid, so a booking can move onto a slot overlapping itself.
  sim.addEventType({
    id: 104,
    slug: 'gleitend',
    title: 'Gleitend',
    lengthInMinutes: 60,
    slotIntervalMinutes: 30,
    ownerApiKey: KEY,
  });
  sim.addEventType({
    id: 201,
    slug: 'team-termin',
    title: 'Team-Termin',
    lengthInMinutes: 30,
    ownerApiKey: KEY,
    teamId: 77,
    teamSlug: 'praxis-team',
    schedulingType: 'collective',
  });
  sim.addEventType({ id: 301, slug: 'ny-call', title: 'NY call', lengthInMinutes: 30, ownerApiKey: OTHER });
  run = await startCalcomSim(sim);
});

afterEach(async () => {
  await run.close();
});

interface CallOpts {
  key?: string | null;
  version?: string | null;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

function call(method: string, path: string, opts: CallOpts = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? KEY : opts.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (opts.version) headers['cal-api-version'] = opts.version;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${run.url}${path}`, { method, headers, body, signal: opts.signal });
}

function bookingBody(start: string, overrides: Record<string, unknown> = {}) {
  return {
    start,
    eventTypeId: 101,
    attendee: { name: 'Max Mustermann', phoneNumber: '+4915112345678', timeZone: 'Europe/Berlin', language: 'de' },
    metadata: { callbookKey: `k-${start}` },
    ...overrides,
  };
}

function book(start: string, overrides: Record<string, unknown> = {}, opts: CallOpts = {}) {
  return call('POST', '/bookings', { version: V.bookings, body: bookingBody(start, overrides), ...opts });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function json(res: Response): Promise<any> {
  return res.json();
}

function slots(query: string, opts: CallOpts = {}) {
  return call('GET', `/slots?${query}`, { key: null, version: V.slots, ...opts });
}

describe('auth', () => {
  it('answers 401 with the error envelope without or with an unknown key', async () => {
    const missing = await call('GET', '/bookings', { key: null, version: V.bookings });
    expect(missing.status).toBe(401);
    const m = await json(missing);
    expect(m).toMatchObject({ status: 'error', path: '/v2/bookings', error: { code: 'UnauthorizedException' } });
    expect(m.error.message).toBe(CALCOM_MESSAGES.noAuth);
    expect(typeof m.timestamp).toBe('string');

    const unknown = await book('2026-10-21T07:00:00Z', {}, { key: 'cal_live_nope' });
    expect(unknown.status).toBe(401);
    expect((await json(unknown)).error.message).toBe(CALCOM_MESSAGES.invalidKey);
    expect(sim.bookings()).toHaveLength(0);
  });

  it('serves /v2/slots without a key', async () => {
    const res = await slots('eventTypeId=101&start=2026-10-21&end=2026-10-21');
    expect(res.status).toBe(200);
  });
});

describe('cal-api-version', () => {
  it('refuses a missing or wrong version visibly instead of answering a legacy shape', async () => {
    const missing = await book('2026-10-21T07:00:00Z', {}, { version: null });
    expect(missing.status).toBe(400);
    const body = await json(missing);
    expect(body.error.code).toBe('BadRequestException');
    expect(body.error.message).toContain('cal-api-version');
    expect(body.error.message).toContain('2024-08-13');
    expect(body.error.details).toMatchObject({ legacy: true, expected: '2024-08-13', received: null });

    const wrong = await book('2026-10-21T07:00:00Z', {}, { version: V.slots });
    expect(wrong.status).toBe(400);
    expect((await json(wrong)).error.message).toContain('received "2024-09-04"');

    const slotsWrong = await slots('eventTypeId=101&start=2026-10-21&end=2026-10-21', { version: V.bookings });
    expect(slotsWrong.status).toBe(400);
    expect((await json(slotsWrong)).error.message).toContain('cal-api-version must be "2024-09-04"');

    const etMissing = await call('GET', '/event-types?username=praxis-berlin');
    expect(etMissing.status).toBe(400);
    expect((await json(etMissing)).error.message).toContain('"2024-06-14"');
    expect(sim.bookings()).toHaveLength(0);
  });
});

describe('POST /v2/bookings', () => {
  it('creates a booking and answers 201 with the 2024-08-13 envelope', async () => {
    const res = await book('2026-10-21T07:00:00Z', {
      attendee: {
        name: 'Erika Muster',
        email: 'erika@example.com',
        phoneNumber: '+4915112345678',
        timeZone: 'Europe/Berlin',
        language: 'de',
      },
      location: { type: 'attendeePhone', phone: '+4915112345678' },
      bookingFieldsResponses: { notes: 'Rückenschmerzen' },
      metadata: { callbookKey: 'acme:call_1:101:2026-10-21T07:00Z', callId: 'call_1' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-ratelimit-limit-default')).toBe('120');
    expect(res.headers.get('x-ratelimit-remaining-default')).toBe('119');
    expect(res.headers.get('retry-after')).toBeNull();
    const body = await json(res);
    expect(body.status).toBe('success');
    const d = body.data;
    expect(d).toMatchObject({
      id: 1,
      title: 'Beratung between Praxis Berlin and Erika Muster',
      status: 'accepted',
      start: '2026-10-21T07:00:00.000Z',
      end: '2026-10-21T07:30:00.000Z',
      duration: 30,
      eventTypeId: 101,
      eventType: { id: 101, slug: 'beratung' },
      location: '+4915112345678',
      metadata: { callbookKey: 'acme:call_1:101:2026-10-21T07:00Z', callId: 'call_1' },
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
    });
    expect(d.uid).toMatch(/^[1-9A-HJ-NP-Za-km-z]{22}$/);
    expect(d.attendees).toEqual([
      expect.objectContaining({
        name: 'Erika Muster',
        email: 'erika@example.com',
        timeZone: 'Europe/Berlin',
        language: 'de',
        phoneNumber: '+4915112345678',
      }),
    ]);
    expect(d.hosts).toEqual([
      { id: 1, name: 'Praxis Berlin', email: 'praxis-berlin@example.com', username: 'praxis-berlin', timeZone: 'Europe/Berlin' },
    ]);
    expect(d.bookingFieldsResponses).toMatchObject({ notes: 'Rückenschmerzen', name: 'Erika Muster' });

    const stored = sim.bookings();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ uid: d.uid, status: 'accepted', eventTypeId: 101, hostApiKeys: [KEY] });
    const logged = sim.requests().find((r) => r.method === 'POST' && r.path === '/v2/bookings');
    expect(logged).toMatchObject({ apiKey: KEY, apiVersion: '2024-08-13', status: 201 });
    expect(logged?.body).toMatchObject({ eventTypeId: 101, metadata: { callId: 'call_1' } });
  });

  it('gives phone-only attendees Cal.com’s placeholder email', async () => {
    const res = await book('2026-10-21T07:00:00Z');
    expect(res.status).toBe(201);
    expect((await json(res)).data.attendees[0].email).toBe('4915112345678@sms.cal.com');
  });

  it('rejects a body property Cal.com does not whitelist, such as teamId', async () => {
    const res = await book('2026-10-21T07:00:00Z', { teamId: 77 });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe('BadRequestException');
    expect(body.error.message).toContain('property teamId should not exist');
    expect(sim.bookings()).toHaveLength(0);
  });

  it('validates attendee, metadata and start like Cal.com', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ attendee: { name: 'A', timeZone: 'Europe/Berlin' } }, CALCOM_MESSAGES.contact],
      [{ attendee: { name: 'A', phoneNumber: '0151 123', timeZone: 'Europe/Berlin' } }, 'E.164'],
      [{ attendee: { name: 'A', email: 'a@example.com', timeZone: 'Mars/Base' } }, 'valid IANA time-zone'],
      [{ attendee: { email: 'a@example.com', timeZone: 'Europe/Berlin' } }, 'name must be a string'],
      [{ metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }, CALCOM_MESSAGES.metadata],
      [{ metadata: { ['k'.repeat(41)]: 'v' } }, CALCOM_MESSAGES.metadata],
      [{ metadata: { k: 'v'.repeat(501) } }, CALCOM_MESSAGES.metadata],
      [{ metadata: { nested: { a: 1 } } }, CALCOM_MESSAGES.metadata],
      [{ start: '2026-10-21T09:00:00+02:00' }, 'start must be a valid ISO 8601 date string in UTC'],
      [{ eventTypeId: '101' }, 'eventTypeId must be an integer number'],
    ];
    for (const [overrides, message] of cases) {
      const res = await book('2026-10-21T07:00:00Z', overrides);
      expect(res.status, JSON.stringify(overrides)).toBe(400);
      expect((await json(res)).error.message).toContain(message);
    }
    // 50 keys of 40 characters with 500-character values are fine.
    const fine = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${i}`.padStart(40, 'k'), 'v'.repeat(500)]));
    expect((await book('2026-10-21T07:00:00Z', { metadata: fine })).status).toBe(201);
  });

  it('refuses past, off-schedule and too-soon starts with Cal.com’s messages', async () => {
    const past = await book('2026-10-19T07:00:00Z');
    expect(past.status).toBe(400);
    expect((await json(past)).error.message).toBe(CALCOM_MESSAGES.past);

    for (const start of ['2026-10-21T07:10:00Z', '2026-10-24T07:00:00Z', '2026-10-21T15:00:00Z']) {
      const res = await book(start); // off the grid, Saturday, after 17:00 Berlin
      expect(res.status, start).toBe(400);
      expect((await json(res)).error.message).toBe(CALCOM_MESSAGES.outOfBounds);
    }
    // 103 needs 120 minutes' notice: 11:00 Berlin today is too soon, 12:00 is fine.
    const soon = await book('2026-10-20T09:00:00Z', { eventTypeId: 103 });
    expect((await json(soon)).error.message).toContain('can\'t be booked at the "start" time provided');
    expect((await book('2026-10-20T10:00:00Z', { eventTypeId: 103 })).status).toBe(201);
  });

  it('answers malformed JSON, unknown event types and foreign event types', async () => {
    const bad = await call('POST', '/bookings', { version: V.bookings, rawBody: '{"start":' });
    expect(bad.status).toBe(400);
    expect(await json(bad)).toMatchObject({ status: 'error', error: { code: 'BadRequestException' } });

    const unknown = await book('2026-10-21T07:00:00Z', { eventTypeId: 999 });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error).toMatchObject({ code: 'NotFoundException', message: 'Event type with id 999 not found.' });

    const foreign = await book('2026-10-21T13:00:00Z', { eventTypeId: 301 });
    expect(foreign.status).toBe(403);
    expect((await json(foreign)).error.code).toBe('ForbiddenException');
    expect(sim.bookings()).toHaveLength(0);
  });

  it('refuses a taken slot with the exact message, also across the owner’s event types', async () => {
    expect((await book('2026-10-21T07:00:00Z')).status).toBe(201);
    const again = await book('2026-10-21T07:00:00Z', { metadata: { callbookKey: 'second' } });
    expect(again.status).toBe(400);
    const body = await json(again);
    expect(body.error.code).toBe('BadRequestException');
    expect(body.error.message).toBe('User either already has booking at this time or is not available');

    // 102 at 09:00-10:00 Berlin overlaps the 09:00-09:30 booking of 101: same host.
    const overlap = await book('2026-10-21T07:00:00Z', { eventTypeId: 102 });
    expect(overlap.status).toBe(400);
    expect((await json(overlap)).error.message).toBe(CALCOM_MESSAGES.taken);
    expect(sim.bookings()).toHaveLength(1);
  });

  it('lets only one of two concurrent requests for a slot win', async () => {
    const results = await Promise.all([book('2026-10-21T07:00:00Z'), book('2026-10-21T07:00:00Z')]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 400]);
    expect(sim.bookings()).toHaveLength(1);
  });

  it('uses the team message for team event types', async () => {
    expect((await book('2026-10-21T07:00:00Z', { eventTypeId: 201 })).status).toBe(201);
    const again = await book('2026-10-21T07:00:00Z', { eventTypeId: 201 });
    expect(again.status).toBe(400);
    expect((await json(again)).error.message).toBe(
      'One of the hosts either already has booking at this time or is not available',
    );
  });

  it('finds the event type by slug and username or team slug', async () => {
    const byUser = await book('2026-10-21T07:00:00Z', { eventTypeId: undefined, eventTypeSlug: 'beratung', username: 'praxis-berlin' });
    expect(byUser.status).toBe(201);
    const byTeam = await book('2026-10-21T08:00:00Z', { eventTypeId: undefined, eventTypeSlug: 'team-termin', teamSlug: 'praxis-team' });
    expect(byTeam.status).toBe(201);
    expect((await json(byTeam)).data.eventTypeId).toBe(201);
  });
});

describe('GET /v2/slots', () => {
  it('renders slots in the requested time zone across the Europe/Berlin DST change', async () => {
    const res = await slots('eventTypeId=102&start=2026-10-24&end=2026-10-26&timeZone=Europe/Berlin&format=range');
    expect(res.status).toBe(200);
    const { status, data } = await json(res);
    expect(status).toBe('success');
    expect(Object.keys(data)).toEqual(['2026-10-24', '2026-10-25', '2026-10-26']);
    expect(data['2026-10-24']).toEqual([
      { start: '2026-10-24T09:00:00.000+02:00', end: '2026-10-24T10:00:00.000+02:00' },
      { start: '2026-10-24T10:00:00.000+02:00', end: '2026-10-24T11:00:00.000+02:00' },
      { start: '2026-10-24T11:00:00.000+02:00', end: '2026-10-24T12:00:00.000+02:00' },
    ]);
    // Clocks went back at 03:00 on the 25th: the same wall-clock hours, one more hour of UTC offset.
    expect(data['2026-10-25'][0]).toEqual({ start: '2026-10-25T09:00:00.000+01:00', end: '2026-10-25T10:00:00.000+01:00' });
    expect(data['2026-10-26'][0].start).toBe('2026-10-26T09:00:00.000+01:00');

    const utc = await json(await slots('eventTypeId=102&start=2026-10-24&end=2026-10-26'));
    expect(utc.data['2026-10-24'][0]).toEqual({ start: '2026-10-24T07:00:00.000Z' });
    expect(utc.data['2026-10-26'][0]).toEqual({ start: '2026-10-26T08:00:00.000Z' });

    const ny = await json(await slots('eventTypeId=102&start=2026-10-24&end=2026-10-24&timeZone=America/New_York'));
    expect(ny.data['2026-10-24'][0].start).toBe('2026-10-24T03:00:00.000-04:00');
  });

  it('excludes booked, past and too-soon slots', async () => {
    expect((await book('2026-10-26T08:00:00Z', { eventTypeId: 102 })).status).toBe(201);
    const after = await json(await slots('eventTypeId=102&start=2026-10-26&end=2026-10-26&timeZone=Europe/Berlin'));
    expect(after.data['2026-10-26'].map((s: { start: string }) => s.start)).toEqual([
      '2026-10-26T10:00:00.000+01:00',
      '2026-10-26T11:00:00.000+01:00',
    ]);
    // The same host's other event type loses the overlapping 09:00 and 09:30.
    const other = await json(await slots('eventTypeId=101&start=2026-10-26&end=2026-10-26&timeZone=Europe/Berlin'));
    expect(other.data['2026-10-26'][0].start).toBe('2026-10-26T10:00:00.000+01:00');

    // Now is 10:00 Berlin: today's 30-minute slots start at 10:00; 103 (120 min notice) at 12:00.
    const today = await json(await slots('eventTypeId=101&start=2026-10-20&end=2026-10-20&timeZone=Europe/Berlin'));
    expect(today.data['2026-10-20'][0].start).toBe('2026-10-20T10:00:00.000+02:00');
    const notice = await json(await slots('eventTypeId=103&start=2026-10-20&end=2026-10-20&timeZone=Europe/Berlin'));
    expect(notice.data['2026-10-20'][0].start).toBe('2026-10-20T12:00:00.000+02:00');
  });

  it('answers 404 for an unknown event type and 400 for legacy parameters', async () => {
    const unknown = await slots('eventTypeId=999&start=2026-10-21&end=2026-10-21');
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error).toMatchObject({ code: 'NotFoundException', message: 'Event Type not found' });
    const legacy = await slots('eventTypeId=101&startTime=2026-10-21&endTime=2026-10-21');
    expect(legacy.status).toBe(400);
    expect((await json(legacy)).error.message).toContain('property startTime should not exist');
  });
});

describe('GET /v2/bookings', () => {
  it('filters by event type and time, shows metadata, paginates, and only lists the key’s bookings', async () => {
    const b1 = (await json(await book('2026-10-21T07:00:00Z', { metadata: { callId: 'a' } }))).data;
    const b2 = (await json(await book('2026-10-22T07:00:00Z', { metadata: { callId: 'b' } }))).data;
    const b3 = (await json(await book('2026-10-21T08:00:00Z', { eventTypeId: 102, metadata: { callId: 'c' } }))).data;
    const foreign = await book('2026-10-21T13:00:00Z', { eventTypeId: 301 }, { key: OTHER });
    expect(foreign.status).toBe(201);

    const day = await call('GET', '/bookings?eventTypeId=101&afterStart=2026-10-21T00:00:00Z&beforeEnd=2026-10-21T23:59:59Z', {
      version: V.bookings,
    });
    expect(day.status).toBe(200);
    const dayBody = await json(day);
    expect(dayBody.data.map((b: { uid: string }) => b.uid)).toEqual([b1.uid]);
    expect(dayBody.data[0].metadata).toEqual({ callId: 'a' });
    expect(dayBody.pagination).toEqual({
      totalItems: 1,
      remainingItems: 0,
      returnedItems: 1,
      itemsPerPage: 100,
      currentPage: 1,
      totalPages: 1,
      hasNextPage: false,
      hasPreviousPage: false,
    });

    const both = await json(await call('GET', '/bookings?eventTypeIds=101,102', { version: V.bookings }));
    expect(both.data.map((b: { uid: string }) => b.uid)).toEqual([b1.uid, b3.uid, b2.uid]);

    const page = await json(await call('GET', '/bookings?take=1&skip=1', { version: V.bookings }));
    expect(page.data.map((b: { uid: string }) => b.uid)).toEqual([b3.uid]);
    expect(page.pagination).toMatchObject({
      totalItems: 3,
      remainingItems: 1,
      returnedItems: 1,
      itemsPerPage: 1,
      currentPage: 2,
      totalPages: 3,
      hasNextPage: true,
      hasPreviousPage: true,
    });

    const byEmail = await json(
      await call('GET', '/bookings?attendeeEmail=4915112345678@sms.cal.com&bookingUid=' + b2.uid, { version: V.bookings }),
    );
    expect(byEmail.data.map((b: { uid: string }) => b.uid)).toEqual([b2.uid]);

    const theirs = await json(await call('GET', '/bookings', { key: OTHER, version: V.bookings }));
    expect(theirs.data).toHaveLength(1);
    expect(theirs.data[0].eventTypeId).toBe(301);

    await call('POST', `/bookings/${b2.uid}/cancel`, { version: V.bookings, body: {} });
    const cancelled = await json(await call('GET', '/bookings?status=cancelled', { version: V.bookings }));
    expect(cancelled.data.map((b: { uid: string }) => b.uid)).toEqual([b2.uid]);
    const upcoming = await json(await call('GET', '/bookings?status=upcoming', { version: V.bookings }));
    expect(upcoming.data.map((b: { uid: string }) => b.uid)).toEqual([b1.uid, b3.uid]);
    const invalid = await call('GET', '/bookings?status=soon', { version: V.bookings });
    expect(invalid.status).toBe(400);
  });

  it('filters team bookings by teamId', async () => {
    const team = (await json(await book('2026-10-21T07:00:00Z', { eventTypeId: 201 }))).data;
    await book('2026-10-22T07:00:00Z');
    const res = await json(await call('GET', '/bookings?teamId=77', { version: V.bookings }));
    expect(res.data.map((b: { uid: string }) => b.uid)).toEqual([team.uid]);
  });

  it('gets one booking by uid, 404 when unknown or another account’s', async () => {
    const b = (await json(await book('2026-10-21T07:00:00Z'))).data;
    const one = await call('GET', `/bookings/${b.uid}`, { version: V.bookings });
    expect(one.status).toBe(200);
    expect((await json(one)).data.uid).toBe(b.uid);
    const unknown = await call('GET', '/bookings/nope', { version: V.bookings });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.code).toBe('NotFoundException');
    expect((await call('GET', `/bookings/${b.uid}`, { key: OTHER, version: V.bookings })).status).toBe(404);
  });
});

describe('reschedule and cancel', () => {
  it('reschedules to a new uid, links old and new, and frees the old slot', async () => {
    const old = (await json(await book('2026-10-21T07:00:00Z', { eventTypeId: 104, metadata: { callId: 'r' } }))).data;
    // 09:30-10:30 overlaps the booking being moved, which does not count against itself.
    const res = await call('POST', `/bookings/${old.uid}/reschedule`, {
      version: V.bookings,
      body: { start: '2026-10-21T07:30:00Z', reschedulingReason: 'Kunde verspätet sich' },
    });
    expect(res.status).toBe(201);
    const next = (await json(res)).data;
    expect(next.uid).not.toBe(old.uid);
    expect(next).toMatchObject({
      status: 'accepted',
      start: '2026-10-21T07:30:00.000Z',
      end: '2026-10-21T08:30:00.000Z',
      rescheduledFromUid: old.uid,
      reschedulingReason: 'Kunde verspätet sich',
      metadata: { callId: 'r' },
    });
    const before = (await json(await call('GET', `/bookings/${old.uid}`, { version: V.bookings }))).data;
    expect(before).toMatchObject({ status: 'cancelled', rescheduledToUid: next.uid });

    const again = await call('POST', `/bookings/${old.uid}/reschedule`, { version: V.bookings, body: { start: '2026-10-22T07:00:00Z' } });
    expect(again.status).toBe(400);
    expect((await json(again)).error.message).toContain(`rescheduled already to booking with uid=${next.uid}`);

    // The old 09:00 slot of 101 is free again only up to 09:30, where the moved booking starts.
    const free = await json(await slots('eventTypeId=101&start=2026-10-21&end=2026-10-21&timeZone=Europe/Berlin'));
    expect(free.data['2026-10-21'].slice(0, 2).map((s: { start: string }) => s.start)).toEqual([
      '2026-10-21T09:00:00.000+02:00',
      '2026-10-21T10:30:00.000+02:00',
    ]);
  });

  it('refuses to reschedule onto a taken slot', async () => {
    const a = (await json(await book('2026-10-21T07:00:00Z'))).data;
    await book('2026-10-21T08:00:00Z');
    const res = await call('POST', `/bookings/${a.uid}/reschedule`, { version: V.bookings, body: { start: '2026-10-21T08:00:00Z' } });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toBe(CALCOM_MESSAGES.taken);
    const unknownKey = await call('POST', `/bookings/${a.uid}/reschedule`, {
      version: V.bookings,
      body: { start: '2026-10-21T09:00:00Z', teamId: 77 },
    });
    expect((await json(unknownKey)).error.message).toContain('property teamId should not exist');
  });

  it('cancels, frees the slot, and refuses a second cancel', async () => {
    const b = (await json(await book('2026-10-21T07:00:00Z'))).data;
    const res = await call('POST', `/bookings/${b.uid}/cancel`, { version: V.bookings, body: { cancellationReason: 'Krank' } });
    expect(res.status).toBe(200);
    expect((await json(res)).data).toMatchObject({ uid: b.uid, status: 'cancelled', cancellationReason: 'Krank' });
    expect(sim.bookings()[0]?.status).toBe('cancelled');
    expect((await book('2026-10-21T07:00:00Z')).status).toBe(201);
    const twice = await call('POST', `/bookings/${b.uid}/cancel`, { version: V.bookings });
    expect(twice.status).toBe(400);
    expect((await call('POST', '/bookings/nope/cancel', { version: V.bookings })).status).toBe(404);
  });
});

describe('rate limit', () => {
  it('answers 429 ThrottlerException with X-RateLimit headers and no Retry-After once the limit is exceeded', async () => {
    sim.addAccount({ apiKey: 'cal_test_small', username: 'small', timeZone: 'UTC', rateLimitPerMinute: 5 });
    const get = () => call('GET', '/bookings', { key: 'cal_test_small', version: V.bookings });
    for (let i = 0; i < 5; i++) {
      const res = await get();
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit-default')).toBe('5');
      expect(res.headers.get('x-ratelimit-remaining-default')).toBe(String(4 - i));
      expect(Number(res.headers.get('x-ratelimit-reset-default'))).toBeGreaterThan(0);
    }
    const limited = await get();
    expect(limited.status).toBe(429);
    expect((await json(limited)).error.code).toBe('ThrottlerException');
    expect(limited.headers.get('x-ratelimit-limit-default')).toBe('5');
    expect(limited.headers.get('x-ratelimit-remaining-default')).toBe('0');
    expect(limited.headers.get('x-ratelimit-reset-default')).toBe('60');
    expect(limited.headers.get('retry-after')).toBeNull();

    clock = new Date(NOW.getTime() + 30_000);
    const blocked = await get();
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('x-ratelimit-reset-default')).toBe('30');
    // Other keys are counted separately.
    expect((await call('GET', '/bookings', { version: V.bookings })).status).toBe(200);

    clock = new Date(NOW.getTime() + 61_000);
    expect((await get()).status).toBe(200);
  });
});

describe('faults', () => {
  it('latency delays the answer', async () => {
    const t0 = Date.now();
    const res = await call('GET', '/bookings', { version: V.bookings, headers: { 'x-sim-fault': 'latency=150' } });
    expect(res.status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    sim.setFaults({ latencyMs: 100 }, KEY);
    const t1 = Date.now();
    expect((await call('GET', '/bookings', { version: V.bookings })).status).toBe(200);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(90);
  });

  it('errorRatio 1 answers the bare 500 body and books nothing', async () => {
    sim.setFaults({ errorRatio: 1 });
    const res = await book('2026-10-21T07:00:00Z');
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('{"statusCode":500,"message":"Internal server error"}');
    expect(sim.bookings()).toHaveLength(0);
    sim.clearFaults();
    expect((await book('2026-10-21T07:00:00Z')).status).toBe(201);
    const viaHeader = await call('GET', '/bookings', { version: V.bookings, headers: { 'x-sim-fault': '500' } });
    expect(await json(viaHeader)).toEqual({ statusCode: 500, message: 'Internal server error' });
  });

  it('per-key faults leave other keys alone', async () => {
    sim.setFaults({ errorRatio: 1 }, OTHER);
    expect((await call('GET', '/bookings', { key: OTHER, version: V.bookings })).status).toBe(500);
    expect((await call('GET', '/bookings', { version: V.bookings })).status).toBe(200);
  });

  it('hang never answers; the client’s timeout fires and nothing is booked', async () => {
    const viaHeader = book('2026-10-21T07:00:00Z', {}, { headers: { 'x-sim-fault': 'hang' }, signal: AbortSignal.timeout(300) });
    await expect(viaHeader).rejects.toMatchObject({ name: 'TimeoutError' });
    sim.setFaults({ hangRatio: 1 });
    const viaConfig = call('GET', '/bookings', { version: V.bookings, signal: AbortSignal.timeout(200) });
    await expect(viaConfig).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(sim.bookings()).toHaveLength(0);
    const hung = sim.requests().filter((r) => r.fault === 'hang');
    expect(hung.length).toBeGreaterThanOrEqual(1);
    expect(hung.every((r) => r.status === 0)).toBe(true);
  });

  it('drop performs the booking, then the connection dies without an answer', async () => {
    await expect(book('2026-10-21T07:00:00Z', {}, { headers: { 'x-sim-fault': 'drop' } })).rejects.toThrow();
    const stored = sim.bookings();
    expect(stored).toHaveLength(1);
    expect(sim.requests().find((r) => r.fault === 'drop')).toMatchObject({ status: 201, path: '/v2/bookings' });
    // Reconciliation finds it by event type and time.
    const found = await json(
      await call('GET', '/bookings?eventTypeId=101&afterStart=2026-10-21T07:00:00Z&beforeEnd=2026-10-21T07:30:00Z', {
        version: V.bookings,
      }),
    );
    expect(found.data.map((b: { uid: string }) => b.uid)).toEqual([stored[0]?.uid]);

    sim.setFaults({ dropAfterOkRatio: 1 });
    await expect(book('2026-10-22T07:00:00Z')).rejects.toThrow();
    expect(sim.bookings()).toHaveLength(2);
  });

  it('burst429 answers the next N requests with 429 and a short reset', async () => {
    sim.setFaults({ burst429: 2, burst429ResetSeconds: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await book('2026-10-21T07:00:00Z');
      expect(res.status).toBe(429);
      expect((await json(res)).error.code).toBe('ThrottlerException');
      expect(res.headers.get('x-ratelimit-reset-default')).toBe('2');
      expect(res.headers.get('x-ratelimit-remaining-default')).toBe('0');
      expect(res.headers.get('retry-after')).toBeNull();
    }
    expect((await book('2026-10-21T07:00:00Z')).status).toBe(201);
    const viaHeader = await call('GET', '/bookings', { version: V.bookings, headers: { 'x-sim-fault': '429' } });
    expect(viaHeader.status).toBe(429);
    expect(viaHeader.headers.get('x-ratelimit-reset-default')).toBe('1');
  });

  it('refuses an unknown x-sim-fault token', async () => {
    const res = await call('GET', '/bookings', { version: V.bookings, headers: { 'x-sim-fault': 'explode' } });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toContain('x-sim-fault');
  });
});

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function receiver(answer: (path: string) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 })) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const a = answer(req.url ?? '');
      res.writeHead(a.status, a.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const hmac = (body: string, secret: string) => createHmac('sha256', secret).update(body).digest('hex');

describe('outgoing webhooks', () => {
  it('posts signed BOOKING_CREATED, BOOKING_RESCHEDULED and BOOKING_CANCELLED', async () => {
    const hook = await receiver();
    try {
      sim.addWebhook({
        subscriberUrl: `${hook.url}/webhooks/calcom`,
        triggers: ['BOOKING_CREATED', 'BOOKING_RESCHEDULED', 'BOOKING_CANCELLED'],
        secret: 'whsec_test',
        ownerApiKey: KEY,
      });
      const created = (await json(await book('2026-10-21T07:00:00Z', { metadata: { callId: 'w1' } }))).data;
      await sim.webhooksIdle();
      expect(hook.received).toHaveLength(1);
      const first = hook.received[0]!;
      expect(first.path).toBe('/webhooks/calcom');
      expect(first.headers['x-cal-signature-256']).toBe(hmac(first.body, 'whsec_test'));
      const body = JSON.parse(first.body);
      expect(body).toMatchObject({
        triggerEvent: 'BOOKING_CREATED',
        createdAt: NOW.toISOString(),
        payload: {
          uid: created.uid,
          bookingId: created.id,
          eventTypeId: 101,
          type: 'beratung',
          title: created.title,
          startTime: '2026-10-21T07:00:00.000Z',
          endTime: '2026-10-21T07:30:00.000Z',
          organizer: { name: 'Praxis Berlin', timeZone: 'Europe/Berlin' },
          metadata: { callId: 'w1' },
          status: 'ACCEPTED',
        },
      });
      expect(body.payload.attendees[0]).toMatchObject({ name: 'Max Mustermann', phoneNumber: '+4915112345678' });
      expect(body.payload.responses.name).toEqual({ label: 'your_name', value: 'Max Mustermann' });

      const moved = (
        await json(await call('POST', `/bookings/${created.uid}/reschedule`, { version: V.bookings, body: { start: '2026-10-21T08:00:00Z' } }))
      ).data;
      await call('POST', `/bookings/${moved.uid}/cancel`, { version: V.bookings, body: { cancellationReason: 'Krank' } });
      await sim.webhooksIdle();
      const [, resched, cancel] = hook.received.map((r) => {
        expect(r.headers['x-cal-signature-256']).toBe(hmac(r.body, 'whsec_test'));
        return JSON.parse(r.body);
      });
      expect(resched).toMatchObject({
        triggerEvent: 'BOOKING_RESCHEDULED',
        payload: { uid: moved.uid, rescheduleUid: created.uid, startTime: '2026-10-21T08:00:00.000Z', status: 'ACCEPTED' },
      });
      expect(cancel).toMatchObject({
        triggerEvent: 'BOOKING_CANCELLED',
        payload: { uid: moved.uid, status: 'CANCELLED', cancellationReason: 'Krank' },
      });
    } finally {
      await hook.close();
    }
  });

  it('signs with the literal no-secret-provided, skips other triggers, and does not follow redirects', async () => {
    const hook = await receiver((path) => (path === '/moved' ? { status: 302, headers: { location: '/elsewhere' } } : { status: 204 }));
    try {
      const res = await call('POST', '/webhooks', {
        body: { subscriberUrl: `${hook.url}/plain`, triggers: ['BOOKING_CREATED'], active: true },
      });
      expect(res.status).toBe(201);
      expect((await json(res)).data).toMatchObject({ subscriberUrl: `${hook.url}/plain`, triggers: ['BOOKING_CREATED'], active: true });
      sim.addWebhook({ subscriberUrl: `${hook.url}/moved`, triggers: ['BOOKING_CREATED'], ownerApiKey: KEY });
      sim.addWebhook({ subscriberUrl: `${hook.url}/cancel-only`, triggers: ['BOOKING_CANCELLED'], ownerApiKey: KEY });
      sim.addWebhook({ subscriberUrl: `${hook.url}/foreign`, triggers: ['BOOKING_CREATED'], ownerApiKey: OTHER });

      await book('2026-10-21T07:00:00Z');
      await sim.webhooksIdle();
      expect(hook.received.map((r) => r.path).sort()).toEqual(['/moved', '/plain']);
      const plain = hook.received.find((r) => r.path === '/plain')!;
      expect(plain.headers['x-cal-signature-256']).toBe(hmac(plain.body, 'no-secret-provided'));
      const redirect = sim.requests().find((r) => r.method === 'WEBHOOK');
      expect(redirect).toMatchObject({ path: `${hook.url}/moved`, status: 302 });

      const list = await json(await call('GET', '/webhooks'));
      expect(list.data.map((w: { subscriberUrl: string }) => w.subscriberUrl)).toEqual([
        `${hook.url}/plain`,
        `${hook.url}/moved`,
        `${hook.url}/cancel-only`,
      ]);
      expect((await call('POST', '/webhooks', { body: { subscriberUrl: 'x', triggers: ['NOPE'], active: true } })).status).toBe(400);
    } finally {
      await hook.close();
    }
  });

  it('logs an unreachable subscriber and keeps serving', async () => {
    const dead = await receiver();
    await dead.close();
    sim.addWebhook({ subscriberUrl: `${dead.url}/gone`, triggers: ['BOOKING_CREATED'], ownerApiKey: KEY });
    expect((await book('2026-10-21T07:00:00Z')).status).toBe(201);
    await sim.webhooksIdle();
    expect(sim.requests().find((r) => r.method === 'WEBHOOK')).toMatchObject({ status: 0, path: `${dead.url}/gone` });
    expect(sim.webhookDeliveries()[0]?.error).toBeTruthy();
    expect((await book('2026-10-21T08:00:00Z')).status).toBe(201);
  });
});

describe('event types', () => {
  it('lists a user’s event types (2024-06-14) and a team’s with hosts', async () => {
    const res = await call('GET', '/event-types?username=praxis-berlin', { version: V.eventTypes });
    expect(res.status).toBe(200);
    const list = (await json(res)).data;
    expect(list.map((e: { id: number }) => e.id)).toEqual([101, 102, 103, 104]);
    expect(list[0]).toMatchObject({
      id: 101,
      slug: 'beratung',
      title: 'Beratung',
      lengthInMinutes: 30,
      minimumBookingNotice: 0,
      slotInterval: null,
      hidden: false,
    });
    expect(Array.isArray(list[0].bookingFields)).toBe(true);

    const one = await json(await call('GET', '/event-types/104', { version: V.eventTypes }));
    expect(one.data).toMatchObject({ id: 104, slotInterval: 30 });
    expect((await call('GET', '/event-types/301', { version: V.eventTypes })).status).toBe(403);
    expect((await call('GET', '/event-types/999', { version: V.eventTypes })).status).toBe(404);

    const team = await json(await call('GET', '/teams/77/event-types'));
    expect(team.data).toEqual([
      expect.objectContaining({
        id: 201,
        teamId: 77,
        schedulingType: 'collective',
        hosts: [expect.objectContaining({ userId: 1, username: 'praxis-berlin' })],
      }),
    ]);
    expect((await call('GET', '/teams/77/event-types', { key: OTHER })).status).toBe(403);
  });
});

describe('admin API and in-process use', () => {
  it('sets faults, seeds and lists bookings over /__sim', async () => {
    const set = await fetch(`${run.origin}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey: KEY, errorRatio: 1 }),
    });
    expect(set.status).toBe(200);
    expect((await book('2026-10-21T07:00:00Z')).status).toBe(500);
    await fetch(`${run.origin}/__sim/faults`, { method: 'DELETE' });
    expect((await book('2026-10-21T07:00:00Z')).status).toBe(201);

    const bad = await fetch(`${run.origin}/__sim/event-types`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 5, slug: 'x', title: 'X', lengthInMinutes: 30, ownerApiKey: 'nobody' }),
    });
    expect(bad.status).toBe(400);
    const listed = await json(await fetch(`${run.origin}/__sim/bookings`));
    expect(listed.data).toHaveLength(1);
    expect(sim.requests().some((r) => r.path.startsWith('/__sim'))).toBe(false);
  });

  it('answers through app.request without a server', async () => {
    const res = await sim.app.request('/v2/slots?eventTypeId=101&start=2026-10-21&end=2026-10-21', {
      headers: { 'cal-api-version': V.slots },
    });
    expect(res.status).toBe(200);
    expect(Object.keys((await json(res)).data)).toEqual(['2026-10-21']);
    await expect(
      sim.app.request('/v2/bookings', { headers: { authorization: `Bearer ${KEY}`, 'cal-api-version': V.bookings, 'x-sim-fault': 'drop' } }),
    ).rejects.toThrow(/drop/);
  });
});
