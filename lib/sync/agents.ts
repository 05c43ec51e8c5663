/**
 * Reads one Retell account's agents, caches them for the rest of callbook, and checks that each
 * agent sends its webhooks to us: a wrong URL or a missing event means calls that never reach
 * callbook and appointments never booked, which nobody notices until a customer complains.
 * Agent list items are slim, so each agent is retrieved for its response engine and webhook
 * settings. Numbers bound to an agent that does not exist are reported too.
 */
import { eq, isNull } from 'drizzle-orm';
import { retellPhoneNumbers } from '../../drizzle/schema';
import { cacheKeys, TTL_MS, type TieredCache } from '../cache';
import type { Db } from '../db';
import { isRetellNotFound, type RetellSession } from '../retell/client';
import { RETELL_PAGE_SIZE } from './phone-numbers';

/** Events callbook needs; Retell sends exactly these when an agent leaves `webhook_events` unset. */
export const REQUIRED_WEBHOOK_EVENTS = ['call_started', 'call_ended', 'call_analyzed'] as const;

/** Webhook paths the ingress serves (the second is the older one, still accepted). */
export const WEBHOOK_PATHS = ['/webhooks/retell', '/api/mcp/retell/webhook'] as const;

export interface CachedAgent {
  agentId: string;
  agentName: string | null;
  version: number | null;
  responseEngine: { type: string; llmId: string | null };
  webhookUrl: string | null;
  webhookEvents: string[] | null;
  webhookTimeoutMs: number | null;
}

export interface AgentMismatch {
  agentId: string;
  agentName: string | null;
  /** The account whose agent it is (`global` or a company slug). */
  account: string;
  problem: string;
  expected: string | null;
  actual: string | null;
}

/** A mismatch about a number bound to an agent that does not exist (nothing to provision). */
export function isMissingAgent(m: AgentMismatch): boolean {
  return m.problem.startsWith('inbound agent of ');
}

export interface AgentsResult {
  count: number;
  mismatches: AgentMismatch[];
}

/** `mcp:retell:agents:<companyId>` or `mcp:retell:agents:global` (10 min, JSON). */
export function agentsCacheKey(companyId: number | null): string {
  return cacheKeys.retellAgents(companyId);
}

/** Every agent of the account (slim list items, all pages). */
async function listAllAgentIds(session: RetellSession, pageSize = RETELL_PAGE_SIZE): Promise<Array<{ agent_id: string; agent_name: string }>> {
  const all: Array<{ agent_id: string; agent_name: string }> = [];
  const seenKeys = new Set<string>();
  let paginationKey: string | undefined;
  for (;;) {
    const params = { limit: pageSize, ...(paginationKey ? { pagination_key: paginationKey } : {}) };
    const page = await session.call((c, opts) => c.agent.list(params, opts));
    for (const item of page.items) all.push({ agent_id: item.agent_id, agent_name: item.agent_name });
    if (!page.has_more || !page.pagination_key || seenKeys.has(page.pagination_key)) break;
    seenKeys.add(page.pagination_key);
    paginationKey = page.pagination_key;
  }
  return all;
}

/** Lists and retrieves every agent (an agent deleted between the two calls is skipped). */
export async function fetchAgents(session: RetellSession, pageSize?: number): Promise<CachedAgent[]> {
  const agents: CachedAgent[] = [];
  const seen = new Set<string>();
  for (const item of await listAllAgentIds(session, pageSize)) {
    if (seen.has(item.agent_id)) continue;
    seen.add(item.agent_id);
    let a;
    try {
      a = await session.call((c, opts) => c.agent.retrieve(item.agent_id, null, opts));
    } catch (err) {
      if (isRetellNotFound(err)) continue;
      throw err;
    }
    const engine = a.response_engine as { type: string; llm_id?: string };
    agents.push({
      agentId: a.agent_id,
      agentName: a.agent_name ?? (item.agent_name || null),
      version: typeof a.version === 'number' ? a.version : null,
      responseEngine: { type: engine.type, llmId: engine.type === 'retell-llm' ? (engine.llm_id ?? null) : null },
      webhookUrl: a.webhook_url ?? null,
      webhookEvents: a.webhook_events ? [...a.webhook_events] : null,
      webhookTimeoutMs: a.webhook_timeout_ms ?? null,
    });
  }
  return agents;
}

/** Problems with one agent's webhook settings against PUBLIC_URL (empty = fine). */
export function checkAgentWebhook(agent: CachedAgent, account: string, publicUrl: string | undefined): AgentMismatch[] {
  const out: AgentMismatch[] = [];
  const base = { agentId: agent.agentId, agentName: agent.agentName, account };
  if (!publicUrl) {
    out.push({ ...base, problem: 'cannot check webhook_url: set PUBLIC_URL', expected: null, actual: agent.webhookUrl });
  } else {
    const root = publicUrl.replace(/\/+$/, '');
    const accepted = WEBHOOK_PATHS.map((p) => root + p);
    if (!agent.webhookUrl || !accepted.includes(agent.webhookUrl.replace(/\/+$/, ''))) {
      out.push({
        ...base,
        problem: agent.webhookUrl ? 'webhook_url does not point at callbook' : 'webhook_url is not set on the agent',
        expected: accepted[0]!,
        actual: agent.webhookUrl,
      });
    }
  }
  // Unset (null) means Retell's default subscription: exactly the three events we need.
  if (agent.webhookEvents !== null) {
    const missing = REQUIRED_WEBHOOK_EVENTS.filter((e) => !agent.webhookEvents!.includes(e));
    if (missing.length > 0) {
      out.push({
        ...base,
        problem: `webhook_events lacks ${missing.join(', ')}`,
        expected: REQUIRED_WEBHOOK_EVENTS.join(', '),
        actual: agent.webhookEvents.join(', '),
      });
    }
  }
  return out;
}

/**
 * Fetches, caches and checks the account's agents, and reports numbers (from the inventory just
 * synced) whose inbound agent does not exist in the account.
 */
export async function syncAgents(
  deps: { db: Db; cache: TieredCache; publicUrl: string | undefined },
  session: RetellSession,
  opts: { pageSize?: number } = {},
): Promise<AgentsResult> {
  const { account } = session;
  const agents = await fetchAgents(session, opts.pageSize);
  await deps.cache.set(agentsCacheKey(account.companyId), agents, TTL_MS.retellAgents);

  const mismatches = agents.flatMap((a) => checkAgentWebhook(a, account.label, deps.publicUrl));

  const known = new Map(agents.map((a) => [a.agentId, a]));
  const numbers = await deps.db
    .select({ e164: retellPhoneNumbers.e164, inboundAgentIds: retellPhoneNumbers.inboundAgentIds })
    .from(retellPhoneNumbers)
    .where(account.companyId === null ? isNull(retellPhoneNumbers.companyId) : eq(retellPhoneNumbers.companyId, account.companyId))
    .orderBy(retellPhoneNumbers.e164);
  const missing = new Map<string, boolean>();
  for (const n of numbers) {
    for (const agentId of n.inboundAgentIds) {
      if (known.has(agentId)) continue;
      let gone = missing.get(agentId);
      if (gone === undefined) {
        // Not in the list: ask for it directly before calling it missing.
        try {
          await session.call((c, o) => c.agent.retrieve(agentId, null, o));
          gone = false;
        } catch (err) {
          if (!isRetellNotFound(err)) throw err;
          gone = true;
        }
        missing.set(agentId, gone);
      }
      if (gone) {
        mismatches.push({
          agentId,
          agentName: null,
          account: account.label,
          problem: `inbound agent of ${n.e164} not found in the Retell account`,
          expected: 'an existing agent',
          actual: null,
        });
      }
    }
  }
  return { count: agents.length, mismatches };
}
