/**
 * Reconcile: the webhook is a hint, Retell's API is the truth. Retell retries a webhook a few
 * times within seconds; an ingress down for longer (a deploy, a network cut, a bad certificate)
 * loses those calls. Each run lists, per Retell account, the phone calls that ended in a window
 * (`POST /v3/list-calls`, filter on `end_timestamp`, paged), finds those callbook has not
 * processed, fetches each whole (`GET /v2/get-call`: the list leaves the transcript out) and
 * feeds it through the webhook job path (./enqueue-webhook) — the same job id, inbox row,
 * decision and booking key as the webhook, so a late webhook for the same call books nothing
 * twice.
 *
 * Done means: `call_analyzed` processed, or `call_ended` processed with the booking decided, in
 * webhook_events (or either refused for good: an unknown number or a purged call needs no
 * second look).
 * A call whose analysis is not ready is left for the next run and holds the account's
 * watermark (its end), unless it ended more than ANALYSIS_GRACE_MS ago: then it goes through
 * as `call_ended`, which books only when the call already says everything needed.
 *
 * The window starts at the account's watermark (reconcile_watermarks) less a minute of overlap,
 * at most RECONCILE_MAX_WINDOW_MS back, and ends SETTLE_MS ago (webhooks of calls that just
 * ended are still arriving).
 */
import { and, eq, inArray } from 'drizzle-orm';
import type Retell from 'retell-sdk';
import { calls, reconcileWatermarks, webhookEvents } from '../../drizzle/schema';
import type { AppContext } from '../context';
import { reconcileCallsTotal } from '../metrics';
import { describeRetellError, openRetellSession, retellKeysByAccount, type RetellAccount, type RetellSession } from '../retell/client';
import { webhookSchema } from '../retell/webhook';
import { enqueueRetellWebhook } from './enqueue-webhook';
import { retellDedupeKey } from './webhook-inbox';

export const OVERLAP_MS = 60_000;
export const SETTLE_MS = 60_000;
export const ANALYSIS_GRACE_MS = 30 * 60_000;
/** The first run of an account (no watermark yet) looks this far back, at most. */
export const FIRST_RUN_MS = 3_600_000;
const PAGE_SIZE = 200;

export type ReconcileOutcome = 'found_missing' | 'already_processed' | 'analysis_pending' | 'failed';

export interface ReconcileCall {
  callId: string;
  account: string;
  outcome: ReconcileOutcome;
  /** found_missing: the event fed; failed / analysis_pending: why. */
  detail?: string;
}

export interface ReconcileAccountReport {
  account: string;
  from: string;
  to: string;
  listed: number;
  counts: Record<ReconcileOutcome, number>;
  /** The watermark stored after the run. */
  watermark: string;
  error?: string;
}

export interface ReconcileReport {
  accounts: ReconcileAccountReport[];
  calls: ReconcileCall[];
}

export interface ReconcileOptions {
  /** Look back this far (ms) instead of from the watermark (`calls reconcile --since`). */
  sinceMs?: number;
  /** Only the Retell account serving this company. */
  companyId?: number;
  now?: number;
  /** Override SETTLE_MS (tests, the chaos run). */
  settleMs?: number;
  pageSize?: number;
  signal?: AbortSignal;
}

export function accountKey(account: RetellAccount): string {
  return account.companyId === null ? 'global' : `company:${account.companyId}`;
}

/**
 * Retell call ids whose processing is done: `call_analyzed` handled to a final status, or
 * `call_ended` processed with the booking decided (a call whose `call_analyzed` was lost while
 * its `call_ended` could not decide yet is not done), or either refused for good (unknown
 * number, purged call).
 */
async function doneCallIds(ctx: AppContext, ids: string[], companyId: number | null): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const db = ctx.database.db;
  // Both inbox keys of an event: signed by the platform key, or by the company's own.
  const keys = ids.flatMap((id) =>
    (['call_analyzed', 'call_ended'] as const).flatMap((e) => [retellDedupeKey(id, e), ...(companyId === null ? [] : [retellDedupeKey(id, e, companyId)])]),
  );
  const events = await db
    .select({ externalId: webhookEvents.externalId, eventType: webhookEvents.eventType, status: webhookEvents.status })
    .from(webhookEvents)
    .where(and(eq(webhookEvents.provider, 'retell'), inArray(webhookEvents.dedupeKey, keys)));
  const rows = await db.select({ id: calls.retellCallId, decision: calls.bookingDecision }).from(calls).where(inArray(calls.retellCallId, ids));
  const decided = new Set(rows.filter((r) => r.decision !== null).map((r) => r.id));
  const done = new Set<string>();
  for (const e of events) {
    if (!e.externalId) continue;
    if (e.status === 'rejected' || e.status === 'ignored') done.add(e.externalId);
    else if (e.status === 'processed' && (e.eventType === 'call_analyzed' || decided.has(e.externalId))) done.add(e.externalId);
  }
  return done;
}

type ListedCall = Retell.CallListResponse['items'][number];

/** Fetches the whole call and feeds `event` for it through the webhook job path. */
export async function feedCall(ctx: AppContext, session: RetellSession, callId: string, event: 'call_analyzed' | 'call_ended', opts: { jobId?: string } = {}): Promise<string> {
  const full = await session.call((c, o) => c.call.retrieve(callId, o));
  const parsed = webhookSchema.safeParse({ event, call: full });
  if (!parsed.success) {
    throw new Error(`Retell's call does not match the webhook schema: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const { jobId, outcome } = await enqueueRetellWebhook(
    { webhooksQueue: ctx.queues.webhooks, cipher: ctx.cipher },
    { event, call: parsed.data.call },
    // Read from a company's own Retell account: that company vouches for it, as its key would.
    { ...(opts.jobId ? { jobId: opts.jobId } : {}), ...(session.account.companyId !== null ? { signerCompanyId: session.account.companyId } : {}) },
  );
  return `${event} → job ${jobId} (${outcome})`;
}

async function reconcileAccount(ctx: AppContext, account: RetellAccount, opts: ReconcileOptions, report: ReconcileReport): Promise<void> {
  const db = ctx.database.db;
  const now = opts.now ?? Date.now();
  const key = accountKey(account);
  const [mark] = await db.select().from(reconcileWatermarks).where(eq(reconcileWatermarks.account, key));
  const oldest = now - ctx.config.RECONCILE_MAX_WINDOW_MS;
  const from =
    opts.sinceMs !== undefined ? now - opts.sinceMs
    : mark ? Math.max(mark.watermark.getTime() - OVERLAP_MS, oldest)
    : Math.max(now - FIRST_RUN_MS, oldest);
  const to = now - (opts.settleMs ?? SETTLE_MS);
  const counts: Record<ReconcileOutcome, number> = { found_missing: 0, already_processed: 0, analysis_pending: 0, failed: 0 };
  const entry: ReconcileAccountReport = { account: account.label, from: new Date(from).toISOString(), to: new Date(to).toISOString(), listed: 0, counts, watermark: '' };
  report.accounts.push(entry);
  const note = (callId: string, outcome: ReconcileOutcome, detail?: string) => {
    counts[outcome]++;
    reconcileCallsTotal.inc({ outcome });
    report.calls.push({ callId, account: account.label, outcome, ...(detail ? { detail } : {}) });
  };

  const session = openRetellSession(ctx, account, opts.signal);
  /** The earliest end of a call to look at again next run. */
  let held = Infinity;
  let paginationKey: string | undefined;
  const seenKeys = new Set<string>();
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      const page = await session.call((c, o) =>
        c.call.list(
          {
            filter_criteria: { end_timestamp: { op: 'bt', type: 'range', value: [from, to] }, call_type: { op: 'in', type: 'enum', value: ['phone_call'] } },
            sort_order: 'ascending',
            limit: opts.pageSize ?? PAGE_SIZE,
            ...(paginationKey ? { pagination_key: paginationKey } : {}),
          },
          o,
        ),
      );
      const items = page.items as ListedCall[];
      entry.listed += items.length;
      const done = await doneCallIds(ctx, items.map((c) => c.call_id), account.companyId);
      for (const item of items) {
        if (done.has(item.call_id)) {
          note(item.call_id, 'already_processed');
          continue;
        }
        const ended = typeof item.end_timestamp === 'number' ? item.end_timestamp : to;
        const analysed = item.call_analysis !== undefined && item.call_analysis !== null;
        if (!analysed && now - ended < ANALYSIS_GRACE_MS) {
          held = Math.min(held, ended);
          note(item.call_id, 'analysis_pending', 'call_analysis not ready; looked at again next run');
          continue;
        }
        try {
          note(item.call_id, 'found_missing', await feedCall(ctx, session, item.call_id, analysed ? 'call_analyzed' : 'call_ended'));
        } catch (err) {
          held = Math.min(held, ended);
          note(item.call_id, 'failed', describeRetellError(err));
          ctx.logger.warn({ callId: item.call_id, account: account.label, err: describeRetellError(err) }, 'reconcile could not feed a call');
        }
      }
      if (!page.has_more || !page.pagination_key || seenKeys.has(page.pagination_key)) break;
      seenKeys.add(page.pagination_key);
      paginationKey = page.pagination_key;
    }
  } catch (err) {
    // The listing failed part-way: the watermark stays where it was.
    entry.error = describeRetellError(err);
    entry.watermark = mark?.watermark.toISOString() ?? '';
    ctx.logger.error({ account: account.label, err: entry.error }, 'reconcile could not list calls');
    return;
  }

  let next = Math.min(to, held - 1);
  // A manual look further back never moves the watermark backwards.
  if (opts.sinceMs !== undefined && mark) next = Math.max(next, mark.watermark.getTime());
  const watermark = new Date(Math.max(next, from));
  await db
    .insert(reconcileWatermarks)
    .values({ account: key, companyId: account.companyId, watermark })
    .onDuplicateKeyUpdate({ set: { watermark, companyId: account.companyId } });
  entry.watermark = watermark.toISOString();
}

/** One reconcile run over every Retell account (or the one serving `companyId`). */
export async function runReconcile(ctx: AppContext, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  const report: ReconcileReport = { accounts: [], calls: [] };
  const accounts = await retellKeysByAccount(ctx, {
    ...(opts.companyId !== undefined ? { companyId: opts.companyId } : {}),
    onError: (a, err) => report.accounts.push({ account: a.label, from: '', to: '', listed: 0, counts: { found_missing: 0, already_processed: 0, analysis_pending: 0, failed: 0 }, watermark: '', error: `Retell key cannot be decrypted: ${err.message}` }),
  });
  for (const account of accounts) await reconcileAccount(ctx, account, opts, report);
  const total = (o: ReconcileOutcome) => report.accounts.reduce((s, a) => s + a.counts[o], 0);
  ctx.logger.info(
    { accounts: report.accounts.length, foundMissing: total('found_missing'), alreadyProcessed: total('already_processed'), pending: total('analysis_pending'), failed: total('failed') },
    'reconcile finished',
  );
  return report;
}
