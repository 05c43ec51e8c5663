/**
 * What a code path costs the database, as the running system counts it: statements run
 * (`mcp_db_query_duration_seconds_count`, the figure bench/e2e reports per call) and statements
 * that drizzle built at run time instead of running a prepared one (lib/db/prepared).
 */
import type { Db } from '../../lib/db';
import { dbQueryDuration } from '../../lib/metrics';

/** Statements run by this process so far. */
export async function statements(): Promise<number> {
  const { values } = await dbQueryDuration.get();
  return values.filter((v) => v.metricName === 'mcp_db_query_duration_seconds_count').reduce((a, v) => a + v.value, 0);
}

/**
 * Counts drizzle turning a query into SQL text on this handle (every builder query and
 * `db.execute(sql…)` does, on every run; a prepared one only when it is first prepared).
 * `count()` reads the tally, `stop()` restores the dialect.
 */
export function countBuiltStatements(db: Db): { count(): number; stop(): void } {
  const dialect = (db as unknown as { dialect: { sqlToQuery: (...a: unknown[]) => unknown } }).dialect;
  const original = dialect.sqlToQuery;
  let n = 0;
  dialect.sqlToQuery = function (this: unknown, ...args: unknown[]) {
    n++;
    return original.apply(this, args);
  };
  return { count: () => n, stop: () => void (dialect.sqlToQuery = original) };
}
