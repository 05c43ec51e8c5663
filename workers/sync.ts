/**
 * The `sync` queue: lib/sync/runSync with BullMQ semantics around it, plus the repeatable
 * schedule. A run with problems (unmapped numbers, webhook mismatches, one account down)
 * completes — the problems are in its sync_runs row and the log, and retrying would not fix
 * them; a run where nothing could be checked at all throws, so BullMQ retries it with backoff.
 * The schedule is a BullMQ job scheduler with a fixed id: every process may call scheduleSync at
 * start and there is still exactly one, running every SYNC_INTERVAL_MS. Reconcile
 * (lib/calls/reconcile) runs on the same queue as jobs named `reconcile`, on a scheduler of its
 * own every RECONCILE_INTERVAL_MS; a run where an account could not be listed throws, so BullMQ
 * retries it (the watermark did not move).
 */
import type { Job } from 'bullmq';
import type { AppContext } from '../lib/context';
import { runReconcile } from '../lib/calls/reconcile';
import { reconcileJobSchema, syncJobSchema, type ReconcileJob, type SyncJob } from '../lib/queues';
import { runSync } from '../lib/sync/run';
import { parsePayload } from './payload';
import type { JobHandler } from './run-job';

export const SYNC_SCHEDULER_ID = 'sync-every';
export const RECONCILE_SCHEDULER_ID = 'reconcile-every';
export const RECONCILE_JOB_NAME = 'reconcile';

export class SyncFailedError extends Error {
  override readonly name = 'SyncFailedError';
}

export function syncHandler(ctx: AppContext): JobHandler {
  return async (job: Job, signal: AbortSignal) => {
    if (job.name === RECONCILE_JOB_NAME) {
      const r = await runReconcile(ctx, { ...parsePayload('sync', reconcileJobSchema, job), signal });
      const failed = r.accounts.filter((a) => a.error);
      if (failed.length > 0) throw new SyncFailedError(`reconcile: ${failed.map((a) => `${a.account}: ${a.error}`).join('; ')}`);
      return r.accounts.map((a) => ({ account: a.account, listed: a.listed, ...a.counts, watermark: a.watermark }));
    }
    const data = parsePayload('sync', syncJobSchema, job);
    const report = await runSync(ctx, data, { signal });
    const summary = {
      runId: report.runId,
      status: report.status,
      numbers: report.numbers.imported,
      unmapped: report.numbers.unmapped.length,
      agentMismatches: report.agents.mismatches.length,
      eventTypeProblems: report.eventTypes.problems.length,
      errors: report.errors.length,
    };
    if (report.status === 'failed') {
      throw new SyncFailedError(`sync run ${report.runId} failed: ${report.errors.map((e) => `${e.part}${e.account ? ` (${e.account})` : ''}: ${e.message}`).join('; ')}`);
    }
    return summary;
  };
}

/** Creates or updates the one repeatable full sync (idempotent across processes and restarts). */
export async function scheduleSync(ctx: AppContext): Promise<void> {
  const data: SyncJob = { kind: 'full' };
  await ctx.queues.sync.upsertJobScheduler(SYNC_SCHEDULER_ID, { every: ctx.config.SYNC_INTERVAL_MS }, { name: 'sync', data });
  ctx.logger.info({ every: ctx.config.SYNC_INTERVAL_MS }, 'sync scheduled');
}

/** Creates or updates the one repeatable reconcile (idempotent across processes and restarts). */
export async function scheduleReconcile(ctx: AppContext): Promise<void> {
  const data: ReconcileJob = {};
  await ctx.queues.sync.upsertJobScheduler(RECONCILE_SCHEDULER_ID, { every: ctx.config.RECONCILE_INTERVAL_MS }, { name: RECONCILE_JOB_NAME, data });
  ctx.logger.info({ every: ctx.config.RECONCILE_INTERVAL_MS }, 'reconcile scheduled');
}
