/**
 * `createRetellSim`: a Hono app answering the Retell REST calls the official retell-sdk (5.66.1) makes for
 * phone numbers, agents, Retell LLMs and calls, with Retell's auth, error bodies and pagination, a request log
 * and fault injection; `startRetellSim` serves it over real HTTP so tests can use
 * `new Retell({ apiKey, baseURL: url })`.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import {
  RetellHttpError,
  agentListBody,
  agentPublish,
  agentUpdate,
  callListBody,
  callMatches,
  listQuery,
  llmUpdate,
  messageFor,
  paginate,
  parseOr400,
  phoneNumberUpdate,
  versionQuery,
  MESSAGES,
  type ListQuery,
} from './schemas';
import {
  RetellState,
  type SimAgent,
  type SimCall,
  type SimFault,
  type SimLlm,
  type SimPhoneNumber,
  type SimRequestLogEntry,
} from './state';

export interface RetellSimOptions {
  /** Accepted `Authorization: Bearer` keys; default `['key_sim_retell']`. */
  apiKeys?: string[];
  /**
   * Status for an unknown phone number / agent / LLM / call. Retell's OpenAPI documents 422 with
   * "Cannot find requested asset under given api key." (the SDK throws `UnprocessableEntityError`); some live
   * endpoints have been seen answering 404 instead (`NotFoundError`). Default 422.
   */
  notFoundStatus?: 404 | 422;
  /** Clock for `last_modification_timestamp`; default `Date.now`. */
  now?: () => number;
}

export interface RetellSim {
  app: Hono;
  addPhoneNumber(p: SimPhoneNumber): void;
  addAgent(a: SimAgent): void;
  addLlm(l: SimLlm): void;
  addCall(c: Record<string, unknown>): void;
  phoneNumbers(): SimPhoneNumber[];
  /** The newest version of each agent. */
  agents(): SimAgent[];
  /** Every stored version of one agent, oldest first. */
  agentVersions(agentId: string): SimAgent[];
  /** The newest version of each Retell LLM. */
  llms(): SimLlm[];
  /** Every stored version of one Retell LLM, oldest first. */
  llmVersions(llmId: string): SimLlm[];
  calls(): SimCall[];
  requests(): SimRequestLogEntry[];
  /** The next `count` requests (default: all until cleared) wait `latencyMs` and/or answer `status`. */
  setFault(f: SimFault | null): void;
  /** Forgets everything: data, request log, fault. */
  reset(): void;
}

/** Fields Retell leaves out of `POST /v3/list-calls` items (V3CallResponse): fetch the call for these. */
const TRANSCRIPT_FIELDS = [
  'transcript',
  'transcript_object',
  'transcript_with_tool_calls',
  'scrubbed_transcript_with_tool_calls',
] as const;

const BODY_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);
/** Statuses a Response may not carry a body with. */
const NULL_BODY = new Set([204, 205, 304]);

interface ParsedBody {
  value: unknown;
  invalid: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorBody(status: number, message = messageFor(status)) {
  return { status: 'error', message };
}

function ordered<T>(items: T[], sort: ListQuery['sort_order']): T[] {
  // Retell's list endpoints default to descending; the simulator orders by when things were added.
  return sort === 'ascending' ? items : [...items].reverse();
}

export function createRetellSim(opts: RetellSimOptions = {}): RetellSim {
  const apiKeys = new Set(opts.apiKeys ?? ['key_sim_retell']);
  const notFoundStatus = opts.notFoundStatus ?? 422;
  const state = new RetellState(opts.now);
  const bodies = new WeakMap<Request, ParsedBody>();
  const app = new Hono();

  const notFound = (): RetellHttpError => new RetellHttpError(notFoundStatus, messageFor(notFoundStatus));

  /** The request's JSON body; invalid JSON is a 400, an absent body is `undefined`. */
  const bodyOf = (c: Context): unknown => {
    const b = bodies.get(c.req.raw);
    if (b?.invalid) throw new RetellHttpError(400, `${MESSAGES[400]} Body is not valid JSON.`);
    return b?.value;
  };
  const objectBody = (c: Context): Record<string, unknown> => {
    const b = bodyOf(c);
    if (b === null || typeof b !== 'object' || Array.isArray(b)) {
      throw new RetellHttpError(400, `${MESSAGES[400]} Body must be a JSON object.`);
    }
    return b as Record<string, unknown>;
  };
  const version = (c: Context) => parseOr400(versionQuery, c.req.query('version'), 'version');

  // Request log (outermost, so faults and auth failures are logged too).
  app.use('*', async (c, next) => {
    const url = new URL(c.req.url);
    let parsed: ParsedBody = { value: undefined, invalid: false };
    if (BODY_METHODS.has(c.req.method)) {
      const text = await c.req.text().catch(() => '');
      if (text.trim() !== '') {
        try {
          parsed = { value: JSON.parse(text), invalid: false };
        } catch {
          parsed = { value: text, invalid: true };
        }
      }
    }
    bodies.set(c.req.raw, parsed);
    try {
      await next();
    } finally {
      const query = Object.fromEntries(url.searchParams);
      const entry: SimRequestLogEntry = { method: c.req.method, path: url.pathname, status: c.res.status };
      if (parsed.value !== undefined) entry.body = parsed.value;
      if (Object.keys(query).length > 0) entry.query = query;
      state.record(entry);
    }
  });

  // Fault injection.
  app.use('*', async (c, next) => {
    const fault = state.takeFault();
    if (fault?.latencyMs) await sleep(fault.latencyMs);
    if (fault?.status !== undefined) {
      if (NULL_BODY.has(fault.status)) return c.body(null, fault.status as 204);
      return c.json(errorBody(fault.status), fault.status as 500);
    }
    await next();
  });

  // Auth: `Authorization: Bearer <key>`.
  app.use('*', async (c, next) => {
    const m = c.req.header('authorization')?.match(/^\s*Bearer\s+(\S+)\s*$/i);
    if (!m?.[1] || !apiKeys.has(m[1])) return c.json(errorBody(401), 401);
    await next();
  });

  // ---- phone numbers ----

  /** phoneNumber.list() */
  app.get('/v2/list-phone-numbers', (c) => {
    const q = parseOr400(listQuery, c.req.query(), 'query');
    const all = ordered(state.phoneNumbers(), q.sort_order);
    return c.json(paginate(all, (p) => p.phone_number, q));
  });

  /** Deprecated v1 list (older SDKs): a bare array. */
  app.get('/list-phone-numbers', (c) => c.json(state.phoneNumbers()));

  /** phoneNumber.retrieve(e164) — the SDK sends `+` literally; `%2B` is decoded too. */
  app.get('/get-phone-number/:phone', (c) => {
    const p = state.phoneNumber(c.req.param('phone'));
    if (!p) throw notFound();
    return c.json(p);
  });

  /** phoneNumber.update(e164, body) */
  app.patch('/update-phone-number/:phone', (c) => {
    const e164 = c.req.param('phone');
    if (!state.phoneNumber(e164)) throw notFound();
    const patch = parseOr400(phoneNumberUpdate, objectBody(c), 'body');
    return c.json(state.updatePhoneNumber(e164, patch)!);
  });

  // ---- agents ----

  /** agent.list({limit, pagination_key, sort_order, filter_criteria}) — slim items. */
  app.post('/v2/list-agents', (c) => {
    const q = parseOr400(listQuery, c.req.query(), 'query');
    const body = parseOr400(agentListBody, bodyOf(c), 'body');
    const f = body?.filter_criteria;
    const items = state
      .agents()
      .map((a) => ({
        agent_id: a.agent_id,
        agent_name: a.agent_name ?? '',
        channel: a.channel ?? 'voice',
        tags: a.tags !== null && typeof a.tags === 'object' && !Array.isArray(a.tags) ? a.tags : {},
        user_modified_timestamp: a.last_modification_timestamp ?? 0,
      }))
      .filter((a) => {
        if (f?.query) {
          const needle = f.query.toLowerCase();
          if (!a.agent_name.toLowerCase().includes(needle) && !a.agent_id.includes(f.query)) return false;
        }
        if (f?.channel) {
          const { op, value } = f.channel;
          const ch = a.channel;
          const ok =
            op === 'eq' ? ch === value
            : op === 'ne' ? ch !== value
            : op === 'sw' ? ch.startsWith(value)
            : op === 'ew' ? ch.endsWith(value)
            : ch.includes(value);
          if (!ok) return false;
        }
        return true;
      });
    return c.json(paginate(ordered(items, q.sort_order), (a) => a.agent_id, q));
  });

  /** Deprecated v1 list (older SDKs): every version as a full agent object, a bare array. */
  app.get('/list-agents', (c) => {
    const latestOnly = c.req.query('is_latest') === 'true';
    const all = latestOnly ? state.agents() : state.agents().flatMap((a) => state.agentVersions(a.agent_id));
    const limit = Number(c.req.query('limit') ?? 1000);
    return c.json(all.slice(0, Number.isInteger(limit) && limit > 0 ? limit : 1000));
  });

  /** agent.retrieve(id, {version}) */
  app.get('/get-agent/:id', (c) => {
    const a = state.agent(c.req.param('id'), version(c));
    if (!a) throw notFound();
    return c.json(a);
  });

  /** agent.getVersions(id) (deprecated) */
  app.get('/get-agent-versions/:id', (c) => {
    const versions = state.agentVersions(c.req.param('id'));
    if (versions.length === 0) throw notFound();
    return c.json(versions);
  });

  /** agent.update(id, {version, ...body}) — a published version gets a new draft instead. */
  app.patch('/update-agent/:id', (c) => {
    const id = c.req.param('id');
    const v = version(c);
    if (!state.agent(id, v)) throw notFound();
    const patch = parseOr400(agentUpdate, objectBody(c), 'body');
    return c.json(state.updateAgent(id, v, patch)!);
  });

  /** agent.publish(id, {version}) — 200 without a body (the SDK resolves to void); 404 per Retell's spec. */
  app.post('/publish-agent-version/:id', (c) => {
    const id = c.req.param('id');
    if (!state.hasAgent(id)) throw new RetellHttpError(404, MESSAGES[404]!);
    const body = parseOr400(agentPublish, objectBody(c), 'body');
    if (!state.publishAgent(id, body.version)) throw new RetellHttpError(404, MESSAGES[404]!);
    return c.body(null, 200);
  });

  // ---- Retell LLMs ----

  /** llm.list({limit, pagination_key, sort_order}) */
  app.get('/v2/list-retell-llms', (c) => {
    const q = parseOr400(listQuery, c.req.query(), 'query');
    return c.json(paginate(ordered(state.llms(), q.sort_order), (l) => l.llm_id, q));
  });

  /** Deprecated v1 list: a bare array. */
  app.get('/list-retell-llms', (c) => c.json(state.llms()));

  /** llm.retrieve(id, {version}) */
  app.get('/get-retell-llm/:id', (c) => {
    const l = state.llm(c.req.param('id'), version(c));
    if (!l) throw notFound();
    return c.json(l);
  });

  /** llm.update(id, {version, general_prompt, begin_message, general_tools, states, …}) */
  app.patch('/update-retell-llm/:id', (c) => {
    const id = c.req.param('id');
    const v = version(c);
    if (!state.llm(id, v)) throw notFound();
    const patch = parseOr400(llmUpdate, objectBody(c), 'body');
    return c.json(state.updateLlm(id, v, patch)!);
  });

  // ---- calls ----

  /** call.retrieve(id) — the full call, transcript included. */
  app.get('/v2/get-call/:id', (c) => {
    const call = state.call(c.req.param('id'));
    if (!call) throw notFound();
    return c.json(call);
  });

  /** call.list({filter_criteria, sort_order, limit, skip, pagination_key, include_total}) */
  app.post('/v3/list-calls', (c) => {
    const body = parseOr400(callListBody, bodyOf(c) ?? {}, 'body') ?? {};
    const matching = state.calls().filter((call) => callMatches(call, body.filter_criteria));
    const byStart = (x: SimCall) => (typeof x.start_timestamp === 'number' ? x.start_timestamp : 0);
    matching.sort((a, b) => (body.sort_order === 'ascending' ? byStart(a) - byStart(b) : byStart(b) - byStart(a)));
    const page = paginate(matching, (x) => x.call_id, body);
    const items = page.items.map((call) => {
      const slim: Record<string, unknown> = { ...call };
      for (const k of TRANSCRIPT_FIELDS) delete slim[k];
      return slim;
    });
    return c.json({ ...page, items, ...(body.include_total ? { total: matching.length } : {}) });
  });

  app.notFound((c) => c.json(errorBody(404), 404));

  app.onError((err, c) => {
    if (err instanceof RetellHttpError) return c.json(errorBody(err.status, err.message), err.status as 400);
    return c.json(errorBody(500), 500);
  });

  return {
    app,
    addPhoneNumber: (p) => state.addPhoneNumber(p),
    addAgent: (a) => state.addAgent(a),
    addLlm: (l) => state.addLlm(l),
    addCall: (call) => state.addCall(call),
    phoneNumbers: () => state.phoneNumbers(),
    agents: () => state.agents(),
    agentVersions: (id) => state.agentVersions(id),
    llms: () => state.llms(),
    llmVersions: (id) => state.llmVersions(id),
    calls: () => state.calls(),
    requests: () => state.requests(),
    setFault: (f) => state.setFault(f),
    reset: () => state.reset(),
  };
}

export interface RunningRetellSim {
  /** The SDK's `baseURL`, e.g. `http://127.0.0.1:41234` (Retell's paths have no common prefix). */
  url: string;
  sim: RetellSim;
  close(): Promise<void>;
}

/** Serves `sim` on 127.0.0.1 (`port` 0 = any free port) until `close()`, which drops keep-alive sockets. */
export async function startRetellSim(sim: RetellSim = createRetellSim(), port = 0): Promise<RunningRetellSim> {
  // overrideGlobalObjects: false keeps the test process's own Request/Response untouched.
  const server = serve({ fetch: sim.app.fetch, port, hostname: '127.0.0.1', overrideGlobalObjects: false }) as Server;
  await new Promise<void>((resolve, reject) => {
    if (server.listening) return resolve();
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${address.port}`,
    sim,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
