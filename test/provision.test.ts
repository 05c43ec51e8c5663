/**
 * `agents provision`, `sync --fix` and `GET /functions/retell` against the Retell simulator,
 * through the official retell-sdk, with real MariaDB and Redis.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { and, eq } from 'drizzle-orm';
import Retell from 'retell-sdk';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, companies } from '../drizzle/schema';
import type { Principal } from '../lib/auth/tokens';
import { createMcpServer } from '../lib/mcp/server';
import { createApp } from '../apps/ingress/app';
import { ingressDeps } from '../apps/ingress/deps';
import { LIVE_FUNCTION_NAMES, liveFunction } from '../lib/live';
import { liveToolDefinitions } from '../lib/live/tools';
import { ProvisionError, provisionAgent, type ProvisionResult } from '../lib/sync/provision';
import { runSync } from '../lib/sync/run';
import { createRetellSim, startRetellSim, type RetellSim, type RunningRetellSim } from '../sim/retell';
import { runCli } from './helpers/cli';
import { createTestEnv, importTestTenants, type TestEnv } from './helpers/env';
import { CLINIC_NUMBER, SALON_NUMBER } from './helpers/fixtures';

const PUBLIC_URL = 'https://callbook.example.com';
const KEY = 'key_test_retell_global';
const ADMIN = 'admin-token-for-tests-0123456789';

const endCall = { type: 'end_call', name: 'end_call', description: 'Beende das Gespräch.' };
const weather = {
  type: 'custom',
  name: 'lookup_weather',
  description: 'Weather for small talk.',
  url: 'https://weather.example.com/now',
  headers: { 'x-api-key': 'w' },
  speak_during_execution: false,
  speak_after_execution: true,
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
};
/** An old hand-made check_availability: callbook's name, so provisioning brings it to callbook's definition. */
const oldCheck = {
  type: 'custom',
  name: 'check_availability',
  description: 'old',
  url: 'https://old.example.com/check',
  args_at_root: true,
  speak_during_execution: false,
  speak_after_execution: true,
  response_variables: { first: '$.slots[0]' },
  parameters: { type: 'object', properties: { date: { type: 'string' } } },
};

let env: TestEnv;
let sim: RetellSim;
let retell: RunningRetellSim;
let client: Retell;

function seed(s: RetellSim): void {
  s.addLlm({ llm_id: 'llm_salon', version: 0, is_published: true, general_prompt: 'Du bist die Assistenz von Salon Anna.', general_tools: [endCall, weather, oldCheck] });
  s.addAgent({
    agent_id: 'agent_salon',
    agent_name: 'Salon Anna',
    version: 0,
    is_published: true,
    language: 'de-DE',
    response_engine: { type: 'retell-llm', llm_id: 'llm_salon', version: 0 },
    webhook_url: 'https://old.example.com/hook',
    webhook_events: ['call_started', 'call_ended', 'transcript_updated'],
    post_call_analysis_data: [{ type: 'string', name: 'Customer Name', description: 'Name des Anrufers' }],
    voice_speed: 1.1,
  });
  s.addLlm({ llm_id: 'llm_clinic', general_prompt: 'You are Clinic Nord.' });
  s.addAgent({ agent_id: 'agent_clinic', agent_name: 'Clinic Nord', response_engine: { type: 'retell-llm', llm_id: 'llm_clinic' }, webhook_url: null });
  s.addAgent({ agent_id: 'agent_flow', agent_name: 'Flow', response_engine: { type: 'conversation-flow', conversation_flow_id: 'cf_1' } });
  s.addPhoneNumber({ phone_number: SALON_NUMBER, inbound_agents: [{ agent_id: 'agent_salon', weight: 1 }] });
  s.addPhoneNumber({ phone_number: CLINIC_NUMBER, inbound_agent_id: 'agent_clinic', inbound_webhook_url: 'https://someone.example.com/inbound' });
}

const patches = () => sim.requests().filter((r) => r.method === 'PATCH');

beforeAll(async () => {
  sim = createRetellSim({ apiKeys: [KEY] });
  seed(sim);
  retell = await startRetellSim(sim);
  client = new Retell({ apiKey: KEY, baseURL: retell.url, maxRetries: 0 });
  env = await createTestEnv({ RETELL_API_URL: retell.url, RETELL_API_KEY: KEY, PUBLIC_URL });
  await importTestTenants(env);
});

afterAll(async () => {
  await env?.cleanup();
  await retell?.close();
});

describe('agents provision', () => {
  let dry: ProvisionResult;
  let applied: ProvisionResult;

  it('a dry run shows the diff and changes nothing', async () => {
    dry = await provisionAgent(env.ctx, { agentId: 'agent_salon', dryRun: true, actor: 'test' });
    expect(dry.changed).toBe(true);
    expect(dry.language).toBe('de');
    const fields = dry.changes.map((c) => `${c.action} ${c.target} ${c.field}`);
    expect(fields).toEqual(
      expect.arrayContaining([
        'update llm general_tools[check_availability]',
        ...LIVE_FUNCTION_NAMES.filter((n) => n !== 'check_availability').map((n) => `add llm general_tools[${n}]`),
        'update agent webhook_url',
        'update agent webhook_events',
        'add agent post_call_analysis_data[booking_confirmed]',
        'add number inbound_webhook_url',
      ]),
    );
    // "Customer Name" already covers the name: no customer_name field is added.
    expect(fields).not.toContain('add agent post_call_analysis_data[customer_name]');
    // Only the company's numbers (Salon Anna, found from the agent's number).
    expect(dry.numbers).toEqual([SALON_NUMBER]);
    expect(patches()).toHaveLength(0);
    expect(sim.llmVersions('llm_salon')).toHaveLength(1);
    expect(sim.agentVersions('agent_salon')).toHaveLength(1);
  });

  it('puts every live function on the LLM with the route’s own schema, and leaves other tools alone', async () => {
    applied = await provisionAgent(env.ctx, { agentId: 'agent_salon', actor: 'test' });
    expect(applied.changes).toEqual(dry.changes);
    const llm = await client.llm.retrieve('llm_salon');
    const tools = (llm.general_tools ?? []) as unknown as Array<Record<string, unknown>>;
    expect(tools.map((t) => t.name)).toEqual(['end_call', 'lookup_weather', 'check_availability', ...LIVE_FUNCTION_NAMES.filter((n) => n !== 'check_availability')]);
    expect(tools[0]).toEqual(endCall);
    expect(tools[1]).toEqual(weather);
    for (const name of LIVE_FUNCTION_NAMES) {
      const tool = tools.find((t) => t.name === name)!;
      const { $schema: _s, ...routeSchema } = z.toJSONSchema(liveFunction(name)!.args as z.ZodType, { io: 'input' }) as Record<string, unknown>;
      expect(tool.parameters, name).toEqual(routeSchema);
      expect(tool).toMatchObject({ type: 'custom', url: `${PUBLIC_URL}/functions/retell/${name}`, method: 'POST', speak_after_execution: true });
      expect(tool.args_at_root, name).toBeUndefined();
      expect(typeof tool.speak_during_execution).toBe('boolean');
      expect(tool.timeout_ms as number).toBeGreaterThanOrEqual(1_000);
      expect(tool.timeout_ms as number).toBeLessThanOrEqual(15_000);
    }
    // The old hand-made tool keeps what callbook does not set (its response variable), nothing else of its own.
    const check = tools.find((t) => t.name === 'check_availability')!;
    expect(check.response_variables).toEqual(oldCheck.response_variables);
    expect(check.description).toMatch(/freie Termine/);
    expect(tools.find((t) => t.name === 'book_appointment')!.speak_during_execution).toBe(true);
    expect(tools.find((t) => t.name === 'list_services')!.speak_during_execution).toBe(false);
    // book_appointment's schema says what the route requires.
    expect((tools.find((t) => t.name === 'book_appointment')!.parameters as { required: string[] }).required).toEqual(['when']);
  });

  it('points the agent’s webhook at callbook, adds the analysis fields, and keeps other settings', async () => {
    const agent = await client.agent.retrieve('agent_salon');
    expect(agent.webhook_url).toBe(`${PUBLIC_URL}/webhooks/retell`);
    expect(agent.webhook_events).toEqual(['call_started', 'call_ended', 'transcript_updated', 'call_analyzed']);
    expect((agent.post_call_analysis_data ?? []).map((f) => [f.name, f.type])).toEqual([
      ['Customer Name', 'string'],
      ['booking_confirmed', 'boolean'],
      ['appointment_date', 'string'],
      ['appointment_time', 'string'],
      ['service', 'string'],
      ['customer_email', 'string'],
    ]);
    expect((agent as unknown as { voice_speed: number }).voice_speed).toBe(1.1);
    expect(agent.language).toBe('de-DE');
  });

  it('sets the inbound webhook on the company’s numbers only', async () => {
    expect((await client.phoneNumber.retrieve(SALON_NUMBER)).inbound_webhook_url).toBe(`${PUBLIC_URL}/webhooks/retell/inbound`);
    expect((await client.phoneNumber.retrieve(CLINIC_NUMBER)).inbound_webhook_url).toBe('https://someone.example.com/inbound');
  });

  it('reports that the published LLM and agent kept the change as drafts', async () => {
    expect(applied.drafts).toEqual([
      { target: 'llm', id: 'llm_salon', version: 1 },
      { target: 'agent', id: 'agent_salon', version: 1 },
    ]);
    expect(sim.llmVersions('llm_salon')[0]!.general_tools).toEqual([endCall, weather, oldCheck]);
    const [row] = await env.ctx.database.db.select().from(auditLog).where(and(eq(auditLog.action, 'agents.provision'), eq(auditLog.target, 'agent_salon')));
    expect(row).toBeDefined();
  });

  it('a second run changes nothing and says so', async () => {
    const before = patches().length;
    const again = await provisionAgent(env.ctx, { agentId: 'agent_salon', actor: 'test' });
    expect(again.changed).toBe(false);
    expect(again.changes).toEqual([]);
    expect(patches().length).toBe(before);
    const cli = await runCli({ ...env.vars }, 'agents', 'provision', 'agent_salon', '--dry-run');
    expect(cli.code, cli.err).toBe(0);
    expect(cli.out).toMatch(/already provisioned, nothing to change/);
  });

  it('refuses agents it cannot provision, saying why', async () => {
    await expect(provisionAgent(env.ctx, { agentId: 'agent_flow', actor: 'test' })).rejects.toThrow(/conversation-flow response engine/);
    await expect(provisionAgent(env.ctx, { agentId: 'agent_gone', actor: 'test' })).rejects.toThrow(ProvisionError);
    const cli = await runCli({ ...env.vars }, 'agents', 'provision', 'agent_gone');
    expect(cli.code).toBe(2);
    expect(cli.err).toMatch(/agent agent_gone not found/);
  });

  it('the simulator refuses a custom tool Retell would refuse', async () => {
    await expect(
      client.llm.update('llm_clinic', { general_tools: [{ type: 'custom', name: 'bad name', url: 'x', speak_after_execution: true, speak_during_execution: false }] as never }),
    ).rejects.toMatchObject({ status: 400 });
  });
});

describe('sync --fix', () => {
  it('provisions every agent sync reports, and the next sync has nothing to report for it', async () => {
    const report = await runSync(env.ctx, { kind: 'retell_agents' }, { fix: true, actor: 'test' });
    expect(report.fixed.map((f) => f.agentId)).toEqual(['agent_clinic']);
    // The conversation-flow agent has no LLM to carry tools: reported, and left for an operator.
    expect(report.errors).toEqual([{ part: 'fix', account: 'global', message: expect.stringMatching(/^agent agent_flow: .*conversation-flow/) }]);
    expect(report.agents.mismatches.map((m) => m.agentId)).toEqual(['agent_flow']);
    const clinicLlm = await client.llm.retrieve('llm_clinic');
    expect((clinicLlm.general_tools ?? []).map((t) => t.name)).toEqual([...LIVE_FUNCTION_NAMES]);
    // Clinic Nord speaks English: the tools do too, and its number gets the inbound webhook.
    expect((clinicLlm.general_tools as Array<{ description: string }>)[0]!.description).toMatch(/^Lists the services/);
    expect((await client.phoneNumber.retrieve(CLINIC_NUMBER)).inbound_webhook_url).toBe(`${PUBLIC_URL}/webhooks/retell/inbound`);
    const next = await runSync(env.ctx, { kind: 'retell_agents' });
    expect(next.agents.mismatches.filter((m) => m.agentId === 'agent_clinic' || m.agentId === 'agent_salon')).toEqual([]);
  });
});

describe('GET /functions/retell', () => {
  it('returns the tool definitions to the admin and nobody else', async () => {
    const app = createApp(ingressDeps(env.ctx));
    expect((await app.request('/functions/retell')).status).toBe(401);
    expect((await app.request('/functions/retell', { headers: { authorization: 'Bearer nope-nope-nope-nope' } })).status).toBe(401);
    const res = await app.request('/functions/retell?lang=de', { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { tools: unknown[] };
    expect(body.tools).toEqual(liveToolDefinitions(PUBLIC_URL, 'de'));
    expect(body.tools).toHaveLength(LIVE_FUNCTION_NAMES.length);
  });
});

describe('MCP agent_provision', () => {
  async function mcp(principal: Principal): Promise<Client> {
    const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
    await createMcpServer(env.ctx, principal).connect(serverSide);
    const client = new Client({ name: 'provision-test', version: '1.0.0' });
    await client.connect(clientSide);
    return client;
  }
  const scoped = async (slug: string): Promise<Principal> => {
    const [c] = await env.ctx.database.db.select().from(companies).where(eq(companies.slug, slug));
    return { kind: 'scoped', tokenId: 1, companyId: c!.id, branchId: null, name: slug };
  };

  it("lets the company owning the agent's numbers provision it (dry run here), and nobody else", async () => {
    const salon = await mcp(await scoped('salon-anna'));
    const own = (await salon.callTool({ name: 'agent_provision', arguments: { agentId: 'agent_salon', dryRun: true } })) as CallToolResult;
    expect(own.isError, JSON.stringify(own.content)).toBeFalsy();
    expect(own.structuredContent).toMatchObject({ agentId: 'agent_salon', changed: false, note: 'already provisioned: nothing to change' });
    // Clinic Nord's agent is not Salon Anna's business: "not found", as for an agent that does not exist.
    await expect(salon.callTool({ name: 'agent_provision', arguments: { agentId: 'agent_clinic', dryRun: true } })).rejects.toThrow(/not bound to a number of your company/);
    const admin = await mcp({ kind: 'admin' });
    const any = (await admin.callTool({ name: 'agent_provision', arguments: { agentId: 'agent_clinic', dryRun: true } })) as CallToolResult;
    expect(any.isError, JSON.stringify(any.content)).toBeFalsy();
    const fix = (await (await mcp(await scoped('clinic-nord'))).callTool({ name: 'webhook_config_fix', arguments: {} })) as CallToolResult;
    expect(fix.isError, JSON.stringify(fix.content)).toBeFalsy();
    expect(fix.structuredContent).toEqual({ fixed: [], errors: [] });
  });
});
