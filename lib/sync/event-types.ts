/**
 * Refreshes each company's Cal.com event-type catalogue and checks every service against it, so
 * an event type deleted (or moved to another team) in Cal.com shows up in the sync report and
 * the log before a caller's booking fails on it. Reuses the booking path's catalogue and check
 * (lib/booking/event-types), its rate limiter and its `calcom` breaker.
 */
import { and, eq, isNotNull } from 'drizzle-orm';
import { companies, services } from '../../drizzle/schema';
import { bookingDeps } from '../booking/deps';
import { checkService, loadCatalogue } from '../booking/event-types';
import { cacheKeys } from '../cache';
import { isServiceFailure, type CalcomClient } from '../calcom';
import type { AppContext } from '../context';

export interface EventTypeProblem {
  companyId: number;
  company: string;
  service: string;
  eventTypeId: number;
  teamId: number | null;
  problem: string;
}

export interface EventTypesResult {
  /** Companies with a Cal.com key that were tried. */
  companies: number;
  checked: number;
  problems: EventTypeProblem[];
  errors: Array<{ company: string; message: string }>;
}

/** Every company with a Cal.com key (or just `companyId`), one failing company not stopping the rest. */
export async function syncEventTypes(ctx: AppContext, opts: { companyId?: number; signal?: AbortSignal } = {}): Promise<EventTypesResult> {
  const deps = bookingDeps(ctx);
  const log = ctx.logger.child({ component: 'sync', part: 'event_types' });
  const where = opts.companyId === undefined ? isNotNull(companies.calcomApiKeyEnc) : and(isNotNull(companies.calcomApiKeyEnc), eq(companies.id, opts.companyId));
  const rows = await ctx.database.db
    .select({ id: companies.id, slug: companies.slug, keyEnc: companies.calcomApiKeyEnc, calcomUsername: companies.calcomUsername })
    .from(companies)
    .where(where)
    .orderBy(companies.id);
  const result: EventTypesResult = { companies: rows.length, checked: 0, problems: [], errors: [] };

  for (const company of rows) {
    try {
      opts.signal?.throwIfAborted();
      const client = deps.clientFor(ctx.cipher.decrypt(company.keyEnc!));
      const guarded: Pick<CalcomClient, 'listEventTypes' | 'listTeamEventTypes'> = {
        listEventTypes: (...a) => deps.breaker.run(() => client.listEventTypes(...a), isServiceFailure),
        listTeamEventTypes: (...a) => deps.breaker.run(() => client.listTeamEventTypes(...a), isServiceFailure),
      };
      const list = await ctx.database.db.select().from(services).where(eq(services.companyId, company.id)).orderBy(services.slug);
      const teamIds = list.flatMap((s) => (s.calcomTeamId === null ? [] : [s.calcomTeamId]));
      await ctx.cache.invalidate(cacheKeys.eventTypes(company.id));
      const catalogue = await loadCatalogue(ctx.cache, guarded, { id: company.id, calcomUsername: company.calcomUsername }, teamIds, opts.signal);
      for (const service of list) {
        result.checked++;
        const problem = checkService(catalogue, service);
        if (!problem) continue;
        const entry: EventTypeProblem = {
          companyId: company.id,
          company: company.slug,
          service: service.slug,
          eventTypeId: service.calcomEventTypeId,
          teamId: service.calcomTeamId,
          problem,
        };
        result.problems.push(entry);
        log.warn(entry, `service ${company.slug}/${service.slug}: ${problem}`);
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      result.errors.push({ company: company.slug, message });
      log.error({ company: company.slug, err: message }, 'Cal.com event types could not be refreshed');
    }
  }
  return result;
}
