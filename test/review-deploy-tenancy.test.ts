/**
 * What a review of issues 13, 14 and 16 found, kept as regression tests: a branch token
 * provisioning another branch's agent, a company token changing a shared LLM, counters going
 * backwards when scrapes land on different web processes, a stale breaker gauge, compose not
 * passing .env on, relative dates read from processing time, process labels reused by a container
 * restarted in place. Real MariaDB and Redis (test prefix), the Retell simulator through retell-sdk.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { branches, companies } from '../drizzle/schema';
import type { Principal } from '../lib/auth/tokens';
import { webhookTotal } from '../lib/metrics';
import { publishOnce } from '../lib/metrics/publish';
import { renderAll } from '../lib/metrics/scrape';
import { createMcpServer } from '../lib/mcp/server';
import { createRetellSim, startRetellSim, type RetellSim, type RunningRetellSim } from '../sim/retell';
import { createTestEnv, importTestTenants, type TestEnv } from './helpers/env';
import { CLINIC_NUMBER, SALON_NUMBER, callId as newCallId, retellEvent, twoCompanies } from './helpers/fixtures';
import { processRetellWebhook } from '../lib/calls/process-retell-webhook';
import { retellWebhookJob } from '../lib/calls/enqueue-webhook';
import type { RetellCall } from '../lib/retell/webhook';
import { calls } from '../drizzle/schema';
import { thisProcess } from '../lib/metrics/publish';
import { exportBreakerState, serviceBreaker } from '../lib/resilience/service-breakers';

const PUBLIC_URL = 'https://callbook.example.com';
const KEY = 'key_test_retell_global';
const WEST_NUMBER = '+4930999999';

let env: TestEnv;
let sim: RetellSim;
let retell: RunningRetellSim;

/** twoCompanies() with a second Salon Anna branch (West), which has its own agent. */
function tenants() {
  const file = twoCompanies();
  file.companies[0]!.branches.push({ ...file.companies[0]!.branches[0]!, slug: 'west', name: 'Salon Anna West', phoneNumbers: [WEST_NUMBER] });
  return file;
}

beforeAll(async () => {
  sim = createRetellSim({ apiKeys: [KEY] });
  // Mitte and West of Salon Anna each have their own agent; Clinic Nord's agent SHARES the LLM of
  // Salon Anna Mitte's agent (Retell lets any number of agents use one LLM; the shared account is
  // the operator's, so nothing stops this).
  sim.addLlm({ llm_id: 'llm_shared', general_prompt: 'shared', general_tools: [] });
  sim.addLlm({ llm_id: 'llm_west', general_prompt: 'west', general_tools: [] });
  sim.addAgent({ agent_id: 'agent_mitte', agent_name: 'Mitte', language: 'de-DE', response_engine: { type: 'retell-llm', llm_id: 'llm_shared' }, webhook_url: null });
  sim.addAgent({ agent_id: 'agent_west', agent_name: 'West', language: 'de-DE', response_engine: { type: 'retell-llm', llm_id: 'llm_west' }, webhook_url: 'https://west-own.example.com/hook' });
  sim.addAgent({ agent_id: 'agent_clinic', agent_name: 'Clinic', language: 'en-US', response_engine: { type: 'retell-llm', llm_id: 'llm_shared' }, webhook_url: null });
  sim.addPhoneNumber({ phone_number: SALON_NUMBER, inbound_agent_id: 'agent_mitte' });
  sim.addPhoneNumber({ phone_number: WEST_NUMBER, inbound_agent_id: 'agent_west', inbound_webhook_url: 'https://west-own.example.com/inbound' });
  sim.addPhoneNumber({ phone_number: CLINIC_NUMBER, inbound_agent_id: 'agent_clinic' });
  retell = await startRetellSim(sim);
  env = await createTestEnv({ RETELL_API_URL: retell.url, RETELL_API_KEY: KEY, PUBLIC_URL });
  await importTestTenants(env, tenants());
});

afterAll(async () => {
  await env?.cleanup();
  await retell?.close();
});

async function mcp(principal: Principal): Promise<Client> {
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer(env.ctx, principal).connect(serverSide);
  const client = new Client({ name: 'review2-poc', version: '1.0.0' });
  await client.connect(clientSide);
  return client;
}

async function principal(company: string, branch?: string): Promise<Principal> {
  const db = env.ctx.database.db;
  const [c] = await db.select().from(companies).where(eq(companies.slug, company));
  const [b] = branch ? await db.select().from(branches).where(eq(branches.slug, branch)) : [];
  return { kind: 'scoped', tokenId: 1, companyId: c!.id, branchId: b ? b.id : null, name: `${company}/${branch ?? '*'}` };
}

describe('a branch token cannot provision', () => {
  it("agent_provision and webhook_config_fix are refused for a branch token; West's agent and number are untouched", async () => {
    const before = sim.requests().length;
    const mitte = await mcp(await principal('salon-anna', 'mitte'));
    for (const [name, args] of [['agent_provision', { agentId: 'agent_west' }], ['webhook_config_fix', {}]] as const) {
      const r = (await mitte.callTool({ name, arguments: args }).catch((err: Error) => ({ isError: true, content: [{ type: 'text', text: err.message }] }))) as CallToolResult;
      expect(r.isError, name).toBe(true);
      expect(JSON.stringify(r.content), name).toContain('branch token');
    }
    expect(sim.requests().slice(before).filter((q) => q.method === 'PATCH')).toEqual([]);
  });
});

describe('a company token and a shared LLM', () => {
  it("Salon Anna's token cannot provision agent_mitte, whose LLM Clinic Nord's agent also runs on", async () => {
    const before = sim.requests().length;
    const salon = await mcp(await principal('salon-anna'));
    await expect(salon.callTool({ name: 'agent_provision', arguments: { agentId: 'agent_mitte' } })).rejects.toThrow('shared with agent_clinic: only the admin token may provision it');
    expect(sim.requests().slice(before).filter((q) => q.method === 'PATCH')).toEqual([]);
  });
});

describe('metrics scraped through different web processes', () => {
  it("a counter never goes backwards: web A publishes what it serves, web B serves at least that", async () => {
    const ns = `${env.ctx.ns}poc-metrics:`;
    const A = { id: 'web-a:1', type: 'web' };
    const B = { id: 'web-b:2', type: 'web' };
    webhookTotal.inc({ status: 'accepted' }, 5);
    // Both web processes publish (every METRICS_PUBLISH_INTERVAL_MS) …
    await publishOnce(env.ctx.redis, ns, A);
    await publishOnce(env.ctx.redis, ns, B);
    // … then web A accepts more webhooks before its next publish.
    webhookTotal.inc({ status: 'accepted' }, 10);
    const value = (body: string, proc: string) => {
      const line = body.split('\n').find((l) => l.startsWith('mcp_webhook_total{') && l.includes('status="accepted"') && l.includes(`process="${proc}"`));
      return Number(line!.split(' ').pop());
    };
    const viaA = await renderAll({ redis: env.ctx.redis, ns, self: A, cacheMs: 0 });
    const viaB = await renderAll({ redis: env.ctx.redis, ns, self: B, cacheMs: 0 });
    // Scrape 1 lands on A, scrape 2 on B (one target behind the load balancer): the same value.
    expect(value(viaA.body, A.id)).toBeGreaterThanOrEqual(15);
    expect(value(viaB.body, A.id)).toBe(value(viaA.body, A.id));
    await env.ctx.redis.del(`${ns}metrics:procs`, `${ns}metrics:proc:${A.id}`, `${ns}metrics:proc:${B.id}`);
  });
});

describe('compose passes .env on', () => {
  it('every service of the app has env_file: .env, so TRUST_PROXY, BLIND_INDEX_KEY, RATE_LIMIT_* … reach the processes', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, { image?: string; env_file?: unknown }> };
    const app = Object.entries(compose.services).filter(([name]) => ['web', 'webhooks', 'bookings', 'sync', 'notifications', 'default'].includes(name));
    expect(app.length).toBeGreaterThan(1);
    for (const [name, svc] of app) expect([svc.env_file].flat(), name).toContain('.env');
  });
});

describe('a call fed late (reconcile, replay)', () => {
  it('reads "morgen 10:00" from when the call was made: two days late, it is booked the day after the call', async () => {
    const id = newCallId();
    const payload = retellEvent('call_analyzed', {
      callId: id,
      analysis: { booking_confirmed: true, appointment_date: 'morgen', appointment_time: '10:00', service: 'Haircut', customer_name: 'Anna' },
    });
    const call = payload.call as Record<string, number>;
    const DAY = 86_400_000;
    // What reconcile (RECONCILE_MAX_WINDOW_MS = 3 days) or `calls replay` would feed after an outage.
    call.start_timestamp = Date.now() - 2 * DAY - 120_000;
    call.end_timestamp = Date.now() - 2 * DAY;
    const { data } = retellWebhookJob(env.ctx.cipher, 'call_analyzed', call as unknown as RetellCall);
    const out = await processRetellWebhook({ db: env.ctx.database.db, cache: env.ctx.cache, cipher: env.ctx.cipher, bookingsQueue: env.ctx.queues.bookings, logger: env.ctx.logger }, data);
    expect(out.status, JSON.stringify(out)).toBe('processed');
    const [row] = await env.ctx.database.db.select({ request: calls.bookingRequest }).from(calls).where(eq(calls.retellCallId, id));
    // The caller meant the day after the call — which is now in the past, so no booking: decided
    // with the reason, not booked on the wrong day.
    expect(row!.request).toBeNull();
    const [decided] = await env.ctx.database.db.select({ decision: calls.bookingDecision, reason: calls.bookingReason }).from(calls).where(eq(calls.retellCallId, id));
    expect(decided).toMatchObject({ decision: 'no_booking', reason: expect.stringContaining('in the past') });
    await env.ctx.queues.bookings.obliterate({ force: true }).catch(() => undefined);
  });
});

describe('process labels', () => {
  it('carry a boot id: a container restarted in place (same host name, pid 1) starts new series', () => {
    expect(thisProcess('bookings').id).toBe(thisProcess('bookings').id);
    expect(thisProcess('bookings').id).toMatch(/^[^:]+:\d+:[0-9a-f]{6}$/);
  });
});

describe('breaker state across web processes', () => {
  it("after the breaker closed, a scrape through web B shows it closed; web A's stale OPEN is not served", async () => {
    const ns = `${env.ctx.ns}poc-breaker:`;
    const A = { id: 'web-a:1', type: 'web' };
    const B = { id: 'web-b:2', type: 'web' };
    const breaker = serviceBreaker('calcom', { redis: env.ctx.redis, ns: env.ctx.ns, logger: env.ctx.logger });
    for (let i = 0; i < 10; i++) await breaker.failure(false);
    expect((await breaker.status()).state).toBe('OPEN');
    const scrape = (self: typeof A) => renderAll({ redis: env.ctx.redis, ns, self, cacheMs: 0, beforeScrape: () => exportBreakerState(breaker) });
    await scrape(A); // Prometheus' scrape lands on A while the breaker is open
    await publishOnce(env.ctx.redis, ns, A); // A keeps publishing what its registry holds: 2
    await breaker.reset(); // Cal.com recovered
    const viaB = await scrape(B);
    const lines = viaB.body.split('\n').filter((l) => l.startsWith('mcp_circuit_breaker_state{') && l.includes('service="calcom"'));
    expect(lines.filter((l) => l.includes(`process="${A.id}"`))).toEqual([]);
    expect(lines.map((l) => Number(l.split(' ').pop()))).toEqual([0]);
    await env.ctx.redis.del(`${ns}metrics:procs`, `${ns}metrics:proc:${A.id}`);
  });
});
