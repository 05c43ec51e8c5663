/**
 * The MCP server at /mcp through the SDK's own Client and Streamable HTTP transport, over real
 * HTTP against real MariaDB and Redis, the Cal.com simulator and the Retell simulator: every tool
 * for the admin, and what company and branch tokens may and may not see; the tokens CLI in-process.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { UnrecoverableError, Worker } from 'bullmq';
import { Command } from 'commander';
import { and, eq, like } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerTokens } from '../apps/cli/commands/tokens';
import { createApp } from '../apps/ingress/app';
import { ingressDeps } from '../apps/ingress/deps';
import { mountMcp } from '../apps/ingress/routes/mcp';
import { AuthGate, LoginThrottle } from '../lib/auth/bearer';
import { listen, type RunningServer } from '../apps/ingress/server';
import { apiTokens, auditLog, branches, calls, companies, phoneNumbers, syncRuns } from '../drizzle/schema';
import { createToken, revokeToken } from '../lib/auth/tokens';
import { upsertCall, upsertCustomer } from '../lib/calls/record-call';
import type { AppContext } from '../lib/context';
import { ERROR_CODES } from '../lib/mcp/errors';
import { bullPrefix, type BookingJob } from '../lib/queues';
import { createRedis } from '../lib/redis';
import { serviceBreaker } from '../lib/resilience/service-breakers';
import { importTenants } from '../lib/tenants/import';
import { createRetellSim, DEMO, seedRetellDemo, startRetellSim, type RunningRetellSim } from '../sim/retell';
import { startSeededSim } from './helpers/calcom';
import { createTestEnv, type TestEnv } from './helpers/env';
import { CLINIC_NUMBER, SALON_NUMBER, twoCompanies } from './helpers/fixtures';
import { callTool, connectMcp, rpcError } from './helpers/mcp';

const ADMIN = 'admin-token-for-tests-0123456789';
const CLINIC_RETELL_KEY = 'key_test_retell_clinic';
const PUBLIC_URL = 'http://127.0.0.1:3000';
const NORD_NUMBER = '+4930111222';
const SALON_CALLER = '+4917011111111';
const NORD_CALLER = '+4917022222222';
const CLINIC_CALLER = '+4917033333333';

let env: TestEnv;
let ctx: AppContext;
let calcom: Awaited<ReturnType<typeof startSeededSim>>;
let retell: RunningRetellSim;
let server: RunningServer;
let url: URL;
const ids = { salon: 0, clinic: 0, mitte: 0, nord: 0, hh: 0 };
const tokens = { salon: '', clinic: '', nord: '', salonId: 0 };
const clients: Client[] = [];

let day = DateTime.now().setZone('Europe/Berlin').plus({ days: 10 }).startOf('day');
while (day.weekday > 5) day = day.plus({ days: 1 });
const date = day.toISODate()!;
const at = (h: number, m = 0) => day.set({ hour: h, minute: m }).toUTC().toISO()!;

async function connect(token: string | null): Promise<Client> {
  const client = await connectMcp(url, token);
  clients.push(client);
  return client;
}

const call = callTool;

async function seedCall(companyId: number, branchId: number, caller: string, to: string, o: { id: string; summary: string; transcript: string; startedAt: number }) {
  const db = ctx.database.db;
  const customerId = await upsertCustomer(db, companyId, caller, 'Test Caller');
  await upsertCall(db, {
    companyId,
    branchId,
    customerId,
    event: 'call_analyzed',
    call: {
      call_id: o.id,
      direction: 'inbound',
      from_number: caller,
      to_number: to,
      start_timestamp: o.startedAt,
      end_timestamp: o.startedAt + 60_000,
      duration_ms: 60_000,
      transcript: o.transcript,
      call_analysis: { call_summary: o.summary, user_sentiment: 'Positive' },
    },
  });
}

/** The SDK client's error for an HTTP 401 (StreamableHTTPError carries the status as its code). */
async function expectUnauthorized(p: Promise<unknown>): Promise<void> {
  await expect(p).rejects.toMatchObject({ code: 401, message: expect.stringContaining('unauthorized') });
}

const audits = async (action: string) => ctx.database.db.select().from(auditLog).where(eq(auditLog.action, action));

beforeAll(async () => {
  const sim = createRetellSim({ apiKeys: [DEMO.apiKey, CLINIC_RETELL_KEY] });
  seedRetellDemo(sim);
  retell = await startRetellSim(sim, 0);
  calcom = await startSeededSim();
  env = await createTestEnv({ CALCOM_API_URL: calcom.url, RETELL_API_URL: retell.url, RETELL_API_KEY: DEMO.apiKey, PUBLIC_URL, BLIND_INDEX_KEY: randomBytes(32).toString('base64') });
  ctx = env.ctx;
  const tenants = twoCompanies();
  const salon = tenants.companies[0]!;
  salon.branches[0]!.phoneNumbers.push(DEMO.phoneNumber);
  salon.branches.push({ ...salon.branches[0]!, slug: 'nord', name: 'Salon Anna Nord', phoneNumbers: [NORD_NUMBER, DEMO.legacyPhoneNumber] });
  tenants.companies[1]!.retellApiKey = CLINIC_RETELL_KEY;
  // The clinic stores its calls' numbers and summaries encrypted (lib/pii): searches must read them too.
  tenants.companies[1]!.piiEncryption = true;
  await importTenants({ db: ctx.database.db, cipher: ctx.cipher, cache: ctx.cache }, tenants, 'test');
  const db = ctx.database.db;
  for (const c of await db.select().from(companies)) ids[c.slug === 'salon-anna' ? 'salon' : 'clinic'] = c.id;
  for (const b of await db.select().from(branches)) ids[b.slug as 'mitte' | 'nord' | 'hh'] = b.id;

  const now = Date.now();
  await seedCall(ids.salon, ids.mitte, SALON_CALLER, SALON_NUMBER, { id: 'call_salon_1', summary: 'Caller wanted a haircut on Tuesday.', transcript: 'User: Haarschnitt am Dienstag, bitte.', startedAt: now - 3_600_000 });
  await seedCall(ids.salon, ids.mitte, SALON_CALLER, SALON_NUMBER, { id: 'call_salon_old', summary: 'Asked about opening hours.', transcript: 'User: Wann haben Sie offen?', startedAt: Date.parse('2025-01-15T10:00:00Z') });
  await seedCall(ids.salon, ids.nord, NORD_CALLER, NORD_NUMBER, { id: 'call_nord_1', summary: 'Coloring appointment request.', transcript: 'User: Färben am Freitag.', startedAt: now - 1_800_000 });
  await seedCall(ids.clinic, ids.hh, CLINIC_CALLER, CLINIC_NUMBER, { id: 'call_clinic_1', summary: 'Check-up for a haircut-free patient.', transcript: 'User: I need a check-up.', startedAt: now - 600_000 });

  const salonToken = await createToken(db, { companyId: ids.salon, name: 'salon reception' });
  tokens.salon = salonToken.token;
  tokens.salonId = salonToken.id;
  tokens.clinic = (await createToken(db, { companyId: ids.clinic, name: 'clinic desk' })).token;
  tokens.nord = (await createToken(db, { companyId: ids.salon, branchId: ids.nord, name: 'nord tablet' })).token;

  server = await listen(ctx, 0, '127.0.0.1', createApp({ ...ingressDeps(ctx), routes: [mountMcp(ctx)] }));
  url = new URL(`http://127.0.0.1:${server.port}/mcp`);
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await server?.close();
  await env?.cleanup();
  await calcom?.close();
  await retell?.close();
});

const ALL_TOOLS = [
  'calls_search',
  'calls_get',
  'failed_bookings_list',
  'failed_bookings_retry',
  'breaker_status',
  'breaker_reset',
  'cache_clear',
  'availability_check',
  'booking_create',
  'booking_find',
  'booking_reschedule',
  'booking_cancel',
  'phone_numbers_sync',
  'agents_list',
  'agents_update_prompt',
  'webhook_config_check',
  'stats_overview',
  'calls_list',
  'queues_status',
  'tenants_list',
  'agent_provision',
  'webhook_config_fix',
];

describe('the server', () => {
  it('lists every tool with a JSON Schema of its zod input', async () => {
    const admin = await connect(ADMIN);
    expect(admin.getServerVersion()?.name).toBe('callbook');
    const { tools } = await admin.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...ALL_TOOLS].sort());
    for (const t of tools) {
      expect(t.inputSchema.type, t.name).toBe('object');
      expect(t.description, t.name).toBeTruthy();
    }
    const get = tools.find((t) => t.name === 'calls_get')!;
    expect(get.inputSchema.required).toEqual(['callId']);
    const create = tools.find((t) => t.name === 'booking_create')!;
    expect(Object.keys(create.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(['service', 'phone', 'start', 'company', 'branch']));
    expect(create.annotations?.idempotentHint).toBe(true);
  });

  it('is mounted by the ingress (apps/ingress/deps.ts)', async () => {
    const app = createApp(ingressDeps(ctx));
    const res = await app.request('/mcp', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(401);
  });

  it('answers repeated tool calls statelessly (a server and transport per request)', async () => {
    const admin = await connect(ADMIN);
    await call(admin, 'calls_get', { callId: 'call_salon_1' }); // warm
    const median = async (name: string, args: Record<string, unknown>) => {
      const times: number[] = [];
      for (let i = 0; i < 21; i++) {
        const t0 = performance.now();
        await call(admin, name, args);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      console.log(`mcp ${name}: median ${times[10]!.toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms`);
      return times[10]!;
    };
    // Timings are printed, not asserted: a test machine's load is not callbook's latency.
    expect(await median('breaker_status', {})).toBeGreaterThan(0);
    expect(await median('calls_get', { callId: 'call_salon_1' })).toBeGreaterThan(0);
  });

  it('a plain JSON-RPC POST works without a session (curl-friendly)', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'breaker_status', arguments: {} } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as { id: number; result: { structuredContent: { breakers: unknown[] } } };
    expect(body.id).toBe(7);
    expect(body.result.structuredContent.breakers).toHaveLength(2);
  });

  it('GET and DELETE answer 405 (no SSE stream, no sessions); the client copes', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(url, { method, headers: { Authorization: `Bearer ${ADMIN}`, accept: 'text/event-stream' } });
      expect(res.status, method).toBe(405);
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { message: expect.stringContaining('stateless') } });
    }
  });
});

describe('authentication', () => {
  it('no token, a wrong token or a revoked token: 401 with a JSON-RPC error body', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const none = await fetch(url, { method: 'POST', body, headers });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await none.json()).toEqual({ jsonrpc: '2.0', id: null, error: { code: ERROR_CODES.unauthorized, message: expect.stringContaining('Authorization: Bearer') } });
    const wrong = await fetch(url, { method: 'POST', body, headers: { ...headers, Authorization: 'Bearer cbk_not-a-real-token' } });
    expect(wrong.status).toBe(401);

    await expectUnauthorized(connect(null));
    await expectUnauthorized(connect(`${ADMIN}x`));

    const doomed = await createToken(ctx.database.db, { companyId: ids.salon, name: 'doomed' });
    const usedAt = async () => (await ctx.database.db.select({ at: apiTokens.lastUsedAt }).from(apiTokens).where(eq(apiTokens.id, doomed.id)))[0]!.at;
    expect(await usedAt()).toBeNull();
    const before = Date.now();
    const c = await connect(doomed.token);
    await call(c, 'breaker_status');
    // Recorded on use, at most once a minute: later requests of this minute leave it alone.
    const first = await usedAt();
    expect(first!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    await call(c, 'breaker_status');
    expect((await usedAt())!.getTime()).toBe(first!.getTime());
    await revokeToken({ db: ctx.database.db, cache: ctx.cache }, doomed.id);
    await expectUnauthorized(connect(doomed.token));
    await expectUnauthorized(c.callTool({ name: 'breaker_status', arguments: {} }));
  });

  it('wrong tokens are throttled per client address', async () => {
    const app = createApp({ ...ingressDeps(ctx), routes: [mountMcp(ctx, { gate: AuthGate.forTokens({ db: ctx.database.db, cache: ctx.cache, adminToken: ADMIN }, new LoginThrottle(2)) })] });
    const post = (token: string) => app.request('/mcp', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
    expect((await post('guess-one-guess-one')).status).toBe(401);
    expect((await post('guess-two-guess-two')).status).toBe(401);
    const blocked = await post(ADMIN);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('invalid input', () => {
  it('is a JSON-RPC invalid-params error naming the field', async () => {
    const admin = await connect(ADMIN);
    const missing = await rpcError(admin, 'calls_get', {});
    expect(missing.code).toBe(ERROR_CODES.invalidParams);
    expect(missing.message).toMatch(/^invalid arguments for calls_get: callId: /);
    const phone = await rpcError(admin, 'booking_create', { company: 'salon-anna', service: 'haircut', phone: '0151', start: `${date}T11:00` });
    expect(phone.message).toContain('phone: must be an E.164 number');
    expect(phone.data).toEqual({ issues: [{ path: 'phone', message: 'must be an E.164 number like +4930123456' }] });
    const typo = await rpcError(admin, 'calls_search', { compnay: 'salon-anna' });
    expect(typo.message).toContain('compnay');
    const limit = await rpcError(admin, 'calls_search', { limit: 1000 });
    expect(limit.message).toMatch(/limit: /);
    const unknown = await rpcError(admin, 'no_such_tool');
    expect(unknown).toMatchObject({ code: ERROR_CODES.invalidParams, message: expect.stringContaining('unknown tool "no_such_tool"') });
    const noCompany = await rpcError(admin, 'availability_check', { service: 'haircut', date });
    expect(noCompany.message).toContain('company: required (there are 2 companies: clinic-nord, salon-anna)');
  });
});

describe('calls', () => {
  it('searching encrypted calls reads at most 2,000 candidates and says so', async () => {
    const db = ctx.database.db;
    const sealedCall = (i: number, summary: string) => ({
      retellCallId: `call_bulk_${i}`,
      companyId: ids.clinic,
      branchId: ids.hh,
      status: 'analyzed',
      startedAt: new Date(Date.parse('2024-06-01T00:00:00Z') + i * 60_000),
      summary: ctx.cipher.encrypt(summary),
    });
    // The oldest holds the words; 2,100 newer ones do not.
    await db.insert(calls).values([sealedCall(0, 'the needle'), ...Array.from({ length: 2100 }, (_, i) => sealedCall(i + 1, 'hay'))]);
    try {
      const admin = await connect(ADMIN);
      const capped = await call<{ count: number; truncated?: string }>(admin, 'calls_search', { company: 'clinic-nord', text: 'needle' });
      expect(capped.count).toBe(0);
      expect(capped.truncated).toMatch(/^searched the newest 2000 candidate calls .*narrow the search/);
      const narrowed = await call<{ calls: Array<{ callId: string }>; truncated?: string }>(admin, 'calls_search', { company: 'clinic-nord', text: 'needle', to: '2024-06-01' });
      expect(narrowed.calls.map((c) => c.callId)).toEqual(['call_bulk_0']);
      expect(narrowed.truncated).toBeUndefined();
    } finally {
      await db.delete(calls).where(like(calls.retellCallId, 'call_bulk_%'));
    }
  });

  it('admin: search by phone, text, dates, status; get with transcript; both audited', async () => {
    const admin = await connect(ADMIN);
    const byPhone = await call<{ calls: Array<{ callId: string }> }>(admin, 'calls_search', { phone: SALON_CALLER });
    expect(byPhone.calls.map((c) => c.callId)).toEqual(['call_salon_1', 'call_salon_old']);
    const byText = await call<{ calls: Array<{ callId: string }> }>(admin, 'calls_search', { text: 'HAIRCUT' });
    expect(byText.calls.map((c) => c.callId).sort()).toEqual(['call_clinic_1', 'call_salon_1']);
    const old = await call<{ calls: Array<{ callId: string }> }>(admin, 'calls_search', { from: '2025-01-15', to: '2025-01-15' });
    expect(old.calls.map((c) => c.callId)).toEqual(['call_salon_old']);
    const recent = await call<{ calls: Array<{ callId: string }> }>(admin, 'calls_search', { company: 'salon-anna', from: DateTime.now().minus({ days: 1 }).toISO()!, status: 'analyzed' });
    expect(recent.calls.map((c) => c.callId)).toEqual(['call_nord_1', 'call_salon_1']);
    expect((await call<{ count: number }>(admin, 'calls_search', { text: '100%_' })).count).toBe(0);

    // The clinic's call is stored sealed; text, caller and dialled number still find it.
    const [sealed] = await ctx.database.db.select().from(calls).where(eq(calls.retellCallId, 'call_clinic_1'));
    expect([sealed!.summary, sealed!.toNumber, sealed!.fromNumber].every((v) => v!.startsWith('v1:'))).toBe(true);
    const ids_ = async (args: Record<string, unknown>) => (await call<{ calls: Array<{ callId: string }> }>(admin, 'calls_search', args)).calls.map((c) => c.callId);
    expect(await ids_({ text: 'check-up' })).toEqual(['call_clinic_1']);
    expect(await ids_({ text: 'no such words' })).toEqual([]);
    expect(await ids_({ phone: CLINIC_CALLER })).toEqual(['call_clinic_1']);
    expect(await ids_({ phone: CLINIC_NUMBER })).toEqual(['call_clinic_1']);
    expect(await ids_({ phone: SALON_NUMBER })).toEqual(['call_salon_1', 'call_salon_old']);

    const got = await call<{ call: { transcript: string; company: string; branch: string }; customer: { phone: string } }>(admin, 'calls_get', { callId: 'call_clinic_1' });
    expect(got.call).toMatchObject({ transcript: 'User: I need a check-up.', company: 'clinic-nord', branch: 'hh' });
    expect(got.customer.phone).toBe(CLINIC_CALLER);
    expect(await rpcError(admin, 'calls_get', { callId: 'call_missing' })).toEqual({ code: ERROR_CODES.notFound, message: 'not found: no call "call_missing"', data: undefined });

    const reads = await audits('calls.get');
    expect(reads).toContainEqual(expect.objectContaining({ actor: 'mcp:admin', companyId: ids.clinic, target: 'call:call_clinic_1' }));
    expect((await audits('calls.search')).filter((a) => a.actor === 'mcp:admin').length).toBeGreaterThanOrEqual(5);
  });

  it("a company token sees its own calls only; another company's call is not found", async () => {
    const salon = await connect(tokens.salon);
    const all = await call<{ calls: Array<{ callId: string; company: string }> }>(salon, 'calls_search', {});
    expect(all.calls.map((c) => c.callId).sort()).toEqual(['call_nord_1', 'call_salon_1', 'call_salon_old']);
    expect((await call<{ calls: unknown[] }>(salon, 'calls_search', { phone: CLINIC_CALLER })).calls).toEqual([]);
    const own = await call<{ call: { transcript: string } }>(salon, 'calls_get', { callId: 'call_salon_1' });
    expect(own.call.transcript).toContain('Haarschnitt');

    const foreign = await rpcError(salon, 'calls_get', { callId: 'call_clinic_1' });
    const missing = await rpcError(salon, 'calls_get', { callId: 'call_nope' });
    expect(foreign).toEqual({ code: ERROR_CODES.notFound, message: 'not found: no call "call_clinic_1"', data: undefined });
    expect(missing.code).toBe(foreign.code);
    // Naming the other company answers exactly like a company that does not exist.
    const other = await rpcError(salon, 'calls_search', { company: 'clinic-nord' });
    const nonexistent = await rpcError(salon, 'calls_search', { company: 'no-such-co' });
    expect(other).toEqual({ code: ERROR_CODES.notFound, message: 'not found: no company "clinic-nord"', data: undefined });
    expect(nonexistent.message).toBe('not found: no company "no-such-co"');

    const reads = await audits('calls.get');
    expect(reads).toContainEqual(expect.objectContaining({ actor: `mcp:token:${tokens.salonId}`, companyId: ids.salon, target: 'call:call_salon_1' }));
    expect(reads.filter((a) => a.target === 'call:call_clinic_1' && a.actor !== 'mcp:admin')).toEqual([]);
  });

  it('a branch token sees only its branch', async () => {
    const nord = await connect(tokens.nord);
    const seen = await call<{ calls: Array<{ callId: string }> }>(nord, 'calls_search', {});
    expect(seen.calls.map((c) => c.callId)).toEqual(['call_nord_1']);
    expect((await rpcError(nord, 'calls_get', { callId: 'call_salon_1' })).code).toBe(ERROR_CODES.notFound);
    expect((await rpcError(nord, 'calls_search', { branch: 'mitte' })).message).toBe('not found: no branch "mitte" in salon-anna');
    expect((await call<{ call: { branch: string } }>(nord, 'calls_get', { callId: 'call_nord_1' })).call.branch).toBe('nord');
  });
});

describe('bookings', () => {
  let appointmentId = 0;
  let clinicAppointmentId = 0;

  it('admin: availability, book once in the simulator, find, reschedule, cancel', async () => {
    const admin = await connect(ADMIN);
    const free = await call<{ slots: string[]; local: string[]; timeZone: string }>(admin, 'availability_check', { company: 'salon-anna', branch: 'mitte', service: 'haircut', date });
    expect(free.slots).toContain(at(11));
    expect(free.local).toContain('11:00');
    expect(free.timeZone).toBe('Europe/Berlin');

    const args = { company: 'salon-anna', branch: 'mitte', service: 'haircut', phone: '+4915112345678', name: 'Ina', start: `${date}T11:00` };
    const booked = await call<{ status: string; uid: string; appointmentId: number; start: string; local: string }>(admin, 'booking_create', args);
    expect(booked).toMatchObject({ status: 'booked', start: at(11), local: `${date} 11:00` });
    appointmentId = booked.appointmentId;
    expect(calcom.sim.bookings().filter((b) => b.uid === booked.uid && b.status === 'accepted')).toHaveLength(1);
    const again = await call<{ status: string; uid: string }>(admin, 'booking_create', args);
    expect(again).toMatchObject({ status: 'already_booked', uid: booked.uid });
    expect((await call<{ slots: string[] }>(admin, 'availability_check', { company: 'salon-anna', branch: 'mitte', service: 'haircut', date })).slots).not.toContain(at(11));

    const taken = (await admin.callTool({ name: 'booking_create', arguments: { ...args, phone: '+4915199999999' } })) as CallToolResult;
    expect(taken.isError).toBe(true);
    expect((taken.content[0] as { text: string }).text).toMatch(/^not booked: slot taken .*free: /);
    expect((taken.structuredContent as { alternatives: string[] }).alternatives.length).toBeGreaterThan(0);

    const found = await call<{ appointments: Array<{ id: number; start: string }> }>(admin, 'booking_find', { company: 'salon-anna', phone: '+4915112345678' });
    expect(found.appointments).toEqual([expect.objectContaining({ id: appointmentId, start: at(11) })]);

    const moved = await call<{ appointment: { start: string; calcomUid: string } }>(admin, 'booking_reschedule', { appointmentId, start: `${date}T14:00` });
    expect(moved.appointment.start).toBe(at(14));
    expect(calcom.sim.bookings().find((b) => b.uid === moved.appointment.calcomUid)?.start).toBe(at(14));

    const clinic = await call<{ appointmentId: number }>(admin, 'booking_create', { company: 'clinic-nord', service: 'checkup', phone: CLINIC_CALLER, start: `${date}T10:00` });
    clinicAppointmentId = clinic.appointmentId;
    expect((await audits('appointments.find')).some((a) => a.actor === 'mcp:admin')).toBe(true);
    expect((await audits('appointment.reschedule')).some((a) => a.actor === 'mcp:admin')).toBe(true);
  });

  it("a company token cannot find, move or cancel another company's appointment", async () => {
    const salon = await connect(tokens.salon);
    expect(await rpcError(salon, 'booking_cancel', { appointmentId: clinicAppointmentId })).toEqual({
      code: ERROR_CODES.notFound,
      message: `not found: no appointment ${clinicAppointmentId}`,
      data: undefined,
    });
    expect((await rpcError(salon, 'booking_cancel', { appointmentId: clinicAppointmentId, company: 'clinic-nord' })).code).toBe(ERROR_CODES.notFound);
    expect((await rpcError(salon, 'booking_reschedule', { appointmentId: clinicAppointmentId, start: `${date}T15:00` })).code).toBe(ERROR_CODES.notFound);
    const found = await call<{ appointments: Array<{ id: number }> }>(salon, 'booking_find', {});
    expect(found.appointments.map((a) => a.id)).toEqual([appointmentId]);
    expect((await rpcError(salon, 'booking_find', { company: 'clinic-nord' })).code).toBe(ERROR_CODES.notFound);
    // The clinic's booking is untouched.
    const clinicBooking = calcom.sim.bookings().filter((b) => b.eventTypeId === 2001);
    expect(clinicBooking.every((b) => b.status === 'accepted')).toBe(true);
    // A branch token cannot book at another branch.
    const nord = await connect(tokens.nord);
    expect((await rpcError(nord, 'booking_create', { branch: 'mitte', service: 'haircut', phone: NORD_CALLER, start: `${date}T15:00` })).code).toBe(ERROR_CODES.notFound);
    expect((await call<{ appointments: unknown[] }>(nord, 'booking_find', {})).appointments).toEqual([]);
  });

  it('the owner cancels; Cal.com and the row agree', async () => {
    const salon = await connect(tokens.salon);
    const r = await call<{ appointment: { status: string; calcomUid: string } }>(salon, 'booking_cancel', { appointmentId, reason: 'customer called' });
    expect(r.appointment.status).toBe('cancelled');
    expect(calcom.sim.bookings().find((b) => b.uid === r.appointment.calcomUid)?.status).toBe('cancelled');
    expect(await rpcError(salon, 'booking_cancel', { appointmentId })).toMatchObject({ code: ERROR_CODES.notFound });
    expect((await audits('appointment.cancel')).some((a) => a.actor === `mcp:token:${tokens.salonId}`)).toBe(true);
  });
});

describe('operations', () => {
  it('breaker status for all; reset is admin only', async () => {
    const b = serviceBreaker('calcom', { redis: ctx.redis, ns: ctx.ns, logger: ctx.logger });
    for (let i = 0; i < 5; i++) await b.failure(false);
    const salon = await connect(tokens.salon);
    const status = await call<{ breakers: Array<{ service: string; state: string; retryAt: string | null }> }>(salon, 'breaker_status');
    expect(status.breakers.find((s) => s.service === 'calcom')).toMatchObject({ state: 'OPEN', retryAt: expect.any(String) });
    expect(await rpcError(salon, 'breaker_reset', { service: 'calcom' })).toEqual({
      code: ERROR_CODES.forbidden,
      message: 'forbidden: admin only (the breakers are shared by every company)',
      data: undefined,
    });
    const admin = await connect(ADMIN);
    expect(await call(admin, 'breaker_reset', { service: 'calcom' })).toEqual({ service: 'calcom', from: 'OPEN', to: 'CLOSED' });
    expect((await b.status()).state).toBe('CLOSED');
    expect(await audits('breaker.reset')).toContainEqual(expect.objectContaining({ actor: 'mcp:admin', target: 'breaker:calcom' }));
  });

  it("cache clear: a token clears its own company's keys; a prefix is admin only", async () => {
    const cache = ctx.cache;
    await cache.set(`mcp:calcom:availability:1001:${date}`, ['x'], 60_000);
    await cache.set(`mcp:calcom:availability:2001:${date}`, ['y'], 60_000);
    await cache.set(`mcp:calcom:event_types:${ids.clinic}`, ['z'], 60_000);
    const salon = await connect(tokens.salon);
    expect((await rpcError(salon, 'cache_clear', { prefix: 'mcp:' })).message).toMatch(/^forbidden: admin only/);
    const r = await call<{ company: string; removed: number }>(salon, 'cache_clear');
    expect(r).toMatchObject({ company: 'salon-anna' });
    expect(r.removed).toBeGreaterThanOrEqual(1);
    expect(await ctx.redis.get(`${ctx.ns}mcp:calcom:availability:1001:${date}`)).toBeNull();
    expect(await ctx.redis.get(`${ctx.ns}mcp:calcom:availability:2001:${date}`)).not.toBeNull();
    expect(await ctx.redis.get(`${ctx.ns}mcp:calcom:event_types:${ids.clinic}`)).not.toBeNull();

    const admin = await connect(ADMIN);
    const all = await call<{ removed: number }>(admin, 'cache_clear', { prefix: 'mcp:calcom:' });
    expect(all.removed).toBeGreaterThanOrEqual(2);
    expect(await ctx.redis.get(`${ctx.ns}mcp:calcom:event_types:${ids.clinic}`)).toBeNull();
    expect((await audits('cache.clear')).map((a) => a.actor)).toEqual(expect.arrayContaining(['mcp:admin', `mcp:token:${tokens.salonId}`]));
  });

  it("failed booking jobs: listed and retried only within the token's company", async () => {
    const job = (companyId: number, branchId: number, n: string): BookingJob => ({
      companyId,
      branchId,
      customerId: 1,
      serviceId: 1,
      start: at(16),
      idempotencyKey: n.repeat(64),
      source: 'mcp',
    });
    const connection = createRedis(env.config.REDIS_URL, 'worker');
    const worker = new Worker('bookings', async () => {
      throw new UnrecoverableError('slot taken (test); free: 16:30');
    }, { connection, prefix: bullPrefix(env.config.REDIS_PREFIX) });
    const salonJob = await ctx.queues.bookings.add('booking', job(ids.salon, ids.mitte, 'a'), { jobId: 'booking-salon-failed' });
    const clinicJob = await ctx.queues.bookings.add('booking', job(ids.clinic, ids.hh, 'b'), { jobId: 'booking-clinic-failed' });
    for (let i = 0; i < 100 && ((await salonJob.getState()) !== 'failed' || (await clinicJob.getState()) !== 'failed'); i++) await new Promise((r) => setTimeout(r, 50));
    await worker.close();
    connection.disconnect();

    const admin = await connect(ADMIN);
    const everything = await call<{ jobs: Array<{ id: string; company: string; reason: string }> }>(admin, 'failed_bookings_list');
    expect(everything.jobs.map((j) => j.id).sort()).toEqual(['booking-clinic-failed', 'booking-salon-failed']);
    expect(everything.jobs.find((j) => j.id === 'booking-salon-failed')).toMatchObject({ company: 'salon-anna', reason: 'slot taken (test); free: 16:30' });

    const salon = await connect(tokens.salon);
    const mine = await call<{ jobs: Array<{ id: string }> }>(salon, 'failed_bookings_list');
    expect(mine.jobs.map((j) => j.id)).toEqual(['booking-salon-failed']);
    expect((await call<{ jobs: unknown[] }>(await connect(tokens.nord), 'failed_bookings_list')).jobs).toEqual([]);
    expect(await rpcError(salon, 'failed_bookings_retry', { jobId: 'booking-clinic-failed' })).toEqual({
      code: ERROR_CODES.notFound,
      message: 'not found: no booking job "booking-clinic-failed"',
      data: undefined,
    });
    expect((await rpcError(salon, 'failed_bookings_retry', { jobId: 'no-such-job' })).code).toBe(ERROR_CODES.notFound);
    expect((await rpcError(salon, 'failed_bookings_retry', {})).message).toContain('give exactly one of jobId or all: true');

    expect(await call(salon, 'failed_bookings_retry', { all: true })).toEqual({ retried: ['booking-salon-failed'] });
    expect(await salonJob.getState()).toBe('waiting');
    expect(await clinicJob.getState()).toBe('failed');
    expect((await rpcError(salon, 'failed_bookings_retry', { jobId: 'booking-salon-failed' })).message).toBe('jobId: booking job "booking-salon-failed" is not failed (it is waiting)');
    expect(await call(admin, 'failed_bookings_retry', { jobId: 'booking-clinic-failed' })).toEqual({ retried: ['booking-clinic-failed'] });
    expect(await audits('failed.retry')).toContainEqual(expect.objectContaining({ actor: `mcp:token:${tokens.salonId}`, companyId: ids.salon }));
    await ctx.queues.bookings.obliterate({ force: true });
  });
});

describe('Retell', () => {
  it('admin: phone numbers sync, agents list, prompt update, webhook check', async () => {
    const admin = await connect(ADMIN);
    const sync = await call<{ status: string; imported: number; updatedMappings: number; accounts: string[] }>(admin, 'phone_numbers_sync');
    expect(sync.accounts).toEqual(['global', 'clinic-nord']);
    expect(sync.imported).toBeGreaterThanOrEqual(2);
    const [mapped] = await ctx.database.db.select().from(phoneNumbers).where(eq(phoneNumbers.e164, DEMO.phoneNumber));
    expect(mapped?.retellAgentId).toBe(DEMO.agentId);

    const agents = await call<{ account: string; agents: Array<{ agentId: string; problems: string[] }> }>(admin, 'agents_list', { refresh: true });
    expect(agents.account).toBe('global');
    expect(agents.agents.map((a) => a.agentId).sort()).toEqual([DEMO.agentId, DEMO.legacyAgentId].sort());
    expect(agents.agents.every((a) => a.problems.length === 0)).toBe(true);

    const prompt = 'Du bist die Telefonassistenz von Salon Anna. Buche Termine.';
    const updated = await call<{ agentId: string; llmId: string; published: boolean }>(admin, 'agents_update_prompt', { agentId: DEMO.agentId, prompt });
    expect(updated).toMatchObject({ agentId: DEMO.agentId, llmId: DEMO.llmId });
    expect(retell.sim.llms().filter((l) => l.llm_id === DEMO.llmId).some((l) => l.general_prompt === prompt)).toBe(true);
    expect(await audits('agents.update_prompt')).toContainEqual(expect.objectContaining({ actor: 'mcp:admin', target: DEMO.agentId }));
    expect((await rpcError(admin, 'agents_update_prompt', { agentId: 'agent_nope', prompt })).code).toBe(ERROR_CODES.notFound);

    const check = await call<{ ok: boolean; numbers: Array<{ e164: string; agentId: string | null; problem: string | null }>; agents: Array<{ problems: string[] }> }>(
      admin,
      'webhook_config_check',
      { company: 'salon-anna' },
    );
    expect(check.agents.every((a) => a.problems.length === 0)).toBe(true);
    expect(check.numbers.find((n) => n.e164 === DEMO.phoneNumber)).toMatchObject({ agentId: DEMO.agentId, problem: null });
    expect(check.numbers.find((n) => n.e164 === SALON_NUMBER)?.problem).toMatch(/no Retell agent bound/);
    expect(check.ok).toBe(false);
    const everything = await call<{ accounts: string[]; numbers: Array<{ company: string }> }>(admin, 'webhook_config_check');
    expect(everything.accounts).toEqual(['global', 'clinic-nord']);
    expect(new Set(everything.numbers.map((n) => n.company))).toEqual(new Set(['salon-anna', 'clinic-nord']));
  });

  it("tokens: the shared account is admin only; a company's own account is its own", async () => {
    const salon = await connect(tokens.salon);
    expect((await rpcError(salon, 'agents_list')).message).toMatch(/^forbidden: admin only \(the agents of the shared Retell account/);
    expect((await rpcError(salon, 'phone_numbers_sync')).code).toBe(ERROR_CODES.forbidden);
    expect((await rpcError(salon, 'agents_update_prompt', { agentId: DEMO.agentId, prompt: 'hijack' })).code).toBe(ERROR_CODES.forbidden);
    // The webhook check covers the agents on its own numbers only.
    const check = await call<{ agents: Array<{ agentId: string }>; numbers: Array<{ company: string }> }>(salon, 'webhook_config_check');
    expect(check.numbers.every((n) => n.company === 'salon-anna')).toBe(true);
    expect(check.agents.map((a) => a.agentId).sort()).toEqual([DEMO.agentId, DEMO.legacyAgentId].sort());
    const nord = await call<{ agents: Array<{ agentId: string }>; numbers: Array<{ e164: string }> }>(await connect(tokens.nord), 'webhook_config_check');
    expect(nord.numbers.map((n) => n.e164).sort()).toEqual([DEMO.legacyPhoneNumber, NORD_NUMBER].sort());
    expect(nord.agents.map((a) => a.agentId)).toEqual([DEMO.legacyAgentId]);

    const clinic = await connect(tokens.clinic);
    const own = await call<{ account: string; count: number }>(clinic, 'agents_list');
    expect(own.account).toBe('clinic-nord');
    const clinicSync = await call<{ accounts: string[]; conflicts: Array<{ e164: string; mappedTo: string }> }>(clinic, 'phone_numbers_sync');
    expect(clinicSync.accounts).toEqual(['clinic-nord']);
    // The simulator serves the clinic's key the same numbers, which the salon maps: reported, but not whose they are.
    expect(clinicSync.conflicts.map((c) => c.e164).sort()).toEqual([DEMO.legacyPhoneNumber, DEMO.phoneNumber].sort());
    expect(JSON.stringify(clinicSync)).not.toContain('salon-anna');
  });

  it('a branch token cannot use the account-wide tools, even of its company\'s own account; its webhook check still works', async () => {
    const hhToken = (await createToken(ctx.database.db, { companyId: ids.clinic, branchId: ids.hh, name: 'hh tablet' })).token;
    const hh = await connect(hhToken);
    const before = retell.sim.llms().map((l) => l.general_prompt);
    const runs = (await ctx.database.db.select().from(syncRuns)).length;
    for (const [tool, args] of [
      ['agents_list', {}],
      ['agents_list', { company: 'clinic-nord', refresh: true }],
      ['phone_numbers_sync', {}],
      ['agents_update_prompt', { agentId: DEMO.agentId, prompt: 'hijack' }],
      ['agents_update_prompt', { company: 'clinic-nord', agentId: DEMO.agentId, prompt: 'hijack' }],
    ] as const) {
      const err = await rpcError(hh, tool, args);
      expect(err.code, tool).toBe(ERROR_CODES.forbidden);
      expect(err.message, tool).toMatch(new RegExp(`^forbidden: not for a branch token \\(${tool} acts on the whole Retell account`));
    }
    // Nothing ran: no prompt changed, no sync recorded.
    expect(retell.sim.llms().map((l) => l.general_prompt)).toEqual(before);
    expect((await ctx.database.db.select().from(syncRuns)).length).toBe(runs);
    const check = await call<{ numbers: Array<{ e164: string }> }>(hh, 'webhook_config_check');
    expect(check.numbers.map((n) => n.e164)).toEqual([CLINIC_NUMBER]);
    // The salon's branch token hears the same, before the shared-account rule.
    expect((await rpcError(await connect(tokens.nord), 'agents_list')).message).toMatch(/^forbidden: not for a branch token/);
  });
});

describe('callbook tokens (CLI)', () => {
  async function cli(...args: string[]): Promise<unknown> {
    const program = new Command('callbook').option('--json').exitOverride();
    let out = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    try {
      registerTokens(program, (fn) => fn(ctx, Boolean(program.opts().json)));
      await program.parseAsync(['node', 'callbook', '--json', ...args]);
    } finally {
      write.mockRestore();
    }
    return JSON.parse(out);
  }

  it('create prints the token once and stores its hash; list never shows it; revoke ends access', async () => {
    const created = (await cli('tokens', 'create', '--company', 'salon-anna', '--branch', 'nord', '--name', 'front desk')) as { id: number; token: string; branch: string };
    expect(created).toMatchObject({ company: 'salon-anna', branch: 'nord', name: 'front desk', token: expect.stringMatching(/^cbk_/) });
    const [row] = await ctx.database.db.select().from(apiTokens).where(eq(apiTokens.id, created.id));
    expect(row?.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(created.token);

    const c = await connect(created.token);
    expect((await call<{ calls: Array<{ callId: string }> }>(c, 'calls_search')).calls.map((x) => x.callId)).toEqual(['call_nord_1']);

    const list = (await cli('tokens', 'list')) as Array<{ id: number; branch: string | null; revokedAt: string | null }>;
    expect(list).toContainEqual(expect.objectContaining({ id: created.id, company: 'salon-anna', branch: 'nord', name: 'front desk', lastUsedAt: expect.any(String), revokedAt: null }));
    expect(JSON.stringify(list)).not.toContain('cbk_');

    expect(await cli('tokens', 'revoke', String(created.id))).toEqual({ id: created.id, revoked: true });
    await expectUnauthorized(connect(created.token));
    expect(await cli('tokens', 'revoke', String(created.id))).toMatchObject({ already: true });
    const after = (await cli('tokens', 'list', '--company', 'salon-anna')) as Array<{ id: number; revokedAt: string | null }>;
    expect(after.find((t) => t.id === created.id)?.revokedAt).toEqual(expect.any(String));

    const rows = await ctx.database.db.select().from(auditLog).where(and(eq(auditLog.target, `token:${created.id}`)));
    expect(rows.map((r) => r.action).sort()).toEqual(['token.create', 'token.revoke']);
    await expect(cli('tokens', 'create', '--company', 'nope', '--name', 'x')).rejects.toThrow(/no company "nope"/);
  });
});
