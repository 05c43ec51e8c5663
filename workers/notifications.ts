/**
 * The `notifications` queue: lib/notifications/processNotification with BullMQ semantics.
 * - sent / duplicate / skipped / uncertain → completed (the result lists each delivery);
 * - a payload that can never work (bad shape, a sealed snapshot that cannot be opened, does not
 *   parse or is about someone else, appointment not in that company) → UnrecoverableError
 *   (InvalidPayloadError naming the field, or the rejection), failed at once;
 * - a transport error known not to have delivered → thrown: BullMQ retries (5 attempts,
 *   exponential from 2 s), and the retry re-claims only what was not sent.
 * The transport is built once, when the worker starts, so a bad NOTIFY_TRANSPORT setup stops the
 * process at start rather than failing every job.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import type { AppContext } from '../lib/context';
import { NotificationRejected, notificationDeps, processNotification, type NotificationDeps } from '../lib/notifications/send';
import { notificationJobSchema } from '../lib/queues';
import { dropSealed, parsePayload } from './payload';
import type { JobHandler } from './run-job';

export function notificationsHandlerWith(deps: NotificationDeps): JobHandler {
  return async (job: Job, signal: AbortSignal) => {
    const payload = parsePayload('notifications', notificationJobSchema, job);
    // The breaker ref is per minute of `at`: it must not move between attempts.
    const data = payload.kind === 'breaker_opened' && payload.at === undefined ? { ...payload, at: job.timestamp } : payload;
    try {
      const result = await processNotification(deps, data, signal);
      // A confirmation that sent nothing keeps no copy of the customer. The one that matters is a
      // confirmation queued after its customer's erasure — the erase came between the booking's
      // commit and the queue.add, so it found no job to remove; the rows then skip it here.
      if (payload.sealedSnapshot !== undefined && (result.status === 'skipped' || result.status === 'duplicate')) {
        await dropSealed(job, payload, 'sealedSnapshot', deps.logger, 'a confirmation that sent nothing');
      }
      return result;
    } catch (err) {
      if (err instanceof NotificationRejected) throw new UnrecoverableError(err.message);
      throw err;
    }
  };
}


export function notificationsHandler(ctx: AppContext): JobHandler {
  return notificationsHandlerWith(notificationDeps(ctx));
}
