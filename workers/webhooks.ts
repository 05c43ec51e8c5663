/** The `webhooks` queue: Retell call webhooks → lib/calls/process-retell-webhook. */
import { UnrecoverableError, type Job } from 'bullmq';
import type { AppContext } from '../lib/context';
import { processRetellWebhook } from '../lib/calls/process-retell-webhook';
import { recordEvent, retellDedupeKey } from '../lib/calls/webhook-inbox';
import { publishEvent } from '../lib/events';
import { webhookJobSchema } from '../lib/queues';
import { dbUnavailable } from '../lib/db/breaker';
import { describeError } from '../lib/errors/redact';
import { dropSealed, parsePayload } from './payload';
import type { JobHandler } from './run-job';

export function webhooksHandler(ctx: AppContext): JobHandler {
  return async (job: Job, signal: AbortSignal) => {
    const data = parsePayload('webhooks', webhookJobSchema, job);
    try {
      const outcome = await processRetellWebhook(
        {
          db: ctx.database.db,
          cache: ctx.cache,
          cipher: ctx.cipher,
          bookingsQueue: ctx.queues.bookings,
          logger: ctx.logger,
          publish: (e) => publishEvent(ctx.redis, ctx.ns, e, (err) => ctx.logger.warn({ err }, 'live event not published')),
        },
        data,
        signal,
      );
      // Also a duplicate of a purged call's event: a re-delivery after the erase removed the first
      // job, or this job run again after it recorded `ignored` and died before dropping the body.
      // A webhook for a purged call (retention, GDPR erasure), late or a duplicate, is ignored, and
      // its job must not keep the caller's number and words either: the erasure removed the jobs
      // that existed when it ran. A retry of it then fails as a malformed payload, naming
      // sealedBody; its inbox row stays final.
      if (outcome.status !== 'processed' && outcome.purged) await dropSealed(job, data, 'sealedBody', ctx.logger, 'a webhook for a purged call');
      return outcome;
    } catch (err) {
      if (dbUnavailable(err)) throw err; // run-job delays the job until the database is back
      // Keep the reason beside the event once retries are spent — or will never come: BullMQ fails
      // an UnrecoverableError (a sealed body that cannot be opened) after this one attempt. The
      // job keeps the reason too, but only for as long as failed jobs are kept.
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 >= attempts || err instanceof UnrecoverableError) {
        // A final row (a duplicate finished meanwhile) is left as it is.
        await recordEvent(
          ctx.database.db,
          { provider: 'retell', dedupeKey: retellDedupeKey(data.callId, data.event, data.signerCompanyId) },
          { eventType: data.event, externalId: data.callId, receivedAt: new Date(data.receivedAt) },
          'failed',
          { error: describeError(err) },
        ).catch((e: unknown) => ctx.logger.error({ err: e }, 'could not record webhook failure'));
      }
      throw err;
    }
  };
}
