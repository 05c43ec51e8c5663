/**
 * `stats_overview`: how the calls are going — per company and branch, today and in a chosen
 * range of days: calls, and what came of them (lib/mcp/outcome), the top reasons for not
 * booking, and the bookings made per hour of the day. Counts only, no personal data, so no
 * audit row. A token counts its own company (branch) only.
 */
import { and, asc, count, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { appointments, branches, calls, companies } from '../../drizzle/schema';
import { bookedAppt, bookedApptJoin, callTimeSql, dayRange, OUTCOMES, outcomeSql, scopeAndRangeArgs, triedAppt, triedApptJoin, type DayRange, type Outcome } from './outcome';
import { scopeFilter, type ScopeFilter } from './scope-filter';
import { defineTool, ok, type ToolContext, type ToolDef } from './tool';

export type Counts = Record<Outcome, number> & { calls: number };

const zero = (): Counts => ({ calls: 0, booked: 0, no_booking: 0, failed: 0, cancelled: 0, open: 0 });

/** The time zone days are read in when none is given: the branch's, else the company's first branch's, else UTC. */
export async function defaultZone(t: ToolContext, f: ScopeFilter): Promise<string> {
  if (f.branch) return f.branch.timezone;
  const db = t.ctx.database.db;
  if (f.branchId !== null) {
    const [b] = await db.select({ tz: branches.timezone }).from(branches).where(eq(branches.id, f.branchId));
    if (b) return b.tz;
  }
  if (f.company) {
    const [b] = await db.select({ tz: branches.timezone }).from(branches).where(eq(branches.companyId, f.company.id)).orderBy(asc(branches.id)).limit(1);
    if (b) return b.tz;
  }
  return 'UTC';
}

/** Calls per branch and outcome (and, for no_booking, reason) in [start, end). */
async function outcomeCounts(t: ToolContext, f: ScopeFilter, start: Date, end: Date) {
  return t.ctx.database.db
    .select({ companyId: calls.companyId, branchId: calls.branchId, outcome: outcomeSql, reason: calls.bookingReason, n: count() })
    .from(calls)
    .leftJoin(bookedAppt, bookedApptJoin)
    .leftJoin(triedAppt, triedApptJoin)
    .where(and(...f.where(calls), gte(callTimeSql, start), lt(callTimeSql, end)))
    .groupBy(calls.companyId, calls.branchId, outcomeSql, calls.bookingReason);
}

/** Appointments booked (and not since failed) that were made in the range, by local hour of the day. */
async function bookingsPerHour(t: ToolContext, f: ScopeFilter, range: DayRange, zone: string): Promise<number[]> {
  // Quarter-hour buckets in SQL (every time zone's offset is a multiple of 15 minutes), hours here.
  const bucket = sql<number>`FLOOR(UNIX_TIMESTAMP(${appointments.createdAt}) / 900)`;
  const rows = await t.ctx.database.db
    .select({ bucket, n: count() })
    .from(appointments)
    .where(and(...f.where(appointments), inArray(appointments.status, ['booked', 'rescheduled', 'cancelled']), gte(appointments.createdAt, range.start), lt(appointments.createdAt, range.end)))
    .groupBy(bucket);
  const hours = Array.from({ length: 24 }, () => 0);
  for (const r of rows) hours[DateTime.fromMillis(Number(r.bucket) * 900_000, { zone }).hour]! += Number(r.n);
  return hours;
}

const statsOverview = defineTool({
  name: 'stats_overview',
  title: 'How the calls are going',
  description:
    "Calls today and in a range of days (from/to, default today), per company and branch: how many, and how many were booked, not booked (with the top reasons), failed, cancelled or are still open; plus the bookings made per hour of the day. Days are read in timeZone (default the branch's). Counts only. A token sees its own company (branch).",
  input: z
    .object({
      ...scopeAndRangeArgs,
      topReasons: z.number().int().min(1).max(20).default(5).describe('how many no-booking reasons to list'),
    })
    .strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const db = t.ctx.database.db;
    const f = await scopeFilter(t, a.company, a.branch);
    const zone = a.timeZone ?? (await defaultZone(t, f));
    const range = dayRange(zone, a.from, a.to);
    const today = dayRange(zone, undefined, undefined);
    const [inRange, ofToday, perHour] = await Promise.all([outcomeCounts(t, f, range.start, range.end), outcomeCounts(t, f, today.start, today.end), bookingsPerHour(t, f, range, zone)]);

    // Every branch in scope gets a row, with or without calls.
    const branchRows = await db
      .select({ companyId: branches.companyId, company: companies.slug, companyName: companies.name, branchId: branches.id, branch: branches.slug, branchName: branches.name })
      .from(branches)
      .innerJoin(companies, eq(companies.id, branches.companyId))
      .where(and(...f.where({ companyId: branches.companyId, branchId: branches.id })))
      .orderBy(asc(companies.slug), asc(branches.slug));
    const perBranch = new Map(branchRows.map((b) => [b.branchId, { ...b, range: zero(), today: zero() }]));
    const totals = { range: zero(), today: zero() };
    const reasons = new Map<string, number>();
    const add = (rows: Awaited<ReturnType<typeof outcomeCounts>>, key: 'range' | 'today') => {
      for (const r of rows) {
        const n = Number(r.n);
        const outcome = OUTCOMES.includes(r.outcome) ? r.outcome : 'open';
        for (const c of [totals[key], perBranch.get(r.branchId)?.[key]]) {
          if (!c) continue;
          c.calls += n;
          c[outcome] += n;
        }
        if (key === 'range' && outcome === 'no_booking') reasons.set(r.reason ?? '(no reason recorded)', (reasons.get(r.reason ?? '(no reason recorded)') ?? 0) + n);
      }
    };
    add(inRange, 'range');
    add(ofToday, 'today');
    const topReasons = [...reasons.entries()]
      .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))
      .slice(0, a.topReasons)
      .map(([reason, n]) => ({ reason, count: n }));

    return ok({
      timeZone: zone,
      from: range.from,
      to: range.to,
      today: today.from,
      company: f.company?.slug ?? null,
      branch: f.branch?.slug ?? null,
      totals,
      topReasons,
      bookingsPerHour: perHour,
      branches: [...perBranch.values()],
    });
  },
});

export const statsTools: ToolDef[] = [statsOverview];
