/**
 * Enqueue coalescing: every `add` issued in one turn of the event loop goes to Redis as one
 * `addBulk` (one MULTI round trip instead of one per job). Each caller's promise settles when
 * the whole batch is in Redis, so a job is still stored before its webhook is answered; a failed
 * batch fails every caller in it (each answers 503 and Retell retries).
 *
 * An experiment of issue 15 (INGRESS_COALESCE_ENQUEUE, off by default): bench/RESULTS.md has
 * what it measured.
 */
import type { Job, JobsOptions, Queue } from 'bullmq';

interface Pending {
  name: string;
  data: unknown;
  opts: JobsOptions;
  resolve: (job: Job) => void;
  reject: (err: unknown) => void;
}

export type Enqueue = (name: string, data: unknown, opts: JobsOptions) => Promise<Job>;

export function coalescingEnqueue(queue: Queue): Enqueue {
  let batch: Pending[] = [];
  const flush = () => {
    const jobs = batch;
    batch = [];
    queue.addBulk(jobs.map((p) => ({ name: p.name, data: p.data, opts: p.opts }))).then(
      (added) => jobs.forEach((p, i) => p.resolve(added[i]!)),
      (err: unknown) => jobs.forEach((p) => p.reject(err)),
    );
  };
  return (name, data, opts) =>
    new Promise<Job>((resolve, reject) => {
      if (batch.length === 0) setImmediate(flush);
      batch.push({ name, data, opts, resolve, reject });
    });
}
