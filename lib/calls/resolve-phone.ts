/** Dialled number → company and branch, cached (mcp:phone:resolution:<e164>, 10 min). */
import { eq } from 'drizzle-orm';
import { cacheKeys, TTL_MS, type TieredCache } from '../cache';
import type { Db } from '../db';
import { branches, companies, phoneNumbers } from '../../drizzle/schema';

export interface PhoneResolution {
  companyId: number;
  companySlug: string;
  companyName: string;
  branchId: number;
  branchName: string;
  branchSlug: string;
  timezone: string;
  language: string;
}

export async function lookupPhone(db: Db, e164: string): Promise<PhoneResolution | null> {
  const rows = await db
    .select({
      companyId: companies.id,
      companySlug: companies.slug,
      companyName: companies.name,
      branchId: branches.id,
      branchName: branches.name,
      branchSlug: branches.slug,
      timezone: branches.timezone,
      language: branches.language,
    })
    .from(phoneNumbers)
    .innerJoin(branches, eq(branches.id, phoneNumbers.branchId))
    .innerJoin(companies, eq(companies.id, phoneNumbers.companyId))
    .where(eq(phoneNumbers.e164, e164))
    .limit(1);
  return rows[0] ?? null;
}

/** Cached lookup; an unknown number is cached too (as null) so a flood of them costs no queries. */
export function resolvePhone(db: Db, cache: TieredCache, e164: string): Promise<PhoneResolution | null> {
  return cache.getOrLoad(cacheKeys.phoneResolution(e164), TTL_MS.phoneResolution, () => lookupPhone(db, e164));
}
