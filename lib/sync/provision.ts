/**
 * `agents provision`: configures one Retell agent for callbook from callbook, instead of an
 * operator copying URLs and schemas into Retell's dashboard.
 *
 * - the agent's Retell LLM gets callbook's live-call functions as custom tools (lib/live/tools:
 *   URL, method, JSON Schema from the route's own zod schemas, speak-during, timeout, texts in
 *   the agent's language). Tools with other names are left exactly as they are; a tool with one
 *   of callbook's names is ours and is brought to our definition (fields we do not set, such as
 *   headers someone added, are kept);
 * - the agent's `webhook_url` → `$PUBLIC_URL/webhooks/retell`, `webhook_events` ⊇ the three
 *   callbook needs, and the post-call analysis fields callbook reads, added when the agent has no
 *   field for that meaning;
 * - every number of the company in that Retell account gets `inbound_webhook_url`
 *   → `$PUBLIC_URL/webhooks/retell/inbound`.
 *
 * It compares first and writes only what differs, so a second run changes nothing and says so;
 * `dryRun` returns the same diff and writes nothing. Retell keeps published versions frozen: a
 * change to a published LLM or agent lands in a new draft, which the result reports.
 */
import { eq } from 'drizzle-orm';
import type Retell from 'retell-sdk';
import { companies, phoneNumbers } from '../../drizzle/schema';
import { audit } from '../audit';
import { INTENT_KEYS, normaliseKey } from '../calls/booking-intent';
import type { AppContext } from '../context';
import type { Lang } from '../datetime';
import { liveToolDefinitions, type RetellCustomTool } from '../live/tools';
import { describeRetellError, isRetellNotFound, openRetellSession, retellKeysByAccount, type RetellAccount, type RetellSession } from '../retell/client';
import { fetchAgents, REQUIRED_WEBHOOK_EVENTS } from './agents';
import { agentIds, listAllPhoneNumbers, type RetellNumber } from './phone-numbers';

export class ProvisionError extends Error {
  override readonly name = 'ProvisionError';
}

export interface ProvisionInput {
  agentId: string;
  /** The company whose agent it is (its own Retell key, else the global one); absent: found from the numbers bound to the agent. */
  companyId?: number | null;
  dryRun?: boolean;
  /** Refuse unless the agent is bound to a number of `companyId` (a company's MCP token). */
  mustOwnAgent?: boolean;
  /** Who asked, for the audit log. */
  actor: string;
}

export interface ProvisionChange {
  target: 'llm' | 'agent' | 'number';
  /** LLM id, agent id or E.164. */
  id: string;
  /** `general_tools[check_availability]`, `webhook_url`, … */
  field: string;
  action: 'add' | 'update';
  from: unknown;
  to: unknown;
}

export interface ProvisionResult {
  agentId: string;
  account: string;
  companyId: number | null;
  llmId: string;
  language: Lang;
  dryRun: boolean;
  /** false: everything was already as callbook needs it. */
  changed: boolean;
  changes: ProvisionChange[];
  /** The versions the change landed in that are drafts (Retell freezes published versions): publish the agent in Retell for calls to use them. */
  drafts: Array<{ target: 'llm' | 'agent'; id: string; version: number | null }>;
  /** Numbers of the company in the account that were checked. */
  numbers: string[];
}

/** The post-call analysis fields callbook reads, each added only when no field of its meaning exists. */
const ANALYSIS_FIELDS: Array<{ meaning: Array<keyof typeof INTENT_KEYS>; field: { type: 'string' | 'boolean'; name: string; description: Record<Lang, string> } }> = [
  {
    meaning: ['confirmed'],
    field: { type: 'boolean', name: 'booking_confirmed', description: { de: 'Hat der Anrufer einen Termin verbindlich bestätigt?', en: 'Did the caller firmly confirm an appointment?' } },
  },
  {
    meaning: ['date', 'datetime'],
    field: { type: 'string', name: 'appointment_date', description: { de: 'Datum des bestätigten Termins, z. B. 2026-12-01.', en: 'Date of the confirmed appointment, e.g. 2026-12-01.' } },
  },
  {
    meaning: ['time', 'datetime'],
    field: { type: 'string', name: 'appointment_time', description: { de: 'Uhrzeit des bestätigten Termins, z. B. 14:30.', en: 'Time of the confirmed appointment, e.g. 14:30.' } },
  },
  {
    meaning: ['service'],
    field: { type: 'string', name: 'service', description: { de: 'Gewünschte Leistung in den Worten des Anrufers.', en: "The service the caller wants, in the caller's words." } },
  },
  {
    meaning: ['name'],
    field: { type: 'string', name: 'customer_name', description: { de: 'Vollständiger Name des Anrufers.', en: "The caller's full name." } },
  },
  {
    meaning: ['email'],
    field: { type: 'string', name: 'customer_email', description: { de: 'E-Mail-Adresse des Anrufers, falls genannt.', en: "The caller's e-mail address, if given." } },
  },
];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep equality for JSON values (key order ignored). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => sameJson(a[k], b[k]));
  }
  return false;
}

/** The agent's language as callbook speaks it: the agent's own `language`, else the company's, else English. */
function languageOf(agentLanguage: unknown, companyLanguage: string | null | undefined): Lang {
  const first = Array.isArray(agentLanguage) ? agentLanguage[0] : agentLanguage;
  if (typeof first === 'string' && first.toLowerCase().startsWith('de')) return 'de';
  if (typeof first === 'string' && first.toLowerCase().startsWith('en')) return 'en';
  return companyLanguage === 'de' ? 'de' : 'en';
}

/** The LLM's tool list with callbook's tools in place: others untouched, ours replaced or appended. */
export function mergeTools(
  existing: Array<Record<string, unknown>>,
  desired: RetellCustomTool[],
): { tools: Array<Record<string, unknown>>; changes: Array<Omit<ProvisionChange, 'target' | 'id'>> } {
  const wanted = new Map(desired.map((t) => [t.name, t]));
  const changes: Array<Omit<ProvisionChange, 'target' | 'id'>> = [];
  const seen = new Set<string>();
  const tools = existing.map((tool) => {
    const name = typeof tool.name === 'string' ? tool.name : '';
    const want = wanted.get(name);
    if (!want || seen.has(name)) return tool;
    seen.add(name);
    // Our fields over the tool's own (a custom tool keeps extras like headers; another type is replaced).
    const next: Record<string, unknown> = tool.type === 'custom' ? { ...tool, ...want } : { ...want };
    delete next.args_at_root;
    if (sameJson(next, tool)) return tool;
    const fields = [...new Set([...Object.keys(next), ...Object.keys(tool)])].filter((k) => !sameJson(next[k], tool[k]));
    changes.push({ field: `general_tools[${name}]`, action: 'update', from: Object.fromEntries(fields.map((k) => [k, tool[k] ?? null])), to: Object.fromEntries(fields.map((k) => [k, next[k] ?? null])) });
    return next;
  });
  for (const want of desired) {
    if (seen.has(want.name)) continue;
    tools.push({ ...want });
    changes.push({ field: `general_tools[${want.name}]`, action: 'add', from: null, to: want });
  }
  return { tools, changes };
}

/** Analysis fields to add: one per meaning the agent has no field for. */
export function missingAnalysisFields(existing: Array<Record<string, unknown>>, lang: Lang): Array<{ type: string; name: string; description: string }> {
  const have = new Set(existing.map((f) => (typeof f.name === 'string' ? normaliseKey(f.name) : '')));
  return ANALYSIS_FIELDS.filter((f) => !f.meaning.some((m) => INTENT_KEYS[m].some((k) => have.has(k)))).map((f) => ({
    type: f.field.type,
    name: f.field.name,
    description: f.field.description[lang],
  }));
}

export const INBOUND_WEBHOOK_PATH = '/webhooks/retell/inbound';

/** Finds the account and, when not given, the company: the one whose local numbers are bound to the agent. */
async function locate(ctx: AppContext, input: ProvisionInput): Promise<{ account: RetellAccount; companyId: number | null }> {
  const decryptFailed = (a: { label: string }, err: Error) => {
    throw new ProvisionError(`the Retell key of ${a.label} cannot be decrypted: ${err.message}`);
  };
  if (input.companyId !== undefined && input.companyId !== null) {
    const [c] = await ctx.database.db.select({ id: companies.id }).from(companies).where(eq(companies.id, input.companyId));
    if (!c) throw new ProvisionError(`company ${input.companyId} does not exist`);
    const [account] = await retellKeysByAccount(ctx, { companyId: input.companyId, onError: decryptFailed });
    if (!account) throw new ProvisionError('no Retell account');
    return { account, companyId: input.companyId };
  }
  const [global] = await retellKeysByAccount(ctx, { onError: () => undefined });
  return { account: global!, companyId: null };
}

/** The company owning the numbers bound to `agentId` (inbound or outbound) in the account; null when none or several. */
async function companyOfAgent(ctx: AppContext, numbers: RetellNumber[], agentId: string): Promise<number | null> {
  const bound = numbers.filter((n) => [...agentIds(n.inbound_agents, n.inbound_agent_id), ...agentIds(n.outbound_agents, n.outbound_agent_id)].includes(agentId));
  const owners = new Set<number>();
  for (const n of bound) {
    const [row] = await ctx.database.db.select({ companyId: phoneNumbers.companyId }).from(phoneNumbers).where(eq(phoneNumbers.e164, n.phone_number));
    if (row) owners.add(row.companyId);
  }
  return owners.size === 1 ? [...owners][0]! : null;
}

async function retellStep<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new ProvisionError(`${what}: ${describeRetellError(err)}`);
  }
}

export async function provisionAgent(ctx: AppContext, input: ProvisionInput, signal?: AbortSignal): Promise<ProvisionResult> {
  const publicUrl = ctx.config.PUBLIC_URL?.replace(/\/+$/, '');
  if (!publicUrl) throw new ProvisionError('PUBLIC_URL is not set: callbook cannot tell Retell where it is reached');
  if (!input.agentId.trim()) throw new ProvisionError('agent id is required');
  const located = await locate(ctx, input);
  const session: RetellSession = openRetellSession(ctx, located.account, signal);
  const label = located.account.label;

  let agent: Retell.AgentResponse;
  try {
    agent = await session.call((c, o) => c.agent.retrieve(input.agentId, null, o));
  } catch (err) {
    if (isRetellNotFound(err)) {
      throw new ProvisionError(`agent ${input.agentId} not found in the ${label} Retell account${input.companyId ? '' : ' (a company with its own Retell key: pass its --company)'}`);
    }
    throw new ProvisionError(`could not read agent ${input.agentId}: ${describeRetellError(err)}`);
  }
  const engine = agent.response_engine;
  if (engine.type !== 'retell-llm') {
    throw new ProvisionError(`agent ${input.agentId} uses a ${engine.type} response engine; callbook can provision tools only on a Retell LLM (retell-llm)`);
  }

  const numbers = await retellStep('could not list the account\'s phone numbers', () => listAllPhoneNumbers(session));
  const owner = await companyOfAgent(ctx, numbers, input.agentId);
  if (input.mustOwnAgent && (located.companyId === null || owner !== located.companyId)) {
    throw new ProvisionError(`agent ${input.agentId} is not bound to a number of your company`);
  }
  if (input.mustOwnAgent) {
    // A token may change only what is its company's alone: an LLM another agent also runs on
    // (another company's, or one outside callbook) is the admin's to provision.
    const agents = await retellStep("could not list the account's agents", () => fetchAgents(session));
    const sharing = agents.filter((a) => a.agentId !== input.agentId && a.responseEngine.llmId === engine.llm_id).map((a) => a.agentId);
    if (sharing.length) {
      throw new ProvisionError(`agent ${input.agentId}'s LLM ${engine.llm_id} is shared with ${sharing.join(', ')}: only the admin token may provision it`);
    }
  }
  const companyId = located.companyId ?? owner;
  const [company] = companyId !== null ? await ctx.database.db.select({ language: companies.language }).from(companies).where(eq(companies.id, companyId)) : [];
  const lang = languageOf(agent.language, company?.language);

  // ---- the LLM's tools ----
  const llm = await retellStep(`could not read LLM ${engine.llm_id}`, () => session.call((c, o) => c.llm.retrieve(engine.llm_id, null, o)));
  const merged = mergeTools((llm.general_tools ?? []) as unknown as Array<Record<string, unknown>>, liveToolDefinitions(publicUrl, lang));
  const changes: ProvisionChange[] = merged.changes.map((c) => ({ target: 'llm', id: engine.llm_id, ...c }));

  // ---- the agent's webhook and analysis fields ----
  const agentPatch: Retell.AgentUpdateParams = {};
  const webhookUrl = `${publicUrl}/webhooks/retell`;
  if (agent.webhook_url !== webhookUrl) {
    agentPatch.webhook_url = webhookUrl;
    changes.push({ target: 'agent', id: agent.agent_id, field: 'webhook_url', action: agent.webhook_url ? 'update' : 'add', from: agent.webhook_url ?? null, to: webhookUrl });
  }
  const events = agent.webhook_events ?? null;
  const missingEvents = REQUIRED_WEBHOOK_EVENTS.filter((e) => !events?.includes(e));
  if (events === null || missingEvents.length > 0) {
    // Unset means Retell's default (the three); callbook writes them out so nobody narrows them by accident.
    agentPatch.webhook_events = [...(events ?? []), ...missingEvents];
    changes.push({ target: 'agent', id: agent.agent_id, field: 'webhook_events', action: events ? 'update' : 'add', from: events, to: agentPatch.webhook_events });
  }
  const analysis = (agent.post_call_analysis_data ?? []) as unknown as Array<Record<string, unknown>>;
  const addFields = missingAnalysisFields(analysis, lang);
  if (addFields.length > 0) {
    agentPatch.post_call_analysis_data = [...analysis, ...addFields] as Retell.AgentUpdateParams['post_call_analysis_data'];
    for (const f of addFields) changes.push({ target: 'agent', id: agent.agent_id, field: `post_call_analysis_data[${f.name}]`, action: 'add', from: null, to: f });
  }

  // ---- the company's numbers ----
  const inboundUrl = `${publicUrl}${INBOUND_WEBHOOK_PATH}`;
  const ours = companyId !== null ? new Set((await ctx.database.db.select({ e164: phoneNumbers.e164 }).from(phoneNumbers).where(eq(phoneNumbers.companyId, companyId))).map((r) => r.e164)) : null;
  const targetNumbers = numbers.filter((n) =>
    ours ? ours.has(n.phone_number) : agentIds(n.inbound_agents, n.inbound_agent_id).includes(input.agentId),
  );
  for (const n of targetNumbers) {
    if (n.inbound_webhook_url !== inboundUrl) {
      changes.push({ target: 'number', id: n.phone_number, field: 'inbound_webhook_url', action: n.inbound_webhook_url ? 'update' : 'add', from: n.inbound_webhook_url ?? null, to: inboundUrl });
    }
  }

  const result: ProvisionResult = {
    agentId: agent.agent_id,
    account: label,
    companyId,
    llmId: engine.llm_id,
    language: lang,
    dryRun: input.dryRun === true,
    changed: changes.length > 0,
    changes,
    drafts: [],
    numbers: targetNumbers.map((n) => n.phone_number),
  };
  if (input.dryRun || changes.length === 0) return result;

  // ---- apply ----
  if (merged.changes.length > 0) {
    const updated = await retellStep(`could not update LLM ${engine.llm_id}`, () =>
      session.call((c, o) => c.llm.update(engine.llm_id, { general_tools: merged.tools as unknown as Retell.LlmUpdateParams['general_tools'] }, o)),
    );
    if (updated.is_published !== true) result.drafts.push({ target: 'llm', id: engine.llm_id, version: updated.version ?? null });
  }
  if (Object.keys(agentPatch).length > 0) {
    const updated = await retellStep(`could not update agent ${agent.agent_id}`, () => session.call((c, o) => c.agent.update(agent.agent_id, agentPatch, o)));
    if (updated.is_published !== true) result.drafts.push({ target: 'agent', id: agent.agent_id, version: updated.version ?? null });
  }
  for (const change of changes.filter((c) => c.target === 'number')) {
    await retellStep(`could not update number ${change.id}`, () => session.call((c, o) => c.phoneNumber.update(change.id, { inbound_webhook_url: inboundUrl }, o)));
  }

  await audit(ctx.database.db, {
    companyId,
    actor: input.actor,
    action: 'agents.provision',
    target: agent.agent_id,
    details: { account: label, llmId: engine.llm_id, changes: changes.map((c) => `${c.target} ${c.id} ${c.field}`), drafts: result.drafts },
  });
  ctx.logger.info({ actor: input.actor, account: label, agentId: agent.agent_id, changes: changes.length, drafts: result.drafts.length }, 'agent provisioned');
  return result;
}

/** One line per change, for the CLI. */
export function changeLines(r: ProvisionResult): string[] {
  const show = (v: unknown) => (v === null || v === undefined ? '–' : typeof v === 'string' ? v : JSON.stringify(v));
  return r.changes.map((c) => {
    const sign = c.action === 'add' ? '+' : '~';
    if (c.field.startsWith('general_tools[') || c.field.startsWith('post_call_analysis_data[')) {
      return `${sign} ${c.target} ${c.id} ${c.field}${c.action === 'update' ? `: ${Object.keys(c.to as object).join(', ')}` : ''}`;
    }
    return `${sign} ${c.target} ${c.id} ${c.field}: ${show(c.from)} → ${show(c.to)}`;
  });
}
