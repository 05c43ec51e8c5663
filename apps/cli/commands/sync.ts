/** `callbook sync run` and `callbook agents update-prompt`: Retell and Cal.com upkeep on demand. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { audit } from '../../../lib/audit';
import { syncJobSchema } from '../../../lib/queues';
import { problemLines, runSync } from '../../../lib/sync/run';
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
    .action((o: { kind: string; company?: string }) =>
      run(async (ctx, json) => {
        const company = o.company ? await resolveCompany(ctx.database.db, o.company) : undefined;
        const parsed = syncJobSchema.safeParse({ kind: o.kind, companyId: company?.id });
        if (!parsed.success) throw new CliError(`--kind must be one of full, retell_numbers, retell_agents, calcom_event_types`, 2);
        const report = await runSync(ctx, parsed.data);
        await audit(ctx.database.db, { companyId: company?.id, actor: actor(), action: 'sync.run', target: o.kind, details: { runId: report.runId, status: report.status } });
        print(json, report, () => [`sync ${report.kind}: ${report.status}`, ...problemLines(report).map((l) => `  - ${l}`)].join('\n'));
        if (report.status === 'failed') process.exitCode = 1;
      }),
    );

  program
    .command('agents')
    .description('Retell agents')
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
