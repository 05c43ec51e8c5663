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

const E164 = /^\+\d{6,15}$/;

/**
 * `[key]` when the company owning `e164` has its own Retell key, else `[]`. The number comes from
 * a body not yet verified: anything but an E.164 is refused before it can become a cache key.
 */
export async function companyRetellKeyFor(deps: CompanyKeyDeps, e164: string): Promise<string[]> {
  if (!E164.test(e164)) return [];
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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The business number a Retell body names: the dialled number inbound, the calling one
 * outbound; from `call` (webhooks and `{name, call, args}` function calls) or, for args-only
 * function calls, from `args` or the root.
 */
export function businessNumberOf(json: unknown): string | undefined {
  if (!isObject(json)) return undefined;
  const src = isObject(json.call) ? json.call : isObject(json.args) && !('call' in json) ? json.args : json;
  const n = src.direction === 'outbound' ? src.from_number : src.to_number;
  return typeof n === 'string' ? n : undefined;
}

/** `keysFor` of the Retell signature check: the company key for the number a raw body names. */
export function companyKeysOfBody(deps: CompanyKeyDeps): (raw: Buffer) => Promise<string[]> {
  return async (raw) => {
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      return [];
    }
    const number = businessNumberOf(json);
    return number ? companyRetellKeyFor(deps, number) : [];
  };
}
