/**
 * `GET /v2/slots` (cal-api-version 2024-09-04, public): free slot starts of an event type between `start`
 * and `end`, grouped by date and rendered in `timeZone` (default UTC), without taken slots, past slots and
 * those inside the minimum booking notice. Unknown query keys are refused, as Cal.com's pipe does, so a
 * client still speaking the legacy `startTime`/`endTime` dialect fails visibly.
 */
import { Hono } from 'hono';
import { DateTime } from 'luxon';
import { isValidTimeZone } from './time-zone';
import { MAX_SLOT_RANGE_DAYS, listSlots } from './availability';
import { MSG, SimHttpError, notAllowed, validationError, type FieldError } from './errors';
import { API_VERSIONS, requireVersion, success, type SimDeps } from './http';
import type { SimState } from './state';
import type { SimEnv, SimEventType } from './types';

const SLOT_KEYS = new Set([
  'start',
  'end',
  'timeZone',
  'duration',
  'format',
  'bookingUidToReschedule',
  'eventTypeId',
  'eventTypeSlug',
  'username',
  'teamSlug',
  'organizationSlug',
  'usernames',
  'rrHostSubsetIds',
]);

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** A `start`/`end` value: UTC ISO, or `YYYY-MM-DD` meaning 00:00:00 (start) or 23:59:59 (end) UTC. */
function parseBound(raw: string | undefined, edge: 'start' | 'end'): DateTime | undefined {
  if (raw === undefined) return undefined;
  if (DATE_ONLY.test(raw)) {
    const day = DateTime.fromISO(raw, { zone: 'utc' });
    if (!day.isValid) return undefined;
    return edge === 'start' ? day : day.set({ hour: 23, minute: 59, second: 59, millisecond: 0 });
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw)) return undefined;
  const t = DateTime.fromISO(raw, { zone: 'utc' });
  return t.isValid ? t : undefined;
}

function findEventType(state: SimState, q: Record<string, string>): SimEventType {
  const all = [...state.eventTypes.values()];
  let et: SimEventType | undefined;
  if (q.eventTypeId !== undefined) et = state.eventTypes.get(Number(q.eventTypeId));
  else if (q.username !== undefined) {
    const owner = state.accountByUsername(q.username);
    if (!owner) throw new SimHttpError(404, `User with username ${q.username} not found`);
    et = all.find((e) => e.slug === q.eventTypeSlug && e.teamId === undefined && e.ownerApiKey === owner.apiKey);
  } else if (q.teamSlug !== undefined) {
    et = all.find((e) => e.slug === q.eventTypeSlug && e.teamSlug === q.teamSlug);
    if (!et && !all.some((e) => e.teamSlug === q.teamSlug)) {
      throw new SimHttpError(404, `Team with slug ${q.teamSlug} not found`);
    }
  }
  if (!et) throw new SimHttpError(404, MSG.slotsEventTypeNotFound);
  return et;
}

export function slotRoutes({ state, now }: SimDeps): Hono<SimEnv> {
  const r = new Hono<SimEnv>();

  r.get('/', (c) => {
    requireVersion(c, API_VERSIONS.slots);
    const q = c.req.query();
    const errors: FieldError[] = Object.keys(q).filter((k) => !SLOT_KEYS.has(k)).map(notAllowed);
    const byId = q.eventTypeId !== undefined;
    if (byId && !/^\d+$/.test(q.eventTypeId ?? '')) {
      errors.push({ prop: 'eventTypeId', constraints: ['eventTypeId must be a number conforming to the specified constraints'] });
    }
    if (!byId && !(q.eventTypeSlug && (q.username || q.teamSlug))) {
      if (q.usernames !== undefined) {
        errors.push({ prop: 'usernames', constraints: ['dynamic events for several usernames are not simulated'] });
      } else {
        errors.push({ prop: 'eventTypeId', constraints: ['eventTypeId must be a number conforming to the specified constraints'] });
      }
    }
    const from = parseBound(q.start, 'start');
    const to = parseBound(q.end, 'end');
    if (!from) errors.push({ prop: 'start', constraints: ['start must be a valid ISO 8601 date string'] });
    if (!to) errors.push({ prop: 'end', constraints: ['end must be a valid ISO 8601 date string'] });
    const timeZone = q.timeZone ?? 'UTC';
    if (!isValidTimeZone(timeZone)) {
      errors.push({ prop: 'timeZone', constraints: ['timeZone must be a valid IANA time-zone'] });
    }
    const duration = q.duration;
    if (duration !== undefined && !(/^\d+$/.test(duration) && Number(duration) > 0)) {
      errors.push({ prop: 'duration', constraints: ['duration must be a number conforming to the specified constraints'] });
    }
    const format = (q.format ?? 'time').toLowerCase();
    if (format !== 'range' && format !== 'time') {
      errors.push({ prop: 'format', constraints: ["slotFormat must be either 'range' or 'time'"] });
    }
    if (errors.length || !from || !to) throw validationError(errors);
    const et = findEventType(state, q);
    if (to < from) return success(c, {});
    if (to.diff(from, 'days').days > MAX_SLOT_RANGE_DAYS) {
      throw new SimHttpError(400, `The simulator answers slot ranges of at most ${MAX_SLOT_RANGE_DAYS} days`);
    }
    const data = listSlots(
      state,
      et,
      {
        from,
        to,
        timeZone,
        lengthMinutes: duration !== undefined ? Number(duration) : et.lengthInMinutes,
        range: format === 'range',
        excludeUid: q.bookingUidToReschedule,
      },
      now(),
    );
    return success(c, data);
  });

  return r;
}
