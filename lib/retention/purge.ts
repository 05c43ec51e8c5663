/**
 * Retention: a company keeps what callers said (transcript, summary, recording link, collected
 * variables, analysis) for `companies.retention_days`, then it goes. The call row itself stays
 * (times, status, booking decision, the link to its appointment), marked `purged_at`, so
 * reporting and the booking history keep their shape.
 *
 * The purge works one company at a time (every statement carries its company_id) and in batches
 * of ids, so a big calls table is never locked for long and a purge can stop between batches.
 * Each company's run leaves one `retention.purge` audit row, also when nothing was due: proof
 * that retention ran.
 */
import { and, asc, eq, inArray, isNotNull, isNull, lt, or } from 'drizzle-orm';
import { audit } from '../audit';
import type { AppContext } from '../context';
import { calls, companies } from '../../drizzle/schema';

export const PURGE_BATCH_SIZE = 500;
const DAY_MS = 24 * 3600 * 1000;

export interface PurgeOptions {
  /** One company only; absent = every company. */
  companyId?: number;
  /** The clock (tests); default now. */
  now?: Date;
  /** Who asked, for the audit row; default `worker:default`. */
  actor?: string;
  batchSize?: number;
  /** Checked between batches (the job timeout). */
  signal?: AbortSignal;
}

export interface CompanyPurge {
  companyId: number;
  slug: string;
  retentionDays: number;
  /** Calls ended (or, without an end, created) before this were due. */
  olderThan: string;
  /** Calls purged by this run. */
  calls: number;
}

export async function purgeExpired(ctx: Pick<AppContext, 'database'>, opts: PurgeOptions = {}): Promise<CompanyPurge[]> {
  const db = ctx.database.db;
  const now = opts.now ?? new Date();
  const batchSize = opts.batchSize ?? PURGE_BATCH_SIZE;
  const targets = await db
    .select({ id: companies.id, slug: companies.slug, retentionDays: companies.retentionDays })
    .from(companies)
    .where(opts.companyId === undefined ? undefined : eq(companies.id, opts.companyId))
    .orderBy(asc(companies.id));
  if (opts.companyId !== undefined && targets.length === 0) throw new Error(`retention purge: company ${opts.companyId} does not exist`);

  const results: CompanyPurge[] = [];
  for (const company of targets) {
    // The tenants file allows 1..3650; anything else would purge everything, so it is skipped.
    if (!(company.retentionDays > 0)) continue;
    const cutoff = new Date(now.getTime() - company.retentionDays * DAY_MS);
    const due = and(
      eq(calls.companyId, company.id),
      isNull(calls.purgedAt),
      or(and(isNotNull(calls.endedAt), lt(calls.endedAt, cutoff)), and(isNull(calls.endedAt), lt(calls.createdAt, cutoff))),
    );
    let purged = 0;
    const record = (interrupted: boolean) =>
      audit(db, {
        companyId: company.id,
        actor: opts.actor ?? 'worker:default',
        action: 'retention.purge',
        target: `company:${company.id}`,
        details: { calls: purged, olderThan: cutoff.toISOString(), retentionDays: company.retentionDays, ...(interrupted && { interrupted: true }) },
      });
    try {
      for (;;) {
        opts.signal?.throwIfAborted();
        const batch = await db.select({ id: calls.id }).from(calls).where(due).orderBy(asc(calls.id)).limit(batchSize);
        if (batch.length === 0) break;
        const [res] = await db
          .update(calls)
          .set({ transcript: null, summary: null, recordingUrl: null, dynamicVariables: null, analysisData: null, purgedAt: now })
          .where(and(eq(calls.companyId, company.id), isNull(calls.purgedAt), inArray(calls.id, batch.map((r) => r.id))));
        purged += res.affectedRows;
        if (batch.length < batchSize) break;
      }
    } catch (err) {
      // Stopped (job timeout) or failed mid-way: what was purged stays purged and is on record; the next run goes on.
      if (purged > 0) await record(true).catch(() => undefined);
      throw err;
    }
    await record(false);
    results.push({ companyId: company.id, slug: company.slug, retentionDays: company.retentionDays, olderThan: cutoff.toISOString(), calls: purged });
  }
  return results;
}
