/**
 * Event-type discovery: `GET /v2/event-types` and `GET /v2/event-types/:id` (cal-api-version 2024-06-14)
 * and `GET /v2/teams/:teamId/event-types` (no version), in the EventTypeOutput_2024_06_14 /
 * TeamEventTypeOutput_2024_06_14 shapes.
 */
import { Hono } from 'hono';
import { SimHttpError } from './errors';
import { API_VERSIONS, intParam, optionalAccount, requireAccount, requireVersion, success, type SimDeps } from './http';
import type { SimState } from './state';
import type { SimEnv, SimEventType } from './types';

/** Cal.com's system booking fields, as a fresh event type lists them. */
export const DEFAULT_BOOKING_FIELDS: unknown[] = [
  { type: 'name', slug: 'name', isDefault: true, required: true, label: 'Your name', placeholder: '', disableOnPrefill: false },
  { type: 'email', slug: 'email', isDefault: true, required: true, label: 'Email address', placeholder: '', disableOnPrefill: false },
  { type: 'phone', slug: 'attendeePhoneNumber', isDefault: true, required: false, hidden: true, label: 'Phone number' },
  { type: 'radioInput', slug: 'location', isDefault: true, required: false, hidden: false },
  { type: 'text', slug: 'title', isDefault: true, required: true, hidden: true },
  { type: 'textarea', slug: 'notes', isDefault: true, required: false, hidden: false },
  { type: 'multiemail', slug: 'guests', isDefault: true, required: false, hidden: false },
  { type: 'textarea', slug: 'rescheduleReason', isDefault: true, required: false, hidden: false },
];

export function eventTypeOutput(state: SimState, et: SimEventType): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: et.id,
    lengthInMinutes: et.lengthInMinutes,
    ...(et.lengthInMinutesOptions?.length ? { lengthInMinutesOptions: [...et.lengthInMinutesOptions] } : {}),
    title: et.title,
    slug: et.slug,
    description: '',
    locations: [{ type: 'integration', integration: 'cal-video' }],
    bookingFields: structuredClone(et.bookingFields ?? DEFAULT_BOOKING_FIELDS),
    disableGuests: false,
    slotInterval: et.slotIntervalMinutes ?? null,
    minimumBookingNotice: et.minimumBookingNoticeMinutes ?? 0,
    beforeEventBuffer: 0,
    afterEventBuffer: 0,
    recurrence: null,
    metadata: {},
    price: 0,
    currency: 'usd',
    lockTimeZoneToggleOnBookingPage: false,
    seatsPerTimeSlot: null,
    forwardParamsSuccessRedirect: null,
    successRedirectUrl: null,
    isInstantEvent: false,
    seatsShowAvailabilityCount: null,
    scheduleId: null,
    hidden: et.hidden === true,
    bookingRequiresAuthentication: false,
  };
  if (et.teamId === undefined) {
    const owner = state.accounts.get(et.ownerApiKey);
    out.ownerId = owner?.id ?? null;
    out.users = owner ? [owner.username] : [];
    return out;
  }
  return {
    ...out,
    teamId: et.teamId,
    ownerId: null,
    parentEventTypeId: null,
    schedulingType: et.schedulingType ?? 'roundRobin',
    hosts: state.hostsOf(et).map((h) => ({
      userId: h.id,
      name: h.name,
      username: h.username,
      avatarUrl: null,
      mandatory: false,
      priority: 'medium',
    })),
    team: { id: et.teamId, slug: et.teamSlug ?? null },
  };
}

export function eventTypeRoutes({ state }: SimDeps): Hono<SimEnv> {
  const r = new Hono<SimEnv>();

  r.get('/event-types', (c) => {
    requireVersion(c, API_VERSIONS.eventTypes);
    const username = c.req.query('username');
    const eventSlug = c.req.query('eventSlug');
    const caller = username === undefined ? requireAccount(c, state) : optionalAccount(c, state);
    const owner = username === undefined ? caller : state.accountByUsername(username);
    if (!owner) throw new SimHttpError(404, `User with username ${username} not found`);
    const own = caller?.apiKey === owner.apiKey;
    const list = [...state.eventTypes.values()]
      .filter((e) => e.teamId === undefined && e.ownerApiKey === owner.apiKey)
      .filter((e) => own || !e.hidden)
      .filter((e) => eventSlug === undefined || e.slug === eventSlug)
      .sort((a, b) => a.id - b.id);
    return success(c, list.map((e) => eventTypeOutput(state, e)));
  });

  r.get('/event-types/:id', (c) => {
    const account = requireAccount(c, state);
    requireVersion(c, API_VERSIONS.eventTypes);
    const id = intParam(c.req.param('id'), 'eventTypeId');
    const et = state.eventTypes.get(id);
    if (!et) throw new SimHttpError(404, `Event type with id=${id} not found`);
    if (!state.canUseEventType(account, et)) {
      throw new SimHttpError(403, `User with id=${account.id} is not the owner of event type with id=${id}`);
    }
    return success(c, eventTypeOutput(state, et));
  });

  r.get('/teams/:teamId/event-types', (c) => {
    const account = requireAccount(c, state);
    const teamId = intParam(c.req.param('teamId'), 'teamId');
    if (!state.isTeamMember(account, teamId)) {
      throw new SimHttpError(403, `User with id=${account.id} is not a member of team with id=${teamId}`);
    }
    const eventSlug = c.req.query('eventSlug');
    const list = [...state.eventTypes.values()]
      .filter((e) => e.teamId === teamId && (eventSlug === undefined || e.slug === eventSlug))
      .sort((a, b) => a.id - b.id);
    return success(c, list.map((e) => eventTypeOutput(state, e)));
  });

  return r;
}
