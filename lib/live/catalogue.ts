/**
 * What a branch offers, for live-call functions: its services (the company's, plus those only
 * this branch has), its default service, and the company's Cal.com key. Matching reuses
 * lib/calls/match-service so a live call and the webhook understand "Haarschnitt" the same way.
 *
 * Kept in process for 30 s (the cache's own L1 bound): every function needs it, and with it a
 * check_availability answered from the availability cache touches no database at all. A
 * tenants import is seen within those 30 s. Concurrent misses share one load.
 */
import { and, eq } from 'drizzle-orm';
import { branches, companies } from '../../drizzle/schema';
import type { BookingDeps } from '../booking/book';
import type { CalcomClient } from '../calcom';
import { matchService, servicesForBranch, type ServiceRow } from '../calls/match-service';
import type { PhoneResolution } from '../calls/resolve-phone';

export interface BranchCatalogue {
  services: ServiceRow[];
  defaultServiceId: number | null;
  /** The company's Cal.com API key, encrypted as stored; null when none is configured. */
  calcomKeyEnc: string | null;
}

const TTL_MS = 30_000;
type Memo = Map<string, { until: number; value: Promise<BranchCatalogue> }>;
/** One memo per database handle, so two contexts in one process (tests) never share rows. */
const memos = new WeakMap<object, Memo>();

export function branchCatalogue(deps: Pick<BookingDeps, 'db'>, where: PhoneResolution): Promise<BranchCatalogue> {
  let memo = memos.get(deps.db);
  if (!memo) memos.set(deps.db, (memo = new Map()));
  const key = `${where.companyId}:${where.branchId}`;
  const hit = memo.get(key);
  if (hit && hit.until > Date.now()) return hit.value;
  const value = loadCatalogue(deps, where);
  memo.set(key, { until: Date.now() + TTL_MS, value });
  value.catch(() => memo.get(key)?.value === value && memo.delete(key));
  return value;
}

async function loadCatalogue(deps: Pick<BookingDeps, 'db'>, where: PhoneResolution): Promise<BranchCatalogue> {
  const [services, [branch]] = await Promise.all([
    servicesForBranch(deps.db, where.companyId, where.branchId),
    deps.db
      .select({ defaultServiceId: branches.defaultServiceId, key: companies.calcomApiKeyEnc })
      .from(branches)
      .innerJoin(companies, eq(companies.id, branches.companyId))
      .where(and(eq(branches.id, where.branchId), eq(branches.companyId, where.companyId))),
  ]);
  // In the order they were set up (the tenants file's order), so answers read the same every time.
  services.sort((a, b) => a.id - b.id);
  return { services, defaultServiceId: branch?.defaultServiceId ?? null, calcomKeyEnc: branch?.key ?? null };
}

/** The service a caller named (slug, name or alias), else the branch default, else the only one. */
export function pickService(cat: BranchCatalogue, named: string | undefined): ServiceRow | null {
  return matchService(cat.services, { service: named?.trim() || undefined }, cat.defaultServiceId);
}

/** The company's Cal.com client (one per key and process, from bookingDeps); null without a key. */
export function calcomFor(deps: Pick<BookingDeps, 'cipher' | 'clientFor'>, cat: BranchCatalogue): CalcomClient | null {
  return cat.calcomKeyEnc ? deps.clientFor(deps.cipher.decrypt(cat.calcomKeyEnc)) : null;
}
