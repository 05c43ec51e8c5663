/**
 * Hot statements built once per database handle: drizzle's `.prepare()` keeps the SQL text and
 * the parameter list, so a call only fills placeholders (`sql.placeholder`) instead of building
 * the query again — drizzle's query building was ~8 % of a worker's CPU in bench/e2e. mysql2 then
 * runs it as a server-side prepared statement (lib/db/instrument), cached per connection.
 *
 * @example
 *   const q = prepared(db, 'calls.decision', (d) => d.select().from(calls).where(eq(calls.id, sql.placeholder('id'))).prepare());
 *   const rows = await q.execute({ id });
 */
import type { Db, Tx } from './index';

const memos = new WeakMap<object, Map<string, unknown>>();

export function prepared<T>(db: Db | Tx, name: string, build: (db: Db) => T): T {
  let memo = memos.get(db);
  if (!memo) memos.set(db, (memo = new Map()));
  let q = memo.get(name) as T | undefined;
  if (q === undefined) {
    q = build(db as Db);
    memo.set(name, q);
  }
  return q;
}
