/**
 * Free slots of one event type on one local day, through the two-level cache
 * (`mcp:calcom:availability:<event type>:<date>`, 5 min). A booking on that day clears the key
 * (lib/booking/book.ts), so the next caller never hears of a slot that was just taken.
 */
import { DateTime } from 'luxon';
import { luxonZone } from '../datetime/zone';
import { cacheKeys, TTL_MS, type TieredCache } from '../cache';
import type { CalcomClient } from '../calcom';

/** `date` is YYYY-MM-DD in `timeZone`; returns slot starts as UTC ISO strings, ascending. */
export async function freeSlotsOn(
  cache: TieredCache,
  client: Pick<CalcomClient, 'getSlots'>,
  q: { eventTypeId: number; date: string; timeZone: string },
  signal?: AbortSignal,
): Promise<string[]> {
  const day = DateTime.fromISO(q.date, { zone: luxonZone(q.timeZone) });
  if (!day.isValid) throw new Error(`invalid date "${q.date}" (expected YYYY-MM-DD)`);
  return cache.getOrLoad(cacheKeys.availability(q.eventTypeId, q.date), TTL_MS.availability, async () => {
    const slots = await client.getSlots(
      { eventTypeId: q.eventTypeId, start: day.startOf('day').toUTC().toISO()!, end: day.endOf('day').toUTC().toISO()!, timeZone: q.timeZone },
      signal,
    );
    return Object.values(slots)
      .flat()
      .map((s) => new Date(s.start).toISOString())
      .sort();
  });
}
