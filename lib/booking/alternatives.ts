/**
 * When the wished slot is taken: the nearest free slots around it (same day and the two days
 * after), so an operator or the caller can be offered them.
 */
import { DateTime } from 'luxon';
import type { CalcomClient } from '../calcom';

export async function nearestFreeSlots(
  client: Pick<CalcomClient, 'getSlots'>,
  q: { eventTypeId: number; requested: Date; timeZone: string; count?: number; now?: Date },
  signal?: AbortSignal,
): Promise<string[]> {
  const day = DateTime.fromJSDate(q.requested).setZone(q.timeZone).startOf('day');
  const slots = await client.getSlots(
    { eventTypeId: q.eventTypeId, start: day.toUTC().toISO()!, end: day.plus({ days: 3 }).toUTC().toISO()!, timeZone: q.timeZone },
    signal,
  );
  const now = (q.now ?? new Date()).getTime();
  const wanted = q.requested.getTime();
  return Object.values(slots)
    .flat()
    .map((s) => new Date(s.start))
    .filter((d) => d.getTime() > now && d.getTime() !== wanted)
    // Nearest first; at equal distance the later slot (an earlier one may already be too soon).
    .sort((a, b) => Math.abs(a.getTime() - wanted) - Math.abs(b.getTime() - wanted) || b.getTime() - a.getTime())
    .slice(0, q.count ?? 3)
    .sort((a, b) => a.getTime() - b.getTime())
    .map((d) => d.toISOString());
}

/** "11:30, 12:00" on the requested day; other days get their date: "Wed 02.12. 09:00". */
export function describeSlots(slots: string[], requested: Date, timeZone: string): string {
  const day = DateTime.fromJSDate(requested).setZone(timeZone).toISODate();
  return slots
    .map((s) => {
      const t = DateTime.fromISO(s).setZone(timeZone);
      return t.toISODate() === day ? t.toFormat('HH:mm') : t.toFormat('ccc dd.MM. HH:mm', { locale: 'en' });
    })
    .join(', ');
}
