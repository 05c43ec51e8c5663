/**
 * One sync run: Retell phone numbers, Retell agents and Cal.com event types, per Retell account
 * and per company, recorded in `sync_runs` with everything it found. The parts are independent:
 * an account or company that fails is written into the report and the rest still run, so one
 * broken key does not hide problems elsewhere. Status: ok (nothing to do), problems (something
 * for an operator: unmapped numbers, webhook mismatches, vanished event types, failed parts),
 * failed (nothing could be checked at all).
 */
import { eq } from 'drizzle-orm';
import { companies, syncRuns } from '../../drizzle/schema';
import type { AppContext } from '../context';
import type { SyncJob } from '../queues';
import { describeRetellError, openRetellSession, retellKeysByAccount, type RetellAccount } from '../retell/client';
import { isMissingAgent, syncAgents, type AgentMismatch } from './agents';
import { syncEventTypes, type EventTypeProblem } from './event-types';
import { syncPhoneNumbers, type NumberConflict, type UnmappedNumber } from './phone-numbers';
import { provisionAgent, type ProvisionResult } from './provision';

export type SyncStatus = 'ok' | 'problems' | 'failed';

export interface SyncError {
  part: 'accounts' | 'numbers' | 'agents' | 'event_types' | 'fix';
  /** Retell account (`global` / company slug) or company slug. */
  account?: string;
  message: string;
}

export interface SyncReport {
  runId: number;
  kind: SyncJob['kind'];
  companyId: number | null;
  status: SyncStatus;
  startedAt: string;
  finishedAt: string;
  /** Retell accounts worked on. */
  accounts: string[];
  numbers: { imported: number; updatedMappings: number; unmapped: UnmappedNumber[]; conflicts: NumberConflict[] };
  agents: { count: number; mismatches: AgentMismatch[] };
  eventTypes: { checked: number; problems: EventTypeProblem[] };
  /** With `fix`: the agents provisioned (their mismatches are no longer in `agents.mismatches`). */
  fixed: Array<Pick<ProvisionResult, 'agentId' | 'account' | 'changes' | 'drafts'>>;
  errors: SyncError[];
}

export interface RunSyncOptions {
  signal?: AbortSignal;
  /** Page size for Retell list calls (tests use a small one to cross pages). */
  pageSize?: number;
  /** Provision every agent with a webhook mismatch (lib/sync/provision), as `agents provision` would. */
  fix?: boolean;
  /** Who asked for the fix, for the audit log. */
  actor?: string;
}

function messageOf(err: unknown): string {
  return describeRetellError(err);
}

export async function runSync(ctx: AppContext, job: SyncJob, opts: RunSyncOptions = {}): Promise<SyncReport> {
  const db = ctx.database.db;
  const log = ctx.logger.child({ component: 'sync' });
  const started = new Date();
  const [inserted] = await db.insert(syncRuns).values({ companyId: job.companyId ?? null, status: 'running', startedAt: started }).$returningId();
  const runId = inserted!.id;
  const report: SyncReport = {
    runId,
    kind: job.kind,
    companyId: job.companyId ?? null,
    status: 'ok',
    startedAt: started.toISOString(),
    finishedAt: started.toISOString(),
    accounts: [],
    numbers: { imported: 0, updatedMappings: 0, unmapped: [], conflicts: [] },
    agents: { count: 0, mismatches: [] },
    eventTypes: { checked: 0, problems: [] },
    fixed: [],
    errors: [],
  };
  const doNumbers = job.kind === 'full' || job.kind === 'retell_numbers';
  const doAgents = job.kind === 'full' || job.kind === 'retell_agents';
  const doEventTypes = job.kind === 'full' || job.kind === 'calcom_event_types';
  /** Parts attempted and parts that failed, to tell "problems" from "failed". */
  let attempted = 0;
  let failedParts = 0;

  try {
    if (job.companyId !== undefined) {
      const [company] = await db.select({ id: companies.id }).from(companies).where(eq(companies.id, job.companyId)).limit(1);
      if (!company) throw new Error(`company ${job.companyId} does not exist`);
    }

    if (doNumbers || doAgents) {
      const accounts: RetellAccount[] = await retellKeysByAccount(ctx, {
        ...(job.companyId !== undefined ? { companyId: job.companyId } : {}),
        onError: (a, err) => {
          attempted++;
          failedParts++;
          report.errors.push({ part: 'accounts', account: a.label, message: `company's Retell key cannot be decrypted (${err.message}): re-import it from the tenants file` });
        },
      });
      report.accounts = accounts.map((a) => a.label);
      for (const account of accounts) {
        opts.signal?.throwIfAborted();
        const session = openRetellSession(ctx, account, opts.signal);
        // Numbers first: the agent check reads the inventory they refresh.
        if (doNumbers) {
          attempted++;
          try {
            const r = await syncPhoneNumbers(db, session, { pageSize: opts.pageSize });
            report.numbers.imported += r.imported;
            report.numbers.updatedMappings += r.updatedMappings;
            report.numbers.unmapped.push(...r.unmapped);
            report.numbers.conflicts.push(...r.conflicts);
          } catch (err) {
            failedParts++;
            report.errors.push({ part: 'numbers', account: account.label, message: messageOf(err) });
            log.error({ account: account.label, err: messageOf(err) }, 'Retell phone numbers could not be synced');
            // The same account's agents would fail alike; say so once rather than twice.
            if (doAgents) {
              attempted++;
              failedParts++;
              report.errors.push({ part: 'agents', account: account.label, message: 'skipped: the account\'s phone numbers failed' });
            }
            continue;
          }
        }
        if (doAgents) {
          attempted++;
          try {
            const r = await syncAgents({ db, cache: ctx.cache, publicUrl: ctx.config.PUBLIC_URL }, session, { pageSize: opts.pageSize });
            report.agents.count += r.count;
            report.agents.mismatches.push(...(opts.fix ? await fixAgents(ctx, account, r.mismatches, report, opts) : r.mismatches));
          } catch (err) {
            failedParts++;
            report.errors.push({ part: 'agents', account: account.label, message: messageOf(err) });
            log.error({ account: account.label, err: messageOf(err) }, 'Retell agents could not be synced');
          }
        }
      }
    }

    if (doEventTypes) {
      const r = await syncEventTypes(ctx, { ...(job.companyId !== undefined ? { companyId: job.companyId } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
      report.eventTypes.checked = r.checked;
      report.eventTypes.problems = r.problems;
      // Every company is a part of its own.
      attempted += r.companies;
      failedParts += r.errors.length;
      for (const e of r.errors) report.errors.push({ part: 'event_types', account: e.company, message: e.message });
    }

    const hasProblems =
      report.errors.length > 0 ||
      report.numbers.unmapped.length > 0 ||
      report.numbers.conflicts.length > 0 ||
      report.agents.mismatches.length > 0 ||
      report.eventTypes.problems.length > 0;
    report.status = attempted > 0 && failedParts >= attempted ? 'failed' : hasProblems ? 'problems' : 'ok';
  } catch (err) {
    report.status = 'failed';
    report.errors.push({ part: 'accounts', message: messageOf(err) });
  }

  const finished = new Date();
  report.finishedAt = finished.toISOString();
  await db
    .update(syncRuns)
    .set({ status: report.status, report: report as unknown as Record<string, unknown>, finishedAt: finished })
    .where(eq(syncRuns.id, runId));

  const summary = {
    runId,
    kind: job.kind,
    companyId: job.companyId ?? null,
    status: report.status,
    accounts: report.accounts,
    numbersImported: report.numbers.imported,
    mappingsUpdated: report.numbers.updatedMappings,
    unmapped: report.numbers.unmapped.length,
    conflicts: report.numbers.conflicts.length,
    agents: report.agents.count,
    agentMismatches: report.agents.mismatches.length,
    servicesChecked: report.eventTypes.checked,
    eventTypeProblems: report.eventTypes.problems.length,
    errors: report.errors.length,
    ms: finished.getTime() - started.getTime(),
  };
  if (report.status === 'ok') log.info(summary, 'sync finished');
  else log.warn({ ...summary, problems: problemLines(report) }, `sync finished with ${report.status}`);
  return report;
}

/**
 * Provisions each agent that has a webhook mismatch; returns the mismatches still standing
 * (missing agents, and agents whose provisioning failed — the failure is in `errors`).
 */
async function fixAgents(ctx: AppContext, account: RetellAccount, mismatches: AgentMismatch[], report: SyncReport, opts: RunSyncOptions): Promise<AgentMismatch[]> {
  const fixed = new Set<string>();
  for (const agentId of new Set(mismatches.filter((m) => !isMissingAgent(m)).map((m) => m.agentId))) {
    try {
      const r = await provisionAgent(ctx, { agentId, companyId: account.companyId, actor: opts.actor ?? 'sync' }, opts.signal);
      report.fixed.push({ agentId, account: account.label, changes: r.changes, drafts: r.drafts });
      fixed.add(agentId);
    } catch (err) {
      report.errors.push({ part: 'fix', account: account.label, message: `agent ${agentId}: ${(err as Error).message}` });
    }
  }
  return mismatches.filter((m) => !fixed.has(m.agentId));
}

/** One line per problem, for logs and the CLI. */
export function problemLines(report: SyncReport): string[] {
  const lines: string[] = [];
  for (const u of report.numbers.unmapped) lines.push(`${u.e164} (${u.account}): ${u.problem}`);
  for (const c of report.numbers.conflicts) lines.push(`${c.e164} (${c.account}): ${c.problem}`);
  for (const m of report.agents.mismatches) {
    const who = m.agentName ? `${m.agentId} "${m.agentName}"` : m.agentId;
    const diff = m.expected !== null || m.actual !== null ? ` (expected ${m.expected ?? '–'}, actual ${m.actual ?? '–'})` : '';
    lines.push(`agent ${who} (${m.account}): ${m.problem}${diff}`);
  }
  for (const p of report.eventTypes.problems) lines.push(`service ${p.company}/${p.service}: ${p.problem}`);
  for (const f of report.fixed) {
    lines.push(`fixed agent ${f.agentId} (${f.account}): ${f.changes.length} change(s)${f.drafts.length > 0 ? ' — kept as a draft: publish the agent in Retell' : ''}`);
  }
  for (const e of report.errors) lines.push(`error in ${e.part}${e.account ? ` (${e.account})` : ''}: ${e.message}`);
  return lines;
}
