/**
 * `callbook keys rotate`: brings every stored secret and personal value to the current key while
 * the system keeps running.
 *
 * - companies' API keys and webhook secrets made with an older key are re-encrypted;
 * - customers' name/email/phone and calls' numbers, transcript, summary and recording URL:
 *   ciphertexts of an older key are re-encrypted; plaintext of a company with PII encryption on
 *   is encrypted (switching a company on, then rotating, encrypts its history);
 * - customers.phone_index and calls.caller_index are (re)computed where missing or in the
 *   pre-key plain form; with BLIND_INDEX_KEY set, the plain index is closed before the customers
 *   are read and retired after them when none is left (lib/pii/plain-index): from then on no
 *   customer upsert looks for one.
 *
 * Rows are read in id order, N at a time; each batch is written in its own short transaction,
 * and every UPDATE is optimistic — `WHERE id = ? AND col <=> <the value read>` for every column
 * it touches — so a concurrent write (a webhook, an erasure) is never overwritten: that row is
 * read again and retried (a few times, then reported as skipped; running rotate again picks it
 * up). Writers running meanwhile already use the current key, so the work only shrinks.
 */
import { and, asc, eq, getTableColumns, gt, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { MySqlColumn } from 'drizzle-orm/mysql-core';
import { audit } from '../audit';
import { isCiphertext, type Keyring } from '../crypto';
import type { Db } from '../db';
import { calls, companies, customers } from '../../drizzle/schema';
import { isSealedJson, openPii, phoneIndex, piiSettings, sealPii, sealPiiJson } from './index';
import { advancePlainIndex, assertPlainIndexOpen, type PlainIndexState } from './plain-index';

export interface RotateCounts {
  companies: number;
  customers: number;
  calls: number;
  /** Rows changed concurrently on every retry: run rotate again. */
  skipped: number;
  /** Customers whose blind index collides with another row of the same company (two rows of one number, from before BLIND_INDEX_KEY): left as they are. */
  duplicates: number;
  /** Customers still under the plain index with no HMAC twin (skipped ones): the plain index stays `closing` until a run leaves none. */
  plainLeft: number;
  /** The plain index's state after this run (lib/pii/plain-index); `open` without BLIND_INDEX_KEY. */
  plainIndex: PlainIndexState;
}

export interface RotateOptions {
  batch?: number;
  actor?: string;
  /** Called after every batch (progress); awaited. */
  onBatch?: (table: string, counts: RotateCounts) => void | Promise<void>;
}

const RETRIES = 5;
const isDeadlock = (err: unknown) => {
  const e = err as { code?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
};
const isDup = (err: unknown) => {
  const e = err as { code?: string; cause?: { code?: string } };
  return (e?.code ?? e?.cause?.code) === 'ER_DUP_ENTRY';
};

interface Planned {
  id: number;
  /** Column property name → [value read, value to write]; JSON columns compare their text (see jsonText). */
  changes: Map<string, [string | null, unknown]>;
}

/** JSON columns as text, read and compared the same way on MySQL (normalised JSON) and MariaDB (LONGTEXT). */
const jsonText = (col: MySqlColumn) => sql<string | null>`CAST(${col} AS CHAR)`;
const JSON_COLUMNS = new Set(['dynamicVariables', 'analysisData']);

/** What one stored value should become: re-encrypted with the current key, or encrypted when the company encrypts. */
function target(keyring: Keyring, on: boolean, value: string | null): string | null {
  if (value === null) return null;
  if (isCiphertext(value)) return keyring.needsRotation(value) ? keyring.encrypt(keyring.decrypt(value)) : value;
  return on ? sealPii(keyring, true, value) : value;
}

async function companyFlags(db: Db): Promise<Map<number, boolean>> {
  const { defaultOn, blindIndexKey } = piiSettings();
  const rows = await db.select({ id: companies.id, slug: companies.slug, on: companies.piiEncryption }).from(companies);
  const flags = new Map<number, boolean>();
  for (const r of rows) {
    const on = r.on ?? defaultOn;
    if (on && !blindIndexKey) throw new Error(`BLIND_INDEX_KEY is missing: company ${r.slug} has PII encryption on`);
    flags.set(r.id, on);
  }
  return flags;
}

/** One optimistic UPDATE: every touched column must still hold what was read. Returns whether it applied. */
async function applyOne(db: Db, table: typeof customers | typeof calls, p: Planned): Promise<boolean> {
  const set: Record<string, unknown> = {};
  const conds: SQL[] = [eq(table.id, p.id)];
  const cols = table as unknown as Record<string, MySqlColumn>;
  for (const [name, [from, to]] of p.changes) {
    set[name] = to;
    const col = cols[name]!;
    if (JSON_COLUMNS.has(name)) conds.push(from === null ? isNull(col) : sql`${jsonText(col)} = ${from}`);
    else conds.push(from === null ? isNull(col) : eq(col, from));
  }
  const [res] = await db.update(table).set(set as never).where(and(...conds));
  return res.affectedRows > 0;
}


type CustomerRow = typeof customers.$inferSelect;
type CallRow = typeof calls.$inferSelect & { dvText: string | null; adText: string | null };

const HMAC_INDEX = /^[0-9a-f]{64}$/;

/**
 * A run without BLIND_INDEX_KEY (say, re-encrypting after an ENCRYPTION_KEY change from a shell
 * that lacks it) would compute the plain form for rows a keyed process indexed by the HMAC: never
 * write that. It would hide those customers from every keyed lookup, and once the plain index is
 * retired (lib/pii/plain-index) give their callers a second row.
 */
const downgrade = (stored: string | null, computed: string) => stored !== null && HMAC_INDEX.test(stored) && !HMAC_INDEX.test(computed);

function planCustomer(keyring: Keyring, flags: Map<number, boolean>, r: CustomerRow): Planned | null {
  const on = flags.get(r.companyId) ?? false;
  const changes = new Map<string, [string | null, unknown]>();
  const erased = r.erasedAt !== null || r.phone.startsWith('erased-');
  const names: Array<'name' | 'email' | 'phone'> = erased ? ['name', 'email'] : ['name', 'email', 'phone'];
  for (const name of names) {
    const from = r[name];
    const to = target(keyring, on, from);
    if (to !== from) changes.set(name, [from, to]);
  }
  const index = erased ? `erased-${r.id}` : phoneIndex(r.companyId, openPii(keyring, r.phone));
  if (index !== r.phoneIndex && !downgrade(r.phoneIndex, index)) changes.set('phoneIndex', [r.phoneIndex, index]);
  return changes.size ? { id: r.id, changes } : null;
}

function planCall(keyring: Keyring, flags: Map<number, boolean>, r: CallRow): Planned | null {
  const on = flags.get(r.companyId) ?? false;
  const changes = new Map<string, [string | null, unknown]>();
  for (const name of ['fromNumber', 'toNumber', 'transcript', 'summary', 'recordingUrl'] as const) {
    const from = r[name];
    const to = target(keyring, on, from);
    if (to !== from) changes.set(name, [from, to]);
  }
  for (const [name, text] of [['dynamicVariables', r.dvText], ['analysisData', r.adText]] as const) {
    const value = r[name] as Record<string, unknown> | null;
    if (value === null) continue;
    let to: Record<string, unknown> = value;
    if (isSealedJson(value)) {
      if (keyring.needsRotation(value.$pii)) to = { $pii: keyring.encrypt(keyring.decrypt(value.$pii)) };
    } else if (on) to = sealPiiJson(keyring, true, value as Record<string, unknown>)!;
    if (to !== value) changes.set(name, [text, to]);
  }
  const caller = r.direction === 'outbound' ? r.toNumber : r.fromNumber;
  if (r.customerId !== null && caller !== null && r.purgedAt === null) {
    const index = phoneIndex(r.companyId, openPii(keyring, caller));
    if (index !== r.callerIndex && !downgrade(r.callerIndex, index)) changes.set('callerIndex', [r.callerIndex, index]);
  }
  return changes.size ? { id: r.id, changes } : null;
}

async function rotateTable<R extends { id: number }>(
  db: Db,
  table: typeof customers | typeof calls,
  plan: (r: R) => Planned | null,
  batch: number,
  counts: RotateCounts,
  key: 'customers' | 'calls',
  onBatch?: RotateOptions['onBatch'],
): Promise<void> {
  let after = 0;
  for (;;) {
    const rows = (await select(db, table).where(gt(table.id, after)).orderBy(asc(table.id)).limit(batch)) as unknown as R[];
    if (!rows.length) return;
    after = rows[rows.length - 1]!.id;
    let planned = rows.map(plan).filter((p): p is Planned => p !== null);
    for (let attempt = 0; planned.length && attempt < RETRIES; attempt++) {
      const conflicted: number[] = [];
      let applied = 0;
      let dups = 0;
      try {
        await db.transaction(async (tx) => {
          for (const p of planned) {
            try {
              if (await applyOne(tx as unknown as Db, table, p)) applied++;
              else conflicted.push(p.id);
            } catch (err) {
              if (!isDup(err)) throw err;
              dups++;
            }
          }
        });
        counts[key] += applied;
        counts.duplicates += dups;
      } catch (err) {
        // A deadlock with a concurrent writer rolled the batch back: plan it again from fresh reads.
        if (!isDeadlock(err)) throw err;
        conflicted.splice(0, conflicted.length, ...planned.map((p) => p.id));
      }
      if (!conflicted.length) {
        planned = [];
        break;
      }
      const fresh = (await select(db, table).where(inIds(table, conflicted))) as unknown as R[];
      planned = fresh.map(plan).filter((p): p is Planned => p !== null);
    }
    counts.skipped += planned.length;
    await onBatch?.(key, counts);
  }
}

/** Every column, and for calls the JSON columns' text for the optimistic check. */
function select(db: Db, table: typeof customers | typeof calls) {
  if (table === calls) {
    return db.select({ ...getTableColumns(calls), dvText: jsonText(calls.dynamicVariables), adText: jsonText(calls.analysisData) }).from(calls);
  }
  return db.select().from(customers);
}

const inIds = (table: typeof customers | typeof calls, ids: number[]) => inArray(table.id, ids);

/**
 * Customers a plain-index look could still find and move (phone_index an E.164, which is what the
 * look matches) that have no row under their HMAC in the same company. A plain row with such a
 * twin is a duplicate (counted by the pass, left as it is): the look would fail on it the same way.
 */
async function plainRowsWithoutTwin(db: Db, keyring: Keyring): Promise<number> {
  const plain = await db
    .select({ companyId: customers.companyId, phone: customers.phone })
    .from(customers)
    .where(sql`${customers.phoneIndex} LIKE '+%'`);
  let left = 0;
  for (const r of plain) {
    const [twin] = await db
      .select({ id: customers.id })
      .from(customers)
      .where(and(eq(customers.companyId, r.companyId), eq(customers.phoneIndex, phoneIndex(r.companyId, openPii(keyring, r.phone)))))
      .limit(1);
    if (!twin) left++;
  }
  return left;
}

/** Re-encrypt company secrets, customers and calls; see the file comment. */
export async function rotateKeys(db: Db, keyring: Keyring, opts: RotateOptions = {}): Promise<RotateCounts> {
  const batch = opts.batch ?? 500;
  const counts: RotateCounts = { companies: 0, customers: 0, calls: 0, skipped: 0, duplicates: 0, plainLeft: 0, plainIndex: 'open' };
  const flags = await companyFlags(db);
  const keyed = piiSettings().blindIndexKey !== null;
  // Without the key this run would write plain indexes: refused once the plain index is closed.
  if (!keyed) await assertPlainIndexOpen(db);

  // Company secrets: few rows, one optimistic UPDATE per column.
  const rows = await db.select().from(companies);
  for (const c of rows) {
    for (const name of ['retellApiKeyEnc', 'calcomApiKeyEnc', 'calcomWebhookSecretEnc'] as const) {
      const from = c[name];
      if (from === null || !keyring.needsRotation(from)) continue;
      const [res] = await db
        .update(companies)
        .set({ [name]: keyring.encrypt(keyring.decrypt(from)) })
        .where(and(eq(companies.id, c.id), eq(companies[name], from)));
      if (res.affectedRows > 0) counts.companies++;
      else counts.skipped++; // re-imported meanwhile, hence already under the current key
    }
  }

  // Closed before the customers are read: no plain row can be written after this (see plain-index).
  if (keyed) counts.plainIndex = await advancePlainIndex(db, 'closing');
  await rotateTable<CustomerRow>(db, customers, (r) => planCustomer(keyring, flags, r), batch, counts, 'customers', opts.onBatch);
  if (keyed) {
    counts.plainLeft = await plainRowsWithoutTwin(db, keyring);
    if (counts.plainLeft === 0) counts.plainIndex = await advancePlainIndex(db, 'retired');
  }
  await rotateTable<CallRow>(db, calls, (r) => planCall(keyring, flags, r), batch, counts, 'calls', opts.onBatch);

  await audit(db, { actor: opts.actor ?? 'system', action: 'keys.rotate', target: 'all companies', details: { keyId: keyring.keyId, batch, ...counts } });
  return counts;
}
