/** `callbook sync run [--fix]`, `callbook agents update-prompt` and `agents provision`: Retell and Cal.com upkeep on demand. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { audit } from '../../../lib/audit';
import { syncJobSchema } from '../../../lib/queues';
import { problemLines, runSync } from '../../../lib/sync/run';
import { changeLines, ProvisionError, provisionAgent } from '../../../lib/sync/provision';
import { AgentPromptError, updateAgentPrompt } from '../../../lib/sync/update-prompt';
import { CliError, print, type Run } from '../output';
import { actor, resolveCompany } from '../resolve';

export function registerSync(program: Command, run: Run): void {
  program
    .command('sync')
    .description('Retell numbers and agents, Cal.com event types')
    .command('run')
    .description('run a sync now (the sync worker also runs one every SYNC_INTERVAL_MS)')
    .option('--kind <kind>', 'full | retell_numbers | retell_agents | calcom_event_types', 'full')
    .option('--company <slug>', 'one company')
    .option('--fix', 'provision every agent it reports (as `agents provision` does)')
    .action((o: { kind: string; company?: string; fix?: boolean }) =>
      run(async (ctx, json) => {
        const company = o.company ? await resolveCompany(ctx.database.db, o.company) : undefined;
        const parsed = syncJobSchema.safeParse({ kind: o.kind, companyId: company?.id });
        if (!parsed.success) throw new CliError(`--kind must be one of full, retell_numbers, retell_agents, calcom_event_types`, 2);
        const report = await runSync(ctx, parsed.data, { fix: o.fix === true, actor: actor() });
        await audit(ctx.database.db, { companyId: company?.id, actor: actor(), action: 'sync.run', target: o.kind, details: { runId: report.runId, status: report.status, fixed: report.fixed.length } });
        print(json, report, () => [`sync ${report.kind}: ${report.status}`, ...problemLines(report).map((l) => `  - ${l}`)].join('\n'));
        if (report.status === 'failed') process.exitCode = 1;
      }),
    );

  const agents = program.command('agents').description('Retell agents');
  agents
    .command('provision <agentId>')
    .description("make the agent's Retell LLM carry callbook's live-call functions, its webhooks point at callbook, and the company's numbers' inbound webhook too")
    .option('--company <slug>', "the company whose agent it is (its own Retell key); default: found from the agent's numbers")
    .option('--dry-run', 'show what would change, change nothing')
    .action((agentId: string, o: { company?: string; dryRun?: boolean }) =>
      run(async (ctx, json) => {
        const company = o.company ? await resolveCompany(ctx.database.db, o.company) : undefined;
        try {
          const r = await provisionAgent(ctx, { agentId, companyId: company?.id ?? null, dryRun: o.dryRun === true, actor: actor() });
          print(json, r, () => {
            const head = !r.changed
              ? `agent ${r.agentId} (${r.account}): already provisioned, nothing to change`
              : `agent ${r.agentId} (${r.account}): ${r.changes.length} change(s)${r.dryRun ? ' would be made (dry run, nothing changed)' : ' made'}`;
            const drafts = r.drafts.map((d) => `note: the ${d.target} ${d.id} change is in draft version ${d.version ?? '?'} — publish the agent in Retell for calls to use it`);
            return [head, ...changeLines(r).map((l) => `  ${l}`), ...drafts].join('\n');
          });
        } catch (err) {
          if (err instanceof ProvisionError) throw new CliError(err.message, 2);
          throw err;
        }
      }),
    );

  agents
    .command('update-prompt <agentId>')
    .description("replace an agent's prompt (its Retell LLM general_prompt)")
    .option('--file <path>', 'read the prompt from a file')
    .option('--prompt <text>', 'the prompt itself')
    .option('--company <slug>', "use the company's own Retell key")
    .action((agentId: string, o: { file?: string; prompt?: string; company?: string }) =>
      run(async (ctx, json) => {
        if (!o.file === !o.prompt) throw new CliError('give the prompt with exactly one of --file or --prompt', 2);
        const prompt = o.file ? await readFile(o.file, 'utf8').catch((e: Error) => Promise.reject(new CliError(`cannot read ${o.file}: ${e.message}`, 2))) : o.prompt!;
        const company = o.company ? await resolveCompany(ctx.database.db, o.company) : undefined;
        try {
          const r = await updateAgentPrompt(ctx, { companyId: company?.id ?? null, agentId, prompt, actor: actor() });
          print(json, r, () => `agent ${r.agentId}: LLM ${r.llmId} now at version ${r.version}${r.published ? '' : ' (a draft: publish the agent in Retell for calls to use it)'}`);
        } catch (err) {
          if (err instanceof AgentPromptError) throw new CliError(err.message, 2);
          throw err;
        }
      }),
    );
}
