/**
 * The `bookings` queue: lib/booking/executeBooking, with BullMQ semantics around it.
 * - booked / already booked → completed (the result names the appointment and uid);
 * - rejected (slot taken, bad event type, bad key) → UnrecoverableError: failed at once, the
 *   reason on the job and on the appointment;
 * - deferred (breaker open, 429, the company's Cal.com budget spent, lock held) → moved to
 *   delayed until the given time, without spending an attempt;
 * - anything else → thrown: BullMQ retries (3 attempts, 1 s / 2 s / 4 s with jitter); after the
 *   last one the appointment is marked failed with the reason and operators are alerted.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { executeBooking, recordFinalFailure, type BookingDeps } from '../lib/booking/book';
import { BookingDeferred, BookingRejected } from '../lib/booking/errors';
import { bookingDeps } from '../lib/booking/deps';
import type { AppContext } from '../lib/context';
import { bookingJobSchema } from '../lib/queues';
import { dbUnavailable } from '../lib/db/breaker';
import { describeError } from '../lib/errors/redact';
import { dropSealed, parsePayload } from './payload';
import type { JobHandler } from './run-job';

export function bookingsHandlerWith(deps: BookingDeps): JobHandler {
  return async (job: Job, signal: AbortSignal, token?: string) => {
    const data = parsePayload('bookings', bookingJobSchema, job);
    // A booking that failed for good keeps no sealed customer (the failed job stays 14 days): one
    // queued after its customer's erasure would otherwise hold the erased number and name.
    const dropCustomer = () => (data.sealedCustomer === undefined ? undefined : dropSealed(job, data, 'sealedCustomer', deps.logger, 'a booking that failed for good'));
    try {
      return await executeBooking(deps, data, signal);
    } catch (err) {
      if (dbUnavailable(err)) throw err; // run-job delays the job until the database is back
      if (err instanceof BookingRejected) {
        await dropCustomer();
        throw new UnrecoverableError(err.reason);
      }
      if (err instanceof BookingDeferred) {
        deps.logger.info({ jobId: job.id, reason: err.reason, retryAt: new Date(err.retryAt).toISOString() }, 'booking deferred');
        await job.moveToDelayed(err.retryAt, token);
        throw new DelayedError(err.message);
      }
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 >= attempts) {
        // The last attempt: the job's reason (what Bull Board shows first) is the same readable
        // sentence the appointment keeps.
        const reason = `gave up after ${attempts} attempts: ${describeError(err)}`;
        await recordFinalFailure(deps, data, reason);
        await dropCustomer();
        throw new UnrecoverableError(reason);
      }
      throw err;
    }
  };
}

export function bookingsHandler(ctx: AppContext): JobHandler {
  // Deferred, not waited for, when the company's Cal.com budget is spent: a waiting job would
  // hold one of CONCURRENCY_BOOKINGS slots, and the other companies' bookings wait behind it.
  return bookingsHandlerWith(bookingDeps(ctx, {}, 'defer'));
}
