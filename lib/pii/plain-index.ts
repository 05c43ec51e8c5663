/**
 * The pre-key plain phone index, and when callbook may stop looking for it.
 *
 * A customer written by a process without BLIND_INDEX_KEY carries its E.164 as phone_index; a
 * process with the key looks for such a row before each customer upsert and moves it to the HMAC
 * (lib/calls/record-call), one statement per upsert. That look can stop only once no process can
 * write a plain row any more and none is left, which a process cannot know by itself: a mixed
 * deploy (some processes with the key, some still without) is exactly when plain rows appear.
 * So the deployment records it, in `system_state` row `plain_phone_index`:
 *
 * - `open`    processes without the key may write plain rows; processes with it look.
 * - `closing` `callbook keys rotate` (with the key) has closed it: a customer upsert without the
 *             key is refused in the same statement that would write it (`unlessPlainIndexClosed`,
 *             a locking read of this row), and a process without the key refuses to start, and
 *             stops when it meets the refusal mid-run; rotate then re-indexes every plain row.
 * - `retired` no plain row is left that has no HMAC twin: processes with the key stop looking
 *             (each re-reads the state once a minute per database handle).
 *
 * Migration 0007 inserts the row as `open`: a row that is there is what the keyless upsert's shared
 * lock holds on to (READ COMMITTED takes no lock on a missing row), and without it that upsert is
 * refused (a deleted row fails closed). It only moves forward; BLIND_INDEX_KEY stays required
 * from `closing` on.
 */
import { eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db';
import { systemState } from '../../drizzle/schema';

/** In the order the state moves through (`advancePlainIndex` compares positions in this list). */
const STATES = ['open', 'closing', 'retired'] as const;
export type PlainIndexState = (typeof STATES)[number];

const NAME = 'plain_phone_index';
const isState = (value: string): value is PlainIndexState => (STATES as readonly string[]).includes(value);

/** The stored state and when it was reached; `missing` when the row is not there (see the file comment). */
export async function plainIndexState(db: Db | Tx): Promise<{ state: PlainIndexState | 'missing'; since: Date | null }> {
  const [row] = await db.select({ value: systemState.value, at: systemState.updatedAt }).from(systemState).where(eq(systemState.name, NAME));
  if (!row) return { state: 'missing', since: null };
  if (!isState(row.value)) throw new Error(`system_state ${NAME} holds "${row.value}", not one of ${STATES.join(', ')}`);
  return { state: row.value, since: row.at };
}

/** Move the state forward to `to` (never back); returns the state now stored. */
export async function advancePlainIndex(db: Db, to: Exclude<PlainIndexState, 'open'>): Promise<PlainIndexState> {
  const order = STATES.map((state) => `'${state}'`).join(', ');
  const forward = sql.raw(`FIELD(VALUES(value), ${order}) > FIELD(value, ${order})`);
  // updated_at first: the assignments run left to right, and after `value` the test would read the new value.
  await db.execute(sql`
    INSERT INTO ${systemState} (name, value) VALUES (${NAME}, ${to})
    ON DUPLICATE KEY UPDATE updated_at = IF(${forward}, CURRENT_TIMESTAMP(3), updated_at), value = IF(${forward}, VALUES(value), value)`);
  const { state } = await plainIndexState(db);
  if (state === 'missing') throw new Error(`system_state ${NAME}: written, yet not there`);
  return state;
}

/**
 * A condition for the customer upsert of a process without the key: true only while the state row
 * says `open`. A locking read (LOCK IN SHARE MODE: a plain INSERT … SELECT under READ COMMITTED
 * would read it without a lock) of a row that exists (migration 0007), so a `closing` being
 * written waits for upserts already reading it, and upserts after it see it: no plain row is
 * written after rotate's pass began.
 */
export const unlessPlainIndexClosed = () =>
  sql`EXISTS (SELECT 1 FROM ${systemState} WHERE ${systemState.name} = ${NAME} AND ${systemState.value} = 'open' LOCK IN SHARE MODE)`;

/** A process without BLIND_INDEX_KEY whose write was refused because the plain index is closed (or its state row is missing). */
export class PlainIndexClosedError extends Error {
  override readonly name = 'PlainIndexClosedError';
  constructor(state: PlainIndexState | 'missing', since: Date | null) {
    super(
      state === 'missing'
        ? `system_state has no ${NAME} row (migration 0007 inserts it): run the migrations; customers are not written without BLIND_INDEX_KEY until it is there`
        : `BLIND_INDEX_KEY is missing: callbook keys rotate closed the plain phone index (${state} since ${since?.toISOString() ?? 'unknown'}), so every process needs the key (32 bytes, base64)`,
    );
  }
}

let onClosed: ((err: PlainIndexClosedError) => void) | null = null;

/**
 * What this process does when it meets the closed index mid-run (an entry point registers it: drain
 * and stop, since every job it takes that writes a customer would fail; its restart then fails the
 * start-up check, naming the key). Called on every refusal.
 */
export function whenPlainIndexClosed(listener: (err: PlainIndexClosedError) => void): void {
  onClosed = listener;
}

/** Refuses (throws PlainIndexClosedError) unless the plain index is open: for a process without the key. */
export async function assertPlainIndexOpen(db: Db | Tx): Promise<void> {
  const { state, since } = await plainIndexState(db);
  if (state === 'open') return;
  const err = new PlainIndexClosedError(state, since);
  onClosed?.(err);
  throw err;
}

const RECHECK_MS = 60_000;
const seen = new WeakMap<object, { retired: boolean; at: number }>();

/**
 * Whether plain-indexed customers may still exist, for a process with the key: true until this
 * database handle has read `retired`. Re-read once every RECHECK_MS (a statement a minute), also
 * after `retired`, so a state set back by hand or by restoring a backup is seen within a minute.
 */
export async function plainRowsMayExist(db: Db | Tx, now = Date.now()): Promise<boolean> {
  const hit = seen.get(db);
  if (hit && now - hit.at < RECHECK_MS) return !hit.retired;
  const retired = (await plainIndexState(db)).state === 'retired';
  seen.set(db, { retired, at: now });
  return !retired;
}
