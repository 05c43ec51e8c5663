/**
 * Availability arithmetic with luxon: an event type's slot starts per local day in the owner's zone (so
 * they stay at the same wall-clock time across DST changes), whether a start is bookable, which hosts are
 * free, and the slot map `GET /v2/slots` answers.
 */
import { DateTime } from 'luxon';
import { DEFAULT_SCHEDULE, type AccountRecord, type SimState } from './state';
import type { SimBooking, SimEventType } from './types';
import { memo } from './memo';

/** Days a single slots query may span; longer ranges are refused rather than walked. */
export const MAX_SLOT_RANGE_DAYS = 400;

export function zoneOf(state: SimState, et: SimEventType): string {
  return state.accounts.get(et.ownerApiKey)?.timeZone ?? 'UTC';
}

function atLocalHour(day: DateTime, hour: number): DateTime {
  if (hour >= 24) return day.plus({ days: 1 }).startOf('day');
  const whole = Math.floor(hour);
  return day.set({ hour: whole, minute: Math.round((hour - whole) * 60), second: 0, millisecond: 0 });
}

// luxon's zone arithmetic (an Intl formatToParts per offset) was most of the simulator's CPU
// under bench/live.ts, enough to keep it from answering in its configured latency. Slot
// starts and rendered times are pure functions of their inputs, so they are memoised; each
// memo is emptied when it grows past MEMO_LIMIT entries.
const MEMO_LIMIT = 20_000;

const dayStarts = new Map<string, DateTime[]>();

/** Slot starts of one local day (any DateTime inside it, in the owner's zone), by the event type's schedule. */
export function slotStartsOnDay(et: SimEventType, day: DateTime, lengthMinutes: number): DateTime[] {
  const schedule = et.schedule ?? DEFAULT_SCHEDULE;
  const localDay = day.startOf('day');
  if (!schedule.days.includes(localDay.weekday)) return [];
  const interval = et.slotIntervalMinutes ?? et.lengthInMinutes;
  const key = `${localDay.zoneName}|${localDay.toMillis()}|${schedule.startHour}|${schedule.endHour}|${lengthMinutes}|${interval}`;
  return memo(dayStarts, key, () => startsBetween(localDay, schedule.startHour, schedule.endHour, lengthMinutes, interval), MEMO_LIMIT);
}

function startsBetween(localDay: DateTime, startHour: number, endHour: number, lengthMinutes: number, interval: number): DateTime[] {
  const open = atLocalHour(localDay, startHour);
  const close = atLocalHour(localDay, endHour);
  const starts: DateTime[] = [];
  for (let t = open; t.plus({ minutes: lengthMinutes }) <= close; t = t.plus({ minutes: interval })) {
    starts.push(t);
  }
  return starts;
}

/** Whether `start` is one of the event type's slot starts, ignoring bookings and notice. */
export function isOnSchedule(state: SimState, et: SimEventType, start: DateTime, lengthMinutes: number): boolean {
  const local = start.setZone(zoneOf(state, et));
  const ms = start.toMillis();
  return slotStartsOnDay(et, local, lengthMinutes).some((s) => s.toMillis() === ms);
}

/** Start of the first slot the minimum booking notice allows. */
export function earliestStart(et: SimEventType, now: Date): number {
  return now.getTime() + (et.minimumBookingNoticeMinutes ?? 0) * 60_000;
}

/** A booking that holds its hosts, with its times parsed once. */
interface Occupied {
  hostApiKeys: string[];
  startMs: number;
  endMs: number;
}

/** Accepted and pending bookings overlapping `[fromMs, toMs)`, other than `excludeUid`. */
function occupiedWithin(bookings: readonly SimBooking[], fromMs: number, toMs: number, excludeUid?: string): Occupied[] {
  const out: Occupied[] = [];
  for (const b of bookings) {
    if ((b.status !== 'accepted' && b.status !== 'pending') || b.uid === excludeUid) continue;
    const { startMs, endMs } = timesOf(b);
    if (startMs < toMs && fromMs < endMs) out.push({ hostApiKeys: b.hostApiKeys, startMs, endMs });
  }
  return out;
}

// Every booking request scans its hosts' bookings (bench/e2e books 20,000): parse each booking's
// times once, not on every scan; parsed again should a booking's times ever change.
const parsed = new WeakMap<SimBooking, { start: string; end: string; startMs: number; endMs: number }>();

function timesOf(b: SimBooking): { startMs: number; endMs: number } {
  let t = parsed.get(b);
  if (!t || t.start !== b.start || t.end !== b.end) {
    t = { start: b.start, end: b.end, startMs: Date.parse(b.start), endMs: Date.parse(b.end) };
    parsed.set(b, t);
  }
  return t;
}

/** The bookings that could make one of the event type's hosts busy: only those hosts' own. */
function hostBookings(state: SimState, et: SimEventType): readonly SimBooking[] {
  return state.bookingsOfHosts(state.hostsOf(et).map((h) => h.apiKey));
}

function busy(occupied: Occupied[], host: string, startMs: number, endMs: number): boolean {
  return occupied.some((b) => b.hostApiKeys.includes(host) && b.startMs < endMs && startMs < b.endMs);
}

function freeHosts(state: SimState, et: SimEventType, occupied: Occupied[], startMs: number, endMs: number): AccountRecord[] | null {
  const hosts = state.hostsOf(et);
  const free = hosts.filter((h) => !busy(occupied, h.apiKey, startMs, endMs));
  if (et.teamId !== undefined && et.schedulingType === 'roundRobin') {
    const first = free[0];
    return first ? [first] : null;
  }
  return free.length === hosts.length && hosts.length > 0 ? hosts : null;
}

/**
 * The hosts a booking of `[start, end)` would occupy, or `null` when they are not free: the owner for a
 * personal event type, every host for a collective one, the first free host for round robin.
 */
export function pickHosts(
  state: SimState,
  et: SimEventType,
  startMs: number,
  endMs: number,
  excludeUid?: string,
): AccountRecord[] | null {
  return freeHosts(state, et, occupiedWithin(hostBookings(state, et), startMs, endMs, excludeUid), startMs, endMs);
}

export interface SlotQuery {
  from: DateTime;
  to: DateTime;
  timeZone: string;
  lengthMinutes: number;
  range: boolean;
  excludeUid?: string;
}

export type SlotMap = Record<string, Array<{ start: string; end?: string }>>;

const rendered = new Map<string, string>();
const dates = new Map<string, string>();

function render(t: DateTime, zone: string): string {
  return memo(rendered, `${t.toMillis()}|${zone}`, () => t.setZone(zone).toISO() ?? t.toUTC().toISO() ?? '', MEMO_LIMIT);
}

function dateIn(t: DateTime, zone: string): string {
  return memo(dates, `${t.toMillis()}|${zone}`, () => t.setZone(zone).toISODate() ?? '', MEMO_LIMIT);
}

/** Free slot starts in `[from, to]`, grouped by date in `timeZone` and rendered with its offset. */
export function listSlots(state: SimState, et: SimEventType, q: SlotQuery, now: Date): SlotMap {
  const data: SlotMap = {};
  const zone = zoneOf(state, et);
  const earliest = Math.max(earliestStart(et, now), now.getTime());
  const fromMs = q.from.toMillis();
  const toMs = q.to.toMillis();
  const lastDay = q.to.setZone(zone).startOf('day');
  // Parse and filter the bookings once per query, not once per slot and host: the slot search
  // otherwise walks every booking for every slot, which made the simulator the CPU bottleneck of
  // bench/live.ts.
  const occupied = occupiedWithin(hostBookings(state, et), fromMs, toMs + q.lengthMinutes * 60_000, q.excludeUid);
  for (let day = q.from.setZone(zone).startOf('day'); day <= lastDay; day = day.plus({ days: 1 })) {
    for (const start of slotStartsOnDay(et, day, q.lengthMinutes)) {
      const ms = start.toMillis();
      if (ms < fromMs || ms > toMs || ms < earliest) continue;
      const endMs = ms + q.lengthMinutes * 60_000;
      if (!freeHosts(state, et, occupied, ms, endMs)) continue;
      const key = dateIn(start, q.timeZone);
      const item: { start: string; end?: string } = { start: render(start, q.timeZone) };
      if (q.range) item.end = render(DateTime.fromMillis(endMs, { zone }), q.timeZone);
      (data[key] ??= []).push(item);
    }
  }
  return data;
}
