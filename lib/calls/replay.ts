/**
 * `calls replay <retell call id>`: fetches the call from Retell again and runs it through the
 * pipeline — the same webhook job path as reconcile (./enqueue-webhook), under a job id of its
 * own so a finished job of the same event does not swallow it. The call's inbox rows are reopened
 * first (a call refused for an unknown number, since imported, goes through now), except for a
 * purged call, which stays purged. The once-only booking decision and the booking idempotency
 * key still hold: a call that booked is never booked again.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { calls, webhookEvents } from '../../drizzle/schema';
import type { AppContext } from '../context';
import { jobIds } from '../queues';
import { describeRetellError, isRetellNotFound, openRetellSession, retellKeysByAccount, type RetellSession } from '../retell/client';
import { rememberReplayJob } from './enqueue-webhook';
import { feedCall } from './reconcile';
import { retellDedupeKey } from './webhook-inbox';

export class ReplayError extends Error {
  override readonly name = 'ReplayError';
}

export interface ReplayResult {
  callId: string;
  account: string;
  event: 'call_analyzed' | 'call_ended';
  jobId: string;
}

/** The session of the account that holds the call: the company's, or the first that knows it. */
async function findCall(ctx: AppContext, callId: string, companyId?: number): Promise<{ session: RetellSession; analysed: boolean }> {
  const accounts = await retellKeysByAccount(ctx, companyId !== undefined ? { companyId } : {});
  for (const account of accounts) {
    const session = openRetellSession(ctx, account);
    try {
      const call = await session.call((c, o) => c.call.retrieve(callId, o));
      return { session, analysed: call.call_analysis !== undefined && call.call_analysis !== null };
    } catch (err) {
      if (isRetellNotFound(err)) continue;
      throw new ReplayError(`could not read call ${callId} from the ${account.label} Retell account: ${describeRetellError(err)}`);
    }
  }
  throw new ReplayError(`call ${callId} not found in ${accounts.map((a) => `the ${a.label}`).join(' or ')} Retell account`);
}

export async function replayCall(ctx: AppContext, callId: string, opts: { companyId?: number; now?: number } = {}): Promise<ReplayResult> {
  const db = ctx.database.db;
  const [row] = await db.select({ purgedAt: calls.purgedAt }).from(calls).where(eq(calls.retellCallId, callId));
  if (row?.purgedAt) throw new ReplayError(`call ${callId} was purged (retention or GDPR erasure): it is not replayed`);
  const { session, analysed } = await findCall(ctx, callId, opts.companyId);
  const event = analysed ? 'call_analyzed' : 'call_ended';
  await db
    .update(webhookEvents)
    .set({ status: 'failed', error: 'reopened by calls replay' })
    .where(
      and(
        eq(webhookEvents.provider, 'retell'),
        // Both inbox keys of each event: the platform's, and the company's own account's.
        inArray(
          webhookEvents.dedupeKey,
          (['call_analyzed', 'call_ended'] as const).flatMap((e) => [retellDedupeKey(callId, e), ...(session.account.companyId === null ? [] : [retellDedupeKey(callId, e, session.account.companyId)])]),
        ),
        inArray(webhookEvents.status, ['processed', 'rejected', 'failed']),
      ),
    );
  const jobId = `${jobIds.retellWebhook(callId, event, session.account.companyId ?? undefined)}-replay-${opts.now ?? Date.now()}`;
  try {
    // The GDPR erase finds the job (and its sealed body) by this, not by the id.
    await rememberReplayJob(ctx, callId, jobId);
    await feedCall(ctx, session, callId, event, { jobId });
  } catch (err) {
    throw new ReplayError(`call ${callId} could not be queued: ${describeRetellError(err)}`);
  }
  return { callId, account: session.account.label, event, jobId };
}
