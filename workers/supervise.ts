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
 * a free slot, and it started no job. A healthy worker with a free slot takes a waiting job
 * within its block timeout (BullMQ caps it at 10 s), so a job waiting longer than that beside
 * an idle worker is not a busy queue; it is a stuck loop.
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
  process(job: Job<T>, token?: string): Promise<unknown>;
  wedgeMs: number;
  logger: Logger;
  /** How long the wedged worker's close may take before it is left behind (default 10 s). */
  abandonAfterMs?: number;
}

export function superviseWorker<T>(o: SuperviseOptions<T>): SupervisedWorker {
  const name = o.queue.name;
  const checkEveryMs = Math.max(250, Math.min(5_000, Math.floor(o.wedgeMs / 4)));
  let running = 0;
  let lastStart = Date.now();
  let generation = 0;
  // Handlers of this worker generation only: a replaced worker's jobs finish on their own.
  const start = () => {
    let inFlight = 0;
    const worker = o.create(async (job, token) => {
      inFlight++;
      if (current === worker) running = inFlight;
      lastStart = Date.now();
      try {
        return await o.process(job, token);
      } finally {
        inFlight--;
        if (current === worker) running = inFlight;
      }
    }, generation > 0);
    running = 0;
    return worker;
  };
  let current = start();
  let suspectSince: number | undefined;
  let checking = false;
  let closed = false;

  const replace = (waiting: number, since: number) => {
    const old = current;
    generation++;
    current = start();
    lastStart = Date.now();
    suspectSince = undefined;
    workerReplacedTotal.inc({ queue: name });
    o.logger.error(
      { queue: name, waiting, idleMs: Date.now() - since, generation },
      'worker took no job while jobs waited and it had free slots: replaced by a fresh worker on a fresh connection',
    );
    const abandon = new Promise<'abandoned'>((r) => setTimeout(() => r('abandoned'), o.abandonAfterMs ?? 10_000).unref());
    void Promise.race([old.close(true).then(() => 'closed' as const), abandon])
      .then((how) => {
        if (how === 'abandoned') o.logger.warn({ queue: name }, 'the replaced worker did not close in time; left behind');
      })
      .catch((err: unknown) => o.logger.warn({ queue: name, err }, 'closing the replaced worker failed'));
  };

  const check = async () => {
    if (checking || closed) return;
    checking = true;
    try {
      // All slots busy, or a job started since the last look: the loop is turning. (This also
      // keeps a busy queue free of the two commands below.)
      if (running >= o.concurrency || Date.now() - lastStart < checkEveryMs) {
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
      if (!closed && now - suspectSince >= o.wedgeMs) replace(waiting, suspectSince);
    } catch {
      // Counting failed (Redis unreachable): try again at the next tick.
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), checkEveryMs);
  timer.unref();

  return {
    get current() {
      return current;
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await current.close();
    },
  };
}
