/**
 * `callbook calls reconcile [--since 2h] [--company]` and `callbook calls replay <retell call id>`:
 * compare Retell's call list with what callbook processed and feed what is missing through the
 * webhook path (lib/calls/reconcile), or run one call through the pipeline again (lib/calls/replay).
 */
import type { Command } from 'commander';
import { audit } from '../../../lib/audit';
import type { AppContext } from '../../../lib/context';
import { handledEvent } from '../../../lib/calls/queries';
import { runReconcile } from '../../../lib/calls/reconcile';
import { ReplayError, replayCall } from '../../../lib/calls/replay';
import { CliError, print, type Run } from '../output';
import { actor, resolveCompany } from '../resolve';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "30m", "2h", "3d" → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+)\s*([smhd])\s*$/i.exec(text);
  if (!m) throw new CliError(`--since must be a duration like 30m, 2h or 3d, not "${text}"`, 2);
  return Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!;
}

/** Waits (polling the database) until the replayed event is handled, or `timeoutMs` passes. */
async function waitForOutcome(ctx: AppContext, callId: string, event: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const handled = await handledEvent(ctx.database.db, callId, event);
    if (handled) return handled;
    if (Date.now() > until) return null;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function registerReconcile(program: Command, run: Run): void {
  const callsCmd = program.commands.find((c) => c.name() === 'calls') ?? program.command('calls').description('calls as recorded');

  callsCmd
    .command('reconcile')
    .description("list Retell's ended calls and feed those callbook never processed through the webhook path (the sync worker does this every RECONCILE_INTERVAL_MS)")
    .option('--since <duration>', 'look back this far (30m, 2h, 3d) instead of from the last run')
    .option('--company <slug>', "only the Retell account serving this company")
    .action((o: { since?: string; company?: string }) =>
      run(async (ctx, json) => {
        const sinceMs = o.since ? parseDuration(o.since) : undefined;
        const company = o.company ? await resolveCompany(ctx.database.db, o.company) : undefined;
        const r = await runReconcile(ctx, { ...(sinceMs ? { sinceMs } : {}), ...(company ? { companyId: company.id } : {}) });
        await audit(ctx.database.db, {
          companyId: company?.id,
          actor: actor(),
          action: 'calls.reconcile',
          target: o.since ?? 'watermark',
          details: { accounts: r.accounts.map((a) => ({ account: a.account, ...a.counts, error: a.error })) },
        });
        print(json, r, () =>
          [
            ...r.accounts.map(
              (a) =>
                `${a.account}: ${a.error ? `FAILED (${a.error})` : `${a.listed} call(s) ended ${a.from} – ${a.to}: ${a.counts.found_missing} missing (fed), ${a.counts.already_processed} already processed, ${a.counts.analysis_pending} waiting for analysis, ${a.counts.failed} failed`}`,
            ),
            ...r.calls.filter((c) => c.outcome !== 'already_processed').map((c) => `  ${c.callId}: ${c.outcome}${c.detail ? ` — ${c.detail}` : ''}`),
          ].join('\n'),
        );
        if (r.accounts.some((a) => a.error) || r.calls.some((c) => c.outcome === 'failed')) process.exitCode = 1;
      }),
    );

  callsCmd
    .command('replay <retellCallId>')
    .description('fetch the call from Retell again and run it through the pipeline (books only if it never booked)')
    .option('--company <slug>', "the company whose Retell account holds the call (default: every account is asked)")
    .option('--timeout <ms>', 'how long to wait for a webhooks worker to handle it', '30000')
    .action((callId: string, o: { company?: string; timeout: string }) =>
      run(async (ctx, json) => {
        const company = o.company ? await resolveCompany(ctx.database.db, o.company) : undefined;
        let r;
        try {
          r = await replayCall(ctx, callId, company ? { companyId: company.id } : {});
        } catch (err) {
          if (err instanceof ReplayError) throw new CliError(err.message, /not found|purged/.test(err.message) ? 2 : 1);
          throw err;
        }
        await audit(ctx.database.db, { companyId: company?.id, actor: actor(), action: 'calls.replay', target: `call:${callId}`, details: { event: r.event, jobId: r.jobId } });
        const outcome = await waitForOutcome(ctx, callId, r.event, Number(o.timeout) || 30_000);
        print(json, { ...r, outcome }, () =>
          [
            `call ${callId} (${r.account}): ${r.event} queued as job ${r.jobId}`,
            outcome
              ? `${outcome.status}${outcome.error ? ` (${outcome.error})` : ''}; decision: ${outcome.decision ?? 'none yet'}${outcome.reason ? ` (${outcome.reason})` : ''}${outcome.appointmentId ? `; appointment #${outcome.appointmentId}` : ''}`
              : 'not handled yet: is a webhooks worker running? (the job stays queued)',
          ].join('\n'),
        );
      }),
    );
}
