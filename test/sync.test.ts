/**
 * The sync queue against real MariaDB and Redis, the Retell simulator (two Retell accounts — the
 * global key and Clinic Nord's own key — behind one base URL, routed by API key, as Retell does)
 * and the Cal.com simulator, all over real HTTP through the official clients.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { and, desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auditLog, companies, phoneNumbers, retellPhoneNumbers, syncRuns } from '../drizzle/schema';
import type { AppContext } from '../lib/context';
import { serviceBreaker } from '../lib/resilience/service-breakers';
import { createRetellClient, isRetellNotFound, isRetellServiceFailure } from '../lib/retell/client';
import { InternalServerError, NotFoundError, UnprocessableEntityError, APIConnectionTimeoutError } from 'retell-sdk';
import { UNMAPPED_HINT } from '../lib/sync/phone-numbers';
import { runSync, type SyncReport } from '../lib/sync/run';
import { AgentPromptError, updateAgentPrompt } from '../lib/sync/update-prompt';
import { SYNC_SCHEDULER_ID, scheduleSync, syncHandler } from '../workers/sync';
import { createRetellSim, type RetellSim } from '../sim/retell';
import { startSimTestEnv, stopSimTestEnv, type SeededSim } from './helpers/calcom';
import type { TestEnv } from './helpers/env';
import { CLINIC_NUMBER, SALON_NUMBER, twoCompanies } from './helpers/fixtures';

const PUBLIC_URL = 'https://callbook.example.com';
const GLOBAL_KEY = 'key_test_retell_global';
const CLINIC_RETELL_KEY = 'key_test_retell_clinic';
/** Mapped to Salon Anna locally, but sitting in Clinic Nord's Retell account. */
const SALON_NUMBER_2 = '+4930111112';
const UNMAPPED_GLOBAL = '+4930999999';
const UNMAPPED_CLINIC = '+4940333333';

let env: TestEnv;
let calcom: SeededSim;
let retellUrl: string;
let retellServer: Server;
let globalSim: RetellSim;
let clinicSim: RetellSim;
let salonId: number;
let clinicId: number;

function seedGlobal(sim: RetellSim): void {
  sim.addLlm({ llm_id: 'llm_good', general_prompt: 'Du bist die Assistenz von Salon Anna.', version: 0, is_published: true });
  sim.addLlm({ llm_id: 'llm_wrong', general_prompt: 'old' });
  sim.addLlm({ llm_id: 'llm_noan', general_prompt: 'old' });
  sim.addAgent({
    agent_id: 'agent_good',
    agent_name: 'Salon Anna',
    version: 0,
    is_published: true,
    response_engine: { type: 'retell-llm', llm_id: 'llm_good', version: 0 },
    webhook_url: `${PUBLIC_URL}/webhooks/retell`,
    webhook_events: ['call_started', 'call_ended', 'call_analyzed', 'transcript_updated'],
    webhook_timeout_ms: 10_000,
  });
  sim.addAgent({
    agent_id: 'agent_wrong_url',
    agent_name: 'Old setup',
    response_engine: { type: 'retell-llm', llm_id: 'llm_wrong' },
    webhook_url: 'https://old.example.com/hook',
  });
  sim.addAgent({
    agent_id: 'agent_no_analyzed',
    agent_name: 'Half subscribed',
    response_engine: { type: 'retell-llm', llm_id: 'llm_noan' },
    webhook_url: `${PUBLIC_URL}/api/mcp/retell/webhook`,
    webhook_events: ['call_started', 'call_ended'],
  });
  sim.addAgent({
    agent_id: 'agent_flow',
    agent_name: 'Flow agent',
    response_engine: { type: 'conversation-flow', conversation_flow_id: 'cf_1' },
    webhook_url: `${PUBLIC_URL}/webhooks/retell`,
  });
  // The newer shape, mapped locally.
  sim.addPhoneNumber({
    phone_number: SALON_NUMBER,
    nickname: 'Salon Anna Mitte',
    inbound_agents: [{ agent_id: 'agent_good', agent_version: 0, weight: 1 }],
    outbound_agents: [{ agent_id: 'agent_good', weight: 1 }],
    inbound_webhook_url: `${PUBLIC_URL}/retell/inbound`,
    last_modification_timestamp: Date.parse('2026-01-02T03:04:05.678Z'),
  });
  // The older shape, unknown locally.
  sim.addPhoneNumber({ phone_number: UNMAPPED_GLOBAL, nickname: 'Spare line', inbound_agent_id: 'agent_wrong_url', outbound_agent_id: null });
}

function seedClinic(sim: RetellSim): void {
  sim.addLlm({ llm_id: 'llm_clinic', general_prompt: 'You are the Clinic Nord assistant.' });
  sim.addAgent({
    agent_id: 'agent_clinic',
    agent_name: 'Clinic Nord',
    response_engine: { type: 'retell-llm', llm_id: 'llm_clinic' },
    webhook_url: `${PUBLIC_URL}/webhooks/retell`,
    // webhook_events unset: Retell's default, the three we need.
  });
  // The older shape, mapped locally to this company.
  sim.addPhoneNumber({ phone_number: CLINIC_NUMBER, nickname: 'Clinic front desk', inbound_agent_id: 'agent_clinic', inbound_agent_version: 0 });
  // Mapped locally to the other company.
  sim.addPhoneNumber({ phone_number: SALON_NUMBER_2, nickname: 'Borrowed', inbound_agents: [{ agent_id: 'agent_clinic', weight: 1 }] });
  // Bound to an agent that no longer exists.
  sim.addPhoneNumber({ phone_number: UNMAPPED_CLINIC, inbound_agents: [{ agent_id: 'agent_deleted', weight: 1 }] });
}

/** One base URL for both accounts: the request goes to the simulator of its API key. */
async function startRetellAccounts(): Promise<void> {
  globalSim = createRetellSim({ apiKeys: [GLOBAL_KEY] });
  clinicSim = createRetellSim({ apiKeys: [CLINIC_RETELL_KEY] });
  seedGlobal(globalSim);
  seedClinic(clinicSim);
  retellServer = serve({
    fetch: (req: Request) => {
      const key = req.headers.get('authorization')?.replace(/^Bearer\s+/i, '').trim();
      return (key === CLINIC_RETELL_KEY ? clinicSim : globalSim).app.fetch(req);
    },
    port: 0,
    hostname: '127.0.0.1',
    overrideGlobalObjects: false,
  }) as Server;
  await new Promise<void>((resolve) => (retellServer.listening ? resolve() : retellServer.once('listening', () => resolve())));
  retellUrl = `http://127.0.0.1:${(retellServer.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  await startRetellAccounts();
  const tenants = twoCompanies();
  tenants.companies[0]!.branches[0]!.phoneNumbers.push(SALON_NUMBER_2);
  tenants.companies[1]!.retellApiKey = CLINIC_RETELL_KEY;
  ({ sim: calcom, env } = await startSimTestEnv({ RETELL_API_URL: retellUrl, PUBLIC_URL, RETELL_API_KEY: GLOBAL_KEY }, tenants));
  const rows = await env.ctx.database.db.select({ id: companies.id, slug: companies.slug }).from(companies);
  salonId = rows.find((r) => r.slug === 'salon-anna')!.id;
  clinicId = rows.find((r) => r.slug === 'clinic-nord')!.id;
  // A service whose event type vanishes from Cal.com.
  calcom.sim.removeEventType(1002);
});

afterAll(async () => {
  await stopSimTestEnv({ env, sim: calcom });
  await new Promise<void>((resolve) => {
    retellServer.close(() => resolve());
    retellServer.closeAllConnections();
  });
});

beforeEach(async () => {
  globalSim.setFault(null);
  clinicSim.setFault(null);
  await serviceBreaker('retell', { redis: env.ctx.redis, ns: env.ctx.ns, logger: env.ctx.logger }).reset();
});

const db = () => env.ctx.database.db;

async function mapping(e164: string) {
  const [row] = await db().select().from(phoneNumbers).where(eq(phoneNumbers.e164, e164));
  return row!;
}

const byKey = <T extends { agentId: string; problem: string }>(list: T[]) =>
  [...list].sort((a, b) => (a.agentId + a.problem).localeCompare(b.agentId + b.problem));

describe('runSync (full)', () => {
  let report: SyncReport;
  let before: { salon: Awaited<ReturnType<typeof mapping>>; salon2: Awaited<ReturnType<typeof mapping>>; clinic: Awaited<ReturnType<typeof mapping>> };

  beforeAll(async () => {
    before = { salon: await mapping(SALON_NUMBER), salon2: await mapping(SALON_NUMBER_2), clinic: await mapping(CLINIC_NUMBER) };
    // Page size 1: every list call has to follow the pagination keys to see everything.
    report = await runSync(env.ctx, { kind: 'full' }, { pageSize: 1 });
  });

  it('imports every number of both accounts into the inventory, from both agent shapes', async () => {
    const rows = await db().select().from(retellPhoneNumbers).orderBy(retellPhoneNumbers.e164);
    expect(rows.map((r) => [r.e164, r.companyId, r.inboundAgentIds, r.outboundAgentIds, r.nickname])).toEqual([
      [SALON_NUMBER, null, ['agent_good'], ['agent_good'], 'Salon Anna Mitte'],
      [SALON_NUMBER_2, clinicId, ['agent_clinic'], [], 'Borrowed'],
      [UNMAPPED_GLOBAL, null, ['agent_wrong_url'], [], 'Spare line'],
      [CLINIC_NUMBER, clinicId, ['agent_clinic'], [], 'Clinic front desk'],
      [UNMAPPED_CLINIC, clinicId, ['agent_deleted'], [], null],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
    const salon = rows.find((r) => r.e164 === SALON_NUMBER)!;
    expect(salon.inboundWebhookUrl).toBe(`${PUBLIC_URL}/retell/inbound`);
    expect(salon.lastModifiedAt?.toISOString()).toBe('2026-01-02T03:04:05.678Z');
    expect(salon.syncedAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(report.numbers.imported).toBe(5);
    expect(report.accounts).toEqual(['global', 'clinic-nord']);
    const pages = clinicSim.requests().filter((r) => r.path === '/v2/list-phone-numbers');
    expect(pages.length).toBe(3);
    expect(pages.slice(1).every((r) => typeof r.query?.pagination_key === 'string')).toBe(true);
  });

  it('updates agent and nickname on local mappings but never their company or branch', async () => {
    const salon = await mapping(SALON_NUMBER);
    expect([salon.companyId, salon.branchId]).toEqual([before.salon.companyId, before.salon.branchId]);
    expect(salon.companyId).toBe(salonId);
    expect([salon.retellAgentId, salon.nickname]).toEqual(['agent_good', 'Salon Anna Mitte']);
    const clinic = await mapping(CLINIC_NUMBER);
    expect([clinic.companyId, clinic.branchId]).toEqual([before.clinic.companyId, before.clinic.branchId]);
    expect([clinic.retellAgentId, clinic.nickname]).toEqual(['agent_clinic', 'Clinic front desk']);
    expect(report.numbers.updatedMappings).toBe(2);
  });

  it("leaves a number mapped to one company alone when another company's account lists it", async () => {
    const salon2 = await mapping(SALON_NUMBER_2);
    expect(salon2).toEqual(before.salon2);
    expect(report.numbers.conflicts).toEqual([
      expect.objectContaining({ e164: SALON_NUMBER_2, account: 'clinic-nord', mappedTo: 'salon-anna' }),
    ]);
  });

  it('reports numbers no branch maps', () => {
    expect([...report.numbers.unmapped].sort((a, b) => a.e164.localeCompare(b.e164))).toEqual([
      { e164: UNMAPPED_GLOBAL, account: 'global', nickname: 'Spare line', inboundAgentIds: ['agent_wrong_url'], problem: UNMAPPED_HINT },
      { e164: UNMAPPED_CLINIC, account: 'clinic-nord', nickname: null, inboundAgentIds: ['agent_deleted'], problem: UNMAPPED_HINT },
    ]);
  });

  it('reports exactly the webhook mismatches and the missing agent', () => {
    expect(report.agents.count).toBe(5);
    expect(byKey(report.agents.mismatches)).toEqual(
      byKey([
        {
          agentId: 'agent_wrong_url',
          agentName: 'Old setup',
          account: 'global',
          problem: 'webhook_url does not point at callbook',
          expected: `${PUBLIC_URL}/webhooks/retell`,
          actual: 'https://old.example.com/hook',
        },
        {
          agentId: 'agent_no_analyzed',
          agentName: 'Half subscribed',
          account: 'global',
          problem: 'webhook_events lacks call_analyzed',
          expected: 'call_started, call_ended, call_analyzed',
          actual: 'call_started, call_ended',
        },
        {
          agentId: 'agent_deleted',
          agentName: null,
          account: 'clinic-nord',
          problem: `inbound agent of ${UNMAPPED_CLINIC} not found in the Retell account`,
          expected: 'an existing agent',
          actual: null,
        },
      ]),
    );
  });

  it('caches each account’s agents in Redis for 10 minutes', async () => {
    const key = `${env.ctx.ns}mcp:retell:agents:global`;
    const cached = JSON.parse((await env.ctx.redis.get(key))!) as { v: Array<{ agentId: string; responseEngine: { llmId: string | null }; webhookEvents: string[] | null }> };
    expect(cached.v.map((a) => a.agentId).sort()).toEqual(['agent_flow', 'agent_good', 'agent_no_analyzed', 'agent_wrong_url']);
    expect(cached.v.find((a) => a.agentId === 'agent_good')!.responseEngine.llmId).toBe('llm_good');
    const ttl = await env.ctx.redis.pttl(key);
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(600_000);
    const clinic = JSON.parse((await env.ctx.redis.get(`${env.ctx.ns}mcp:retell:agents:${clinicId}`))!) as { v: Array<{ agentId: string; webhookEvents: unknown }> };
    expect(clinic.v).toEqual([expect.objectContaining({ agentId: 'agent_clinic', webhookEvents: null })]);
  });

  it('reports a service whose Cal.com event type vanished', () => {
    expect(report.eventTypes.checked).toBe(3);
    expect(report.eventTypes.problems).toEqual([
      {
        companyId: salonId,
        company: 'salon-anna',
        service: 'coloring',
        eventTypeId: 1002,
        teamId: null,
        problem: "event type 1002 (service coloring) does not exist in the company's Cal.com account",
      },
    ]);
  });

  it('records the run in sync_runs with status problems and the report', async () => {
    expect(report.status).toBe('problems');
    expect(report.errors).toEqual([]);
    const [run] = await db().select().from(syncRuns).where(eq(syncRuns.id, report.runId));
    expect(run!.status).toBe('problems');
    expect(run!.finishedAt).not.toBeNull();
    expect(run!.report).toEqual(JSON.parse(JSON.stringify(report)));
  });

  it('is idempotent: a second run changes no mapping', async () => {
    const again = await runSync(env.ctx, { kind: 'retell_numbers' });
    expect(again.numbers.imported).toBe(5);
    expect(again.numbers.updatedMappings).toBe(0);
    expect(await db().select().from(retellPhoneNumbers)).toHaveLength(5);
  });
});

describe('runSync when Retell fails', () => {
  it("puts one account's 500 in the report and still runs the other account and Cal.com", async () => {
    globalSim.setFault({ status: 500 });
    const report = await runSync(env.ctx, { kind: 'full' });
    expect(report.errors).toEqual([
      { part: 'numbers', account: 'global', message: 'Retell answered 500: An unexpected server error occurred.' },
      { part: 'agents', account: 'global', message: "skipped: the account's phone numbers failed" },
    ]);
    expect(report.numbers.imported).toBe(3); // the clinic account's
    expect(report.agents.count).toBe(1);
    expect(report.eventTypes.checked).toBe(3);
    expect(report.eventTypes.problems).toHaveLength(1);
    expect(report.status).toBe('problems');
    const [run] = await db().select().from(syncRuns).where(eq(syncRuns.id, report.runId));
    expect(run!.status).toBe('problems');
  });

  it('is failed when nothing could be checked, and the handler throws so BullMQ retries', async () => {
    globalSim.setFault({ status: 503 });
    clinicSim.setFault({ status: 503 });
    const handler = syncHandler(env.ctx);
    const job = { id: 'j1', data: { kind: 'retell_agents' } } as unknown as Parameters<typeof handler>[0];
    await expect(handler(job, new AbortController().signal)).rejects.toThrow(/sync run \d+ failed: agents \(global\): Retell answered 503/);
    const [last] = await db().select().from(syncRuns).orderBy(desc(syncRuns.id)).limit(1);
    expect(last!.status).toBe('failed');
  });

  it('says it cannot check webhook URLs without PUBLIC_URL', async () => {
    const ctx: AppContext = { ...env.ctx, config: { ...env.ctx.config, PUBLIC_URL: undefined } };
    const report = await runSync(ctx, { kind: 'retell_agents', companyId: clinicId });
    expect(report.accounts).toEqual(['clinic-nord']);
    expect(report.agents.mismatches).toContainEqual({
      agentId: 'agent_clinic',
      agentName: 'Clinic Nord',
      account: 'clinic-nord',
      problem: 'cannot check webhook_url: set PUBLIC_URL',
      expected: null,
      actual: `${PUBLIC_URL}/webhooks/retell`,
    });
  });

  it('the handler completes a run with problems and returns its summary', async () => {
    const handler = syncHandler(env.ctx);
    const job = { id: 'j2', data: { kind: 'calcom_event_types', companyId: salonId } } as unknown as Parameters<typeof handler>[0];
    await expect(handler(job, new AbortController().signal)).resolves.toMatchObject({ status: 'problems', eventTypeProblems: 1, errors: 0 });
  });
});

describe('updateAgentPrompt', () => {
  it("changes the agent's LLM prompt and writes an audit row", async () => {
    const prompt = 'Du bist die Telefonassistenz von Salon Anna. Buche Termine freundlich.';
    const result = await updateAgentPrompt(env.ctx, { agentId: 'agent_good', prompt, actor: 'cli:test' });
    expect(result).toMatchObject({ agentId: 'agent_good', llmId: 'llm_good' });
    // llm_good v0 is published (frozen): the change lands in a new draft.
    expect(result.version).toBe(1);
    expect(result.published).toBe(false);
    const llm = await createRetellClient(GLOBAL_KEY, retellUrl).llm.retrieve('llm_good');
    expect(llm.general_prompt).toBe(prompt);
    const [row] = await db().select().from(auditLog).where(and(eq(auditLog.action, 'agents.update_prompt'), eq(auditLog.target, 'agent_good')));
    expect(row).toMatchObject({ actor: 'cli:test', companyId: null });
    expect(row!.details).toMatchObject({ llmId: 'llm_good', version: 1, account: 'global', promptChars: prompt.length });
  });

  it("uses the company's own Retell account", async () => {
    const result = await updateAgentPrompt(env.ctx, { companyId: clinicId, agentId: 'agent_clinic', prompt: 'New clinic prompt.', actor: 'cli:test' });
    expect(result.llmId).toBe('llm_clinic');
    expect(clinicSim.llms().find((l) => l.llm_id === 'llm_clinic')!.general_prompt).toBe('New clinic prompt.');
    const [row] = await db().select().from(auditLog).where(eq(auditLog.target, 'agent_clinic'));
    expect(row!.companyId).toBe(clinicId);
  });

  it('refuses agents without a Retell LLM, and unknown agents, clearly', async () => {
    await expect(updateAgentPrompt(env.ctx, { agentId: 'agent_flow', prompt: 'x', actor: 'cli:test' })).rejects.toThrow(
      new AgentPromptError('agent agent_flow uses a conversation-flow response engine; only agents on a Retell LLM (retell-llm) have a prompt callbook can change'),
    );
    await expect(updateAgentPrompt(env.ctx, { agentId: 'agent_nope', prompt: 'x', actor: 'cli:test' })).rejects.toThrow(
      'agent agent_nope not found in the global Retell account',
    );
    expect(await db().select().from(auditLog).where(eq(auditLog.target, 'agent_flow'))).toEqual([]);
  });
});

describe('Retell error classes', () => {
  it('reads 404 and 422 as not found, 5xx and timeouts as service failures', () => {
    const h = new Headers();
    expect(isRetellNotFound(new NotFoundError(404, {}, 'x', h))).toBe(true);
    expect(isRetellNotFound(new UnprocessableEntityError(422, {}, 'x', h))).toBe(true);
    expect(isRetellServiceFailure(new UnprocessableEntityError(422, {}, 'x', h))).toBe(false);
    expect(isRetellServiceFailure(new InternalServerError(502, {}, 'x', h))).toBe(true);
    expect(isRetellServiceFailure(new APIConnectionTimeoutError())).toBe(true);
  });
});

describe('scheduleSync', () => {
  it('leaves exactly one scheduler however often it is called', async () => {
    await scheduleSync(env.ctx);
    await scheduleSync(env.ctx);
    let schedulers = await env.ctx.queues.sync.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: SYNC_SCHEDULER_ID, every: 600_000, name: 'sync' });
    // A new interval updates the one scheduler rather than adding another.
    await scheduleSync({ ...env.ctx, config: { ...env.ctx.config, SYNC_INTERVAL_MS: 120_000 } });
    schedulers = await env.ctx.queues.sync.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]!.every).toBe(120_000);
    expect(schedulers[0]!.template?.data).toEqual({ kind: 'full' });
  });
});
