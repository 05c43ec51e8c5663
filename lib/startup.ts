/**
 * Start-up checks that talk to Redis or the database, retried while those are out of reach. A
 * process started during a Redis restart (a supervisor replacing a killed worker, a deploy during
 * a failover) waits for it instead of exiting 1 and being restarted in a loop; a check that
 * answers (noeviction missing, BLIND_INDEX_KEY missing) still stops start-up at once.
 *
 * @example
 *   await whenReachable(() => assertNoEviction(ctx.redis), { logger: ctx.logger, what: 'Redis policy check' });
 */
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
