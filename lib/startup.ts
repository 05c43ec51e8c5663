/**
 * Start-up checks that talk to Redis or the database, retried while those are out of reach. A
 * process started during a Redis restart (a supervisor replacing a killed worker, a deploy during
 * a failover) waits for it instead of exiting 1 and being restarted in a loop; a check that
 * answers (noeviction missing, BLIND_INDEX_KEY missing) still stops start-up at once.
 *
 * @example
 *   await whenReachable(() => assertNoEviction(ctx.redis), { logger: ctx.logger, what: 'Redis policy check' });
 */
import type { AppContext } from './context';
import { openConnections } from './db';
import { dbUnavailable } from './db/breaker';
import type { Logger } from './logger';
import { isRedisUnavailable } from './redis';

export async function whenReachable<T>(check: () => Promise<T>, opts: { logger: Logger; what: string; timeoutMs?: number; sleepMs?: number }): Promise<T> {
  const until = Date.now() + (opts.timeoutMs ?? 120_000);
  let wait = opts.sleepMs ?? 250;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (!(isRedisUnavailable(err) || dbUnavailable(err)) || Date.now() > until) throw err;
      opts.logger.warn({ err: (err as Error).message, what: opts.what, retryInMs: wait }, 'start-up check: a backing service is out of reach; waiting');
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 5_000);
    }
  }
}

/**
 * Open the process's database connections before it takes work (lib/db `openConnections`): a
 * worker or web process started into a burst of calls otherwise opens them one by one inside its
 * first jobs. At 100 calls/s on a just-started worker this took the run's p99 from 352–417 ms to
 * 212–267 ms (bench/RESULTS.md). Never fails start-up: a connection that does not open now is
 * opened on demand, as before, and the reason is logged.
 */
export async function openDatabaseConnections(ctx: Pick<AppContext, 'database' | 'config' | 'logger'>): Promise<void> {
  const started = Date.now();
  const want = ctx.config.DB_POOL_SIZE;
  const { opened, error } = await openConnections(ctx.database.pool, want);
  if (error === undefined) ctx.logger.info({ opened, ms: Date.now() - started }, 'database connections opened');
  else ctx.logger.warn({ opened, of: want, err: error }, 'could not open every database connection at start-up; the rest open on demand');
}
