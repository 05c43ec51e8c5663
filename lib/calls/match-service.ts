/**
 * Which service (Cal.com event type) the caller asked for: by event type id, then by slug,
 * name or spoken alias (case and accents ignored), then the branch's default, then the
 * company's only service. Only services of that company, offered at that branch, qualify.
 */
import { and, eq, isNull, or } from 'drizzle-orm';
import type { Db } from '../db';
import { services } from '../../drizzle/schema';
import { branchServices, companyCatalogue } from '../tenants/catalogue';

export type ServiceRow = typeof services.$inferSelect;

function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

export async function servicesForBranch(db: Db, companyId: number, branchId: number): Promise<ServiceRow[]> {
  return db
    .select()
    .from(services)
    .where(and(eq(services.companyId, companyId), or(isNull(services.branchId), eq(services.branchId, branchId))));
}

/** Pure matching over a branch's services; exported for tests. */
export function matchService(
  candidates: ServiceRow[],
  wanted: { eventTypeId?: number; service?: string },
  branchDefaultId: number | null,
): ServiceRow | null {
  if (wanted.eventTypeId) {
    const byId = candidates.find((s) => s.calcomEventTypeId === wanted.eventTypeId);
    if (byId) return byId;
  }
  if (wanted.service) {
    const w = fold(wanted.service);
    const names = (s: ServiceRow) => [s.slug, s.name, ...s.aliases].map(fold);
    const exact = candidates.find((s) => names(s).includes(w));
    if (exact) return exact;
    const partial = candidates.find((s) => names(s).some((n) => n.length >= 3 && (w.includes(n) || n.includes(w))));
    if (partial) return partial;
    // A named service we cannot find is not silently swapped for the default.
    return null;
  }
  if (branchDefaultId) {
    const def = candidates.find((s) => s.id === branchDefaultId);
    if (def) return def;
  }
  return candidates.length === 1 ? candidates[0]! : null;
}

/** The service for `wanted` at one branch, from the process's tenant catalogue (no statement while it is warm). */
export async function findService(
  db: Db,
  companyId: number,
  branchId: number,
  wanted: { eventTypeId?: number; service?: string },
): Promise<ServiceRow | null> {
  const cat = await companyCatalogue(db, companyId);
  const branch = cat?.branches.get(branchId);
  if (!cat || !branch) return null;
  return matchService(branchServices(cat, branchId), wanted, branch.defaultServiceId);
}
