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
import type { SQL } from 'drizzle-orm';
import type { FieldPacket, ResultSetHeader } from 'mysql2/promise';
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

/** A statement written with drizzle's `sql`, built once: `execute` fills its placeholders and runs it. */
export interface PreparedSql {
  execute(values: Record<string, unknown>): Promise<[ResultSetHeader, FieldPacket[]]>;
}

/** What drizzle's `db.execute(sql)` does on every call (dialect → SQL text, session → query), done once. */
interface DrizzleInternals {
  dialect: { sqlToQuery(q: SQL): { sql: string; params: unknown[] } };
  session: { prepareQuery(q: { sql: string; params: unknown[] }, fields: undefined): PreparedSql };
}

/**
 * `db.execute(sql\`…\`)` for a hot statement written out in SQL (an INSERT … SELECT, an upsert
 * whose assignment order matters, a multi-table UPDATE): `build` uses `sql.placeholder(name)` for
 * every value and runs once per handle; each call only fills the placeholders. Same result shape,
 * same pool and error wrapping as `db.execute`. A statement whose shape varies (a list of
 * variable length) needs one name per shape.
 *
 * @example
 *   const q = preparedSql(db, 'appointments.booked', () => sql`UPDATE … WHERE id = ${sql.placeholder('id')}`);
 *   const [res] = await q.execute({ id });
 */
export function preparedSql(db: Db | Tx, name: string, build: () => SQL): PreparedSql {
  return prepared(db, name, (d) => {
    const { dialect, session } = d as unknown as DrizzleInternals;
    return session.prepareQuery(dialect.sqlToQuery(build()), undefined);
  });
}
