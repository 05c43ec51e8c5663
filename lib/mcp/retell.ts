/**
 * Retell upkeep: `phone_numbers_sync`, `agents_list`, `agents_update_prompt`,
 * `webhook_config_check`, `agent_provision`, `webhook_config_fix`. A Retell account is the global key (shared by every company without a
 * key of its own) or a company's own key. A token works on its company's own account only; the
 * global account is the admin's — except the webhook check, which a token may run for the agents
 * bound to its own numbers. A branch token may run only that check: syncing numbers, listing
 * agents and changing prompts act on the whole account, every branch's numbers and agents.
 */
import { and, asc, eq, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { branches, companies, phoneNumbers } from '../../drizzle/schema';
import { audit } from '../audit';
import { TTL_MS } from '../cache';
import { BreakerOpenError } from '../resilience';
import { describeRetellError, openRetellSession, retellKeysByAccount, type RetellAccount } from '../retell/client';
import { agentsCacheKey, checkAgentWebhook, fetchAgents, WEBHOOK_PATHS, type CachedAgent } from '../sync/agents';
import { runSync } from '../sync/run';
import { ProvisionError, provisionAgent, type ProvisionResult } from '../sync/provision';
import { AgentPromptError, updateAgentPrompt } from '../sync/update-prompt';
import { adminOnly, invalidParams, notFound } from './errors';
import { isAdmin, optionalCompany, requireCompanyWide, tokenBranchId, type CompanyRow } from './scope';
import { arg, defineTool, ok, toolFailure, type ToolContext, type ToolDef } from './tool';

/** The Retell account serving a company: its own key, else the global one. */
async function accountOf(t: ToolContext, company: CompanyRow): Promise<RetellAccount> {
  const [account] = await retellKeysByAccount(t.ctx, {
    companyId: company.id,
    onError: (acc, err) => {
      throw invalidParams(`the Retell key of ${acc.label} cannot be decrypted (${err.message}): re-import it from the tenants file`);
    },
  });
  if (!account) throw invalidParams(`company ${company.slug} has no Retell account`);
  return account;
}

/** A token may only work on its company's own Retell account. */
function requireOwnAccount(t: ToolContext, account: RetellAccount, what: string): void {
  if (!isAdmin(t) && account.companyId === null) {
    throw adminOnly(`${what} of the shared Retell account; your company has no Retell key of its own`);
  }
}

function retellFailure(err: unknown, what: string) {
  if (err instanceof BreakerOpenError) return toolFailure(`${what}: ${err.message}`, { retryAt: new Date(err.retryAt).toISOString() });
  return toolFailure(`${what}: ${describeRetellError(err)}`);
}

const agentView = (a: CachedAgent, account: string, publicUrl: string | undefined) => ({
  ...a,
  account,
  problems: checkAgentWebhook(a, account, publicUrl).map((m) => m.problem),
});

const phoneNumbersSync = defineTool({
  name: 'phone_numbers_sync',
  title: 'Sync phone numbers from Retell',
  description:
    "Import the Retell account's phone numbers now: the inventory, bound agents and nicknames of mapped numbers; reports numbers no branch maps and numbers mapped elsewhere. Without a company (admin only): every account. Not for branch tokens.",
  input: z.object({ company: arg.company.optional() }).strict(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (a, t) => {
    requireCompanyWide(t, 'phone_numbers_sync');
    const company = await optionalCompany(t, a.company);
    if (company) requireOwnAccount(t, await accountOf(t, company), 'phone numbers sync');
    const report = await runSync(t.ctx, { kind: 'retell_numbers', ...(company ? { companyId: company.id } : {}) });
    await audit(t.ctx.database.db, {
      companyId: company?.id ?? null,
      actor: t.actor,
      action: 'sync.run',
      target: 'retell_numbers',
      details: { tool: 'phone_numbers_sync', runId: report.runId, status: report.status },
    });
    const scoped = !isAdmin(t);
    const out = {
      runId: report.runId,
      status: report.status,
      accounts: report.accounts,
      imported: report.numbers.imported,
      updatedMappings: report.numbers.updatedMappings,
      unmapped: report.numbers.unmapped,
      // Which other company maps a number is not a token's business.
      conflicts: report.numbers.conflicts.map((c) => (scoped ? { ...c, mappedTo: 'another company', problem: `number is in your Retell account but mapped to another company: mapping left unchanged` } : c)),
      errors: report.errors,
    };
    return report.status === 'failed' ? toolFailure(`sync failed: ${report.errors.map((e) => e.message).join('; ')}`, out) : ok(out);
  },
});

const agentsList = defineTool({
  name: 'agents_list',
  title: 'Retell agents',
  description:
    "The agents of a Retell account (cached 10 min; refresh: true reads Retell now) with their response engine and webhook settings, and what is wrong with each. A company token: its company's own account; the shared account is admin only; not for branch tokens.",
  input: z.object({ company: arg.company.optional(), refresh: z.boolean().default(false) }).strict(),
  annotations: { readOnlyHint: true, openWorldHint: true },
  handler: async (a, t) => {
    requireCompanyWide(t, 'agents_list');
    const company = await optionalCompany(t, a.company);
    const account: RetellAccount = company
      ? await accountOf(t, company)
      : { companyId: null, label: 'global', apiKey: t.ctx.config.RETELL_API_KEY };
    requireOwnAccount(t, account, 'the agents');
    const key = agentsCacheKey(account.companyId);
    try {
      const load = () => fetchAgents(openRetellSession(t.ctx, account, t.signal));
      let agents: CachedAgent[];
      if (a.refresh) {
        agents = await load();
        await t.ctx.cache.set(key, agents, TTL_MS.retellAgents);
      } else {
        agents = await t.ctx.cache.getOrLoad(key, TTL_MS.retellAgents, load);
      }
      return ok({ account: account.label, count: agents.length, agents: agents.map((ag) => agentView(ag, account.label, t.ctx.config.PUBLIC_URL)) });
    } catch (err) {
      return retellFailure(err, 'agents not listed');
    }
  },
});

const agentsUpdatePrompt = defineTool({
  name: 'agents_update_prompt',
  title: "Change an agent's prompt",
  description:
    "Replace an agent's prompt (its Retell LLM general_prompt). The change lands in the LLM's newest version; a draft must be published in Retell before calls use it. A company token: agents of its company's own account only; not for branch tokens.",
  input: z
    .object({
      company: arg.company.optional().describe("the company whose Retell account holds the agent (admin: none = the shared account)"),
      agentId: z.string().min(1).max(100),
      prompt: z.string().trim().min(1).max(100_000),
    })
    .strict(),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async (a, t) => {
    requireCompanyWide(t, 'agents_update_prompt');
    const company = await optionalCompany(t, a.company);
    if (company) requireOwnAccount(t, await accountOf(t, company), 'prompt changes');
    try {
      const r = await updateAgentPrompt(t.ctx, { companyId: company?.id ?? null, agentId: a.agentId, prompt: a.prompt, actor: t.actor }, t.signal);
      return ok({ ...r, note: r.published ? 'published' : 'a draft: publish the agent in Retell for calls to use it' });
    } catch (err) {
      if (err instanceof AgentPromptError) {
        if (/ not found in /.test(err.message)) throw notFound(err.message);
        if (/^could not /.test(err.message)) return toolFailure(err.message);
        throw invalidParams(err.message);
      }
      if (err instanceof BreakerOpenError) return retellFailure(err, 'prompt not changed');
      throw err;
    }
  },
});

const webhookConfigCheck = defineTool({
  name: 'webhook_config_check',
  title: 'Check webhook configuration',
  description:
    "Check that Retell sends each agent's webhooks to this callbook (PUBLIC_URL + /webhooks/retell, with call_started, call_ended and call_analyzed) and that every number of the company has an existing agent bound. A token: its company's numbers and their agents; the admin without a company: every account.",
  input: z.object({ company: arg.company.optional() }).strict(),
  annotations: { readOnlyHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const publicUrl = t.ctx.config.PUBLIC_URL;
    const db = t.ctx.database.db;
    const company = await optionalCompany(t, a.company);
    const errors: Array<{ account: string; message: string }> = [];
    const accounts = company
      ? [await accountOf(t, company)]
      : await retellKeysByAccount(t.ctx, { onError: (acc, err) => errors.push({ account: acc.label, message: `Retell key cannot be decrypted (${err.message})` }) });

    const conds: SQL[] = [];
    if (company) conds.push(eq(phoneNumbers.companyId, company.id));
    const ownBranch = tokenBranchId(t);
    if (ownBranch !== null) conds.push(eq(phoneNumbers.branchId, ownBranch));
    const numbers = await db
      .select({ e164: phoneNumbers.e164, agentId: phoneNumbers.retellAgentId, companyId: phoneNumbers.companyId, company: companies.slug, branch: branches.slug, ownKey: companies.retellApiKeyEnc })
      .from(phoneNumbers)
      .innerJoin(companies, eq(companies.id, phoneNumbers.companyId))
      .innerJoin(branches, eq(branches.id, phoneNumbers.branchId))
      .where(and(...conds))
      .orderBy(asc(phoneNumbers.e164));

    const agentsByAccount = new Map<string, CachedAgent[]>();
    for (const account of accounts) {
      try {
        const agents = await fetchAgents(openRetellSession(t.ctx, account, t.signal));
        await t.ctx.cache.set(agentsCacheKey(account.companyId), agents, TTL_MS.retellAgents);
        agentsByAccount.set(account.label, agents);
      } catch (err) {
        errors.push({ account: account.label, message: err instanceof BreakerOpenError ? err.message : describeRetellError(err) });
      }
    }
    // Which account serves a number: its company's own (when it is listed) or the shared one.
    const labelOf = (n: (typeof numbers)[number]) => (n.ownKey && accounts.some((acc) => acc.label === n.company) ? n.company : 'global');

    // The shared account's other agents are not a company's business: report only those on its numbers.
    const restrictTo = company && accounts[0]!.companyId === null ? new Set(numbers.map((n) => n.agentId).filter((id): id is string => Boolean(id))) : null;
    const agents = [...agentsByAccount].flatMap(([label, list]) =>
      list.filter((ag) => !restrictTo || restrictTo.has(ag.agentId)).map((ag) => agentView(ag, label, publicUrl)),
    );
    const numberRows = numbers.map((n) => {
      const label = company ? accounts[0]!.label : labelOf(n);
      const known = agentsByAccount.get(label);
      let problem: string | null = null;
      if (!n.agentId) problem = 'no Retell agent bound (bind one in Retell, then run phone_numbers_sync)';
      else if (known && !known.some((ag) => ag.agentId === n.agentId)) problem = `bound agent ${n.agentId} not found in the ${label} Retell account`;
      return { e164: n.e164, company: n.company, branch: n.branch, agentId: n.agentId, account: label, problem };
    });
    const problems = agents.reduce((s, ag) => s + ag.problems.length, 0) + numberRows.filter((n) => n.problem).length + errors.length;
    return ok({
      ok: problems === 0,
      publicUrl: publicUrl ?? null,
      expectedWebhookUrls: publicUrl ? WEBHOOK_PATHS.map((p) => publicUrl.replace(/\/+$/, '') + p) : [],
      ...(publicUrl ? {} : { warning: 'PUBLIC_URL is not set: webhook URLs cannot be checked' }),
      accounts: accounts.map((acc) => acc.label),
      agents,
      numbers: numberRows,
      errors,
    });
  },
});

function provisionFailure(err: unknown, agentId: string) {
  if (err instanceof ProvisionError) {
    if (/ not found in | is not bound to a number of your company/.test(err.message)) throw notFound(err.message);
    if (/^could not /.test(err.message)) return toolFailure(err.message);
    throw invalidParams(err.message);
  }
  if (err instanceof BreakerOpenError) return retellFailure(err, `agent ${agentId} not provisioned`);
  throw err;
}

const provisionView = (r: ProvisionResult) => ({
  ...r,
  note: !r.changed ? 'already provisioned: nothing to change' : r.dryRun ? 'dry run: nothing was changed' : r.drafts.length > 0 ? 'kept as a draft: publish the agent in Retell for calls to use it' : 'applied',
});

const agentProvision = defineTool({
  name: 'agent_provision',
  title: 'Provision a Retell agent for callbook',
  description:
    "Make the agent's Retell LLM carry callbook's live-call functions as custom tools (URL, JSON Schema, timeout, in the agent's language), point the agent's webhook at callbook with the events it needs, add the post-call analysis fields callbook reads, and set the company's numbers' inbound webhook. Other tools and settings are left alone; a second run changes nothing. dryRun: the diff only. Admin, or a token of the company owning the agent's numbers.",
  input: z
    .object({
      company: arg.company.optional().describe("the company whose agent it is (admin: default found from the agent's numbers)"),
      agentId: z.string().min(1).max(100),
      dryRun: z.boolean().default(false),
    })
    .strict(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (a, t) => {
    // It rewrites the agent's LLM and every number of the company: not for one branch's token.
    requireCompanyWide(t, 'agent_provision');
    const company = await optionalCompany(t, a.company);
    try {
      const r = await provisionAgent(
        t.ctx,
        { agentId: a.agentId, companyId: company?.id ?? null, dryRun: a.dryRun, mustOwnAgent: !isAdmin(t), actor: t.actor },
        t.signal,
      );
      return ok(provisionView(r));
    } catch (err) {
      return provisionFailure(err, a.agentId);
    }
  },
});

const webhookConfigFix = defineTool({
  name: 'webhook_config_fix',
  title: 'Fix webhook configuration',
  description:
    "What webhook_config_check reports, fixed: every agent with a wrong webhook is provisioned as agent_provision does. Admin: every account (or one company's); a token: the agents bound to its company's numbers.",
  input: z.object({ company: arg.company.optional() }).strict(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (a, t) => {
    requireCompanyWide(t, 'webhook_config_fix');
    const company = await optionalCompany(t, a.company);
    if (isAdmin(t)) {
      const report = await runSync(t.ctx, { kind: 'retell_agents', ...(company ? { companyId: company.id } : {}) }, { fix: true, actor: t.actor, ...(t.signal ? { signal: t.signal } : {}) });
      const out = { runId: report.runId, status: report.status, accounts: report.accounts, fixed: report.fixed, remaining: report.agents.mismatches, errors: report.errors };
      return report.status === 'failed' ? toolFailure(`fix failed: ${report.errors.map((e) => e.message).join('; ')}`, out) : ok(out);
    }
    // A token: only the agents on its own company's numbers.
    const rows = await t.ctx.database.db.select({ agentId: phoneNumbers.retellAgentId }).from(phoneNumbers).where(eq(phoneNumbers.companyId, company!.id));
    const fixed: ProvisionResult[] = [];
    const errors: Array<{ agentId: string; message: string }> = [];
    for (const agentId of new Set(rows.map((r) => r.agentId).filter((id): id is string => Boolean(id)))) {
      try {
        const r = await provisionAgent(t.ctx, { agentId, companyId: company!.id, mustOwnAgent: true, actor: t.actor }, t.signal);
        if (r.changed) fixed.push(r);
      } catch (err) {
        errors.push({ agentId, message: err instanceof Error ? err.message : String(err) });
      }
    }
    const out = { fixed: fixed.map((r) => ({ agentId: r.agentId, account: r.account, changes: r.changes, drafts: r.drafts })), errors };
    return errors.length > 0 ? toolFailure(`some agents were not fixed: ${errors.map((e) => `${e.agentId}: ${e.message}`).join('; ')}`, out) : ok(out);
  },
});

export const retellTools: ToolDef[] = [phoneNumbersSync, agentsList, agentsUpdatePrompt, webhookConfigCheck, agentProvision, webhookConfigFix];
