/**
 * The Retell API key a company of its own signs with, found by the number the call names: the
 * call webhooks, the live-call functions and the inbound webhook all verify with it (beside the
 * global RETELL_API_KEY). Cached per number; the cache entry is dropped with the company's
 * caches (MCP `cache_clear`).
 */
import { eq } from 'drizzle-orm';
import { companies, phoneNumbers } from '../../drizzle/schema';
import { cacheKeys, TTL_MS, type TieredCache } from '../cache';
import type { Cipher } from '../crypto';
import type { Db } from '../db';

export interface CompanyKeyDeps {
  db: Db;
  cache: TieredCache;
  cipher: Cipher;
}

/** `[key]` when the company owning `e164` has its own Retell key, else `[]`. */
export async function companyRetellKeyFor(deps: CompanyKeyDeps, e164: string): Promise<string[]> {
  const keyEnc = await deps.cache.getOrLoad(cacheKeys.retellWebhookKey(e164), TTL_MS.retellWebhookKey, async () => {
    const [row] = await deps.db
      .select({ key: companies.retellApiKeyEnc })
      .from(phoneNumbers)
      .innerJoin(companies, eq(companies.id, phoneNumbers.companyId))
      .where(eq(phoneNumbers.e164, e164));
    return row?.key ?? null;
  });
  return keyEnc ? [deps.cipher.decrypt(keyEnc)] : [];
}
