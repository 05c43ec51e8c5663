/**
 * The per-process tenant catalogue: a company's row, its branches and its services, read once and
 * kept in memory for CATALOGUE_TTL_MS. Every webhook, booking and notification needs some of
 * these rows (time zone, default service, PII flag, Cal.com key and username, service duration);
 * reading them per job was 7 of 29 DB statements per call in bench/e2e.
 *
 * Freshness is the bound the two-level cache already has (lib/cache: an L1 entry lives at most
 * 30 s, so another process's invalidation is seen within 30 s): a tenants import in this process
 * drops the catalogue at once (`forgetCatalogues`), other processes see it within the TTL.
 * Concurrent misses share one load; a failed load is not kept.
 */
import { eq } from 'drizzle-orm';
import type { Db, Tx } from '../db';
import { branches, companies, services } from '../../drizzle/schema';

export const CATALOGUE_TTL_MS = 30_000;

export type CompanyRow = typeof companies.$inferSelect;
export type BranchRow = typeof branches.$inferSelect;
export type ServiceRow = typeof services.$inferSelect;

export interface CompanyCatalogue {
  company: CompanyRow;
  branches: Map<number, BranchRow>;
  /** In id order (the tenants file's order), so answers read the same every time. */
  services: ServiceRow[];
}

type Memo = Map<number, { until: number; generation: number; value: Promise<CompanyCatalogue | null> }>;
/** One memo per database handle: two contexts in one process (tests) never share rows. */
const memos = new WeakMap<object, Memo>();
let generation = 0;

/** The company's catalogue, or null when the company does not exist. */
export function companyCatalogue(db: Db | Tx, companyId: number): Promise<CompanyCatalogue | null> {
  let memo = memos.get(db);
  if (!memo) memos.set(db, (memo = new Map()));
  const hit = memo.get(companyId);
  if (hit && hit.until > Date.now() && hit.generation === generation) return hit.value;
  const value = load(db, companyId);
  memo.set(companyId, { until: Date.now() + CATALOGUE_TTL_MS, generation, value });
  const m = memo;
  value.catch(() => m.get(companyId)?.value === value && m.delete(companyId));
  return value;
}

/** Drop every catalogue of this process (after a tenants import changed the rows). */
export function forgetCatalogues(): void {
  generation++;
}

async function load(db: Db | Tx, companyId: number): Promise<CompanyCatalogue | null> {
  const [[company], branchRows, serviceRows] = await Promise.all([
    db.select().from(companies).where(eq(companies.id, companyId)),
    db.select().from(branches).where(eq(branches.companyId, companyId)),
    db.select().from(services).where(eq(services.companyId, companyId)),
  ]);
  if (!company) return null;
  serviceRows.sort((a, b) => a.id - b.id);
  return { company, branches: new Map(branchRows.map((b) => [b.id, b])), services: serviceRows };
}

/** The services a branch offers: the company's, plus those only this branch has. */
export function branchServices(cat: CompanyCatalogue, branchId: number): ServiceRow[] {
  return cat.services.filter((s) => s.branchId === null || s.branchId === branchId);
}
