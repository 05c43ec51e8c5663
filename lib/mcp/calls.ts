/**
 * `calls_search` and `calls_get`: calls as recorded, confined to the principal's company (and
 * branch). Both read personal data (numbers, summaries, transcripts) and write an audit row.
 */
import { and, desc, eq, gte, inArray, like, lt, or, sql, type SQL } from 'drizzle-orm';
import { isCiphertext } from '../crypto';
import { open, openJson, phoneIndexCandidates } from '../pii';
import { z } from 'zod';
import { appointments, branches, calls, companies, customers, notifications, phoneNumbers, services } from '../../drizzle/schema';
import { audit } from '../audit';
import { invalidParams, notFound } from './errors';
import { optionalCompany, resolveBranch, tokenBranchId, tokenCompanyId } from './scope';
import { arg, defineTool, ok, type ToolDef } from './tool';

const dateArg = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}$/.test(s) || !Number.isNaN(Date.parse(s)), 'must be YYYY-MM-DD or an ISO date-time')
  .describe('YYYY-MM-DD (a whole day, UTC) or an ISO date-time');

/** `from` is inclusive, `to` inclusive of a whole day when given as a date. */
function bound(s: string, end: boolean): Date {
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) {
    const d = new Date(`${s}T00:00:00.000Z`);
    if (Number.isNaN(d.getTime())) throw invalidParams(`invalid date "${s}"`);
    return end ? new Date(d.getTime() + 86_400_000) : d;
  }
  return new Date(s);
}

/** `%` and `_` typed by the user match themselves. */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (m) => `\\${m}`);

const callTime = sql`COALESCE(${calls.startedAt}, ${calls.createdAt})`;

type CallRow = typeof calls.$inferSelect;

/**
 * Summaries and numbers of companies that encrypt PII (lib/pii) are ciphertexts SQL cannot
 * search. Such rows are fetched as candidates (every other filter applied in SQL), newest first,
 * and checked here after decryption — at most SEALED_SCAN_LIMIT of them per search; the answer
 * says when that cap cut a search short.
 */
const SEALED = 'v1:%';
const SCAN_PAGE = 250;
const SEALED_SCAN_LIMIT = 2_000;

const callsSearch = defineTool({
  name: 'calls_search',
  title: 'Search calls',
  description:
    'Find recorded calls by phone number (caller or dialled), date range, status and words in the summary; newest first, without transcripts (use calls_get). A company/branch token sees only its own calls; the admin sees every company unless one is named.',
  input: z
    .object({
      company: arg.company.optional(),
      branch: arg.branch.optional(),
      phone: arg.phone.optional().describe("the caller's or the dialled number, E.164"),
      from: dateArg.optional(),
      to: dateArg.optional(),
      status: z.enum(['ongoing', 'ended', 'analyzed']).optional(),
      text: z.string().min(2).max(200).optional().describe('words in the call summary (case-insensitive)'),
      bookingDecision: z.enum(['book', 'no_booking']).optional(),
      limit: z.number().int().min(1).max(100).default(20),
    })
    .strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const db = t.ctx.database.db;
    const company = await optionalCompany(t, a.company);
    const branch = company ? await resolveBranch(t, company, a.branch, false) : null;
    if (!company && a.branch) throw invalidParams('branch: name the company too');
    const conds: SQL[] = [];
    if (company) conds.push(eq(calls.companyId, company.id));
    const branchId = branch?.id ?? tokenBranchId(t);
    if (branchId !== null) conds.push(eq(calls.branchId, branchId));
    const checks: Array<(c: CallRow) => boolean> = [];
    if (a.phone) {
      // The caller through the blind index (works when numbers are stored encrypted, lib/pii);
      // plaintext rows (companies without PII encryption) also by either number; sealed rows of
      // the company that owns a dialled number are candidates, read after decryption.
      const phone = a.phone;
      const scope = company ? [company.id] : tokenCompanyId(t) !== null ? [tokenCompanyId(t)!] : (await db.select({ id: companies.id }).from(companies)).map((r) => r.id);
      const indexes = new Map(scope.map((id) => [id, phoneIndexCandidates(id, phone)]));
      const byIndex = scope.map((id) => and(eq(calls.companyId, id), inArray(calls.callerIndex, indexes.get(id)!))!);
      const [owner] = await db.select({ companyId: phoneNumbers.companyId }).from(phoneNumbers).where(eq(phoneNumbers.e164, phone));
      const sealedOfOwner = owner && scope.includes(owner.companyId) ? [and(eq(calls.companyId, owner.companyId), or(like(calls.toNumber, SEALED), like(calls.fromNumber, SEALED)))!] : [];
      conds.push(or(eq(calls.fromNumber, phone), eq(calls.toNumber, phone), ...byIndex, ...sealedOfOwner)!);
      checks.push((c) => indexes.get(c.companyId)?.includes(c.callerIndex ?? '') || open(c.fromNumber) === phone || open(c.toNumber) === phone);
    }
    if (a.from) conds.push(gte(callTime, bound(a.from, false)));
    if (a.to) conds.push(lt(callTime, bound(a.to, true)));
    if (a.status) conds.push(eq(calls.status, a.status));
    if (a.text) {
      // SQL's LIKE (case- and accent-insensitive) reads plaintext summaries; sealed ones are read here.
      const words = a.text.toLowerCase();
      conds.push(or(like(calls.summary, `%${likeEscape(a.text)}%`), like(calls.summary, SEALED))!);
      checks.push((c) => !c.summary || !isCiphertext(c.summary) || open(c.summary).toLowerCase().includes(words));
    }
    if (a.bookingDecision) conds.push(eq(calls.bookingDecision, a.bookingDecision));
    const query = (limit: number, offset: number) =>
      db
        .select({ c: calls, company: companies.slug, branch: branches.slug, customerName: customers.name })
        .from(calls)
        .innerJoin(companies, eq(companies.id, calls.companyId))
        .innerJoin(branches, and(eq(branches.id, calls.branchId), eq(branches.companyId, calls.companyId)))
        .leftJoin(customers, and(eq(customers.id, calls.customerId), eq(customers.companyId, calls.companyId)))
        .where(and(...conds))
        .orderBy(desc(callTime), desc(calls.id))
        .limit(limit)
        .offset(offset);
    type Found = Awaited<ReturnType<typeof query>>[number];
    const rows: Found[] = [];
    let scanned = 0;
    let truncated = false;
    // Newest first, a page at a time, until enough match or the scan cap is reached; without
    // checks every row matches, so the first page (of `limit`) is the answer.
    const pageSize = checks.length ? SCAN_PAGE : a.limit;
    for (;;) {
      const page = await query(pageSize, scanned);
      scanned += page.length;
      for (const r of page) if (rows.length < a.limit && checks.every((check) => check(r.c))) rows.push(r);
      if (rows.length >= a.limit || page.length < pageSize) break;
      if (scanned >= SEALED_SCAN_LIMIT) {
        truncated = true;
        break;
      }
    }
    const filters = { phone: a.phone ? 'given' : undefined, from: a.from, to: a.to, status: a.status, text: a.text ? 'given' : undefined, branch: branch?.slug };
    await audit(db, {
      companyId: company?.id ?? tokenCompanyId(t),
      actor: t.actor,
      action: 'calls.search',
      target: company ? `company:${company.slug}` : 'all companies',
      details: { tool: 'calls_search', filters, results: rows.length },
    });
    return ok({
      count: rows.length,
      ...(truncated
        ? { truncated: `searched the newest ${scanned} candidate calls (encrypted summaries and numbers are read one by one); narrow the search with dates, a company or a branch to reach older ones` }
        : {}),
      calls: rows.map(({ c, company: co, branch: br, customerName }) => ({
        callId: c.retellCallId,
        company: co,
        branch: br,
        status: c.status,
        direction: c.direction,
        from: open(c.fromNumber),
        to: open(c.toNumber),
        customerName: open(customerName),
        startedAt: c.startedAt?.toISOString() ?? null,
        durationMs: c.durationMs,
        summary: open(c.summary),
        sentiment: c.sentiment,
        bookingDecision: c.bookingDecision,
        bookingReason: c.bookingReason,
        appointmentId: c.appointmentId,
        purged: c.purgedAt !== null,
      })),
    });
  },
});

const callsGet = defineTool({
  name: 'calls_get',
  title: 'Get one call',
  description: 'One call by its Retell call id, with transcript, summary, collected variables, the decision and its reason, the customer, its appointments and the notifications sent about them. Another company\'s call is "not found".',
  input: z.object({ callId: z.string().min(1).max(100).describe('the Retell call id, e.g. call_8f2c…') }).strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const db = t.ctx.database.db;
    const conds: SQL[] = [eq(calls.retellCallId, a.callId)];
    const ownCompany = tokenCompanyId(t);
    const ownBranch = tokenBranchId(t);
    if (ownCompany !== null) conds.push(eq(calls.companyId, ownCompany));
    if (ownBranch !== null) conds.push(eq(calls.branchId, ownBranch));
    const [row] = await db
      .select({ c: calls, company: companies.slug, branch: branches.slug })
      .from(calls)
      .innerJoin(companies, eq(companies.id, calls.companyId))
      .innerJoin(branches, and(eq(branches.id, calls.branchId), eq(branches.companyId, calls.companyId)))
      .where(and(...conds));
    if (!row) throw notFound(`no call "${a.callId}"`);
    const c = row.c;
    const [customer] = c.customerId
      ? await db.select().from(customers).where(and(eq(customers.id, c.customerId), eq(customers.companyId, c.companyId)))
      : [];
    const appts = await db
      .select({ ap: appointments, service: services.slug, serviceName: services.name })
      .from(appointments)
      .leftJoin(services, and(eq(services.id, appointments.serviceId), eq(services.companyId, appointments.companyId)))
      .where(and(or(eq(appointments.callId, c.id), c.appointmentId ? eq(appointments.id, c.appointmentId) : undefined), eq(appointments.companyId, c.companyId)));
    // The messages about its appointments (recipients are stored masked).
    const sent = appts.length
      ? await db
          .select()
          .from(notifications)
          .where(and(eq(notifications.companyId, c.companyId), inArray(notifications.kind, ['booking_confirmed', 'booking_failed']), inArray(notifications.ref, appts.map((r) => String(r.ap.id)))))
      : [];
    await audit(db, { companyId: c.companyId, actor: t.actor, action: 'calls.get', target: `call:${c.retellCallId}`, details: { tool: 'calls_get' } });
    return ok({
      call: {
        callId: c.retellCallId,
        company: row.company,
        branch: row.branch,
        agentId: c.agentId,
        status: c.status,
        direction: c.direction,
        from: open(c.fromNumber),
        to: open(c.toNumber),
        startedAt: c.startedAt?.toISOString() ?? null,
        endedAt: c.endedAt?.toISOString() ?? null,
        durationMs: c.durationMs,
        disconnectionReason: c.disconnectionReason,
        summary: open(c.summary),
        sentiment: c.sentiment,
        transcript: open(c.transcript),
        recordingUrl: open(c.recordingUrl),
        dynamicVariables: openJson(c.dynamicVariables),
        analysisData: openJson(c.analysisData),
        bookingDecision: c.bookingDecision,
        bookingReason: c.bookingReason,
        bookingRequest: c.bookingRequest,
        purgedAt: c.purgedAt?.toISOString() ?? null,
      },
      customer: customer
        ? { id: customer.id, name: open(customer.name), phone: open(customer.phone), email: open(customer.email), erased: customer.erasedAt !== null }
        : null,
      appointments: appts.map(({ ap, service, serviceName }) => ({
        id: ap.id,
        status: ap.status,
        service,
        serviceName,
        start: ap.startAt.toISOString(),
        end: ap.endAt?.toISOString() ?? null,
        calcomUid: ap.calcomBookingUid,
        failureReason: ap.failureReason,
        alternatives: ap.alternatives,
        source: ap.source,
      })),
      notifications: sent.map((n) => ({
        appointmentId: Number(n.ref),
        kind: n.kind,
        channel: n.channel,
        recipient: n.recipient,
        status: n.status,
        error: n.error,
        sentAt: n.sentAt?.toISOString() ?? null,
      })),
    });
  },
});

export const callTools: ToolDef[] = [callsSearch, callsGet];
