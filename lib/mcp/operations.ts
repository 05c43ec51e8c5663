/**
 * Operator tools: failed booking jobs (list, retry — a token sees only its company's jobs, by the
 * job's companyId), circuit breakers (status for all; reset is admin only: the breakers are shared
 * by every company), and caches (a token clears its own company's keys; any prefix is admin only).
 * Everything that changes state writes an audit row, as the CLI's operations do.
 */
import type { Job } from 'bullmq';
import { eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { branches, calls, companies, phoneNumbers, services } from '../../drizzle/schema';
import { audit } from '../audit';
import { cacheKeys } from '../cache';
import { bookingJobSchema } from '../queues';
import { serviceBreaker, type ExternalService } from '../resilience/service-breakers';
import { agentsCacheKey } from '../sync/agents';
import { invalidParams, notFound } from './errors';
import { inScope, isAdmin, optionalCompany, requireAdmin, resolveBranch, tokenBranchId, tokenCompanyId, type CompanyRow } from './scope';
import { arg, defineTool, ok, type ToolContext, type ToolDef } from './tool';

const SERVICES = ['calcom', 'retell'] as const satisfies readonly ExternalService[];
/** How many failed jobs a list or retry-all looks at (newest first). */
const FAILED_SCAN = 1_000;

function companyOfJob(j: Job): { companyId: number; branchId: number } | null {
  const parsed = bookingJobSchema.safeParse(j.data);
  return parsed.success ? { companyId: parsed.data.companyId, branchId: parsed.data.branchId } : null;
}

/** The principal's (and optional company filter's) failed booking jobs. */
export async function failedInScope(t: ToolContext, company: CompanyRow | null, branchId: number | null): Promise<Job[]> {
  const jobs = await t.ctx.queues.bookings.getFailed(0, FAILED_SCAN - 1);
  return jobs.filter((j) => {
    const owner = companyOfJob(j);
    if (!owner) return isAdmin(t) && !company; // unreadable data: only the admin's unfiltered view
    if (company && owner.companyId !== company.id) return false;
    if (branchId !== null && owner.branchId !== branchId) return false;
    return inScope(t, owner.companyId, owner.branchId);
  });
}

/** Branch and service slugs and Retell call ids of the jobs, each looked up within the job's company. */
async function jobNames(t: ToolContext, jobs: Job[]) {
  const db = t.ctx.database.db;
  const data = jobs.map((j) => bookingJobSchema.safeParse(j.data)).flatMap((p) => (p.success ? [p.data] : []));
  const uniq = (xs: number[]) => [...new Set(xs)];
  const key = (companyId: number, id: number) => `${companyId}:${id}`;
  const callIds = uniq(data.flatMap((d) => (d.callId ? [d.callId] : [])));
  const [brs, svcs, cls] = data.length
    ? await Promise.all([
        db.select({ id: branches.id, companyId: branches.companyId, slug: branches.slug }).from(branches).where(inArray(branches.id, uniq(data.map((d) => d.branchId)))),
        db.select({ id: services.id, companyId: services.companyId, slug: services.slug }).from(services).where(inArray(services.id, uniq(data.map((d) => d.serviceId)))),
        callIds.length ? db.select({ id: calls.id, companyId: calls.companyId, callId: calls.retellCallId }).from(calls).where(inArray(calls.id, callIds)) : Promise.resolve([]),
      ])
    : [[], [], []];
  return {
    branches: new Map(brs.map((b) => [key(b.companyId, b.id), b.slug])),
    services: new Map(svcs.map((s) => [key(s.companyId, s.id), s.slug])),
    calls: new Map(cls.map((c) => [key(c.companyId, c.id), c.callId])),
  };
}

const failedList = defineTool({
  name: 'failed_bookings_list',
  title: 'Failed booking jobs',
  description: "Booking jobs that failed (newest first) with the reason (slot taken with free alternatives, Cal.com refusals, gave up after retries), the branch, service and Retell call they belong to. A token sees its company's (branch's) jobs only.",
  input: z
    .object({
      company: arg.company.optional(),
      branch: arg.branch.optional(),
      limit: z.number().int().min(1).max(500).default(50),
    })
    .strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const company = await optionalCompany(t, a.company);
    const branch = company ? await resolveBranch(t, company, a.branch, false) : null;
    if (!company && a.branch) throw invalidParams('branch: name the company too');
    const jobs = (await failedInScope(t, company, branch?.id ?? tokenBranchId(t))).slice(0, a.limit);
    const db = t.ctx.database.db;
    const slugs = new Map((await db.select({ id: companies.id, slug: companies.slug }).from(companies)).map((c) => [c.id, c.slug]));
    const names = await jobNames(t, jobs);
    return ok({
      count: jobs.length,
      jobs: jobs.map((j) => {
        const data = bookingJobSchema.safeParse(j.data);
        return {
          id: j.id,
          company: data.success ? (slugs.get(data.data.companyId) ?? null) : null,
          companyId: data.success ? data.data.companyId : null,
          branchId: data.success ? data.data.branchId : null,
          branch: data.success ? (names.branches.get(`${data.data.companyId}:${data.data.branchId}`) ?? null) : null,
          serviceId: data.success ? data.data.serviceId : null,
          service: data.success ? (names.services.get(`${data.data.companyId}:${data.data.serviceId}`) ?? null) : null,
          callId: data.success && data.data.callId ? (names.calls.get(`${data.data.companyId}:${data.data.callId}`) ?? null) : null,
          start: data.success ? data.data.start : null,
          source: data.success ? data.data.source : null,
          attempts: j.attemptsMade,
          failedAt: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
          reason: j.failedReason,
        };
      }),
    });
  },
});

const failedRetry = defineTool({
  name: 'failed_bookings_retry',
  title: 'Retry failed booking jobs',
  description: 'Put a failed booking job (jobId) or every failed booking job in scope (all: true) back in the queue. Retrying is safe: a booking is made at most once.',
  input: z
    .object({
      jobId: z.string().min(1).max(200).optional().describe('the job id from failed_bookings_list'),
      all: z.literal(true).optional().describe("every failed booking job in scope (a token: its company's)"),
      company: arg.company.optional().describe('with all: only this company'),
    })
    .strict()
    .refine((o) => Boolean(o.jobId) !== Boolean(o.all), { message: 'give exactly one of jobId or all: true', path: ['jobId'] }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const queue = t.ctx.queues.bookings;
    let jobs: Job[];
    let company: CompanyRow | null = null;
    if (a.jobId) {
      const job = await queue.getJob(a.jobId);
      const owner = job && companyOfJob(job);
      const visible = job && (owner ? inScope(t, owner.companyId, owner.branchId) : isAdmin(t));
      if (!job || !visible) throw notFound(`no booking job "${a.jobId}"`);
      const state = await job.getState();
      if (state !== 'failed') throw invalidParams(`jobId: booking job "${a.jobId}" is not failed (it is ${state})`);
      jobs = [job];
    } else {
      company = await optionalCompany(t, a.company);
      jobs = await failedInScope(t, company, tokenBranchId(t));
    }
    const retried: string[] = [];
    for (const j of jobs) {
      if ((await j.getState()) !== 'failed') continue;
      await j.retry('failed');
      retried.push(j.id!);
    }
    const owner = jobs.length === 1 ? companyOfJob(jobs[0]!) : null;
    await audit(t.ctx.database.db, {
      companyId: company?.id ?? owner?.companyId ?? tokenCompanyId(t),
      actor: t.actor,
      action: 'failed.retry',
      target: a.jobId ?? `bookings:all${company ? `:${company.slug}` : ''}`,
      details: { tool: 'failed_bookings_retry', jobs: retried },
    });
    return ok({ retried });
  },
});

const breakerFor = (t: ToolContext, service: ExternalService) => serviceBreaker(service, { redis: t.ctx.redis, ns: t.ctx.ns, logger: t.ctx.logger });

const breakerStatus = defineTool({
  name: 'breaker_status',
  title: 'Circuit breakers',
  description: 'State of the Cal.com and Retell circuit breakers, shared by every process: CLOSED, OPEN (requests refused until retryAt) or HALF_OPEN (one probe).',
  input: z.object({}).strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (_a, t) => {
    const rows = await Promise.all(SERVICES.map((s) => breakerFor(t, s).status()));
    return ok({
      breakers: rows.map((r) => ({
        service: r.service,
        state: r.state,
        failures: r.failures,
        openedAt: r.openedAt ? new Date(r.openedAt).toISOString() : null,
        retryAt: r.retryAt && r.state !== 'CLOSED' ? new Date(r.retryAt).toISOString() : null,
      })),
    });
  },
});

const breakerReset = defineTool({
  name: 'breaker_reset',
  title: 'Reset a circuit breaker',
  description: 'Force a breaker CLOSED (admin only: the breakers are shared by every company).',
  input: z.object({ service: z.enum(SERVICES) }).strict(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (a, t) => {
    requireAdmin(t, 'the breakers are shared by every company');
    const b = breakerFor(t, a.service);
    const before = await b.status();
    await b.reset();
    await audit(t.ctx.database.db, { actor: t.actor, action: 'breaker.reset', target: `breaker:${a.service}`, details: { tool: 'breaker_reset', from: before.state } });
    return ok({ service: a.service, from: before.state, to: 'CLOSED' });
  },
});

/** Every cache key (or prefix, ending in ':') that belongs to one company. */
async function companyCacheKeys(t: ToolContext, company: CompanyRow): Promise<{ keys: string[]; prefixes: string[] }> {
  const db = t.ctx.database.db;
  const [svc, numbers] = await Promise.all([
    db.select({ eventTypeId: services.calcomEventTypeId }).from(services).where(eq(services.companyId, company.id)),
    db.select({ e164: phoneNumbers.e164 }).from(phoneNumbers).where(eq(phoneNumbers.companyId, company.id)),
  ]);
  const keys = [
    cacheKeys.eventTypes(company.id),
    agentsCacheKey(company.id),
    // Shared by every company, but a company's new Retell key is what it decides about.
    cacheKeys.retellOwnKeysExist(),
    ...numbers.flatMap((n) => [cacheKeys.phoneResolution(n.e164), cacheKeys.retellWebhookKey(n.e164)]),
  ];
  const prefixes = [...new Set(svc.map((s) => cacheKeys.availabilityPrefix(s.eventTypeId)))];
  return { keys, prefixes };
}

const cacheClear = defineTool({
  name: 'cache_clear',
  title: 'Clear caches',
  description:
    "Clear a company's cached data (event types, free slots, number resolution, agents) — a token: its own company's; the admin: any company's, or every key under a prefix (default mcp:). In-process copies expire within 30 s.",
  input: z
    .object({
      company: arg.company.optional(),
      prefix: z.string().min(1).max(200).optional().describe('admin only: every key starting with this, e.g. mcp:calcom:availability:'),
    })
    .strict()
    .refine((o) => !(o.company && o.prefix), { message: 'give a company or a prefix, not both', path: ['prefix'] }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const cache = t.ctx.cache;
    if (a.prefix !== undefined || (a.company === undefined && isAdmin(t))) {
      requireAdmin(t, "a prefix reaches every company's keys; clear your company's with no arguments");
      const prefix = a.prefix ?? 'mcp:';
      const removed = await cache.invalidatePrefix(prefix);
      await audit(t.ctx.database.db, { actor: t.actor, action: 'cache.clear', target: prefix, details: { tool: 'cache_clear', removed } });
      return ok({ prefix, removed });
    }
    const company = (await optionalCompany(t, a.company))!;
    const { keys, prefixes } = await companyCacheKeys(t, company);
    // invalidate() deletes key by key (no multi-key command: Redis Cluster-safe) and counts them.
    let removed = await cache.invalidate(...keys);
    for (const p of prefixes) removed += await cache.invalidatePrefix(p);
    await audit(t.ctx.database.db, { companyId: company.id, actor: t.actor, action: 'cache.clear', target: `company:${company.slug}`, details: { tool: 'cache_clear', removed } });
    return ok({ company: company.slug, removed, keys, prefixes });
  },
});

export const operationTools: ToolDef[] = [failedList, failedRetry, breakerStatus, breakerReset, cacheClear];
