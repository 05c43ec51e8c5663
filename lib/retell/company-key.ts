/**
 * The Retell API key a company of its own signs with, found by the business number a body names
 * (lib/retell/body): the call webhooks, the live-call functions and the inbound webhook all
 * verify with it (beside the global RETELL_API_KEY).
 *
 * The number comes from a body not yet authenticated, so nothing about an arbitrary number may be
 * written to Redis: only numbers that exist in phone_numbers are cached in both levels (their
 * count is bounded by the tenants file); a number no company owns is remembered in this
 * process's bounded L1 only. A flood of fresh numbers therefore costs indexed reads, never Redis
 * memory (Redis runs `noeviction`: a full Redis stops every tenant).
 */
import { eq, isNotNull } from 'drizzle-orm';
import { companies, phoneNumbers } from '../../drizzle/schema';
import { cacheKeys, TTL_MS, type TieredCache } from '../cache';
import type { Cipher } from '../crypto';
import type { Db } from '../db';
import { isRedisUnavailable } from '../redis';
import { isE164 } from '../phone/e164';

export interface CompanyKeyDeps {
  db: Db;
  cache: TieredCache;
  cipher: Cipher;
}

export interface CompanyKey {
  companyId: number;
  key: string;
}

type Row = { companyId: number; keyEnc: string | null };

/**
 * The company owning `e164` and its own Retell key; null when the number is unknown, not an
 * E.164, or its company signs with the platform key only.
 */
export async function companyRetellKeyFor(deps: CompanyKeyDeps, e164: string): Promise<CompanyKey | null> {
  if (!isE164(e164)) return null;
  const row = await deps.cache.getOrLoad<Row | null>(
    cacheKeys.retellWebhookKey(e164),
    TTL_MS.retellWebhookKey,
    async () => {
      const [found] = await deps.db
        .select({ companyId: companies.id, keyEnc: companies.retellApiKeyEnc })
        .from(phoneNumbers)
        .innerJoin(companies, eq(companies.id, phoneNumbers.companyId))
        .where(eq(phoneNumbers.e164, e164));
      return found ?? null;
    },
    { shareIf: (v) => v !== null },
  );
  return row?.keyEnc ? { companyId: row.companyId, key: deps.cipher.decrypt(row.keyEnc) } : null;
}

/**
 * Whether any company signs with a Retell key of its own. When none does, a body the platform key
 * does not verify cannot be anyone's and is refused unparsed (a stranger's well-formed made-up
 * signature costs an HMAC, not a parse).
 *
 * Only `true` is shared through Redis (a stale `true` costs a parse, the behaviour before this
 * check); `false` lives in this process's memory for TTL_MS.retellOwnKeysExist (5 s) — so a read
 * racing `tenants import`, an import by older code that does not clear the flag, or a clear lost
 * to a Redis outage can refuse a new key's bodies for at most that long. With Redis out of reach
 * the answer is `true`: the path that answered before this check existed.
 */
export async function ownRetellKeysExist(deps: CompanyKeyDeps): Promise<boolean> {
  try {
    return await deps.cache.getOrLoad<boolean>(
      cacheKeys.retellOwnKeysExist(),
      TTL_MS.retellOwnKeysExist,
      async () => {
        const [row] = await deps.db.select({ id: companies.id }).from(companies).where(isNotNull(companies.retellApiKeyEnc)).limit(1);
        return row !== undefined;
      },
      { shareIf: (exists) => exists },
    );
  } catch (err) {
    if (isRedisUnavailable(err)) return true;
    throw err;
  }
}
