/**
 * `/v2/bookings` (cal-api-version 2024-08-13): create, list, get, reschedule and cancel, with Cal.com's
 * checks in its order (past, bounds, conflicts) and its texts. The check and the insert of a booking run
 * without an await between them, so concurrent requests for one slot cannot both win.
 */
import { Hono } from 'hono';
import { DateTime } from 'luxon';
import { earliestStart, isOnSchedule, pickHosts } from './availability';
import { MSG, SimHttpError } from './errors';
import { API_VERSIONS, readBody, requireAccount, requireVersion, success, type SimContext, type SimDeps } from './http';
import { newUid, type AccountRecord, type SimState } from './state';
import type { SimBooking, SimEnv, SimEventType } from './types';
import { parseCancel, parseCreateBooking, parseReschedule, type CreateBookingInput } from './validation';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `location` as Cal.com outputs it: the address, link or phone of a location object, else Cal Video. */
export function locationString(v: unknown): string {
  if (typeof v === 'string' && v) return v;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    for (const key of ['address', 'link', 'phone', 'location']) {
      const x = o[key];
      if (typeof x === 'string' && x) return x;
    }
    const integration = o.integration;
    if (typeof integration === 'string' && integration && integration !== 'cal-video') return `integrations:${integration}`;
  }
  return 'integrations:daily';
}

/** The BookingOutput_2024_08_13 shape of a stored booking. */
export function bookingOutput(state: SimState, b: SimBooking): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: b.id,
    uid: b.uid,
    title: b.title,
    description: '',
    hosts: b.hostApiKeys.flatMap((k) => {
      const a = state.accounts.get(k);
      return a ? [{ id: a.id, name: a.name, email: a.email, username: a.username, timeZone: a.timeZone }] : [];
    }),
    status: b.status,
  };
  if (b.cancellationReason !== undefined) out.cancellationReason = b.cancellationReason;
  if (b.cancelledByEmail !== undefined) out.cancelledByEmail = b.cancelledByEmail;
  if (b.reschedulingReason !== undefined) out.reschedulingReason = b.reschedulingReason;
  if (b.rescheduledByEmail !== undefined) out.rescheduledByEmail = b.rescheduledByEmail;
  if (b.rescheduledFromUid !== undefined) out.rescheduledFromUid = b.rescheduledFromUid;
  if (b.rescheduledToUid !== undefined) out.rescheduledToUid = b.rescheduledToUid;
  Object.assign(out, {
    start: b.start,
    end: b.end,
    duration: b.duration,
    eventTypeId: b.eventTypeId,
    eventType: { id: b.eventTypeId, slug: b.eventTypeSlug },
    meetingUrl: b.location,
    location: b.location,
    absentHost: false,
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
    metadata: { ...b.metadata },
    icsUid: `${b.uid}@Cal.com`,
    attendees: b.attendees.map((a) => ({
      name: a.name,
      email: a.email,
      displayEmail: a.email,
      timeZone: a.timeZone,
      language: a.language,
      absent: false,
      ...(a.phoneNumber ? { phoneNumber: a.phoneNumber } : {}),
    })),
  });
  if (b.guests.length) out.guests = [...b.guests];
  out.bookingFieldsResponses = structuredClone(b.bookingFieldsResponses);
  return out;
}

function resolveEventType(state: SimState, input: CreateBookingInput): SimEventType {
  if (input.eventTypeId !== undefined) {
    const et = state.eventTypes.get(input.eventTypeId);
    if (!et) throw new SimHttpError(404, `Event type with id ${input.eventTypeId} not found.`);
    return et;
  }
  const slug = input.eventTypeSlug ?? '';
  if (input.username !== undefined) {
    const owner = state.accountByUsername(input.username);
    const et = [...state.eventTypes.values()].find(
      (e) => e.slug === slug && e.teamId === undefined && e.ownerApiKey === owner?.apiKey,
    );
    if (!et) throw new SimHttpError(404, `Event type with slug ${slug} belonging to user ${input.username} not found.`);
    return et;
  }
  const et = [...state.eventTypes.values()].find((e) => e.slug === slug && e.teamSlug === input.teamSlug);
  if (!et) throw new SimHttpError(404, `Event type with slug ${slug} belonging to team ${input.teamSlug} not found.`);
  return et;
}

/**
 * Checks a start for an event type in Cal.com's order and returns the hosts the booking occupies:
 * in the past → 400; too soon or off the schedule's slot grid → 400 out of bounds; a host busy → 400 taken.
 */
function admit(
  state: SimState,
  et: SimEventType,
  start: DateTime,
  lengthMinutes: number,
  now: Date,
  opts: { excludeUid?: string; allowConflicts: boolean; allowBookingOutOfBounds: boolean },
): AccountRecord[] {
  const ms = start.toMillis();
  if (ms < now.getTime()) throw new SimHttpError(400, MSG.past);
  if (!opts.allowBookingOutOfBounds && (ms < earliestStart(et, now) || !isOnSchedule(state, et, start, lengthMinutes))) {
    throw new SimHttpError(400, MSG.outOfBounds);
  }
  const hosts = pickHosts(state, et, ms, ms + lengthMinutes * 60_000, opts.excludeUid);
  if (hosts) return hosts;
  if (opts.allowConflicts) {
    const all = state.hostsOf(et);
    return et.schedulingType === 'roundRobin' ? all.slice(0, 1) : all;
  }
  throw new SimHttpError(400, et.teamId !== undefined ? MSG.teamTaken : MSG.taken);
}

function bookingLength(et: SimEventType, requested: number | undefined): number {
  if (requested === undefined) return et.lengthInMinutes;
  const options = et.lengthInMinutesOptions;
  if (!options?.length) throw new SimHttpError(400, MSG.singleLength);
  if (!options.includes(requested)) {
    throw new SimHttpError(
      400,
      `Provided 'lengthInMinutes' is not one of the possible lengths for the event type. The possible lengths are: ${options.join(', ')}`,
    );
  }
  return requested;
}

/** Cal.com's placeholder email for attendees booked by phone only. */
function phoneEmail(phone: string): string {
  return `${phone.replace(/\D/g, '')}@sms.cal.com`;
}

function findVisible(state: SimState, account: AccountRecord, uid: string): SimBooking | undefined {
  const b = state.bookingByUid(uid);
  return b && state.canSeeBooking(account, b) ? b : undefined;
}

const LIST_STATUSES = ['upcoming', 'recurring', 'past', 'cancelled', 'unconfirmed'] as const;
type ListStatus = (typeof LIST_STATUSES)[number];

function matchesStatus(b: SimBooking, status: ListStatus, nowMs: number): boolean {
  const endMs = Date.parse(b.end);
  const active = b.status !== 'cancelled' && b.status !== 'rejected';
  switch (status) {
    case 'upcoming':
      return active && endMs >= nowMs;
    case 'past':
      return active && endMs <= nowMs;
    case 'cancelled':
      return !active;
    case 'unconfirmed':
      return b.status === 'pending' && endMs >= nowMs;
    case 'recurring':
      return false;
  }
}

function queryInt(q: Record<string, string>, name: string, min: number, max?: number): number | undefined {
  const raw = q[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || n < min || (max !== undefined && n > max)) {
    const range = max === undefined ? `not less than ${min}` : `between ${min} and ${max}`;
    throw new SimHttpError(400, `${name} property is wrong,${name} must be an integer number ${range} `);
  }
  return n;
}

function queryIds(q: Record<string, string>, name: string): number[] | undefined {
  const raw = q[name];
  if (raw === undefined) return undefined;
  const parts = raw.split(',').map((p) => p.trim());
  if (!parts.every((p) => /^\d+$/.test(p))) {
    throw new SimHttpError(400, `${name} property is wrong,each value in ${name} must be a number conforming to the specified constraints `);
  }
  return parts.map(Number);
}

function queryDate(q: Record<string, string>, name: string): number | undefined {
  const raw = q[name];
  if (raw === undefined) return undefined;
  const t = DateTime.fromISO(raw, { zone: 'utc' });
  if (!t.isValid) throw new SimHttpError(400, `${name} property is wrong,${name} must be a valid ISO 8601 date string `);
  return t.toMillis();
}

const SORTS = { sortStart: 'start', sortEnd: 'end', sortCreated: 'createdAt', sortUpdatedAt: 'updatedAt' } as const;

function list(c: SimContext, state: SimState, account: AccountRecord, now: Date) {
  const q = c.req.query();
  const statuses = q.status === undefined ? [] : q.status.split(',').map((s) => s.trim());
  if (!statuses.every((s): s is ListStatus => (LIST_STATUSES as readonly string[]).includes(s))) {
    throw new SimHttpError(400, `Invalid status. Allowed are ${LIST_STATUSES.join(', ')}`);
  }
  const take = queryInt(q, 'take', 1, 250) ?? 100;
  const skip = queryInt(q, 'skip', 0) ?? 0;
  const single = queryInt(q, 'eventTypeId', 1);
  const eventTypeIds = queryIds(q, 'eventTypeIds') ?? (single !== undefined ? [single] : undefined);
  const team = queryInt(q, 'teamId', 1);
  const teamIds = queryIds(q, 'teamsIds') ?? (team !== undefined ? [team] : undefined);
  const bounds = {
    afterStart: queryDate(q, 'afterStart'),
    beforeEnd: queryDate(q, 'beforeEnd'),
    afterCreatedAt: queryDate(q, 'afterCreatedAt'),
    beforeCreatedAt: queryDate(q, 'beforeCreatedAt'),
    afterUpdatedAt: queryDate(q, 'afterUpdatedAt'),
    beforeUpdatedAt: queryDate(q, 'beforeUpdatedAt'),
  };
  let sortKey: 'start' | 'end' | 'createdAt' | 'updatedAt' = 'start';
  // Cal.com lists a single past or cancelled status newest first, everything else oldest first.
  let descending = statuses.length === 1 && (statuses[0] === 'past' || statuses[0] === 'cancelled');
  for (const [param, key] of Object.entries(SORTS)) {
    const v = q[param];
    if (v === undefined) continue;
    if (v !== 'asc' && v !== 'desc') throw new SimHttpError(400, `${param} must be either "asc" or "desc".`);
    sortKey = key;
    descending = v === 'desc';
    break;
  }
  const nowMs = now.getTime();
  const email = q.attendeeEmail?.trim();
  const name = q.attendeeName?.trim();
  const uid = q.bookingUid?.trim();
  const items = state.bookings.filter((b) => {
    if (!state.canSeeBooking(account, b)) return false;
    // Cal.com applies no status filter when none is given: every status is listed.
    if (statuses.length && !statuses.some((s) => matchesStatus(b, s as ListStatus, nowMs))) return false;
    if (email && !b.attendees.some((a) => a.email === email)) return false;
    if (name && !b.attendees.some((a) => a.name === name)) return false;
    if (uid && b.uid !== uid) return false;
    if (eventTypeIds && !eventTypeIds.includes(b.eventTypeId)) return false;
    if (teamIds && (b.teamId === undefined || !teamIds.includes(b.teamId))) return false;
    const start = Date.parse(b.start);
    const end = Date.parse(b.end);
    const created = Date.parse(b.createdAt);
    const updated = Date.parse(b.updatedAt);
    if (bounds.afterStart !== undefined && start < bounds.afterStart) return false;
    if (bounds.beforeEnd !== undefined && end > bounds.beforeEnd) return false;
    if (bounds.afterCreatedAt !== undefined && created < bounds.afterCreatedAt) return false;
    if (bounds.beforeCreatedAt !== undefined && created > bounds.beforeCreatedAt) return false;
    if (bounds.afterUpdatedAt !== undefined && updated < bounds.afterUpdatedAt) return false;
    if (bounds.beforeUpdatedAt !== undefined && updated > bounds.beforeUpdatedAt) return false;
    return true;
  });
  items.sort((a, b) => {
    const d = Date.parse(a[sortKey]) - Date.parse(b[sortKey]);
    return (descending ? -d : d) || a.id - b.id;
  });
  const total = items.length;
  const clampedSkip = Math.min(skip, total);
  const page = items.slice(skip, skip + take);
  const totalPages = Math.ceil(total / take);
  const pagination = {
    totalItems: total,
    remainingItems: Math.max(0, total - (clampedSkip + take)),
    returnedItems: page.length,
    itemsPerPage: take,
    currentPage: totalPages === 0 ? 0 : Math.min(Math.floor(clampedSkip / take) + 1, totalPages),
    totalPages,
    hasNextPage: clampedSkip + take < total,
    hasPreviousPage: clampedSkip > 0,
  };
  return success(
    c,
    page.map((b) => bookingOutput(state, b)),
    200,
    { pagination },
  );
}

export function bookingRoutes({ state, now, webhooks }: SimDeps): Hono<SimEnv> {
  const r = new Hono<SimEnv>();

  r.post('/', (c) => {
    const account = requireAccount(c, state);
    requireVersion(c, API_VERSIONS.bookings);
    const input = parseCreateBooking(readBody(c));
    const et = resolveEventType(state, input);
    if (!state.canUseEventType(account, et)) {
      // Cal.com itself lets any key book a public event type; the simulator keeps tenants apart instead.
      throw new SimHttpError(
        403,
        `User with id=${account.id} is neither the owner nor a team member of event type with id=${et.id}`,
      );
    }
    if (et.schedulingType === 'managed') {
      throw new SimHttpError(400, `Event type with id=${et.id} is a managed event type parent; book one of its children`);
    }
    const length = bookingLength(et, input.lengthInMinutes);
    const at = now();
    const hosts = admit(state, et, input.start, length, at, input);
    const startMs = input.start.toMillis();
    const a = input.attendee;
    const email = a.email ?? phoneEmail(a.phoneNumber ?? '');
    const location = locationString(input.location);
    const organizer = hosts[0];
    const responses: Record<string, unknown> = { ...input.bookingFieldsResponses, name: a.name, email };
    if (a.phoneNumber) responses.attendeePhoneNumber = a.phoneNumber;
    if (input.guests) responses.guests = [...input.guests];
    if (input.location !== undefined) responses.location = { value: location, optionValue: '' };
    const b: SimBooking = {
      id: state.takeBookingId(),
      uid: newUid(),
      title: `${et.title} between ${organizer?.name ?? 'host'} and ${a.name}`,
      status: 'accepted',
      start: iso(startMs),
      end: iso(startMs + length * 60_000),
      duration: length,
      eventTypeId: et.id,
      eventTypeSlug: et.slug,
      ...(et.teamId !== undefined ? { teamId: et.teamId } : {}),
      ownerApiKey: et.ownerApiKey,
      hostApiKeys: hosts.map((h) => h.apiKey),
      attendees: [
        {
          name: a.name,
          email,
          timeZone: a.timeZone,
          language: a.language,
          ...(a.phoneNumber ? { phoneNumber: a.phoneNumber } : {}),
        },
      ],
      guests: input.guests ? [...input.guests] : [],
      metadata: { ...input.metadata },
      bookingFieldsResponses: responses,
      location,
      createdAt: at.toISOString(),
      updatedAt: at.toISOString(),
    };
    state.addBooking(b);
    webhooks.emit('BOOKING_CREATED', b);
    return success(c, bookingOutput(state, b), 201);
  });

  r.get('/', (c) => {
    const account = requireAccount(c, state);
    requireVersion(c, API_VERSIONS.bookings);
    return list(c, state, account, now());
  });

  r.get('/:uid', (c) => {
    const account = requireAccount(c, state);
    requireVersion(c, API_VERSIONS.bookings);
    const uid = c.req.param('uid');
    const b = findVisible(state, account, uid);
    if (!b) throw new SimHttpError(404, `Booking with uid=${uid} was not found in the database`);
    return success(c, bookingOutput(state, b));
  });

  r.post('/:uid/reschedule', (c) => {
    const account = requireAccount(c, state);
    requireVersion(c, API_VERSIONS.bookings);
    const input = parseReschedule(readBody(c));
    const uid = c.req.param('uid');
    const old = findVisible(state, account, uid);
    if (!old) throw new SimHttpError(404, `Booking with uid=${uid} was not found in the database`);
    if (old.status === 'cancelled' || old.status === 'rejected') {
      const to = old.rescheduledToUid;
      throw new SimHttpError(
        400,
        to
          ? `Can't reschedule booking with uid=${uid} because it has been cancelled and rescheduled already to booking with uid=${to}. You probably want to reschedule ${to} instead by passing it within the request URL.`
          : `Can't reschedule booking with uid=${uid} because it has been cancelled. Please provide uid of a booking that is not cancelled.`,
      );
    }
    const et = state.eventTypes.get(old.eventTypeId);
    if (!et) throw new SimHttpError(404, `Event type with id ${old.eventTypeId} not found.`);
    const at = now();
    const hosts = admit(state, et, input.start, old.duration, at, { ...input, excludeUid: old.uid });
    const startMs = input.start.toMillis();
    const responses = structuredClone(old.bookingFieldsResponses);
    if (input.reschedulingReason !== undefined) responses.rescheduledReason = input.reschedulingReason;
    const next: SimBooking = {
      ...structuredClone(old),
      id: state.takeBookingId(),
      uid: newUid(),
      status: 'accepted',
      start: iso(startMs),
      end: iso(startMs + old.duration * 60_000),
      hostApiKeys: hosts.map((h) => h.apiKey),
      bookingFieldsResponses: responses,
      rescheduledFromUid: old.uid,
      createdAt: at.toISOString(),
      updatedAt: at.toISOString(),
    };
    delete next.rescheduledToUid;
    delete next.cancellationReason;
    delete next.cancelledByEmail;
    if (input.reschedulingReason !== undefined) next.reschedulingReason = input.reschedulingReason;
    else delete next.reschedulingReason;
    if (input.rescheduledBy !== undefined) next.rescheduledByEmail = input.rescheduledBy;
    else delete next.rescheduledByEmail;
    old.status = 'cancelled';
    old.rescheduledToUid = next.uid;
    old.updatedAt = at.toISOString();
    if (input.rescheduledBy !== undefined) old.rescheduledByEmail = input.rescheduledBy;
    state.addBooking(next);
    webhooks.emit('BOOKING_RESCHEDULED', next, { from: structuredClone(old) });
    return success(c, bookingOutput(state, next), 201);
  });

  r.post('/:uid/cancel', (c) => {
    const account = requireAccount(c, state);
    requireVersion(c, API_VERSIONS.bookings);
    const input = parseCancel(readBody(c));
    const uid = c.req.param('uid');
    const b = findVisible(state, account, uid);
    if (!b) throw new SimHttpError(404, `Booking with uid=${uid} not found`);
    if (b.status === 'cancelled' || b.status === 'rejected') {
      throw new SimHttpError(
        400,
        `Can't cancel booking with uid=${uid} because it has been cancelled already. Please provide uid of a booking that is not cancelled.`,
      );
    }
    const at = now();
    if (Date.parse(b.end) <= at.getTime()) {
      // A core HttpError the v2 filters do not wrap: Nest's bare body.
      throw new SimHttpError(400, MSG.cancelEnded, { bare: { statusCode: 400, message: MSG.cancelEnded } });
    }
    b.status = 'cancelled';
    b.cancellationReason = input.cancellationReason ?? '';
    b.cancelledByEmail = account.email;
    b.updatedAt = at.toISOString();
    webhooks.emit('BOOKING_CANCELLED', b);
    return success(c, bookingOutput(state, b));
  });

  return r;
}
