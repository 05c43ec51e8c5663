/**
 * The webhook worker's path against real MariaDB and Redis: ingress → webhooks queue → worker.
 * Jobs are processed by a real BullMQ worker started in this process.
 */
import { and, eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../apps/ingress/app';
import { ingressDeps } from '../apps/ingress/deps';
import { appointments, calls, customers, webhookEvents } from '../drizzle/schema';
import { importTenants } from '../lib/tenants/import';
import { startWorkers, type RunningWorkers } from '../workers';
import { createTestEnv, type TestEnv } from './helpers/env';
import { CALLER, CLINIC_NUMBER, callId, retellEvent, signed, twoCompanies } from './helpers/fixtures';

let env: TestEnv;
let app: ReturnType<typeof createApp>;
let workers: RunningWorkers;

beforeAll(async () => {
  env = await createTestEnv({});
  await importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher, cache: env.ctx.cache }, twoCompanies(), 'test');
  app = createApp(ingressDeps(env.ctx));
  workers = startWorkers(env.ctx, ['webhooks']);
});
afterAll(async () => {
  await workers.close();
  await env.cleanup();
});

async function deliver(payload: Record<string, unknown>) {
  const body = JSON.stringify(payload);
  const res = await app.request('/webhooks/retell', { method: 'POST', body, headers: await signed(body) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { jobId: string }).jobId;
}

async function settled(jobId: string) {
  const job = await env.ctx.queues.webhooks.getJob(jobId);
  for (let i = 0; i < 200; i++) {
    const state = await job!.getState();
    if (state === 'completed' || state === 'failed') return state;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`job ${jobId} did not settle`);
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

const db = () => env.ctx.database.db;
const callRow = async (id: string) => (await db().select().from(calls).where(eq(calls.retellCallId, id)))[0];
const bookingJobs = async () => env.ctx.queues.bookings.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);

// A weekday and time safely in the future in Europe/Berlin.
const future = () => {
  const d = new Date(Date.now() + 9 * 24 * 3600_000);
  return `${d.toISOString().slice(0, 10)}T11:00:00`;
};

describe('webhook worker', () => {
  it('records a call_ended with transcript and creates the customer in the dialled company', async () => {
    const id = callId();
    await settled(await deliver(retellEvent('call_ended', { callId: id, vars: { customer_name: 'Anna Schmidt' } })));
    const row = await callRow(id);
    expect(row).toMatchObject({ status: 'ended', fromNumber: CALLER, transcript: expect.stringContaining('Dienstag um 11') });
    const [cust] = await db().select().from(customers).where(eq(customers.id, row!.customerId!));
    expect(cust).toMatchObject({ name: 'Anna Schmidt', phone: CALLER, companyId: row!.companyId });
  });

  it('books once when call_analyzed arrives before call_ended, and the call keeps the analysis', async () => {
    const id = callId();
    const when = future();
    const analysis = { booking_confirmed: 'Ja', appointment_datetime: when, service: 'Haarschnitt', customer_name: 'Bea' };
    await settled(await deliver(retellEvent('call_analyzed', { callId: id, analysis, sentiment: 'Negative' })));
    await settled(await deliver(retellEvent('call_ended', { callId: id })));
    const row = await callRow(id);
    expect(row).toMatchObject({ status: 'analyzed', bookingDecision: 'book', sentiment: 'Negative', summary: 'Caller booked a haircut.' });
    // 11:00 wall time in the branch's zone, whatever the offset on that day.
    expect(row!.bookingRequest!.start).toBe(DateTime.fromISO(when, { zone: 'Europe/Berlin' }).toUTC().toISO());
    const jobs = (await bookingJobs()).filter((j) => j.data.callId === row!.id);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.id).toBe(`booking-${row!.bookingRequest!.idempotencyKey}`);
    // The payload carries ids, not personal data.
    expect(JSON.stringify(jobs[0]!.data)).not.toMatch(/Bea|\+49/);
  });

  it('delivering the same webhooks many times, concurrently, makes one call row and one bookings job', async () => {
    const id = callId();
    const analysis = { booking_confirmed: true, appointment_datetime: future(), service: 'haircut' };
    const payloads = [retellEvent('call_ended', { callId: id }), retellEvent('call_analyzed', { callId: id, analysis })];
    const jobIds = await Promise.all(Array.from({ length: 10 }, (_, i) => deliver(payloads[i % 2]!)));
    await Promise.all([...new Set(jobIds)].map(settled));
    expect(await db().select().from(calls).where(eq(calls.retellCallId, id))).toHaveLength(1);
    const row = await callRow(id);
    expect((await bookingJobs()).filter((j) => j.data.callId === row!.id)).toHaveLength(1);
  });

  it('recognises a re-delivery after the job left Redis (trimmed) and does not process it again', async () => {
    const id = callId();
    const payload = retellEvent('call_analyzed', { callId: id, analysis: { booking_confirmed: '1', appointment_datetime: future() } });
    const jobId = await deliver(payload);
    await settled(jobId);
    await (await env.ctx.queues.webhooks.getJob(jobId))!.remove();
    const again = await deliver(payload);
    expect(again).toBe(jobId);
    await settled(again);
    const result = (await env.ctx.queues.webhooks.getJob(again))!.returnvalue as { status: string };
    expect(result.status).toBe('duplicate');
    const [ev] = await db().select().from(webhookEvents).where(eq(webhookEvents.dedupeKey, `${id}:call_analyzed`));
    expect(ev!.status).toBe('processed');
  });

  it('records an unknown number as rejected with a reason and does not crash', async () => {
    const id = callId();
    const jobId = await deliver(retellEvent('call_ended', { callId: id, to: '+4989999999' }));
    expect(await settled(jobId)).toBe('completed');
    const [ev] = await db().select().from(webhookEvents).where(eq(webhookEvents.dedupeKey, `${id}:call_ended`));
    expect(ev).toMatchObject({ status: 'rejected', error: expect.stringContaining('unknown number +4989999999') });
    expect(await callRow(id)).toBeUndefined();
  });

  it('keeps the same caller as two customers of two companies', async () => {
    const a = callId();
    const b = callId();
    await settled(await deliver(retellEvent('call_ended', { callId: a, vars: { customer_name: 'Carla' } })));
    await settled(await deliver(retellEvent('call_ended', { callId: b, to: CLINIC_NUMBER, vars: { customer_name: 'Carla C.' } })));
    const rows = await db().select().from(customers).where(eq(customers.phone, CALLER));
    const companiesSeen = new Set(rows.map((r) => r.companyId));
    expect(companiesSeen.size).toBe(2);
    const [ra, rb] = [await callRow(a), await callRow(b)];
    expect(ra!.customerId).not.toBe(rb!.customerId);
    const [clinicCustomer] = await db().select().from(customers).where(and(eq(customers.phone, CALLER), eq(customers.id, rb!.customerId!)));
    expect(clinicCustomer!.name).toBe('Carla C.');
  });

  it('never replaces a known name with "Unknown"', async () => {
    const id1 = callId();
    await settled(await deliver(retellEvent('call_ended', { callId: id1, from: '+4915100000001', vars: { customer_name: 'Dora' } })));
    const id2 = callId();
    await settled(await deliver(retellEvent('call_ended', { callId: id2, from: '+4915100000001', vars: { customer_name: 'Unknown' } })));
    const row = await callRow(id2);
    const [cust] = await db().select().from(customers).where(eq(customers.id, row!.customerId!));
    expect(cust!.name).toBe('Dora');
  });

  it('decides no booking, with a reason, when the caller did not confirm', async () => {
    const id = callId();
    await settled(await deliver(retellEvent('call_analyzed', { callId: id, analysis: { booking_confirmed: 'no', appointment_datetime: future() } })));
    expect(await callRow(id)).toMatchObject({ bookingDecision: 'no_booking', bookingReason: 'caller did not confirm a booking' });
    expect(await db().select().from(appointments)).toHaveLength(0);
  });

  it('waits at call_ended for details that only the analysis brings', async () => {
    const id = callId();
    await settled(await deliver(retellEvent('call_ended', { callId: id, vars: { booking_confirmed: 'yes' } })));
    expect((await callRow(id))!.bookingDecision).toBeNull();
    // call_analyzed carries the whole call again, collected variables included.
    await settled(await deliver(retellEvent('call_analyzed', { callId: id, vars: { booking_confirmed: 'yes' }, analysis: { appointment_date: future().slice(0, 10), appointment_time: '14:30', service: 'Färben' } })));
    const row = await until(() => callRow(id), (r) => r?.bookingDecision !== null);
    expect(row!.bookingDecision).toBe('book');
  });
});
