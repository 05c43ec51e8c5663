/**
 * Puts one Retell call event on the `webhooks` queue exactly the way the ingress does for a
 * webhook: the deterministic job id `retell-<call>-<event>` (`-c<company>` for a company's own
 * Retell account) and the `{event, call}` body sealed with ENCRYPTION_KEY. Reconcile and replay feed calls they fetched from Retell's API through
 * here, so a call found by reconcile and a late webhook for it meet at the same job id, the same
 * inbox row (webhook_events `<call>:<event>`), the same once-only booking decision and the same
 * booking idempotency key.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Cipher } from '../crypto';
import { redisKeys } from '../redis/keys';
import { DEFAULT_JOB_OPTIONS, jobIds, type WebhookJob } from '../queues';
import type { RetellCall } from '../retell/webhook';

export interface EnqueueWebhookDeps {
  webhooksQueue: Queue;
  cipher: Cipher;
}

export interface RetellEventBody {
  event: string;
  /** Parsed by lib/retell/webhook's schema: the fields callbook reads. */
  call: RetellCall;
}

/**
 * added: a new job; retried: the job had failed and runs again; requeued: a completed job was
 * replaced (its event is not done in the inbox); in_flight: the job is waiting or running.
 */
export type EnqueueOutcome = 'added' | 'retried' | 'requeued' | 'in_flight';

/**
 * The `webhooks` job for one Retell event: id and payload exactly as the ingress makes them.
 * `call` is the call object as lib/retell/webhook's schema parsed it — the fields callbook reads,
 * nothing else (the ingress passes the one it authenticated); the job seals `{event, call}`.
 * `signerCompanyId`: the company whose own Retell account vouches for the call (its key signed
 * the webhook, or reconcile read the call from its account); it scopes the job id and inbox key.
 */
export function retellWebhookJob(
  cipher: Cipher,
  event: string,
  call: RetellCall,
  receivedAt = Date.now(),
  signerCompanyId?: number,
): { jobId: string; data: WebhookJob } {
  const callId = call.call_id;
  const sealedBody = cipher.encrypt(JSON.stringify({ event, call }));
  return {
    jobId: jobIds.retellWebhook(callId, event, signerCompanyId),
    data: { provider: 'retell', event, callId, receivedAt, sealedBody, ...(signerCompanyId !== undefined ? { signerCompanyId } : {}) },
  };
}

/**
 * Adds the job for `body` unless one with its id is waiting or running; a failed one is retried,
 * a completed one (whose event the caller found not done) replaced.
 */
export async function enqueueRetellWebhook(
  deps: EnqueueWebhookDeps,
  body: RetellEventBody,
  opts: { jobId?: string; receivedAt?: number; signerCompanyId?: number } = {},
): Promise<{ jobId: string; outcome: EnqueueOutcome }> {
  const built = retellWebhookJob(deps.cipher, body.event, body.call, opts.receivedAt, opts.signerCompanyId);
  const jobId = opts.jobId ?? built.jobId;
  const data = built.data;
  const existing = await deps.webhooksQueue.getJob(jobId);
  if (existing) {
    const state = await existing.getState();
    if (state === 'failed') {
      await existing.retry('failed');
      return { jobId, outcome: 'retried' };
    }
    if (state !== 'completed') return { jobId, outcome: 'in_flight' };
    // Completed, yet the caller found its event not done: run it again (every step is idempotent).
    await existing.remove();
    await deps.webhooksQueue.add(body.event, data, { jobId });
    return { jobId, outcome: 'requeued' };
  }
  await deps.webhooksQueue.add(body.event, data, { jobId });
  return { jobId, outcome: 'added' };
}

/**
 * The ids of a call's `calls replay` jobs (`…-replay-<time>`), which the GDPR erase cannot derive
 * from the call id as it does the ingress's: remembered here, one set per call, for as long as the
 * webhooks queue keeps a failed job (the longest a replay job, and its sealed body, stays).
 */
export const replayJobsKey = (ns: string, callId: string) => `${ns}${redisKeys.replayJobs(callId)}`;
const REPLAY_JOBS_KEEP_S = (DEFAULT_JOB_OPTIONS.webhooks.removeOnFail as { age: number }).age;

/** Remember a replay job's id before it is added (a crash in between leaves an id that names nothing). */
export async function rememberReplayJob(deps: { redis: Redis; ns: string }, callId: string, jobId: string): Promise<void> {
  const key = replayJobsKey(deps.ns, callId);
  const res = await deps.redis.multi().sadd(key, jobId).expire(key, REPLAY_JOBS_KEEP_S).exec();
  const failed = res?.find(([err]) => err);
  if (!res || failed) throw failed?.[0] ?? new Error('replay job id not remembered (transaction discarded)');
}
