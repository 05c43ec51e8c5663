import {
  TTL_MS,
  cacheKeys
} from "./chunk-XN5S2XO3.js";
import {
  branches,
  companies,
  phoneNumbers
} from "./chunk-AQ2OROU7.js";

// lib/calls/resolve-phone.ts
import { eq } from "drizzle-orm";
async function lookupPhone(db, e164) {
  const rows = await db.select({
    companyId: companies.id,
    companySlug: companies.slug,
    companyName: companies.name,
    branchId: branches.id,
    branchName: branches.name,
    branchSlug: branches.slug,
    timezone: branches.timezone,
    language: branches.language
  }).from(phoneNumbers).innerJoin(branches, eq(branches.id, phoneNumbers.branchId)).innerJoin(companies, eq(companies.id, phoneNumbers.companyId)).where(eq(phoneNumbers.e164, e164)).limit(1);
  return rows[0] ?? null;
}
function resolvePhone(db, cache, e164) {
  return cache.getOrLoad(cacheKeys.phoneResolution(e164), TTL_MS.phoneResolution, () => lookupPhone(db, e164));
}

export {
  lookupPhone,
  resolvePhone
};
//# sourceMappingURL=chunk-5BOZF2J7.js.map
