/**
 * The Retell simulator's in-memory store: phone numbers (either agent-binding shape, kept as given), agents and
 * Retell LLMs with their version history (published versions are frozen; changing one makes a new draft), calls,
 * the request log and the fault plan, plus `seedRetellDemo` for a ready-to-use standalone instance.
 */

/** One weighted agent binding of a phone number (`inbound_agents` / `outbound_agents`). */
export interface SimAgentRef {
  agent_id: string;
  /** A version number, or a tag such as "prod" / "latest" / "latest_published". */
  agent_version?: number | string;
  weight: number;
}

/**
 * A phone number. Newer exports bind agents with `inbound_agents`/`outbound_agents`; older ones with the
 * deprecated single `inbound_agent_id`/`outbound_agent_id` (+ `*_agent_version`). Both are stored and returned
 * exactly as given; only the response's required `phone_number_type` and `last_modification_timestamp` are
 * filled in when absent.
 */
export interface SimPhoneNumber {
  phone_number: string;
  phone_number_pretty?: string;
  phone_number_type?: 'retell-twilio' | 'retell-telnyx' | 'custom';
  nickname?: string | null;
  area_code?: number;
  last_modification_timestamp?: number;
  inbound_agents?: SimAgentRef[] | null;
  outbound_agents?: SimAgentRef[] | null;
  /** @deprecated Retell's older single binding; unsupported by Retell after 2026-03-31. */
  inbound_agent_id?: string | null;
  /** @deprecated */
  inbound_agent_version?: number | null;
  /** @deprecated */
  outbound_agent_id?: string | null;
  /** @deprecated */
  outbound_agent_version?: number | null;
  inbound_webhook_url?: string | null;
  [key: string]: unknown;
}

export type SimResponseEngine =
  | { type: 'retell-llm'; llm_id: string; version?: number | null }
  | { type: 'custom-llm'; llm_websocket_url: string }
  | { type: 'conversation-flow'; conversation_flow_id: string; version?: number | null };

/** One version of a voice agent (the fields callbook reads are named; any other Retell field passes through). */
export interface SimAgent {
  agent_id: string;
  agent_name?: string | null;
  /** Shown in list items; Retell's agent object itself has no such field, so a stored value is passed through. */
  channel?: 'voice' | 'chat';
  response_engine: SimResponseEngine;
  /** Required in Retell's response; defaults to '11labs-Adrian'. */
  voice_id?: string;
  webhook_url?: string | null;
  webhook_events?: string[] | null;
  webhook_timeout_ms?: number;
  post_call_analysis_data?: Array<Record<string, unknown>> | null;
  /** Defaults to 0. */
  version?: number;
  /** Defaults to false (a draft). */
  is_published?: boolean;
  /** Defaults to the time it was added. */
  last_modification_timestamp?: number;
  [key: string]: unknown;
}

/** One version of a Retell LLM (the response engine that holds the prompt). */
export interface SimLlm {
  llm_id: string;
  general_prompt?: string | null;
  begin_message?: string | null;
  general_tools?: Array<Record<string, unknown>> | null;
  states?: Array<Record<string, unknown>> | null;
  /** Defaults to 0. */
  version?: number;
  /** Defaults to false (a draft). */
  is_published?: boolean;
  /** Defaults to the time it was added. */
  last_modification_timestamp?: number;
  [key: string]: unknown;
}

/** A full call object as Retell returns it from `GET /v2/get-call/{id}`. */
export type SimCall = Record<string, unknown> & { call_id: string };

export interface SimRequestLogEntry {
  method: string;
  /** The path as received (percent-encoding intact), without the query string. */
  path: string;
  status: number;
  /** The parsed JSON request body, or the raw text when it was not JSON. */
  body?: unknown;
  /** Query parameters, when there were any. */
  query?: Record<string, string>;
}

export interface SimFault {
  /** Answer this status with Retell's error body instead of handling the request. */
  status?: number;
  /** Wait this long before answering (with or without `status`). */
  latencyMs?: number;
  /** How many requests the fault applies to; all of them when absent. */
  count?: number;
}

interface ActiveFault {
  status?: number;
  latencyMs: number;
  remaining: number;
}

const READ_ONLY_AGENT_KEYS = ['agent_id', 'version', 'is_published', 'last_modification_timestamp', 'base_version'];
const READ_ONLY_LLM_KEYS = ['llm_id', 'version', 'is_published', 'last_modification_timestamp'];
const READ_ONLY_PHONE_KEYS = ['phone_number', 'last_modification_timestamp'];

function clone<T>(value: T): T {
  return structuredClone(value);
}

function without(body: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out = { ...body };
  for (const k of keys) delete out[k];
  return out;
}

/** Resolves a version reference (number, numeric string, "latest", "latest_published") against a history. */
function pickVersion<T extends { version?: number; is_published?: boolean }>(
  history: T[],
  ref: number | string | undefined,
): T | undefined {
  if (ref === undefined || ref === 'latest') return history[history.length - 1];
  if (ref === 'latest_published') return [...history].reverse().find((v) => v.is_published);
  const n = typeof ref === 'number' ? ref : /^\d+$/.test(ref) ? Number(ref) : NaN;
  if (!Number.isInteger(n)) return undefined;
  return history.find((v) => v.version === n);
}

function insertVersion<T extends { version?: number }>(history: T[], item: T): void {
  const i = history.findIndex((v) => v.version === item.version);
  if (i >= 0) history[i] = item;
  else history.push(item);
  history.sort((a, b) => (a.version ?? 0) - (b.version ?? 0));
}

/**
 * Applies a patch to one version: a draft changes in place; a published version is frozen, so the change
 * lands in a new draft numbered one past the newest version (Retell: "published versions cannot be changed").
 */
function patchVersioned<T extends { version?: number; is_published?: boolean; last_modification_timestamp?: number }>(
  history: T[],
  target: T,
  patch: Record<string, unknown>,
  now: number,
  extra: Record<string, unknown> = {},
): T {
  if (!target.is_published) {
    Object.assign(target, patch, { last_modification_timestamp: now });
    return target;
  }
  const newest = history[history.length - 1]?.version ?? 0;
  const draft = {
    ...clone(target),
    ...patch,
    ...extra,
    version: newest + 1,
    is_published: false,
    last_modification_timestamp: now,
  } as T;
  history.push(draft);
  return draft;
}

export class RetellState {
  private readonly phones = new Map<string, SimPhoneNumber>();
  private readonly agentHistory = new Map<string, SimAgent[]>();
  private readonly llmHistory = new Map<string, SimLlm[]>();
  private readonly callStore = new Map<string, SimCall>();
  private readonly log: SimRequestLogEntry[] = [];
  private fault: ActiveFault | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  // ---- phone numbers ----

  addPhoneNumber(p: SimPhoneNumber): void {
    if (!p || typeof p.phone_number !== 'string' || p.phone_number === '') {
      throw new TypeError('addPhoneNumber: phone_number (E.164 string) is required');
    }
    const stored = clone(p);
    stored.phone_number_type ??= 'retell-twilio';
    stored.last_modification_timestamp ??= this.now();
    this.phones.set(stored.phone_number, stored);
  }

  phoneNumbers(): SimPhoneNumber[] {
    return [...this.phones.values()].map(clone);
  }

  phoneNumber(e164: string): SimPhoneNumber | undefined {
    const p = this.phones.get(e164);
    return p && clone(p);
  }

  updatePhoneNumber(e164: string, patch: Record<string, unknown>): SimPhoneNumber | undefined {
    const p = this.phones.get(e164);
    if (!p) return undefined;
    Object.assign(p, without(patch, READ_ONLY_PHONE_KEYS), { last_modification_timestamp: this.now() });
    return clone(p);
  }

  // ---- agents ----

  addAgent(a: SimAgent): void {
    if (!a || typeof a.agent_id !== 'string' || a.agent_id === '') {
      throw new TypeError('addAgent: agent_id is required');
    }
    if (!a.response_engine || typeof a.response_engine.type !== 'string') {
      throw new TypeError('addAgent: response_engine {type, …} is required');
    }
    const stored = clone(a);
    stored.version ??= 0;
    stored.is_published ??= false;
    stored.voice_id ??= '11labs-Adrian';
    stored.last_modification_timestamp ??= this.now();
    const history = this.agentHistory.get(stored.agent_id) ?? [];
    insertVersion(history, stored);
    this.agentHistory.set(stored.agent_id, history);
  }

  /** The newest version of every agent, in the order they were first added. */
  agents(): SimAgent[] {
    return [...this.agentHistory.values()].map((h) => clone(h[h.length - 1]!));
  }

  agentVersions(agentId: string): SimAgent[] {
    return (this.agentHistory.get(agentId) ?? []).map(clone);
  }

  hasAgent(agentId: string): boolean {
    return this.agentHistory.has(agentId);
  }

  agent(agentId: string, version?: number | string): SimAgent | undefined {
    const h = this.agentHistory.get(agentId);
    const v = h && pickVersion(h, version);
    return v && clone(v);
  }

  updateAgent(agentId: string, version: number | string | undefined, patch: Record<string, unknown>): SimAgent | undefined {
    const h = this.agentHistory.get(agentId);
    const target = h && pickVersion(h, version);
    if (!h || !target) return undefined;
    const updated = patchVersioned(h, target, without(patch, READ_ONLY_AGENT_KEYS), this.now(), {
      base_version: target.version ?? 0,
    });
    return clone(updated);
  }

  /**
   * Publishes one agent version in place, and the Retell LLM version it runs on (response_engine.version, or
   * the same number: "both the agent and the corresponding retell_llm have the same version number").
   */
  publishAgent(agentId: string, version: number): boolean {
    const v = this.agentHistory.get(agentId)?.find((a) => a.version === version);
    if (!v) return false;
    v.is_published = true;
    v.last_modification_timestamp = this.now();
    const engine = v.response_engine;
    if (engine.type === 'retell-llm') {
      const llmVersion = typeof engine.version === 'number' ? engine.version : version;
      const llm = this.llmHistory.get(engine.llm_id)?.find((l) => l.version === llmVersion);
      if (llm) llm.is_published = true;
    }
    return true;
  }

  // ---- Retell LLMs ----

  addLlm(l: SimLlm): void {
    if (!l || typeof l.llm_id !== 'string' || l.llm_id === '') {
      throw new TypeError('addLlm: llm_id is required');
    }
    const stored = clone(l);
    stored.version ??= 0;
    stored.is_published ??= false;
    stored.last_modification_timestamp ??= this.now();
    const history = this.llmHistory.get(stored.llm_id) ?? [];
    insertVersion(history, stored);
    this.llmHistory.set(stored.llm_id, history);
  }

  /** The newest version of every Retell LLM, in the order they were first added. */
  llms(): SimLlm[] {
    return [...this.llmHistory.values()].map((h) => clone(h[h.length - 1]!));
  }

  llmVersions(llmId: string): SimLlm[] {
    return (this.llmHistory.get(llmId) ?? []).map(clone);
  }

  llm(llmId: string, version?: number | string): SimLlm | undefined {
    const h = this.llmHistory.get(llmId);
    const v = h && pickVersion(h, version);
    return v && clone(v);
  }

  updateLlm(llmId: string, version: number | string | undefined, patch: Record<string, unknown>): SimLlm | undefined {
    const h = this.llmHistory.get(llmId);
    const target = h && pickVersion(h, version);
    if (!h || !target) return undefined;
    return clone(patchVersioned(h, target, without(patch, READ_ONLY_LLM_KEYS), this.now()));
  }

  // ---- calls ----

  addCall(c: Record<string, unknown>): void {
    if (!c || typeof c.call_id !== 'string' || c.call_id === '') {
      throw new TypeError('addCall: call_id is required');
    }
    this.callStore.set(c.call_id, clone(c) as SimCall);
  }

  calls(): SimCall[] {
    return [...this.callStore.values()].map(clone);
  }

  call(callId: string): SimCall | undefined {
    const c = this.callStore.get(callId);
    return c && clone(c);
  }

  // ---- request log and faults ----

  record(entry: SimRequestLogEntry): void {
    this.log.push(entry);
  }

  requests(): SimRequestLogEntry[] {
    return this.log.map(clone);
  }

  setFault(f: SimFault | null): void {
    if (f === null) {
      this.fault = null;
      return;
    }
    if (f.status !== undefined && !(Number.isInteger(f.status) && f.status >= 200 && f.status <= 599)) {
      throw new RangeError(`setFault: status must be an HTTP status code 200–599, got ${String(f.status)}`);
    }
    if (f.latencyMs !== undefined && !(Number.isFinite(f.latencyMs) && f.latencyMs >= 0)) {
      throw new RangeError('setFault: latencyMs must be a non-negative number');
    }
    if (f.count !== undefined && !(Number.isInteger(f.count) && f.count >= 0)) {
      throw new RangeError('setFault: count must be a non-negative integer');
    }
    this.fault = { status: f.status, latencyMs: f.latencyMs ?? 0, remaining: f.count ?? Infinity };
    if (this.fault.remaining === 0) this.fault = null;
  }

  /** The fault for the request now arriving (consuming one of `count`), or null. */
  takeFault(): { status?: number; latencyMs: number } | null {
    const f = this.fault;
    if (!f) return null;
    f.remaining -= 1;
    if (f.remaining <= 0) this.fault = null;
    return { status: f.status, latencyMs: f.latencyMs };
  }

  reset(): void {
    this.phones.clear();
    this.agentHistory.clear();
    this.llmHistory.clear();
    this.callStore.clear();
    this.log.length = 0;
    this.fault = null;
  }
}

/** What `seedRetellDemo` puts in: handy ids for a standalone run or a quick test. */
export const DEMO = {
  apiKey: 'key_sim_retell',
  agentId: 'agent_sim_berlin_mitte',
  legacyAgentId: 'agent_sim_hamburg',
  llmId: 'llm_sim_berlin_mitte',
  legacyLlmId: 'llm_sim_hamburg',
  phoneNumber: '+4930123456789',
  legacyPhoneNumber: '+4940987654321',
  callId: 'call_sim_0001',
} as const;

/**
 * A small, realistic account: two branches' numbers (one bound with `inbound_agents`, one with the deprecated
 * `inbound_agent_id`), their agents (published v0 + draft v1 for the first) and LLMs, and one analysed call.
 */
export function seedRetellDemo(target: {
  addPhoneNumber(p: SimPhoneNumber): void;
  addAgent(a: SimAgent): void;
  addLlm(l: SimLlm): void;
  addCall(c: Record<string, unknown>): void;
}, now = Date.now()): void {
  const webhook = 'http://127.0.0.1:3000/webhooks/retell';
  const postCall = [
    { type: 'string', name: 'customer_name', description: 'Full name of the caller.' },
    { type: 'string', name: 'appointment_start', description: 'Requested start, ISO 8601 with offset.' },
    { type: 'boolean', name: 'booking_requested', description: 'Whether the caller asked for an appointment.' },
  ];
  const tools = [
    { type: 'end_call', name: 'end_call', description: 'End the call when the caller is done.' },
    {
      type: 'custom',
      name: 'check_availability',
      description: 'Free slots for a day.',
      url: 'http://127.0.0.1:3000/retell/functions/check_availability',
      speak_during_execution: false,
      speak_after_execution: true,
      parameters: { type: 'object', properties: { date: { type: 'string' } }, required: ['date'] },
    },
  ];
  for (const version of [0, 1]) {
    target.addLlm({
      llm_id: DEMO.llmId,
      version,
      is_published: version === 0,
      general_prompt: 'Du bist die Telefonassistenz der Praxis Berlin-Mitte. Vereinbare Termine.',
      begin_message: 'Praxis Berlin-Mitte, guten Tag! Wie kann ich helfen?',
      general_tools: tools,
      states: [],
      model: 'gpt-4.1',
      last_modification_timestamp: now - 86_400_000 + version,
    });
    target.addAgent({
      agent_id: DEMO.agentId,
      agent_name: 'Praxis Berlin-Mitte',
      channel: 'voice',
      version,
      is_published: version === 0,
      response_engine: { type: 'retell-llm', llm_id: DEMO.llmId, version },
      voice_id: '11labs-Adrian',
      language: 'de-DE',
      webhook_url: webhook,
      webhook_events: ['call_started', 'call_ended', 'call_analyzed'],
      webhook_timeout_ms: 10_000,
      post_call_analysis_data: postCall,
      last_modification_timestamp: now - 86_400_000 + version,
    });
  }
  target.addLlm({
    llm_id: DEMO.legacyLlmId,
    version: 3,
    is_published: true,
    general_prompt: 'You are the phone assistant of the Hamburg branch. Book appointments.',
    begin_message: 'Hamburg branch, hello!',
    general_tools: [],
    states: [],
    last_modification_timestamp: now - 172_800_000,
  });
  target.addAgent({
    agent_id: DEMO.legacyAgentId,
    agent_name: 'Filiale Hamburg',
    channel: 'voice',
    version: 3,
    is_published: true,
    response_engine: { type: 'retell-llm', llm_id: DEMO.legacyLlmId, version: 3 },
    webhook_url: webhook,
    post_call_analysis_data: postCall,
    last_modification_timestamp: now - 172_800_000,
  });
  target.addPhoneNumber({
    phone_number: DEMO.phoneNumber,
    phone_number_pretty: '+49 30 123456789',
    phone_number_type: 'retell-twilio',
    nickname: 'Berlin-Mitte',
    inbound_agents: [{ agent_id: DEMO.agentId, agent_version: 0, weight: 1 }],
    outbound_agents: null,
    last_modification_timestamp: now - 86_400_000,
  });
  target.addPhoneNumber({
    phone_number: DEMO.legacyPhoneNumber,
    phone_number_pretty: '+49 40 987654321',
    phone_number_type: 'custom',
    nickname: 'Hamburg (old export)',
    inbound_agent_id: DEMO.legacyAgentId,
    inbound_agent_version: 3,
    outbound_agent_id: null,
    last_modification_timestamp: now - 172_800_000,
  });
  const start = now - 3_600_000;
  target.addCall({
    call_id: DEMO.callId,
    call_type: 'phone_call',
    agent_id: DEMO.agentId,
    agent_name: 'Praxis Berlin-Mitte',
    agent_version: 0,
    call_status: 'ended',
    direction: 'inbound',
    from_number: '+4915112345678',
    to_number: DEMO.phoneNumber,
    start_timestamp: start,
    end_timestamp: start + 95_000,
    duration_ms: 95_000,
    disconnection_reason: 'user_hangup',
    transcript:
      'Agent: Praxis Berlin-Mitte, guten Tag! Wie kann ich helfen?\n' +
      'User: Ich hätte gern einen Termin am Dienstag um zehn.\n' +
      'Agent: Dienstag, 10 Uhr ist frei. Auf welchen Namen?\nUser: Erika Mustermann.\n',
    transcript_object: [
      { role: 'agent', content: 'Praxis Berlin-Mitte, guten Tag! Wie kann ich helfen?', words: [] },
      { role: 'user', content: 'Ich hätte gern einen Termin am Dienstag um zehn.', words: [] },
    ],
    recording_url: 'https://example.invalid/recordings/call_sim_0001.wav',
    public_log_url: 'https://example.invalid/logs/call_sim_0001.txt',
    call_analysis: {
      call_summary: 'Erika Mustermann bucht Dienstag 10 Uhr.',
      user_sentiment: 'Positive',
      call_successful: true,
      in_voicemail: false,
      custom_analysis_data: {
        customer_name: 'Erika Mustermann',
        appointment_start: '2026-03-10T10:00:00+01:00',
        booking_requested: true,
      },
    },
  });
}
