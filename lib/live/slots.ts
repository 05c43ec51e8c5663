/**
 * Free slots for live calls, always through the per-day availability cache
 * (lib/booking/availability.ts, `mcp:calcom:availability:<event type>:<date>`) so a caller
 * asking twice, or fifty callers asking about the same day, cost Cal.com one request. Cal.com
 * requests go through the shared breaker; an open breaker or a 429 becomes BookingDeferred,
 * which the functions answer with "not right now".
 *
 * Concurrent misses for the same day share one load in this process (single flight): a
 * booking clears its day from the cache, and without this every caller asking about that day
 * in the next 50 ms would send its own request.
 */
import { DateTime } from 'luxon';
import { luxonZone } from '../datetime/zone';
import { freeSlotsOn } from '../booking/availability';
import { callCalcom, type BookingDeps } from '../booking/book';
import type { CalcomClient } from '../calcom';

/** Longest range one check_availability looks through. */
export const MAX_RANGE_DAYS = 14;

type SlotsClient = Pick<CalcomClient, 'getSlots'>;

function guarded(deps: Pick<BookingDeps, 'breaker'>, client: SlotsClient): SlotsClient {
  return { getSlots: (...a) => callCalcom(deps, () => client.getSlots(...a)) };
}

const inflight = new Map<string, Promise<string[]>>();

/** Free slot starts (UTC ISO) of one local day. */
export function freeSlotsOnDay(
  deps: Pick<BookingDeps, 'cache' | 'breaker'>,
  client: SlotsClient,
  q: { eventTypeId: number; date: string; timeZone: string },
): Promise<string[]> {
  const key = `${q.eventTypeId}|${q.date}|${q.timeZone}`;
  let p = inflight.get(key);
  if (!p) {
    p = freeSlotsOn(deps.cache, guarded(deps, client), q).finally(() => inflight.delete(key));
    inflight.set(key, p);
  }
  return p;
}

/** Local days (YYYY-MM-DD) touched by [from, to), at most MAX_RANGE_DAYS. */
function daysOf(from: Date, to: Date, timeZone: string): string[] {
  const days: string[] = [];
  const zone = luxonZone(timeZone);
  const last = DateTime.fromMillis(to.getTime() - 1, { zone }).startOf('day');
  for (let d = DateTime.fromJSDate(from, { zone }).startOf('day'); d <= last && days.length < MAX_RANGE_DAYS; d = d.plus({ days: 1 })) {
    days.push(d.toISODate()!);
  }
  return days;
}

/** Free slots in [from, to) (and after `now`), ascending. */
export async function freeSlotsBetween(
  deps: Pick<BookingDeps, 'cache' | 'breaker'>,
  client: SlotsClient,
  q: { eventTypeId: number; timeZone: string; from: Date; to: Date; now?: Date },
): Promise<string[]> {
  const perDay = await Promise.all(daysOf(q.from, q.to, q.timeZone).map((date) => freeSlotsOnDay(deps, client, { eventTypeId: q.eventTypeId, date, timeZone: q.timeZone })));
  const lo = Math.max(q.from.getTime(), (q.now ?? new Date()).getTime());
  const hi = q.to.getTime();
  return perDay.flat().filter((s) => {
    const t = Date.parse(s);
    return t >= lo && t < hi;
  });
}

/**
 * The `count` free slots nearest to `requested` on its day and the two days after (as the
 * booking worker offers them, lib/booking/alternatives.ts), but from the cache. At equal
 * distance the later slot wins: an earlier one may already be too soon.
 */
export async function nearestFree(
  deps: Pick<BookingDeps, 'cache' | 'breaker'>,
  client: SlotsClient,
  q: { eventTypeId: number; timeZone: string; requested: Date; count?: number; now?: Date },
): Promise<string[]> {
  const first = DateTime.fromJSDate(q.requested, { zone: luxonZone(q.timeZone) }).startOf('day');
  const slots = await freeSlotsBetween(deps, client, { eventTypeId: q.eventTypeId, timeZone: q.timeZone, from: first.toJSDate(), to: first.plus({ days: 3 }).toJSDate(), now: q.now });
  const wanted = q.requested.getTime();
  return slots
    .filter((s) => Date.parse(s) !== wanted)
    .sort((a, b) => Math.abs(Date.parse(a) - wanted) - Math.abs(Date.parse(b) - wanted) || Date.parse(b) - Date.parse(a))
    .slice(0, q.count ?? 3)
    .sort();
}
