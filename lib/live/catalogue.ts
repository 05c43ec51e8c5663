/**
 * What a branch offers, for live-call functions: its services (the company's, plus those only
 * this branch has), its default service, and the company's Cal.com key. Matching reuses
 * lib/calls/match-service so a live call and the webhook understand "Haarschnitt" the same way.
 *
 * Read from the process's tenant catalogue (30 s, the cache's own L1 bound; a tenants import in
 * this process drops it at once): every function needs it, and with it a check_availability
 * answered from the availability cache touches no database at all.
 */
import type { BookingDeps } from '../booking/book';
import type { CalcomClient } from '../calcom';
import { matchService, type ServiceRow } from '../calls/match-service';
import { branchServices, companyCatalogue } from '../tenants/catalogue';
import type { PhoneResolution } from '../calls/resolve-phone';

export interface BranchCatalogue {
  services: ServiceRow[];
  defaultServiceId: number | null;
  /** The company's Cal.com API key, encrypted as stored; null when none is configured. */
  calcomKeyEnc: string | null;
}

/** From the process's tenant catalogue (lib/tenants/catalogue): no statement while it is warm. */
export async function branchCatalogue(deps: Pick<BookingDeps, 'db'>, where: PhoneResolution): Promise<BranchCatalogue> {
  const cat = await companyCatalogue(deps.db, where.companyId);
  const branch = cat?.branches.get(where.branchId);
  if (!cat || !branch) return { services: [], defaultServiceId: null, calcomKeyEnc: null };
  return { services: branchServices(cat, where.branchId), defaultServiceId: branch.defaultServiceId, calcomKeyEnc: cat.company.calcomApiKeyEnc };
}

/** The service a caller named (slug, name or alias), else the branch default, else the only one. */
export function pickService(cat: BranchCatalogue, named: string | undefined): ServiceRow | null {
  return matchService(cat.services, { service: named?.trim() || undefined }, cat.defaultServiceId);
}

/** The company's Cal.com client (one per key and process, from bookingDeps); null without a key. */
export function calcomFor(deps: Pick<BookingDeps, 'cipher' | 'clientFor'>, cat: BranchCatalogue): CalcomClient | null {
  return cat.calcomKeyEnc ? deps.clientFor(deps.cipher.decrypt(cat.calcomKeyEnc)) : null;
}
