/**
 * The Retell simulator driven only through the official retell-sdk client over real HTTP: every path, method,
 * query, body and response shape here is what the SDK itself sends and expects.
 */
import Retell from 'retell-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRetellSim, startRetellSim, type RetellSim, type RunningRetellSim } from './app';
import { DEMO, seedRetellDemo } from './state';

const KEY = 'key_sim_retell';

let clock = 1_700_000_000_000;
const now = () => clock;

let running: RunningRetellSim;
let sim: RetellSim;
let client: Retell;

function clientFor(opts: Partial<ConstructorParameters<typeof Retell>[0]> = {}): Retell {
  return new Retell({ apiKey: KEY, baseURL: running.url, maxRetries: 0, ...opts });
}

/** The error a rejected SDK call threw (fails the test if it resolved). */
async function rejection(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  sim = createRetellSim({ now });
  running = await startRetellSim(sim);
  client = clientFor();
});

afterAll(async () => {
  await running.close();
});

beforeEach(() => {
  sim.reset();
  clock = 1_700_000_000_000;
  seedRetellDemo(sim, clock);
});

describe('phone numbers', () => {
  it('lists both binding shapes exactly as stored', async () => {
    const page = await client.phoneNumber.list();
    expect(page.has_more).toBe(false);
    expect(page.pagination_key).toBeUndefined();
    const byNumber = new Map(page.items.map((p) => [p.phone_number, p as unknown as Record<string, unknown>]));
    expect(byNumber.get(DEMO.phoneNumber)).toMatchObject({
      inbound_agents: [{ agent_id: DEMO.agentId, agent_version: 0, weight: 1 }],
      outbound_agents: null,
      phone_number_type: 'retell-twilio',
    });
    expect(byNumber.get(DEMO.phoneNumber)).not.toHaveProperty('inbound_agent_id');
    // The old export keeps its deprecated single-agent fields and gains no new ones.
    const legacy = byNumber.get(DEMO.legacyPhoneNumber)!;
    expect(legacy).toMatchObject({ inbound_agent_id: DEMO.legacyAgentId, inbound_agent_version: 3, outbound_agent_id: null });
    expect(legacy).not.toHaveProperty('inbound_agents');
    expect(sim.requests()[0]).toMatchObject({ method: 'GET', path: '/v2/list-phone-numbers', status: 200 });
  });

  it('paginates with limit / pagination_key / sort_order', async () => {
    for (let i = 0; i < 5; i++) sim.addPhoneNumber({ phone_number: `+49301000000${i}`, inbound_agents: [] });
    const seen: string[] = [];
    let key: string | undefined;
    let pages = 0;
    do {
      const page = await client.phoneNumber.list({ limit: 3, sort_order: 'ascending', ...(key ? { pagination_key: key } : {}) });
      seen.push(...page.items.map((p) => p.phone_number));
      key = page.has_more ? page.pagination_key : undefined;
      pages++;
    } while (key);
    expect(pages).toBe(3);
    expect(seen).toEqual(sim.phoneNumbers().map((p) => p.phone_number));
    const newestFirst = await client.phoneNumber.list({ limit: 1 });
    expect(newestFirst.items[0]?.phone_number).toBe('+493010000004');
    expect(await rejection(client.phoneNumber.list({ limit: 0 }))).toBeInstanceOf(Retell.BadRequestError);
    expect(await rejection(client.phoneNumber.list({ pagination_key: '+1nope' }))).toBeInstanceOf(Retell.BadRequestError);
  });

  it('retrieves by E.164, whether the + arrives literally or percent-encoded', async () => {
    const p = await client.phoneNumber.retrieve(DEMO.phoneNumber);
    expect(p.phone_number).toBe(DEMO.phoneNumber);
    expect(sim.requests().at(-1)?.path).toBe(`/get-phone-number/${DEMO.phoneNumber}`);
    const encoded = await client.get<{ phone_number: string }>(`/get-phone-number/%2B${DEMO.legacyPhoneNumber.slice(1)}`);
    expect(encoded.phone_number).toBe(DEMO.legacyPhoneNumber);
  });

  it('updates the agent binding and nickname, and rejects weights that do not add up to 1', async () => {
    clock += 1000;
    const updated = await client.phoneNumber.update(DEMO.legacyPhoneNumber, {
      inbound_agents: [
        { agent_id: DEMO.legacyAgentId, agent_version: 3, weight: 0.5 },
        { agent_id: DEMO.agentId, weight: 0.5 },
      ],
      nickname: 'Hamburg',
    });
    expect(updated.inbound_agents).toHaveLength(2);
    expect(updated.nickname).toBe('Hamburg');
    expect(updated.last_modification_timestamp).toBe(clock);
    expect(await client.phoneNumber.retrieve(DEMO.legacyPhoneNumber)).toEqual(updated);
    expect(sim.requests().find((r) => r.method === 'PATCH')?.body).toMatchObject({ nickname: 'Hamburg' });

    const bad = await rejection(
      client.phoneNumber.update(DEMO.phoneNumber, { inbound_agents: [{ agent_id: DEMO.agentId, weight: 0.7 }] }),
    );
    expect(bad).toBeInstanceOf(Retell.BadRequestError);
    expect((bad as InstanceType<typeof Retell.BadRequestError>).message).toMatch(/weights must add up to 1/);
    expect(await rejection(client.phoneNumber.retrieve('+4900000000'))).toBeInstanceOf(Retell.UnprocessableEntityError);
  });
});

describe('agents', () => {
  it('lists slim items, then retrieves the full agent', async () => {
    const list = await client.agent.list();
    expect(list.has_more).toBe(false);
    expect(list.items.map((a) => a.agent_id).sort()).toEqual([DEMO.agentId, DEMO.legacyAgentId].sort());
    const item = list.items.find((a) => a.agent_id === DEMO.agentId)!;
    expect(item).toEqual({
      agent_id: DEMO.agentId,
      agent_name: 'Praxis Berlin-Mitte',
      channel: 'voice',
      tags: {},
      user_modified_timestamp: expect.any(Number),
    });
    expect(sim.requests().at(-1)).toMatchObject({ method: 'POST', path: '/v2/list-agents', status: 200 });

    const agent = await client.agent.retrieve(item.agent_id);
    expect(agent.version).toBe(1); // the newest version, a draft
    expect(agent.is_published).toBe(false);
    expect(agent.response_engine).toEqual({ type: 'retell-llm', llm_id: DEMO.llmId, version: 1 });
    expect(agent.webhook_url).toBe('http://127.0.0.1:3000/webhooks/retell');
    expect(agent.webhook_events).toEqual(['call_started', 'call_ended', 'call_analyzed']);
    expect(agent.post_call_analysis_data?.map((d) => d.name)).toContain('customer_name');
    expect((await client.agent.retrieve(item.agent_id, { version: 0 })).is_published).toBe(true);
  });

  it('filters and paginates the list', async () => {
    const byName = await client.agent.list({ filter_criteria: { query: 'hamburg' } });
    expect(byName.items.map((a) => a.agent_id)).toEqual([DEMO.legacyAgentId]);
    const first = await client.agent.list({ limit: 1, sort_order: 'ascending' });
    expect(first).toMatchObject({ has_more: true, pagination_key: DEMO.agentId });
    const second = await client.agent.list({ limit: 1, sort_order: 'ascending', pagination_key: first.pagination_key! });
    expect(second.items.map((a) => a.agent_id)).toEqual([DEMO.legacyAgentId]);
    expect(second.has_more).toBe(false);
  });

  it('updates a draft in place, and a published version through a new draft', async () => {
    clock += 1000;
    const draft = await client.agent.update(DEMO.agentId, { webhook_url: 'https://callbook.example/webhooks/retell' });
    expect(draft).toMatchObject({ version: 1, webhook_url: 'https://callbook.example/webhooks/retell', last_modification_timestamp: clock });
    const fromPublished = await client.agent.update(DEMO.legacyAgentId, { webhook_timeout_ms: 5000 });
    expect(fromPublished).toMatchObject({ version: 4, base_version: 3, is_published: false, webhook_timeout_ms: 5000 });
    expect((await client.agent.retrieve(DEMO.legacyAgentId, { version: 3 })).webhook_timeout_ms).toBeUndefined();
    const bad = await rejection(client.agent.update(DEMO.agentId, { webhook_events: ['call_exploded' as 'call_ended'] }));
    expect(bad).toBeInstanceOf(Retell.BadRequestError);
  });

  it('publishes a draft version, and its LLM version with it', async () => {
    await expect(client.agent.publish(DEMO.agentId, { version: 1 })).resolves.toBeFalsy();
    expect((await client.agent.retrieve(DEMO.agentId)).is_published).toBe(true);
    expect((await client.llm.retrieve(DEMO.llmId, { version: 1 })).is_published).toBe(true);
    expect(await rejection(client.agent.publish('agent_missing', { version: 0 }))).toBeInstanceOf(Retell.NotFoundError);
    expect(await rejection(client.agent.publish(DEMO.agentId, { version: 9 }))).toBeInstanceOf(Retell.NotFoundError);
  });

  it('answers an unknown agent with Retell’s documented 422 “Cannot find requested asset”', async () => {
    const err = await rejection(client.agent.retrieve('agent_missing'));
    expect(err).toBeInstanceOf(Retell.UnprocessableEntityError);
    expect((err as InstanceType<typeof Retell.APIError>).status).toBe(422);
    expect((err as InstanceType<typeof Retell.APIError>).error).toEqual({
      status: 'error',
      message: 'Cannot find requested asset under given api key.',
    });
  });

  it('answers 404 (NotFoundError) instead when created with notFoundStatus: 404', async () => {
    const other = await startRetellSim(createRetellSim({ notFoundStatus: 404 }));
    try {
      const c = new Retell({ apiKey: KEY, baseURL: other.url, maxRetries: 0 });
      const err = await rejection(c.agent.retrieve('agent_missing'));
      expect(err).toBeInstanceOf(Retell.NotFoundError);
      expect((err as InstanceType<typeof Retell.APIError>).status).toBe(404);
    } finally {
      await other.close();
    }
  });
});

describe('Retell LLMs', () => {
  it('updates the prompt of a published LLM into a new version and reads it back', async () => {
    sim.addLlm({ llm_id: 'llm_pub', version: 2, is_published: true, general_prompt: 'old', begin_message: 'Hallo' });
    clock += 5000;
    const updated = await client.llm.update('llm_pub', { general_prompt: 'Neuer Prompt für {{branch_name}}' });
    expect(updated).toMatchObject({ llm_id: 'llm_pub', version: 3, is_published: false, last_modification_timestamp: clock });
    const read = await client.llm.retrieve('llm_pub');
    expect(read).toMatchObject({ general_prompt: 'Neuer Prompt für {{branch_name}}', begin_message: 'Hallo', version: 3 });
    expect((await client.llm.retrieve('llm_pub', { version: 2 })).general_prompt).toBe('old');
    expect(sim.llmVersions('llm_pub').map((l) => l.version)).toEqual([2, 3]);

    // A draft changes in place: same version, newer timestamp.
    clock += 5000;
    const again = await client.llm.update('llm_pub', {
      begin_message: 'Guten Tag!',
      general_tools: [{ type: 'end_call', name: 'end_call' }],
      states: [],
    });
    expect(again).toMatchObject({ version: 3, begin_message: 'Guten Tag!', last_modification_timestamp: clock });
    expect(sim.llms().find((l) => l.llm_id === 'llm_pub')?.general_tools).toEqual([{ type: 'end_call', name: 'end_call' }]);
  });

  it('rejects a malformed update and an unknown LLM', async () => {
    const bad = await rejection(client.llm.update(DEMO.llmId, { general_prompt: 42 as unknown as string }));
    expect(bad).toBeInstanceOf(Retell.BadRequestError);
    expect((bad as Error).message).toMatch(/general_prompt/);
    expect(await rejection(client.llm.update('llm_missing', { general_prompt: 'x' }))).toBeInstanceOf(
      Retell.UnprocessableEntityError,
    );
  });
});

describe('calls', () => {
  it('retrieves a call with its transcript and analysis', async () => {
    const call = await client.call.retrieve(DEMO.callId);
    expect(call).toMatchObject({ call_id: DEMO.callId, call_type: 'phone_call', to_number: DEMO.phoneNumber });
    expect(call.transcript).toContain('Erika Mustermann');
    expect(call.call_analysis?.custom_analysis_data).toMatchObject({ customer_name: 'Erika Mustermann' });
    expect(sim.requests().at(-1)?.path).toBe(`/v2/get-call/${DEMO.callId}`);
    expect(await rejection(client.call.retrieve('call_missing'))).toBeInstanceOf(Retell.UnprocessableEntityError);
  });

  it('lists calls without transcripts, filtered, sorted by start and paginated', async () => {
    for (let i = 1; i <= 3; i++) {
      sim.addCall({
        call_id: `call_x${i}`,
        call_type: 'phone_call',
        agent_id: DEMO.legacyAgentId,
        agent_version: 3,
        call_status: 'ended',
        direction: 'inbound',
        from_number: '+4917600000000',
        to_number: DEMO.legacyPhoneNumber,
        start_timestamp: clock + i,
        transcript: 'Agent: Hallo',
      });
    }
    const page = await client.call.list({
      filter_criteria: { to_number: { op: 'eq', type: 'string', value: DEMO.legacyPhoneNumber } },
      limit: 2,
      include_total: true,
    });
    expect(page.items.map((c) => c.call_id)).toEqual(['call_x3', 'call_x2']);
    expect(page).toMatchObject({ has_more: true, pagination_key: 'call_x2', total: 3 });
    expect(page.items[0]).not.toHaveProperty('transcript');
    const rest = await client.call.list({
      filter_criteria: { agent: [{ agent_id: DEMO.legacyAgentId }] },
      limit: 2,
      pagination_key: page.pagination_key!,
    });
    expect(rest.items.map((c) => c.call_id)).toEqual(['call_x1']);
    expect(rest.has_more).toBe(false);
    const all = await client.call.list();
    expect(all.items).toHaveLength(4);
    expect(await rejection(client.call.list({ skip: 1, pagination_key: 'call_x1' }))).toBeInstanceOf(Retell.BadRequestError);
  });
});

describe('auth and faults', () => {
  it('answers a wrong or missing key with 401 and Retell’s error body', async () => {
    const err = await rejection(clientFor({ apiKey: 'key_wrong' }).agent.list());
    expect(err).toBeInstanceOf(Retell.AuthenticationError);
    expect((err as InstanceType<typeof Retell.APIError>).error).toEqual({ status: 'error', message: 'API key is missing or invalid.' });
    expect(sim.requests().at(-1)).toMatchObject({ method: 'POST', path: '/v2/list-agents', status: 401 });
  });

  it('accepts only the configured keys', async () => {
    const other = await startRetellSim(createRetellSim({ apiKeys: ['key_a', 'key_b'] }));
    try {
      await expect(new Retell({ apiKey: 'key_b', baseURL: other.url }).phoneNumber.list()).resolves.toMatchObject({ items: [] });
      const err = await rejection(new Retell({ apiKey: KEY, baseURL: other.url, maxRetries: 0 }).phoneNumber.list());
      expect(err).toBeInstanceOf(Retell.AuthenticationError);
    } finally {
      await other.close();
    }
  });

  it('injects a 500 for the next `count` requests (InternalServerError), then recovers', async () => {
    sim.setFault({ status: 500, count: 1 });
    const err = await rejection(client.agent.retrieve(DEMO.agentId));
    expect(err).toBeInstanceOf(Retell.InternalServerError);
    expect((err as InstanceType<typeof Retell.APIError>).error).toEqual({
      status: 'error',
      message: 'An unexpected server error occurred.',
    });
    await expect(client.agent.retrieve(DEMO.agentId)).resolves.toMatchObject({ agent_id: DEMO.agentId });
    expect(sim.requests().map((r) => r.status)).toEqual([500, 200]);
  });

  it('lets the SDK’s own retries get past a short fault', async () => {
    sim.setFault({ status: 503, count: 1 });
    const retrying = new Retell({ apiKey: KEY, baseURL: running.url, maxRetries: 2 });
    await expect(retrying.call.retrieve(DEMO.callId)).resolves.toMatchObject({ call_id: DEMO.callId });
    expect(sim.requests().map((r) => r.status)).toEqual([503, 200]);
  });

  it('injects latency (the SDK times out) and a 429, until cleared', async () => {
    sim.setFault({ latencyMs: 300 });
    const err = await rejection(clientFor({ timeout: 50 }).phoneNumber.list());
    expect(err).toBeInstanceOf(Retell.APIConnectionTimeoutError);
    sim.setFault({ status: 429 });
    expect(await rejection(client.phoneNumber.list())).toBeInstanceOf(Retell.RateLimitError);
    expect(await rejection(client.llm.retrieve(DEMO.llmId))).toBeInstanceOf(Retell.RateLimitError);
    sim.setFault(null);
    await expect(client.llm.retrieve(DEMO.llmId)).resolves.toMatchObject({ llm_id: DEMO.llmId });
  });

  it('never crashes on bad input', async () => {
    const bad = await rejection(client.patch(`/update-retell-llm/${DEMO.llmId}`, { body: ['not', 'an', 'object'] }));
    expect(bad).toBeInstanceOf(Retell.BadRequestError);
    expect(await rejection(client.agent.retrieve(DEMO.agentId, { version: 'not a tag!' }))).toBeInstanceOf(
      Retell.BadRequestError,
    );
    expect(await rejection(client.get('/no-such-endpoint'))).toBeInstanceOf(Retell.NotFoundError);
    await expect(client.agent.retrieve(DEMO.agentId)).resolves.toBeTruthy();
  });
});
