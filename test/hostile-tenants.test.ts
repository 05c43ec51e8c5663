/**
 * A hostile tenant: company A (Clinic Nord) holds its own Retell key and its own Cal.com webhook
 * secret, and uses the HTTP routes alone to reach company B (Salon Anna): B's calendar, B's
 * customers, B's callers' appointments. Every body shape Retell has (call / data / root / args,
 * direction outbound, numbers that disagree) is tried on every Retell route; each attempt must be
 * refused (401 or 422) with nothing queued, nothing written, nothing booked, nothing read —
 * checked in the queue, the database and the Cal.com simulator, not only in the status code.
 */
import { createHmac } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../apps/ingress/app';
import { ingressDeps } from '../apps/ingress/deps';
import { ingressGuards } from '../apps/ingress/guards';
import { calls, customers, webhookEvents } from '../drizzle/schema';
import { authGate } from '../lib/auth/bearer';
import { createToken } from '../lib/auth/tokens';
import { lookupPhone } from '../lib/calls/resolve-phone';
import { createRedis } from '../lib/redis';
import { startWorkers, type RunningWorkers } from '../workers';
import { berlinWeekday } from './helpers/bookings';
import { startSimTestEnv, stopSimTestEnv, type SimTestEnv } from './helpers/calcom';
import { importTestTenants } from './helpers/env';
import { CALLER, CLINIC_NUMBER, SALON_NUMBER, callId, retellEvent, signed, twoCompanies } from './helpers/fixtures';

const KEY_A = 'key_company_clinic_own';
const KEY_B = 'key_company_salon_own';
const SECRET_A = 'whsec_clinic_nord_0001';
const SECRET_B = 'whsec_salon_anna_0002';
const A = CLINIC_NUMBER;
const B = SALON_NUMBER;
/** B's customer, whose appointment A tries to read and change. */
const VICTIM = '+4917099999999';

let s: SimTestEnv;
let app: ReturnType<typeof createApp>;
let workers: RunningWorkers | undefined;
let victimAppointment: number;
let salonId: number;

const db = () => s.env.ctx.database.db;

beforeAll(async () => {
  const tenants = twoCompanies();
  tenants.companies[0]!.retellApiKey = KEY_B;
  tenants.companies[0]!.calcomWebhookSecret = SECRET_B;
  tenants.companies[1]!.retellApiKey = KEY_A;
  tenants.companies[1]!.calcomWebhookSecret = SECRET_A;
  // Each request comes from its own address (TRUST_PROXY=1, X-Forwarded-For): the attacks here are
  // counted per address, and 60 failures from one would turn the rest into 429s (tested on its own below).
  s = await startSimTestEnv({ TRUST_PROXY: '1' }, tenants);
  app = createApp(ingressDeps(s.env.ctx));
  // B's caller books with B, signed by B's own key (what Retell would send).
  const slot = berlinWeekday(30, 10).toFormat("yyyy-MM-dd'T'HH:mm");
  const body = JSON.stringify({ name: 'book_appointment', call: liveCall(B, VICTIM), args: { when: slot, customer_name: 'Vera Victim' } });
  const res = await app.request('/functions/retell/book_appointment', { method: 'POST', body, headers: { ...(await signed(body, KEY_B)), 'x-forwarded-for': anAddress() } });
  const booked = (await res.json()) as { status: string; appointment_id: number };
  expect(booked.status).toBe('booked');
  victimAppointment = booked.appointment_id;
  const [victimRow] = await db().select({ companyId: customers.companyId }).from(customers);
  salonId = victimRow!.companyId;
});
afterAll(async () => {
  await workers?.close();
  await stopSimTestEnv(s ?? {});
});

function liveCall(to: string, from: string, extra: Record<string, unknown> = {}) {
  return { call_id: callId(), agent_id: 'agent_test', call_type: 'phone_call', call_status: 'ongoing', direction: 'inbound', to_number: to, from_number: from, ...extra };
}

/** What B has: rows, queued jobs, Cal.com bookings. Compared before and after every attack. */
async function bState() {
  const counts = await s.env.ctx.queues.webhooks.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  return {
    calls: (await db().select({ id: calls.id }).from(calls).where(eq(calls.companyId, salonId))).length,
    customers: (await db().select({ id: customers.id }).from(customers).where(eq(customers.companyId, salonId))).length,
    events: (await db().select({ id: webhookEvents.id }).from(webhookEvents)).length,
    jobs: Object.values(counts).reduce((a, b) => a + b, 0),
    bookings: s.sim.sim.bookings().map((b) => `${b.uid}:${b.status}:${b.start}`).sort(),
  };
}

async function post(path: string, payload: unknown, key = KEY_A) {
  const body = JSON.stringify(payload);
  const res = await app.request(path, { method: 'POST', body, headers: { ...(await signed(body, key)), 'x-forwarded-for': anAddress() } });
  return { status: res.status, text: await res.text() };
}

let addressSeq = 0;
const anAddress = () => `10.${(addressSeq >> 16) & 255}.${(addressSeq >> 8) & 255}.${addressSeq++ & 255}`;

const bookingVars = { booking_confirmed: 'true', appointment_datetime: berlinWeekday(31, 11).toFormat("yyyy-MM-dd'T'HH:mm"), service: 'Haircut', customer_name: 'Mallory' };

describe('call webhooks: A signs, B is named', () => {
  const analyzed = (to: string, extra: Record<string, unknown> = {}) => (retellEvent('call_analyzed', { callId: callId(), to, vars: bookingVars, analysis: bookingVars }).call as Record<string, unknown> & typeof extra);
  const shapes: Array<[string, () => Record<string, unknown>]> = [
    // The issue's body: the key was chosen from the root, the handler read data.
    ['root names A, data names B', () => ({ event: 'call_analyzed', to_number: A, data: analyzed(B) })],
    ['call names A, data names B', () => ({ event: 'call_analyzed', call: analyzed(A), data: analyzed(B) })],
    ['call names B', () => ({ event: 'call_analyzed', call: analyzed(B) })],
    ['data names B', () => ({ event: 'call_analyzed', data: analyzed(B) })],
    ['root names B over call A', () => ({ event: 'call_analyzed', to_number: B, call: analyzed(A) })],
    ['outbound from B', () => ({ event: 'call_analyzed', call: { ...analyzed(VICTIM), direction: 'outbound', from_number: B, to_number: VICTIM } })],
    ['outbound in root, B calling', () => ({ event: 'call_analyzed', direction: 'outbound', call: { ...analyzed(A), from_number: B } })],
    ['call id of the root differs', () => ({ event: 'call_analyzed', call_id: 'call_other', call: analyzed(A) })],
  ];
  for (const path of ['/webhooks/retell', '/api/mcp/retell/webhook']) {
    for (const [name, make] of shapes) {
      it(`${path}: ${name} → refused, nothing queued or written`, async () => {
        const before = await bState();
        const { status } = await post(path, make());
        expect([401, 422]).toContain(status);
        expect(await bState()).toEqual(before);
      });
    }
  }

  it("A's own call in A's own shape is accepted (the key works for what it owns)", async () => {
    const { status } = await post('/webhooks/retell', retellEvent('call_started', { callId: callId(), to: A }));
    expect(status).toBe(202);
  });
});

describe("live functions: A signs, B's caller is named", () => {
  const attacks: Array<[string, (fn: string, args: Record<string, unknown>) => Record<string, unknown>]> = [
    // The issue's body: the key was chosen from args, the handler read the root.
    ['args name A, root names B', (_fn, args) => ({ args: { ...args, to_number: A }, to_number: B, from_number: VICTIM })],
    ['call names A, args name B', (fn, args) => ({ name: fn, call: liveCall(A, VICTIM), args: { ...args, to_number: B } })],
    ['call names B', (fn, args) => ({ name: fn, call: liveCall(B, VICTIM), args })],
    ['{name, args} naming B', (fn, args) => ({ name: fn, args: { ...args, to_number: B, from_number: VICTIM } })],
    ['args at root naming B', (_fn, args) => ({ ...args, to_number: B, from_number: VICTIM })],
    ['outbound from B', (fn, args) => ({ name: fn, call: { ...liveCall(VICTIM, B), direction: 'outbound', from_number: B, to_number: VICTIM }, args })],
    ['root says outbound over an inbound call to A', (fn, args) => ({ name: fn, direction: 'outbound', call: { ...liveCall(A, VICTIM), from_number: B }, args })],
  ];
  const fns: Array<[string, Record<string, unknown>]> = [
    ['find_appointments', {}],
    ['cancel_appointment', { appointment_id: 0 }],
    ['reschedule_appointment', { when: berlinWeekday(32, 9).toFormat("yyyy-MM-dd'T'HH:mm") }],
    ['book_appointment', { when: berlinWeekday(33, 9).toFormat("yyyy-MM-dd'T'HH:mm"), customer_name: 'Mallory' }],
    ['check_availability', { when: 'tomorrow' }],
    ['list_services', {}],
  ];
  for (const [fnName, args] of fns) {
    for (const [name, make] of attacks) {
      it(`${fnName}: ${name} → refused, nothing read or changed`, async () => {
        const withId = fnName === 'cancel_appointment' ? { appointment_id: victimAppointment } : args;
        const before = await bState();
        const { status, text } = await post(`/functions/retell/${fnName}`, make(fnName, withId));
        expect([401, 422], text).toContain(status);
        expect(text).not.toContain('Haircut'); // B's service: nothing about B's calendar is said
        expect(text).not.toContain(String(victimAppointment));
        expect(await bState()).toEqual(before);
      });
    }
  }

  it("args only, A's own number: a caller named in the args cannot be read or changed (call_required)", async () => {
    // The caller's number in args is what the agent's LLM wrote: a caller can talk it into anyone's.
    const before = await bState();
    for (const fn of ['find_appointments', 'cancel_appointment', 'reschedule_appointment', 'book_appointment']) {
      const { status, text } = await post(`/functions/retell/${fn}`, { to_number: A, from_number: VICTIM, appointment_id: victimAppointment, when: 'tomorrow at 9' });
      expect(status, fn).toBe(422);
      expect(JSON.parse(text).error.code).toBe('call_required');
    }
    expect(await bState()).toEqual(before);
  });

  it("B's appointment is still booked in Cal.com after all of it", async () => {
    const found = await post('/functions/retell/find_appointments', { name: 'find_appointments', call: liveCall(B, VICTIM), args: {} }, KEY_B);
    expect(found.status).toBe(200);
    expect(JSON.parse(found.text).appointments.map((a: { id: number }) => a.id)).toEqual([victimAppointment]);
  });
});

describe('inbound webhook: A signs, B is named', () => {
  for (const [name, payload] of [
    ['call_inbound names B', { event: 'call_inbound', call_inbound: { to_number: B, from_number: VICTIM } }],
    ['root names A, call_inbound names B', { event: 'call_inbound', to_number: A, call_inbound: { to_number: B, from_number: VICTIM } }],
  ] as const) {
    it(`${name} → 401, the victim's name is never said`, async () => {
      const { status, text } = await post('/webhooks/retell/inbound', payload);
      expect(status).toBe(401);
      expect(text).not.toContain('Vera');
    });
  }
  it("B's own key gets B's greeting (the route works)", async () => {
    const { status, text } = await post('/webhooks/retell/inbound', { event: 'call_inbound', call_inbound: { to_number: B, from_number: VICTIM } }, KEY_B);
    expect(status).toBe(200);
    expect(text).toContain('Vera');
  });
});

describe("Cal.com webhooks: A's secret, B's company", () => {
  const body = JSON.stringify({ triggerEvent: 'BOOKING_CANCELLED', createdAt: new Date().toISOString(), payload: { uid: 'any', eventTypeId: 1001, status: 'CANCELLED', attendees: [], metadata: {}, startTime: new Date().toISOString(), endTime: new Date().toISOString() } });
  const sig = (secret: string) => createHmac('sha256', secret).update(body).digest('hex');
  for (const path of ['/webhooks/calcom/salon-anna', '/webhooks/calcom']) {
    it(`${path} signed with A's secret → 401`, async () => {
      const res = await app.request(path, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-cal-signature-256': sig(SECRET_A), 'x-forwarded-for': anAddress() } });
      expect(res.status).toBe(401);
    });
  }
});

describe('Cal.com webhooks from a source past its failure limit', () => {
  it('a body without an event type, or with one no service books, gets 429 without any secret being decrypted', async () => {
    const ip = '198.51.100.99';
    const send = (body: string) => app.request('/webhooks/calcom', { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-cal-signature-256': 'ab'.repeat(32), 'x-forwarded-for': ip } });
    const withType = JSON.stringify({ triggerEvent: 'BOOKING_CANCELLED', payload: { uid: 'x', eventTypeId: 1001 } });
    // The failures are counted per clock minute: start well clear of its edge (a run that crossed
    // it under a loaded CI counted from zero again and got 401).
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 40_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    for (let i = 0; i <= s.env.config.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE; i++) await send(withType);
    const decrypt = s.env.ctx.cipher.decrypt.bind(s.env.ctx.cipher);
    let decrypted = 0;
    s.env.ctx.cipher.decrypt = (v: string) => (decrypted++, decrypt(v));
    try {
      const ping = await send(JSON.stringify({ triggerEvent: 'PING', payload: {} }));
      expect(ping.status).toBe(429);
      // An event type no service books falls back to every company's secret, as a ping does.
      const unbooked = await send(JSON.stringify({ triggerEvent: 'BOOKING_CANCELLED', payload: { uid: 'x', eventTypeId: 999_999 } }));
      expect(unbooked.status).toBe(429);
      expect(decrypted).toBe(0);
    } finally {
      s.env.ctx.cipher.decrypt = decrypt;
    }
  }, 90_000);
});

describe('a call row belongs to one company', () => {
  it("A naming B's call id is rejected with a reason on record; B's row is untouched and B's own webhook still counts", async () => {
    workers = startWorkers(s.env.ctx, ['webhooks', 'bookings']);
    const id = callId();
    expect((await post('/webhooks/retell', retellEvent('call_started', { callId: id, to: B, from: VICTIM }), KEY_B)).status).toBe(202);
    const bRow = await waitFor(async () => (await db().select().from(calls).where(eq(calls.retellCallId, id)))[0]);
    const bookingsBefore = s.sim.sim.bookings().length;

    // A's own number, B's call id, a booking request, A's key.
    const forged = retellEvent('call_analyzed', { callId: id, to: A, from: CALLER, vars: bookingVars, analysis: bookingVars, transcript: 'forged' });
    expect((await post('/webhooks/retell', forged)).status).toBe(202);
    const rejected = await waitFor(async () => (await db().select().from(webhookEvents).where(eq(webhookEvents.externalId, id))).find((e) => e.status === 'rejected'));
    expect(rejected.error).toContain('belongs to another company');

    const [after] = await db().select().from(calls).where(eq(calls.retellCallId, id));
    expect(after).toEqual(bRow);
    expect(s.sim.sim.bookings()).toHaveLength(bookingsBefore);

    // B's genuine call_analyzed (B's key) is not taken for a duplicate of A's forgery.
    const genuine = retellEvent('call_analyzed', { callId: id, to: B, from: VICTIM, summary: 'genuine' });
    expect((await post('/webhooks/retell', genuine, KEY_B)).status).toBe(202);
    await waitFor(async () => (await db().select().from(calls).where(eq(calls.retellCallId, id)))[0]?.status === 'analyzed' || undefined);
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a rotated Retell key', () => {
  it('stops verifying as soon as the tenants import has run (not after the 10-minute cache)', async () => {
    const payload = () => retellEvent('call_started', { callId: callId(), to: A });
    expect((await post('/webhooks/retell', payload(), KEY_A)).status).toBe(202); // cached now
    const tenants = twoCompanies();
    tenants.companies[0]!.retellApiKey = KEY_B;
    tenants.companies[0]!.calcomWebhookSecret = SECRET_B;
    tenants.companies[1]!.retellApiKey = 'key_company_clinic_rotated';
    tenants.companies[1]!.calcomWebhookSecret = SECRET_A;
    await importTestTenants(s.env, tenants);
    expect((await post('/webhooks/retell', payload(), KEY_A)).status).toBe(401);
    expect((await post('/webhooks/retell', payload(), 'key_company_clinic_rotated')).status).toBe(202);
    tenants.companies[1]!.retellApiKey = KEY_A;
    await importTestTenants(s.env, tenants);
  });
});

describe('bounded input: too long is 422 at the ingress, with the path', () => {
  const base = () => retellEvent('call_analyzed', { callId: callId(), to: A }) as { event: string; call: Record<string, any> };
  for (const [name, mutate, path] of [
    ['summary over 10,000 characters', (b: ReturnType<typeof base>) => (b.call.call_analysis.call_summary = 'x'.repeat(10_001)), 'call.call_analysis.call_summary'],
    ['sentiment over 16', (b: ReturnType<typeof base>) => (b.call.call_analysis.user_sentiment = 'Positive'.repeat(3)), 'call.call_analysis.user_sentiment'],
    ['over 200 variables', (b: ReturnType<typeof base>) => (b.call.collected_dynamic_variables = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`v${i}`, i]))), 'call.collected_dynamic_variables'],
    ['call id over 100', (b: ReturnType<typeof base>) => (b.call.call_id = 'c'.repeat(101)), 'call.call_id'],
    // 1,000 characters but 3,000 bytes: sealed, it would not fit the column.
    ['recording URL over 1,000 bytes', (b: ReturnType<typeof base>) => (b.call.recording_url = `https://r.example/${'€'.repeat(990)}`), 'call.recording_url'],
    ['a start after the year 9999', (b: ReturnType<typeof base>) => (b.call.start_timestamp = 8.7e15), 'call.start_timestamp'],
  ] as const) {
    it(name, async () => {
      const b = base();
      mutate(b);
      const { status, text } = await post('/webhooks/retell', b);
      expect(status).toBe(422);
      expect(JSON.parse(text).error.issues.map((i: { path: string }) => i.path)).toContain(path);
    });
  }
});

describe('limits that fit Retell: one source address, many companies', () => {
  it('64 in flight from one address across both companies, 900 webhooks (more than the old 600 a minute per address): no 429', async () => {
    const payloads = Array.from({ length: 900 }, (_, i) => retellEvent('call_started', { callId: callId(), to: i % 2 ? A : B }));
    const statuses: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < payloads.length) {
          const p = payloads[next++]!;
          const body = JSON.stringify(p);
          const res = await app.request('/webhooks/retell', { method: 'POST', body, headers: { ...(await signed(body)), 'x-forwarded-for': '100.20.5.228' } });
          statuses.push(res.status);
        }
      }),
    );
    expect(statuses.filter((x) => x !== 202)).toEqual([]);
  }, 60_000);

  it("failed signatures from one address turn into 429, but a valid signature from that address still passes (others' wrong keys lock nobody out)", async () => {
    const limited = createApp({ ...ingressDeps(s.env.ctx), guards: guardsWith({ TRUST_PROXY: 1, RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: 5 }) });
    const body = JSON.stringify(retellEvent('call_started', { callId: callId(), to: A }));
    const from = (ip: string, headers: Record<string, string>) => limited.request('/webhooks/retell', { method: 'POST', body, headers: { ...headers, 'x-forwarded-for': ip } });
    const bad = await signed(body, 'key_wrong');
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await from('203.0.113.9', bad)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect((await from('203.0.113.9', bad)).headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await from('203.0.113.9', await signed(body, KEY_A))).status).toBe(202);
    expect((await from('198.51.100.7', bad)).status).toBe(401);
  });

  it('a company over its budget gets 429; another company from the same address does not', async () => {
    const limited = createApp({ ...ingressDeps(s.env.ctx), guards: guardsWith({ RATE_LIMIT_COMPANY_PER_MINUTE: 3 }), keyPrefix: s.env.ctx.ns });
    const send = async (to: string) => {
      const body = JSON.stringify(retellEvent('call_started', { callId: callId(), to }));
      return (await limited.request('/webhooks/retell', { method: 'POST', body, headers: await signed(body) })).status;
    };
    // The window is the clock minute: keep clear of its edge.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    const prefix = `${s.env.ctx.ns}ratelimit:company:`;
    for (const key of await s.env.ctx.redis.keys(`${prefix}*`)) await s.env.ctx.redis.del(key);
    const a = [await send(A), await send(A), await send(A), await send(A)];
    expect(a).toEqual([202, 202, 202, 429]);
    expect(await send(B)).toBe(202);
  });

  it('a leased budget (400 a minute: 4 per round trip) holds across two ingress processes under a concurrent flood: 429 past it, never more than 400 accepted', async () => {
    // Two apps, two guards: two processes' leases over one Redis count.
    const apps = [0, 1].map(() => createApp({ ...ingressDeps(s.env.ctx), guards: guardsWith({ RATE_LIMIT_COMPANY_PER_MINUTE: 400 }), keyPrefix: s.env.ctx.ns }));
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    const prefix = `${s.env.ctx.ns}ratelimit:company:`;
    for (const key of await s.env.ctx.redis.keys(`${prefix}*`)) await s.env.ctx.redis.del(key);
    const bodies = await Promise.all(
      Array.from({ length: 500 }, async () => {
        const body = JSON.stringify(retellEvent('call_started', { callId: callId(), to: A }));
        return { body, headers: await signed(body) };
      }),
    );
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 32 }, async (_, lane) => {
        while (next < bodies.length) {
          const { body, headers } = bodies[next++]!;
          statuses.push((await apps[lane % 2]!.request('/webhooks/retell', { method: 'POST', body, headers })).status);
        }
      }),
    );
    const accepted = statuses.filter((x) => x === 202).length;
    expect(statuses.filter((x) => x !== 202 && x !== 429)).toEqual([]);
    expect(accepted).toBeLessThanOrEqual(400);
    expect(accepted).toBeGreaterThanOrEqual(400 - 3); // the other process's unused units: at most lease − 1
    // Once spent, hits are refused from memory: the count stops at the limit plus the blocks in flight.
    const [key] = await s.env.ctx.redis.keys(`${prefix}*`);
    expect(Number(await s.env.ctx.redis.get(key!))).toBeLessThanOrEqual(400 + 2 * 4);
  }, 60_000);

  it('a leased budget while its Redis is away: every concurrent webhook gets its 503 at once, none waits behind the others', async () => {
    // The budget's counter on a Redis that refuses connections (the ingress's 'client' role:
    // offline queue, 2 retries a command). The hits waiting for the block in flight used to
    // retry one after another: the tenth of ten answered after ~39 s, past Retell's 10 s.
    const dead = createRedis('redis://127.0.0.1:1', 'client');
    try {
      const app = createApp({ ...ingressDeps(s.env.ctx), guards: ingressGuards({ ...s.env.ctx, redis: dead }), keyPrefix: s.env.ctx.ns });
      const t0 = Date.now();
      const answers = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const body = JSON.stringify(retellEvent('call_started', { callId: callId(), to: A }));
          const res = await app.request('/webhooks/retell', { method: 'POST', body, headers: await signed(body) });
          return { status: res.status, ms: Date.now() - t0 };
        }),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(503));
      expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(5_000);
    } finally {
      dead.disconnect();
    }
  }, 60_000);

  it("/mcp, /events and /admin spend a budget of their own: a company over it gets 429, another company does not, and the company's calls are untouched", async () => {
    const budgetCtx = { ...s.env.ctx, config: { ...s.env.ctx.config, RATE_LIMIT_COMPANY_PER_MINUTE: 2 } };
    const gate = authGate(budgetCtx);
    const salonToken = (await createToken(db(), { companyId: salonId, name: 'salon office' })).token;
    const clinicId = await resolveClinic();
    const clinicToken = (await createToken(db(), { companyId: clinicId, name: 'clinic office' })).token;
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    for (const key of await s.env.ctx.redis.keys(`${s.env.ctx.ns}ratelimit:*`)) await s.env.ctx.redis.del(key);
    const results = [await gate.check('203.0.113.50', salonToken), await gate.check('203.0.113.50', salonToken), await gate.check('203.0.113.50', salonToken)];
    expect(results.map((r) => (r.ok ? 200 : r.status))).toEqual([200, 200, 429]);
    expect(results[2]).toMatchObject({ code: 'rate_limited' });
    expect((await gate.check('203.0.113.50', clinicToken)).ok).toBe(true);
    // The salon's calls still get through with the same limit on the Retell routes.
    const calls = createApp({ ...ingressDeps(s.env.ctx), guards: guardsWith({ RATE_LIMIT_COMPANY_PER_MINUTE: 2 }) });
    const body = JSON.stringify(retellEvent('call_started', { callId: callId(), to: B }));
    expect((await calls.request('/webhooks/retell', { method: 'POST', body, headers: await signed(body) })).status).toBe(202);
  });

  it('the flood guard caps everything from one address per process, before any work', async () => {
    const flood = createApp({ ...ingressDeps(s.env.ctx), floodPerMinute: 3, guards: guardsWith({ TRUST_PROXY: 1 }) });
    const hit = (ip: string) => flood.request('/healthz', { headers: { 'x-forwarded-for': ip } });
    expect([(await hit('192.0.2.1')).status, (await hit('192.0.2.1')).status, (await hit('192.0.2.1')).status, (await hit('192.0.2.1')).status]).toEqual([200, 200, 200, 429]);
    expect((await hit('192.0.2.2')).status).toBe(200);
  });

  it('no cache entry is written for a number before its body is authenticated', async () => {
    const fresh = Array.from({ length: 50 }, (_, i) => [`+4930${String(1_000_000 + i)}`, `+4940${String(1_000_000 + i)}`] as const);
    for (const [webhookNumber, fnNumber] of fresh) {
      expect((await post('/webhooks/retell', retellEvent('call_started', { callId: callId(), to: webhookNumber }), 'key_wrong')).status).toBe(401);
      const fn = { name: 'list_services', call: liveCall(fnNumber, CALLER), args: {} };
      expect((await post('/functions/retell/list_services', fn, 'key_wrong')).status).toBe(401);
    }
    // No key names any of the 100 numbers (company key, phone resolution, anything else).
    const keys = await s.env.ctx.redis.keys(`${s.env.ctx.ns}*`);
    const numbers = fresh.flat();
    expect(keys.filter((k) => numbers.some((n) => k.includes(n)))).toEqual([]);
  });
});

async function resolveClinic(): Promise<number> {
  return (await lookupPhone(db(), A))!.companyId;
}

function guardsWith(overrides: Partial<SimTestEnv['env']['ctx']['config']>) {
  return ingressGuards({ ...s.env.ctx, config: { ...s.env.ctx.config, ...overrides } });
}
