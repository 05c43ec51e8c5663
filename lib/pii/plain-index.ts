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
 * - `open`    (no row): processes without the key may write plain rows; processes with it look.
 * - `closing` `callbook keys rotate` (with the key) has closed it: a customer upsert without the
 *             key is refused in the same statement that would write it (`unlessPlainIndexClosed`,
 *             a locking read of this row), and a process without the key refuses to start; rotate
 *             then re-indexes every plain row.
 * - `retired` no plain row is left that has no HMAC twin: processes with the key stop looking
 *             (each re-reads the state at most once a minute until it sees this).
 *
 * It only moves forward. BLIND_INDEX_KEY stays required from `closing` on.
 */
import { eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db';
import { systemState } from '../../drizzle/schema';

export type PlainIndexState = 'open' | 'closing' | 'retired';

const NAME = 'plain_phone_index';
const ORDER: Record<PlainIndexState, number> = { open: 0, closing: 1, retired: 2 };

export async function plainIndexState(db: Db | Tx): Promise<{ state: PlainIndexState; since: Date | null }> {
  const [row] = await db.select({ value: systemState.value, at: systemState.updatedAt }).from(systemState).where(eq(systemState.name, NAME));
  if (!row) return { state: 'open', since: null };
  if (!(row.value in ORDER)) throw new Error(`system_state ${NAME} holds "${row.value}", not one of ${Object.keys(ORDER).join(', ')}`);
  return { state: row.value as PlainIndexState, since: row.at };
}

/** Move the state forward to `to` (never back); returns the state now stored. */
export async function advancePlainIndex(db: Db, to: Exclude<PlainIndexState, 'open'>): Promise<PlainIndexState> {
  const rank = (col: string) => sql.raw(`FIELD(${col}, 'open', 'closing', 'retired')`);
  await db.execute(sql`
    INSERT INTO ${systemState} (name, value) VALUES (${NAME}, ${to})
    ON DUPLICATE KEY UPDATE value = IF(${rank('VALUES(value)')} > ${rank('value')}, VALUES(value), value), updated_at = IF(${rank('VALUES(value)')} > ${rank('value')}, CURRENT_TIMESTAMP(3), updated_at)`);
  return (await plainIndexState(db)).state;
}

/**
 * A condition for the customer upsert of a process without the key: false once the plain index is
 * closed. A locking read of the state row (LOCK IN SHARE MODE: under READ COMMITTED an
 * INSERT … SELECT would otherwise read it without a lock), so a `closing` being written waits for
 * upserts already reading, and upserts after it see it: no plain row is written after rotate's
 * pass began.
 */
export const unlessPlainIndexClosed = () =>
  sql`NOT EXISTS (SELECT 1 FROM ${systemState} WHERE ${systemState.name} = ${NAME} AND ${systemState.value} <> 'open' LOCK IN SHARE MODE)`;

/** A process without BLIND_INDEX_KEY whose write was refused because the plain index is closed. */
export class PlainIndexClosedError extends Error {
  override readonly name = 'PlainIndexClosedError';
  constructor(state: PlainIndexState, since: Date | null) {
    super(
      `BLIND_INDEX_KEY is missing: callbook keys rotate closed the plain phone index (${state} since ${since?.toISOString() ?? 'unknown'}), so every process needs the key (32 bytes, base64)`,
    );
  }
}

/** Refuses (throws PlainIndexClosedError) when the plain index is closed: for a process without the key. */
export async function assertPlainIndexOpen(db: Db | Tx): Promise<void> {
  const { state, since } = await plainIndexState(db);
  if (state !== 'open') throw new PlainIndexClosedError(state, since);
}

const RECHECK_MS = 60_000;
const seen = new WeakMap<object, { retired: boolean; at: number }>();

/**
 * Whether plain-indexed customers may still exist, for a process with the key: true until this
 * database handle has read `retired`; re-read at most once every RECHECK_MS (a statement a minute),
 * never again once retired.
 */
export async function plainRowsMayExist(db: Db | Tx, now = Date.now()): Promise<boolean> {
  const hit = seen.get(db);
  if (hit && (hit.retired || now - hit.at < RECHECK_MS)) return !hit.retired;
  const retired = (await plainIndexState(db)).state === 'retired';
  seen.set(db, { retired, at: now });
  return !retired;
}
