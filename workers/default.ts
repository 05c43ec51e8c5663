/**
 * The `default` queue: housekeeping that must not compete with calls and bookings.
 * - retention_purge: lib/retention (nightly through the `retention-purge` job scheduler, or for
 *   one company on demand);
 * - gdpr_export: writes the customer's data to GDPR_EXPORT_DIR (0600) and returns only the
 *   path — job return values live in Redis in clear text, so the data never goes there;
 * - gdpr_erase: lib/gdpr/erase. The local erase always completes; when a Cal.com booking could
 *   not be cancelled the job fails with that message (no personal data in it), so BullMQ retries
 *   the cancellation (the erase is idempotent) and an operator finds it among failed jobs.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import type { AppContext } from '../lib/context';
import { eraseCustomer } from '../lib/gdpr/erase';
import { exportCustomer, GdprNotFoundError, writeExport } from '../lib/gdpr/export';
import { defaultJobSchema } from '../lib/queues';
import { purgeExpired } from '../lib/retention/purge';
import { parsePayload } from './payload';
import type { JobHandler } from './run-job';

export const RETENTION_SCHEDULER_ID = 'retention-purge';

export function defaultHandler(ctx: AppContext): JobHandler {
  return async (job: Job, signal: AbortSignal) => {
    const data = parsePayload('default', defaultJobSchema, job);
    try {
      switch (data.kind) {
        case 'retention_purge': {
          const companies = await purgeExpired(ctx, { companyId: data.companyId, actor: 'worker:default', signal });
          return { companies: companies.map((c) => ({ companyId: c.companyId, calls: c.calls, olderThan: c.olderThan })) };
        }
        case 'gdpr_export': {
          const exported = await exportCustomer(ctx, { companyId: data.companyId, customerId: data.customerId, actor: data.requestedBy });
          return { path: await writeExport(ctx.config.GDPR_EXPORT_DIR, exported) };
        }
        case 'gdpr_erase': {
          const result = await eraseCustomer(ctx, {
            companyId: data.companyId,
            customerId: data.customerId,
            cancelBookings: data.cancelBookings,
            actor: data.requestedBy,
            signal,
          });
          if (!result.complete) throw new Error(result.message);
          return {
            customerId: result.customerId,
            calls: result.calls,
            appointments: result.appointments,
            cancelled: result.bookings.cancelled.length,
            kept: result.bookings.kept.length,
            webhookJobsRemoved: result.webhookJobsRemoved,
            notificationJobsRemoved: result.notificationJobsRemoved,
            warnings: result.warnings,
          };
        }
      }
    } catch (err) {
      // A customer or company that does not exist will not appear on a retry.
      if (err instanceof GdprNotFoundError) throw new UnrecoverableError(err.message);
      throw err;
    }
  };
}

/** The nightly retention purge (RETENTION_CRON). Upsert by a fixed id: every process may call it, one scheduler results. */
export async function scheduleHousekeeping(ctx: AppContext): Promise<void> {
  await ctx.queues.default.upsertJobScheduler(
    RETENTION_SCHEDULER_ID,
    { pattern: ctx.config.RETENTION_CRON },
    { name: 'retention_purge', data: { kind: 'retention_purge' } },
  );
}
