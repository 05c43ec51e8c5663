/**
 * Personal data at rest. A company with PII encryption on (companies.pii_encryption, null =
 * PII_ENCRYPTION_DEFAULT) stores its customers' name, email and phone and its calls' numbers,
 * transcript, summary and recording URL as AES-256-GCM ciphertexts (lib/crypto, the key id in
 * each one). Phone lookups never read the phone column: they go through a blind index,
 * HMAC-SHA256(BLIND_INDEX_KEY, `${companyId}:${e164}`) in hex, filled for every row whether the
 * company encrypts or not, so there is one lookup path. Without BLIND_INDEX_KEY (allowed only
 * while no company encrypts) the index is the E.164 itself — what the 0004 migration backfilled;
 * with the key set, lookups match both forms until `callbook keys rotate` has rewritten them, and
 * customer upserts look for a plain row first until rotate has retired it (lib/pii/plain-index).
 *
 * Reading is tolerant: `openPii` returns plaintext whether a value was stored encrypted or not,
 * so a company can switch encryption on (or off) while rows of both kinds exist.
 */
import { createHmac } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Config } from '../config';
import { isCiphertext, type Keyring } from '../crypto';
import type { Db, Tx } from '../db';
import { assertPlainIndexOpen } from './plain-index';
import { companies } from '../../drizzle/schema';

export interface PiiSettings {
  keyring: Keyring;
  blindIndexKey: Buffer | null;
  defaultOn: boolean;
}

let settings: PiiSettings | null = null;

/** Set once per process (lib/context does it); tests call it again to switch keys. */
export function configurePii(config: Pick<Config, 'BLIND_INDEX_KEY' | 'PII_ENCRYPTION_DEFAULT'>, keyring: Keyring): void {
  settings = {
    keyring,
    blindIndexKey: config.BLIND_INDEX_KEY ? Buffer.from(config.BLIND_INDEX_KEY, 'base64') : null,
    defaultOn: config.PII_ENCRYPTION_DEFAULT,
  };
  flagCache.clear();
}

const NOT_CONFIGURED = 'PII codec not configured: createContext (lib/context) or configurePii must run first';

/**
 * The process's settings. Unconfigured (a script that never built a context) it works in the
 * plain mode — no encryption, plain index — and refuses anything that needs a key.
 */
export function piiSettings(): PiiSettings {
  if (settings) return settings;
  return {
    get keyring(): Keyring {
      throw new Error(NOT_CONFIGURED);
    },
    blindIndexKey: null,
    defaultOn: false,
  };
}

/** True when the process is configured without BLIND_INDEX_KEY (false when not configured yet: nothing to check against). */
export function blindIndexKeyMissing(): boolean {
  return settings !== null && settings.blindIndexKey === null;
}

/** `value` encrypted with the keyring's current key when the company encrypts PII, else as is. */
export function sealPii(keyring: Keyring, companyPiiOn: boolean, value: string): string;
export function sealPii(keyring: Keyring, companyPiiOn: boolean, value: string | null | undefined): string | null;
export function sealPii(keyring: Keyring, companyPiiOn: boolean, value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (!companyPiiOn || isCiphertext(value)) return value;
  return keyring.encrypt(value);
}

/** The plaintext of a stored value, encrypted or not. */
export function openPii(keyring: Keyring, value: string): string;
export function openPii(keyring: Keyring, value: string | null | undefined): string | null;
export function openPii(keyring: Keyring, value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return isCiphertext(value) ? keyring.decrypt(value) : value;
}

/** openPii with the process's keyring. */
export function open(value: string): string;
export function open(value: string | null | undefined): string | null;
export function open(value: string | null | undefined): string | null {
  if (value === null || value === undefined || !isCiphertext(value)) return value ?? null;
  return piiSettings().keyring.decrypt(value);
}

/** The key under which a sealed JSON column keeps its ciphertext: `{"$pii": "v1:…"}`. */
const JSON_KEY = '$pii';

/** A JSON column's value (calls.dynamic_variables, analysis_data: they hold the caller's name, e-mail …), sealed as `{"$pii": ciphertext}` when the company encrypts. */
export function sealPiiJson<T extends Record<string, unknown>>(keyring: Keyring, companyPiiOn: boolean, value: T | null | undefined): T | null {
  if (value === null || value === undefined) return null;
  if (!companyPiiOn || isSealedJson(value)) return value;
  return { [JSON_KEY]: keyring.encrypt(JSON.stringify(value)) } as unknown as T;
}

export function isSealedJson(value: unknown): value is { $pii: string } {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[JSON_KEY] === 'string' && Object.keys(value).length === 1;
}

/** The plain object of a JSON column, sealed or not (with the process's keyring). */
export function openJson<T extends Record<string, unknown>>(value: T | null | undefined): T | null {
  if (value === null || value === undefined) return null;
  return isSealedJson(value) ? (JSON.parse(piiSettings().keyring.decrypt(value.$pii)) as T) : value;
}

const missingKey = (what: string) =>
  new Error(`BLIND_INDEX_KEY is missing: ${what} has PII encryption on and phone lookups need the blind index key (32 bytes, base64: openssl rand -base64 32)`);

/** The blind index of a phone number in one company (see the file comment). */
export function phoneIndex(companyId: number, e164: string): string {
  const key = piiSettings().blindIndexKey;
  if (!key) return e164;
  return createHmac('sha256', key).update(`${companyId}:${e164}`).digest('hex');
}

/** Every index value a row of this number may carry (the HMAC, and the pre-key plain form). */
export function phoneIndexCandidates(companyId: number, e164: string): string[] {
  const idx = phoneIndex(companyId, e164);
  return idx === e164 ? [e164] : [idx, e164];
}

/**
 * phoneIndexCandidates as exactly two values, for a prepared `phone_index IN (?, ?)` whose shape
 * must not vary: without BLIND_INDEX_KEY both are the number (`IN (x, x)` is `IN (x)`).
 */
export function phoneIndexPair(companyId: number, e164: string): [string, string] {
  const index = phoneIndex(companyId, e164);
  return [index, e164];
}

const FLAG_TTL_MS = 30_000;
const flagCache = new Map<number, { on: boolean; at: number }>();

/** Whether a company encrypts PII (cached for 30 s per process). Throws when it does and BLIND_INDEX_KEY is missing. */
export async function companyPiiOn(db: Db | Tx, companyId: number): Promise<boolean> {
  const s = piiSettings();
  const hit = flagCache.get(companyId);
  let on: boolean;
  if (hit && Date.now() - hit.at < FLAG_TTL_MS) on = hit.on;
  else {
    const [row] = await db.select({ on: companies.piiEncryption }).from(companies).where(eq(companies.id, companyId));
    on = row?.on ?? s.defaultOn;
    flagCache.set(companyId, { on, at: Date.now() });
  }
  if (on && !settings) throw new Error(NOT_CONFIGURED);
  if (on && !s.blindIndexKey) throw missingKey(`company ${companyId}`);
  return on;
}

/** Forget cached company flags (after a tenants import changed them). */
export function forgetPiiFlags(): void {
  flagCache.clear();
}

/** A sealer for one company: `seal(value)` encrypts when the company encrypts PII. */
export async function piiSealer(db: Db | Tx, companyId: number): Promise<(<T extends string | null | undefined>(value: T) => T extends string ? string : string | null)> {
  const on = await companyPiiOn(db, companyId);
  const s = piiSettings();
  return ((value: string | null | undefined) => (on ? sealPii(s.keyring, true, value) : (value ?? null))) as never;
}

/** A JSON sealer for one company. */
export async function piiJsonSealer(db: Db | Tx, companyId: number): Promise<<T extends Record<string, unknown>>(value: T | null | undefined) => T | null> {
  const on = await companyPiiOn(db, companyId);
  const s = piiSettings();
  return (value) => (on ? sealPiiJson(s.keyring, true, value) : (value ?? null));
}

/**
 * For start-up checks: fails naming BLIND_INDEX_KEY when a company (or the default) encrypts PII
 * without it, or when `keys rotate` closed the plain phone index (lib/pii/plain-index).
 */
export async function assertPiiKeys(db: Db): Promise<void> {
  const s = piiSettings();
  if (s.blindIndexKey) return;
  if (s.defaultOn) throw missingKey('PII_ENCRYPTION_DEFAULT');
  const rows = await db.select({ slug: companies.slug, on: companies.piiEncryption }).from(companies);
  const on = rows.filter((r) => r.on === true);
  if (on.length) throw missingKey(`company ${on.map((r) => r.slug).join(', ')}`);
  await assertPlainIndexOpen(db);
}
