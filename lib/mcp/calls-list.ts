/**
 * `calls_list`: the calls of a range of days, newest first, a page at a time, with what came of
 * each (lib/mcp/outcome) and its reason — no numbers, names, summaries or transcripts (those are
 * `calls_get`'s, which audits the read), so listing writes no audit row.
 *
 * Paging is by cursor (the time and id of the last call shown): new calls arriving meanwhile do
 * not shift the pages. The cursor only says where to continue; every filter and the token's
 * scope are applied again to each page.
 */
import { and, count, desc, eq, gte, lt, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { branches, calls, companies } from '../../drizzle/schema';
import { invalidParams } from './errors';
import { bookedAppt, bookedApptJoin, callTimeSql, dayRange, OUTCOMES, outcomeSql, scopeAndRangeArgs, triedAppt, triedApptJoin } from './outcome';
import { scopeFilter } from './scope-filter';
import { defaultZone } from './stats';
import { defineTool, ok, type ToolDef } from './tool';

const cursorSchema = z.object({ t: z.number().int(), id: z.number().int().positive() }).strict();

const encodeCursor = (c: z.infer<typeof cursorSchema>) => Buffer.from(JSON.stringify(c)).toString('base64url');

function decodeCursor(s: string): z.infer<typeof cursorSchema> {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(s, 'base64url').toString('utf8')));
  } catch {
    throw invalidParams('cursor: not a cursor from calls_list (pass nextCursor as it came)');
  }
}

const callTime = (r: { startedAt: Date | null; createdAt: Date }) => r.startedAt ?? r.createdAt;

const callsList = defineTool({
  name: 'calls_list',
  title: 'List calls',
  description:
    'Calls newest first, a page at a time (pass nextCursor back as cursor), optionally within days from/to (read in timeZone, default the branch\'s) and of one outcome (booked, no_booking, failed, cancelled, open). Each call with its status, duration, outcome and reason, and its appointment; no personal data (calls_get has it). A token sees its own company (branch).',
  input: z
    .object({
      ...scopeAndRangeArgs,
      outcome: z.enum(OUTCOMES).optional(),
      cursor: z.string().min(1).max(200).optional().describe('nextCursor of the previous page'),
      limit: z.number().int().min(1).max(100).default(25),
    })
    .strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const db = t.ctx.database.db;
    const f = await scopeFilter(t, a.company, a.branch);
    const conds: SQL[] = f.where(calls);
    let zone: string | null = null;
    if (a.from || a.to) {
      zone = a.timeZone ?? (await defaultZone(t, f));
      const range = dayRange(zone, a.from, a.to);
      conds.push(gte(callTimeSql, range.start), lt(callTimeSql, range.end));
    }
    if (a.outcome) conds.push(sql`${outcomeSql} = ${a.outcome}`);
    const filtered = and(...conds);
    const page: SQL[] = [];
    if (a.cursor) {
      const c = decodeCursor(a.cursor);
      const at = new Date(c.t);
      page.push(or(lt(callTimeSql, at), and(sql`${callTimeSql} = ${at}`, lt(calls.id, c.id)))!);
    }
    const base = () =>
      db
        .select({
          id: calls.id,
          callId: calls.retellCallId,
          company: companies.slug,
          branch: branches.slug,
          branchId: calls.branchId,
          status: calls.status,
          direction: calls.direction,
          startedAt: calls.startedAt,
          createdAt: calls.createdAt,
          durationMs: calls.durationMs,
          sentiment: calls.sentiment,
          outcome: outcomeSql,
          decisionReason: calls.bookingReason,
          bookedId: bookedAppt.id,
          bookedStatus: bookedAppt.status,
          bookedStart: bookedAppt.startAt,
          triedId: triedAppt.id,
          triedStatus: triedAppt.status,
          triedStart: triedAppt.startAt,
          failureReason: triedAppt.failureReason,
        })
        .from(calls)
        .innerJoin(companies, eq(companies.id, calls.companyId))
        .innerJoin(branches, and(eq(branches.id, calls.branchId), eq(branches.companyId, calls.companyId)))
        .leftJoin(bookedAppt, bookedApptJoin)
        .leftJoin(triedAppt, triedApptJoin);
    const [rows, [total]] = await Promise.all([
      base()
        .where(and(filtered, ...page))
        .orderBy(desc(callTimeSql), desc(calls.id))
        .limit(a.limit + 1),
      db.select({ n: count() }).from(calls).leftJoin(bookedAppt, bookedApptJoin).leftJoin(triedAppt, triedApptJoin).where(filtered),
    ]);
    const more = rows.length > a.limit;
    const shown = rows.slice(0, a.limit);
    const last = shown.at(-1);
    return ok({
      count: shown.length,
      total: Number(total?.n ?? 0),
      ...(zone ? { timeZone: zone } : {}),
      nextCursor: more && last ? encodeCursor({ t: callTime(last).getTime(), id: last.id }) : null,
      calls: shown.map((r) => {
        const apptId = r.bookedId ?? r.triedId;
        return {
          callId: r.callId,
          company: r.company,
          branch: r.branch,
          branchId: r.branchId,
          status: r.status,
          direction: r.direction,
          at: callTime(r).toISOString(),
          durationMs: r.durationMs,
          sentiment: r.sentiment,
          outcome: r.outcome,
          reason: r.outcome === 'failed' ? r.failureReason : r.outcome === 'no_booking' ? r.decisionReason : null,
          appointment: apptId ? { id: apptId, status: r.bookedStatus ?? r.triedStatus, start: (r.bookedStart ?? r.triedStart)?.toISOString() ?? null } : null,
        };
      }),
    });
  },
});

export const callsListTools: ToolDef[] = [callsList];
