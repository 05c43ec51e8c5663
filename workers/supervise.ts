/**
 * Replaces a BullMQ worker that has stopped taking jobs.
 *
 * On a Redis Cluster, a master killed and restarted under load can leave a worker wedged: its
 * queue holds waiting jobs, the process has free slots, yet BullMQ neither takes a job nor
 * reports an error, until the process is restarted (BullMQ issue #4138 describes the same; our
 * cluster chaos run hit it about once in twenty runs, always right after the master restart).
 * The wedge lives in BullMQ's fetch loop and ioredis' cluster client, out of our reach, so this
 * watches from outside the loop and does what an operator would: a fresh worker on a fresh
 * connection, the wedged one closed in the background.
 *
 * Wedged means: for `wedgeMs`, the queue had jobs waiting (and was not paused), this worker had
 * a free slot, and it started no job. A healthy worker with a free slot is woken by a new job at
 * once and otherwise looks again every few seconds (BullMQ's drainDelay), so a job waiting that
 * long beside an idle worker is a stuck loop. (Not so with BullMQ's global concurrency or global
 * rate limit, which keep jobs waiting on purpose; callbook uses neither. Add one, extend this.)
 *
 * The old worker is closed gently (`close()`, not forced): BullMQ first drops its blocking
 * connection, where a wedge sits, then lets the jobs it holds finish and be recorded, their
 * locks still renewed; a forced close would leave them to the stalled check and run them twice.
 * A close that has not ended after `abandonAfterMs` (the queue's job timeout and a margin, so its
 * handlers are done) is left behind; either way its own connection is then let go (`dispose`).
 * A stall that a fresh worker does not cure doubles the window each time (up to 16×), so a
 * lasting condition costs a handful of replacements an hour, not one every 20 s.
 */
import type { Job, Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { workerReplacedTotal } from '../lib/metrics';

export interface SupervisedWorker {
  /** The worker serving the queue now (a new object after each replacement). */
  readonly current: Worker;
  /** Stops watching and closes the current worker (waits for its jobs, like Worker.close). */
  close(): Promise<void>;
}

export interface SuperviseOptions<T> {
  /** The queue's producer handle, for its waiting count and paused flag. */
  queue: Queue;
  concurrency: number;
  /** Builds a worker that runs `process`; called again for each replacement (fresh = true: use a fresh connection). */
  create(process: (job: Job<T>, token?: string) => Promise<unknown>, fresh: boolean): Worker;
  /** Lets go of what `create` opened for a worker that is closed (or left behind). */
  dispose?(worker: Worker): void;
  process(job: Job<T>, token?: string): Promise<unknown>;
  wedgeMs: number;
  logger: Logger;
  /** How long the wedged worker's close may take before it is left behind: its longest job and a margin. */
  abandonAfterMs: number;
}

export function superviseWorker<T>(o: SuperviseOptions<T>): SupervisedWorker {
  const name = o.queue.name;
  const checkEveryMs = Math.max(250, Math.min(5_000, Math.floor(o.wedgeMs / 4)));
  let lastStart = Date.now();
  let generation = 0;
  // One worker and the jobs its own handlers run: a replaced worker's jobs finish on their own
  // and do not count against its successor's free slots.
  const start = () => {
    let inFlight = 0;
    const worker = o.create(async (job, token) => {
      inFlight++;
      lastStart = Date.now();
      try {
        return await o.process(job, token);
      } finally {
        inFlight--;
      }
    }, generation > 0);
    return {
      worker,
      get inFlight() {
        return inFlight;
      },
    };
  };
  let current = start();
  let suspectSince: number | undefined;
  let checking = false;
  let closed = false;
  let lastError: string | undefined;

  // Closes of replaced workers still under way: close() waits for them.
  const closing = new Set<Promise<void>>();
  // Grows while replacements do not cure the stall; back to 1 once a job starts.
  let backoff = 1;
  let lastReplaced = 0;

  const retire = (old: Worker) => {
    let timer: NodeJS.Timeout | undefined;
    const abandon = new Promise<'abandoned'>((r) => (timer = setTimeout(() => r('abandoned'), o.abandonAfterMs)));
    const done: Promise<void> = Promise.race([old.close().then(() => 'closed' as const), abandon])
      .then((how) => {
        if (how === 'abandoned') o.logger.warn({ queue: name, afterMs: o.abandonAfterMs }, 'the replaced worker did not close in time; left behind');
      })
      .catch((err: unknown) => o.logger.warn({ queue: name, err }, 'closing the replaced worker failed'))
      .finally(() => {
        clearTimeout(timer);
        o.dispose?.(old);
        closing.delete(done);
      });
    closing.add(done);
  };

  const replace = (waiting: number, since: number, persisting: boolean) => {
    const old = current.worker;
    if (persisting) backoff = Math.min(backoff * 2, 16);
    generation++;
    current = start();
    lastReplaced = lastStart = Date.now();
    suspectSince = undefined;
    workerReplacedTotal.inc({ queue: name });
    o.logger.error(
      { queue: name, waiting, idleMs: Date.now() - since, generation, nextWindowMs: o.wedgeMs * backoff },
      persisting
        ? 'worker still took no job after being replaced (a fresh worker does not cure this stall): replaced again, next window longer'
        : 'worker took no job while jobs waited and it had free slots: replaced by a fresh worker on a fresh connection',
    );
    retire(old);
  };

  const check = async () => {
    if (checking || closed) return;
    checking = true;
    try {
      // All slots busy, or a job started since the last look: the loop is turning. (This also
      // keeps a busy queue free of the two commands below.)
      if (current.inFlight >= o.concurrency || Date.now() - lastStart < checkEveryMs) {
        suspectSince = undefined;
        return;
      }
      // Redis away: nothing to conclude (the counts would fail, and so would any worker).
      const [counts, paused] = await Promise.all([o.queue.getJobCounts('wait', 'prioritized'), o.queue.isPaused()]);
      const waiting = (counts.wait ?? 0) + (counts.prioritized ?? 0);
      if (waiting === 0 || paused) {
        suspectSince = undefined;
        return;
      }
      const now = Date.now();
      if (suspectSince === undefined || lastStart >= suspectSince) {
        suspectSince = now;
        return;
      }
      // No job started since the last replacement: replacing did not cure it.
      const persisting = lastReplaced > 0 && lastStart <= lastReplaced;
      if (!persisting) backoff = 1;
      if (!closed && now - suspectSince >= o.wedgeMs * backoff) replace(waiting, suspectSince, persisting);
    } catch (err) {
      // Counting fails while Redis is unreachable: try again at the next tick. Anything else is
      // said once per distinct message.
      const message = err instanceof Error ? err.message : String(err);
      if (message !== lastError) o.logger.warn({ queue: name, err }, 'worker supervisor check failed');
      lastError = message;
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), checkEveryMs);
  timer.unref();

  return {
    get current() {
      return current.worker;
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await Promise.all([current.worker.close(), ...closing]);
    },
  };
}
