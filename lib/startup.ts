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
import { blindIndexKeyMissing } from './pii';
import { assertPlainIndexOpen, PlainIndexClosedError, whenPlainIndexClosed } from './pii/plain-index';
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

/** Answers of the server that retrying will not change: a wrong user or password, no such database. */
const WRONG_DATABASE_SETTINGS = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR']);

/**
 * Open the connections a worker process will use at once (`count`: its queues' concurrency,
 * capped by DB_POOL_SIZE) before it takes work (lib/db `openConnections`): a worker started into
 * a burst of calls otherwise opens them one by one inside its first, still cold, jobs. No more
 * than it would open under load anyway, so the deployment's connection budget (the server's
 * max_connections) is what it was. A connection that does not open now is opened on demand, as
 * before, and the reason logged; a wrong user, password or database name stops start-up here,
 * naming it, instead of failing every job after it.
 */
export async function openDatabaseConnections(ctx: Pick<AppContext, 'database' | 'logger'>, count: number): Promise<void> {
  const started = Date.now();
  const { opened, error } = await openConnections(ctx.database.pool, count);
  if (error === undefined) {
    ctx.logger.info({ opened, ms: Date.now() - started }, 'database connections opened');
    return;
  }
  const code = (error as { code?: string }).code;
  if (code && WRONG_DATABASE_SETTINGS.has(code)) throw new Error(`DATABASE_URL: ${(error as Error).message} (${code})`);
  ctx.logger.warn({ opened, of: count, err: error }, 'could not open every database connection at start-up; the rest open on demand');
}

/** What the process says when it starts draining and when a second signal cuts the drain short. */
export interface ShutdownWords {
  draining: string;
  secondSignal: string;
  /** Logged with the draining line. */
  fields?: Record<string, unknown>;
}

const WORKER_WORDS: ShutdownWords = {
  draining: 'draining: finishing active jobs',
  secondSignal: 'second signal: exiting now; active jobs will be recovered as stalled',
};

/**
 * Run `stop` on the first SIGTERM/SIGINT, then exit 0 (1 if it throws); a second signal exits at
 * once. Returns `drain(cause)`, which starts the same stop from inside the process and does
 * nothing when one is under way (it is not a second signal). Every process entry point (web,
 * workers, sandbox) stops through it.
 */
export function onShutdownSignal(stop: () => Promise<void>, logger: Logger, words: ShutdownWords = WORKER_WORDS): (cause: string) => void {
  let stopping = false;
  const drain = (cause: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ cause, ...words.fields }, words.draining);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  const handle = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, words.secondSignal);
      process.exit(1);
    }
    drain(signal);
  };
  process.on('SIGTERM', () => handle('SIGTERM'));
  process.on('SIGINT', () => handle('SIGINT'));
  return drain;
}

const PLAIN_INDEX_CHECK_MS = 60_000;

/**
 * A process without BLIND_INDEX_KEY may not run once `keys rotate` has closed the plain index
 * (lib/pii/plain-index): it drains and stops (`drain`, the same stop as on SIGTERM, and a no-op
 * when one is under way) as soon as it meets the refusal in a customer write, or at its next
 * look at the state, once a minute, if it writes no customers (a bookings or notifications worker,
 * a web process that does not book). Its restart then stops at the start-up check, naming the
 * key. A process with the key does nothing here.
 */
export function stopWhenPlainIndexClosed(ctx: Pick<AppContext, 'database' | 'logger'>, drain: (cause: string) => void): void {
  if (!blindIndexKeyMissing()) return;
  let stopped = false;
  const stop = (err: PlainIndexClosedError) => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    ctx.logger.fatal({ err: err.message }, 'stopping: this process may not write customers any more (BLIND_INDEX_KEY)');
    drain('BLIND_INDEX_KEY missing');
  };
  whenPlainIndexClosed(stop);
  // A refusal reaches `stop` through the listener above; only an unreadable state is left to log.
  const timer = setInterval(() => {
    assertPlainIndexOpen(ctx.database.db).catch((err: unknown) => {
      if (!(err instanceof PlainIndexClosedError)) ctx.logger.warn({ err }, 'could not read the plain phone index state; looking again in a minute');
    });
  }, PLAIN_INDEX_CHECK_MS);
  timer.unref();
}
