/**
 * Wraps the mysql2 pool drizzle talks to: every statement is timed into
 * `mcp_db_query_duration_seconds{op}`, statements over the slow threshold are logged with their
 * operation name and duration (never their values), statements with parameters run as
 * server-side prepared statements (`execute`, cached per connection by mysql2), and the
 * database breaker sees every connection failure.
 */
import type { Pool, PoolConnection } from 'mysql2/promise';
import type { Logger } from 'pino';
import { dbQueryDuration } from '../metrics';
import { DbBreaker, DbUnavailableError, isConnectionError } from './breaker';
import { operationName } from './operation';

export { operationName };

export interface InstrumentOptions {
  breaker: DbBreaker;
  slowMs: number;
  logger?: Logger;
}

function sqlOf(arg: unknown): string {
  if (typeof arg === 'string') return arg;
  return (arg as { sql?: string })?.sql ?? '';
}

type Runner = (...args: unknown[]) => Promise<unknown>;

/** Run `fn` under the breaker: connection failures count and surface as DbUnavailableError. */
async function guarded<T>(breaker: DbBreaker, fn: () => Promise<T>): Promise<T> {
  const probe = breaker.admit();
  try {
    const result = await fn();
    breaker.success(probe);
    return result;
  } catch (err) {
    if (isConnectionError(err)) {
      breaker.failure(probe);
      throw new DbUnavailableError(breaker.retryAt, err);
    }
    breaker.neutral(probe);
    throw err;
  }
}

function timed(target: Pool | PoolConnection, opts: InstrumentOptions, method: 'query' | 'execute'): Runner {
  return async (...args: unknown[]) => {
    const op = operationName(sqlOf(args[0]));
    const params = args[1];
    // Parameterised statements go out as prepared statements; bare ones (BEGIN, COMMIT, DDL) as text.
    const useExecute = method === 'execute' || (Array.isArray(params) && params.length > 0);
    const run = (useExecute ? target.execute : target.query) as unknown as Runner;
    const start = performance.now();
    try {
      return await guarded(opts.breaker, () => run.apply(target, args));
    } finally {
      const ms = performance.now() - start;
      dbQueryDuration.observe({ op }, ms / 1000);
      if (ms >= opts.slowMs) opts.logger?.warn({ op, ms: Math.round(ms) }, 'slow query');
    }
  };
}

function wrap<T extends Pool | PoolConnection>(target: T, opts: InstrumentOptions): T {
  return new Proxy(target, {
    get(t, prop) {
      if (prop === 'query' || prop === 'execute') return timed(t, opts, prop);
      if (prop === 'getConnection') {
        return async () => wrap(await guarded(opts.breaker, () => (t as Pool).getConnection()), opts);
      }
      const v = Reflect.get(t, prop, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

export function instrumentPool(pool: Pool, opts: InstrumentOptions): Pool {
  return wrap(pool, opts);
}
