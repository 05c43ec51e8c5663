/**
 * Request validation for the Retell simulator (zod schemas for the bodies and query strings the official
 * retell-sdk sends, after Retell's OpenAPI document), the `filter_criteria` matcher for list-calls and
 * list-agents, and the cursor pagination every `{items, has_more, pagination_key}` list shares.
 */
import { z } from 'zod';

/** A 4xx/5xx answered with Retell's error body `{status: 'error', message}`. */
export class RetellHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Retell's documented messages (OpenAPI `components.responses`). */
export const MESSAGES: Record<number, string> = {
  400: 'Invalid request format, please check API reference.',
  401: 'API key is missing or invalid.',
  402: 'Trial has ended, please add payment method.',
  403: 'Forbidden',
  404: 'The requested resource was not found.',
  412: 'Precondition failed for conditional update.',
  422: 'Cannot find requested asset under given api key.',
  429: 'Account rate limited, please throttle your requests.',
  500: 'An unexpected server error occurred.',
};

export function messageFor(status: number): string {
  return MESSAGES[status] ?? (status >= 500 ? MESSAGES[500]! : 'Request failed.');
}

/** Turns a zod failure into a 400 naming the first offending field. */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length ? issue.path.join('.') : what;
  throw new RetellHttpError(400, `${MESSAGES[400]} ${where}: ${issue?.message ?? 'invalid'}`);
}

// ---- shared pieces ----

const nullableString = z.string().nullable();

/** AgentVersionReference: integer ≥ 0 or a tag /^[a-z0-9_-]+$/ of 1–20 characters. */
const agentVersionRef = z.union([z.number().int().min(0), z.string().min(1).max(20).regex(/^[a-z0-9_-]+$/)]);

const agentWeight = z.strictObject({
  agent_id: z.string().min(1),
  agent_version: agentVersionRef.optional(),
  weight: z.number().gt(0).max(1),
});

const weightedAgents = z
  .array(agentWeight)
  .nullable()
  .refine((list) => !list || list.length === 0 || Math.abs(list.reduce((s, a) => s + a.weight, 0) - 1) < 1e-9, {
    message: 'Total weights must add up to 1',
  });

/** `version` in a query string: absent, a non-negative integer, or a tag. */
export const versionQuery = z
  .union([z.string().regex(/^\d+$/).transform(Number), z.string().min(1).max(20).regex(/^[a-z0-9_-]+$/)])
  .optional();

export const listQuery = z.object({
  limit: z
    .string()
    .regex(/^\d+$/, 'expected an integer')
    .transform(Number)
    .pipe(z.number().int().min(1).max(1000))
    .optional(),
  pagination_key: z.string().optional(),
  sort_order: z.enum(['ascending', 'descending']).optional(),
});
export type ListQuery = z.output<typeof listQuery>;

// ---- phone numbers ----

/** PATCH /update-phone-number/{e164}; the deprecated single-agent fields are still accepted from old clients. */
export const phoneNumberUpdate = z.looseObject({
  inbound_agents: weightedAgents.optional(),
  outbound_agents: weightedAgents.optional(),
  inbound_sms_agents: weightedAgents.optional(),
  outbound_sms_agents: weightedAgents.optional(),
  nickname: nullableString.optional(),
  inbound_webhook_url: nullableString.optional(),
  inbound_sms_webhook_url: nullableString.optional(),
  fallback_number: nullableString.optional(),
  allowed_inbound_country_list: z.array(z.string()).nullable().optional(),
  allowed_outbound_country_list: z.array(z.string()).nullable().optional(),
  termination_uri: z.string().optional(),
  auth_username: z.string().optional(),
  auth_password: z.string().optional(),
  transport: nullableString.optional(),
  inbound_agent_id: nullableString.optional(),
  outbound_agent_id: nullableString.optional(),
  inbound_agent_version: z.number().int().min(0).nullable().optional(),
  outbound_agent_version: z.number().int().min(0).nullable().optional(),
});

// ---- agents ----

const responseEngine = z.discriminatedUnion('type', [
  z.object({ type: z.literal('retell-llm'), llm_id: z.string().min(1), version: z.number().int().min(0).nullable().optional() }),
  z.object({ type: z.literal('custom-llm'), llm_websocket_url: z.string().min(1) }),
  z.object({
    type: z.literal('conversation-flow'),
    conversation_flow_id: z.string().min(1),
    version: z.number().int().min(0).nullable().optional(),
  }),
]);

const webhookEvent = z.enum([
  'call_started',
  'call_ended',
  'call_analyzed',
  'transcript_updated',
  'transfer_started',
  'transfer_bridged',
  'transfer_cancelled',
  'transfer_ended',
]);

/** PATCH /update-agent/{id}: the fields callbook touches are checked, Retell's many others pass through. */
export const agentUpdate = z.looseObject({
  agent_name: nullableString.optional(),
  response_engine: responseEngine.optional(),
  voice_id: z.string().min(1).optional(),
  webhook_url: nullableString.optional(),
  webhook_events: z.array(webhookEvent).nullable().optional(),
  webhook_timeout_ms: z.number().int().positive().optional(),
  post_call_analysis_data: z
    .array(z.looseObject({ type: z.string().min(1), name: z.string().min(1) }))
    .nullable()
    .optional(),
});

/** POST /publish-agent-version/{id}. */
export const agentPublish = z.looseObject({
  version: z.number().int().min(0),
  version_description: z.string().optional(),
  version_title: z.string().optional(),
});

const channelFilter = z.strictObject({
  op: z.enum(['eq', 'ne', 'sw', 'ew', 'co']),
  type: z.literal('string'),
  value: z.enum(['voice', 'chat']),
});

/** POST /v2/list-agents body (its paging is in the query string). */
export const agentListBody = z
  .looseObject({
    filter_criteria: z.strictObject({ channel: channelFilter.optional(), query: z.string().optional() }).optional(),
  })
  .optional();

// ---- Retell LLMs ----

/** A tool's name: "a-z, A-Z, 0-9, or contain underscores and dashes, with a maximum length of 64 (no space allowed)". */
const toolName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'tool name: a-z, A-Z, 0-9, _ or -, at most 64 characters');

/** A `custom` tool (retell-sdk LlmUpdateParams.CustomTool): the fields Retell checks. */
const customTool = z.looseObject({
  type: z.literal('custom'),
  name: toolName,
  url: z.string().url(),
  description: z.string().optional(),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  args_at_root: z.boolean().optional(),
  speak_during_execution: z.boolean().optional(),
  speak_after_execution: z.boolean().optional(),
  execution_message_description: z.string().optional(),
  execution_message_type: z.enum(['prompt', 'static_text']).optional(),
  timeout_ms: z.number().int().min(1_000).max(600_000).optional(),
  max_retry: z.number().int().min(0).max(5).optional(),
  parameters: z.looseObject({ type: z.literal('object'), properties: z.record(z.string(), z.unknown()), required: z.array(z.string()).optional() }).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  query_params: z.record(z.string(), z.string()).optional(),
  response_variables: z.record(z.string(), z.string()).optional(),
});

const anyTool = z.looseObject({ type: z.string().min(1), name: toolName.optional() }).superRefine((tool, ctx) => {
  if (tool.type !== 'custom') return;
  const r = customTool.safeParse(tool);
  for (const issue of r.success ? [] : r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
});

/** PATCH /update-retell-llm/{id}. */
export const llmUpdate = z.looseObject({
  general_prompt: nullableString.optional(),
  begin_message: nullableString.optional(),
  general_tools: z
    .array(anyTool)
    .refine((tools) => new Set(tools.map((t) => t.name).filter(Boolean)).size === tools.filter((t) => t.name).length, {
      message: 'tool names must be unique',
    })
    .nullable()
    .optional(),
  states: z
    .array(z.looseObject({ name: z.string().min(1) }))
    .nullable()
    .optional(),
  starting_state: nullableString.optional(),
  model: z.string().nullable().optional(),
  model_temperature: z.number().min(0).max(1).optional(),
  default_dynamic_variables: z.record(z.string(), z.string()).nullable().optional(),
});

// ---- calls ----

const stringFilter = z.strictObject({
  op: z.enum(['eq', 'ne', 'sw', 'ew', 'co']),
  type: z.literal('string'),
  value: z.string(),
  key: z.string().optional(),
});
const numberFilter = z.strictObject({
  op: z.enum(['eq', 'ne', 'gt', 'ge', 'lt', 'le']),
  type: z.literal('number'),
  value: z.number(),
  key: z.string().optional(),
});
const rangeFilter = z.strictObject({
  op: z.literal('bt'),
  type: z.literal('range'),
  value: z.array(z.number()).length(2),
  key: z.string().optional(),
});
const booleanFilter = z.strictObject({
  op: z.literal('eq'),
  type: z.literal('boolean'),
  value: z.boolean(),
  key: z.string().optional(),
});
const enumFilter = z.strictObject({
  op: z.literal('in'),
  type: z.literal('enum'),
  value: z.array(z.string()),
  key: z.string().optional(),
});
const presentFilter = z.strictObject({ op: z.enum(['pr', 'np']), type: z.literal('present'), key: z.string().optional() });
const anyFilter = z.union([stringFilter, numberFilter, rangeFilter, booleanFilter, enumFilter, presentFilter]);
const numberOrRange = z.union([numberFilter, rangeFilter]);
const keyedFilters = z.array(anyFilter);

export type Filter = z.output<typeof anyFilter>;

/** `filter_criteria` of POST /v3/list-calls; an unknown key is a 400 so a typo cannot pass silently. */
export const callFilterCriteria = z.strictObject({
  agent: z.array(z.strictObject({ agent_id: z.string().min(1), version: z.array(z.number().int()).optional() })).optional(),
  agent_tag: enumFilter.optional(),
  batch_call_id: stringFilter.optional(),
  call_id: z.union([stringFilter, enumFilter]).optional(),
  call_status: enumFilter.optional(),
  call_successful: booleanFilter.optional(),
  call_type: enumFilter.optional(),
  combined_cost: numberOrRange.optional(),
  custom_analysis_data: keyedFilters.optional(),
  custom_attributes: keyedFilters.optional(),
  data_storage_setting: enumFilter.optional(),
  direction: enumFilter.optional(),
  disconnection_reason: enumFilter.optional(),
  duration_ms: numberOrRange.optional(),
  dynamic_variables: keyedFilters.optional(),
  e2e_latency_p50: numberOrRange.optional(),
  end_timestamp: numberOrRange.optional(),
  from_number: stringFilter.optional(),
  in_voicemail: booleanFilter.optional(),
  metadata: keyedFilters.optional(),
  start_timestamp: numberOrRange.optional(),
  to_number: stringFilter.optional(),
  /** Accepted (Retell has it) but not applied by the simulator. */
  tool_calls: z.array(z.looseObject({})).optional(),
  user_sentiment: enumFilter.optional(),
});

export const callListBody = z
  .looseObject({
    filter_criteria: callFilterCriteria.optional(),
    sort_order: z.enum(['ascending', 'descending']).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    skip: z.number().int().min(0).optional(),
    pagination_key: z.string().optional(),
    include_total: z.boolean().optional(),
  })
  .refine((b) => b.skip === undefined || b.pagination_key === undefined, {
    message: 'skip and pagination_key cannot be used together',
  })
  .optional();

// ---- filter evaluation ----

export function matchesFilter(actual: unknown, f: Filter): boolean {
  switch (f.type) {
    case 'present':
      return (actual !== undefined && actual !== null) === (f.op === 'pr');
    case 'string': {
      if (typeof actual !== 'string') return f.op === 'ne';
      const v = f.value;
      if (f.op === 'eq') return actual === v;
      if (f.op === 'ne') return actual !== v;
      if (f.op === 'sw') return actual.startsWith(v);
      if (f.op === 'ew') return actual.endsWith(v);
      return actual.includes(v);
    }
    case 'number': {
      if (typeof actual !== 'number') return f.op === 'ne';
      const v = f.value;
      switch (f.op) {
        case 'eq':
          return actual === v;
        case 'ne':
          return actual !== v;
        case 'gt':
          return actual > v;
        case 'ge':
          return actual >= v;
        case 'lt':
          return actual < v;
        default:
          return actual <= v;
      }
    }
    case 'range': {
      const [lo, hi] = f.value as [number, number];
      return typeof actual === 'number' && actual >= lo && actual <= hi;
    }
    case 'boolean':
      return actual === f.value;
    case 'enum':
      return actual !== undefined && actual !== null && f.value.includes(String(actual));
  }
}

function at(obj: unknown, ...path: string[]): unknown {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Where each single-value filter of `filter_criteria` reads in a call object. */
const CALL_FIELDS: Record<string, string[]> = {
  agent_tag: ['agent_tag'],
  batch_call_id: ['batch_call_id'],
  call_id: ['call_id'],
  call_status: ['call_status'],
  call_type: ['call_type'],
  data_storage_setting: ['data_storage_setting'],
  direction: ['direction'],
  disconnection_reason: ['disconnection_reason'],
  duration_ms: ['duration_ms'],
  end_timestamp: ['end_timestamp'],
  from_number: ['from_number'],
  start_timestamp: ['start_timestamp'],
  to_number: ['to_number'],
  call_successful: ['call_analysis', 'call_successful'],
  in_voicemail: ['call_analysis', 'in_voicemail'],
  user_sentiment: ['call_analysis', 'user_sentiment'],
  combined_cost: ['call_cost', 'combined_cost'],
  e2e_latency_p50: ['latency', 'e2e', 'p50'],
};

/** Where each keyed filter list reads (`key` selects the entry). */
const CALL_KEYED: Record<string, string[]> = {
  custom_analysis_data: ['call_analysis', 'custom_analysis_data'],
  custom_attributes: ['custom_attributes'],
  dynamic_variables: ['retell_llm_dynamic_variables'],
  metadata: ['metadata'],
};

export function callMatches(call: Record<string, unknown>, criteria: z.output<typeof callFilterCriteria> | undefined): boolean {
  if (!criteria) return true;
  if (criteria.agent && criteria.agent.length > 0) {
    const ok = criteria.agent.some(
      (a) =>
        a.agent_id === call.agent_id &&
        (!a.version || a.version.length === 0 || a.version.includes(call.agent_version as number)),
    );
    if (!ok) return false;
  }
  for (const [name, path] of Object.entries(CALL_FIELDS)) {
    const f = (criteria as Record<string, unknown>)[name] as Filter | undefined;
    if (f && !matchesFilter(at(call, ...path), f)) return false;
  }
  for (const [name, path] of Object.entries(CALL_KEYED)) {
    const list = (criteria as Record<string, unknown>)[name] as Filter[] | undefined;
    for (const f of list ?? []) {
      const base = at(call, ...path);
      if (!matchesFilter(f.key === undefined ? base : at(base, f.key), f)) return false;
    }
  }
  return true;
}

// ---- pagination ----

export interface Page<T> {
  items: T[];
  has_more: boolean;
  pagination_key?: string;
}

/**
 * Cursor pagination: `pagination_key` is the id of the last item of the previous page (exclusive), returned
 * only while `has_more` is true. An unknown key is a 400.
 */
export function paginate<T>(
  ordered: T[],
  keyOf: (item: T) => string,
  opts: { limit?: number; pagination_key?: string; skip?: number },
  defaultLimit = 50,
): Page<T> {
  let start = opts.skip ?? 0;
  if (opts.pagination_key !== undefined && opts.pagination_key !== '') {
    const i = ordered.findIndex((item) => keyOf(item) === opts.pagination_key);
    if (i < 0) throw new RetellHttpError(400, `${MESSAGES[400]} pagination_key: unknown key`);
    start = i + 1;
  }
  const limit = opts.limit ?? defaultLimit;
  const items = ordered.slice(start, start + limit);
  const has_more = start + limit < ordered.length;
  const last = items[items.length - 1];
  return has_more && last !== undefined ? { items, has_more, pagination_key: keyOf(last) } : { items, has_more };
}
