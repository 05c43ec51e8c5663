/**
 * Wraps a queue's handler: enforces the queue's job timeout (BullMQ has none of its own), hands
 * the handler an AbortSignal that fires at the timeout, records duration per queue and outcome,
 * and scrubs what it throws (lib/errors/redact): BullMQ stores the message as the job's
 * failedReason and the stack in its stacktrace, in Redis, so no bound value of a failed query
 * may be in either, and both stay short.
 */
import { DelayedError, type Job } from 'bullmq';
import { dbUnavailable } from '../lib/db/breaker';
import { scrubError } from '../lib/errors/redact';
import { jobDuration } from '../lib/metrics';
import { JOB_TIMEOUT_MS, type QueueName } from '../lib/queues';

/** `token` is the worker's lock token, needed to move the job (e.g. `job.moveToDelayed`). */
export type JobHandler<T = unknown, R = unknown> = (job: Job<T>, signal: AbortSignal, token?: string) => Promise<R>;

export class JobTimeoutError extends Error {
  constructor(queue: string, jobId: string | undefined, ms: number) {
    super(`job ${jobId} on ${queue} exceeded its ${ms / 1000} s timeout`);
    this.name = 'JobTimeoutError';
  }
}

export function withTimeout<T, R>(queue: QueueName, handler: JobHandler<T, R>, timeoutMs = JOB_TIMEOUT_MS[queue]) {
  return async (job: Job<T>, token?: string): Promise<R> => {
    const controller = new AbortController();
    const end = jobDuration.startTimer({ queue });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new JobTimeoutError(queue, job.id, timeoutMs);
        controller.abort(err);
        reject(err);
      }, timeoutMs);
    });
    try {
      const result = await Promise.race([handler(job, controller.signal, token), timeout]);
      end({ outcome: 'completed' });
      return result;
    } catch (err) {
      // The database is down: the job waits for it instead of spending its attempts.
      const down = dbUnavailable(err);
      if (down && token) {
        end({ outcome: 'delayed' });
        await job.moveToDelayed(Math.max(down.retryAt, Date.now() + 1_000), token);
        throw new DelayedError(down.message);
      }
      end({ outcome: 'failed' });
      throw scrubError(err);
    } finally {
      clearTimeout(timer);
    }
  };
}
