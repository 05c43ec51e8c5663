/**
 * Live updates over Server-Sent Events against real Redis and MariaDB, read over real HTTP: a
 * booking made by a worker in another OS process reaches a company's listener; listeners see only
 * their company (and a branch token only its branch); one shared Redis subscription per channel,
 * released when the clients leave.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { DateTime } from 'luxon';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsRouteDeps, mountEvents } from '../apps/ingress/routes/events';
import { listen, type RunningServer } from '../apps/ingress/server';
import { createToken } from '../lib/auth/tokens';
import { lookupPhone, type PhoneResolution } from '../lib/calls/resolve-phone';
import { eventsChannel, publishEvent } from '../lib/events';
import { closeEventHubs, EventHub } from '../lib/events/hub';
import type { TestEnv } from './helpers/env';
import { CLINIC_NUMBER, SALON_NUMBER, callId, retellEvent, signed, twoCompanies } from './helpers/fixtures';
import { startSimTestEnv, stopSimTestEnv, type SeededSim } from './helpers/calcom';

const KREUZBERG_NUMBER = '+4930333333';

let env: TestEnv;
let sim: SeededSim;
let server: RunningServer;
let base: string;
let mitte: PhoneResolution;
let kreuzberg: PhoneResolution;
let clinic: PhoneResolution;
const tokens = { salon: '', kreuzberg: '', clinic: '' };

beforeAll(async () => {
  const tenants = twoCompanies();
  tenants.companies[0]!.branches.push({ slug: 'kreuzberg', name: 'Salon Anna Kreuzberg', timezone: 'Europe/Berlin', phoneNumbers: [KREUZBERG_NUMBER] });
  ({ sim, env } = await startSimTestEnv({}, tenants));
  const db = env.ctx.database.db;
  mitte = (await lookupPhone(db, SALON_NUMBER))!;
  kreuzberg = (await lookupPhone(db, KREUZBERG_NUMBER))!;
  clinic = (await lookupPhone(db, CLINIC_NUMBER))!;
  tokens.salon = (await createToken(db, { companyId: mitte.companyId, name: 'salon dashboard' })).token;
  tokens.kreuzberg = (await createToken(db, { companyId: kreuzberg.companyId, branchId: kreuzberg.branchId, name: 'kreuzberg desk' })).token;
  tokens.clinic = (await createToken(db, { companyId: clinic.companyId, name: 'clinic dashboard' })).token;
  server = await listen(env.ctx, 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.close();
  await closeEventHubs();
  await stopSimTestEnv({ env, sim });
});

interface Sse {
  event: string;
  id?: string;
  data: string;
  json: Record<string, any>;
}

/** A minimal SSE client over fetch: parses `event:`/`id:`/`data:` blocks and `:` comments. */
async function connect(query: string, headers: Record<string, string> = {}, target: (url: string, init: RequestInit) => Promise<Response> = fetch) {
  const ac = new AbortController();
  const res = await target(`${base}/events${query}`, { headers, signal: ac.signal });
  const events: Sse[] = [];
  const comments: string[] = [];
  let wake: () => void = () => undefined;
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    void (async () => {
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const msg: Partial<Sse> & { data?: string } = {};
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) comments.push(line.slice(1).trim());
              const m = /^(event|id|data): ?(.*)$/.exec(line);
              if (m) msg[m[1] as 'event' | 'id' | 'data'] = m[1] === 'data' && msg.data !== undefined ? `${msg.data}\n${m[2]}` : m[2];
            }
            if (msg.data !== undefined) events.push({ event: msg.event ?? 'message', id: msg.id, data: msg.data, json: JSON.parse(msg.data) as Record<string, any> });
          }
          wake();
        }
      } catch {
        // aborted
      }
      wake();
    })();
  }
  const waitFor = async (pred: (e: Sse) => boolean, ms = 10_000): Promise<Sse> => {
    const end = Date.now() + ms;
    for (;;) {
      const hit = events.find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no matching event within ${ms} ms; got ${events.map((e) => e.event).join(', ')}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
  };
  return { res, status: res.status, events, comments, waitFor, close: () => ac.abort(), ready: () => waitFor((e) => e.event === 'ready') };
}

async function numsub(companyId: number): Promise<number> {
  const reply = (await env.ctx.redis.pubsub('NUMSUB', eventsChannel(env.ctx.ns, companyId))) as [string, number];
  return Number(reply[1]);
}

async function until(f: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A weekday at 11:00 in Berlin, a week or so ahead. */
function bookableWhen(): string {
  let d = DateTime.now().setZone('Europe/Berlin').startOf('day').plus({ days: 6 });
  while (d.weekday > 5) d = d.plus({ days: 1 });
  return `${d.toISODate()}T11:00:00`;
}

describe('GET /events', () => {
  it('streams a booking made by a worker in another OS process to the company listener, and to no other company', async () => {
    const salon = await connect(`?token=${tokens.salon}`);
    const other = await connect('', { authorization: `Bearer ${tokens.clinic}` });
    expect(salon.status).toBe(200);
    expect(salon.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect((await salon.ready()).json).toEqual({ type: 'ready', companyId: mitte.companyId, branchId: null });
    expect((await other.ready()).json).toMatchObject({ companyId: clinic.companyId });

    const child: ChildProcess = spawn(process.execPath, ['dist/worker.js', 'webhooks', 'bookings'], {
      env: { ...process.env, ...env.vars, CALCOM_API_URL: sim.url, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await until(() => out.includes('workers started'), 20_000);
      const id = callId();
      const body = JSON.stringify(
        retellEvent('call_analyzed', { callId: id, analysis: { booking_confirmed: 'Ja', appointment_datetime: bookableWhen(), service: 'Haarschnitt', customer_name: 'Bea' } }),
      );
      const res = await fetch(`${base}/webhooks/retell`, { method: 'POST', body, headers: await signed(body) });
      expect(res.status).toBe(202);

      const call = await salon.waitFor((e) => e.event === 'call.updated' && e.json.callId === id, 20_000);
      expect(call.json).toMatchObject({ type: 'call.updated', companyId: mitte.companyId, branchId: mitte.branchId, status: 'analyzed', decision: 'book' });
      const booked = await salon.waitFor((e) => e.event === 'booking.booked', 20_000);
      expect(booked.json).toMatchObject({ type: 'booking.booked', companyId: mitte.companyId, branchId: mitte.branchId, appointmentId: expect.any(Number), start: expect.any(String), at: expect.any(String) });
      expect(sim.sim.bookings()).toHaveLength(1);
      // ids grow per connection
      const ids = salon.events.map((e) => e.id).filter(Boolean).map(Number);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }

    // The clinic's listener heard nothing of the salon; its own events do arrive.
    await publishEvent(env.ctx.redis, env.ctx.ns, { type: 'booking.cancelled', companyId: clinic.companyId, branchId: clinic.branchId, appointmentId: 999 });
    await other.waitFor((e) => e.event === 'booking.cancelled');
    expect(other.events.filter((e) => e.event !== 'ready').map((e) => e.json.companyId)).toEqual([clinic.companyId]);
    expect(salon.events.some((e) => e.json.companyId === clinic.companyId)).toBe(false);
    salon.close();
    other.close();
  }, 60_000);

  it('a branch token hears only its branch; the company token and the admin hear every branch', async () => {
    const branch = await connect(`?token=${tokens.kreuzberg}`);
    const company = await connect('', { authorization: `Bearer ${tokens.salon}` });
    const admin = await connect(`?token=${env.config.ADMIN_TOKEN}&company=salon-anna`);
    expect((await branch.ready()).json).toEqual({ type: 'ready', companyId: kreuzberg.companyId, branchId: kreuzberg.branchId });
    await company.ready();
    await admin.ready();

    const pub = (branchId: number, appointmentId: number) =>
      publishEvent(env.ctx.redis, env.ctx.ns, { type: 'booking.booked', companyId: mitte.companyId, branchId, appointmentId, start: '2030-12-03T10:00:00.000Z' });
    await pub(mitte.branchId, 1);
    await pub(kreuzberg.branchId, 2);
    for (const l of [company, admin]) await l.waitFor((e) => e.json.appointmentId === 2);
    await branch.waitFor((e) => e.json.appointmentId === 2);
    const seen = (l: typeof branch) => l.events.filter((e) => e.event === 'booking.booked').map((e) => e.json.appointmentId);
    expect(seen(branch)).toEqual([2]);
    expect(seen(company)).toEqual([1, 2]);
    expect(seen(admin)).toEqual([1, 2]);
    const msg = branch.events.find((e) => e.event === 'booking.booked')!;
    expect(msg.id).toBeDefined();
    expect(msg.json).toMatchObject({ type: 'booking.booked', branchId: kreuzberg.branchId });
    for (const l of [branch, company, admin]) l.close();
  });

  it('shares one Redis subscription per company and releases it when the clients leave', async () => {
    await until(async () => (await numsub(mitte.companyId)) === 0);
    const a = await connect(`?token=${tokens.salon}`);
    const b = await connect(`?token=${tokens.kreuzberg}`);
    await a.ready();
    await b.ready();
    expect(await numsub(mitte.companyId)).toBe(1); // one connection for both listeners
    a.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(await numsub(mitte.companyId)).toBe(1); // b still listens
    b.close();
    await until(async () => (await numsub(mitte.companyId)) === 0);
  });

  it('the hub: a listener leaving and another arriving at once keeps the channel subscribed', async () => {
    const hub = new EventHub({ redisUrl: env.config.REDIS_URL, ns: env.ctx.ns });
    try {
      const got: number[] = [];
      const first = await hub.subscribe(clinic.companyId, { onEvent: () => undefined });
      first();
      const second = hub.subscribe(clinic.companyId, { onEvent: (e) => got.push('appointmentId' in e ? e.appointmentId : -1) });
      first(); // releasing twice is harmless
      const stop = await second;
      expect(hub.stats()).toEqual({ channels: 1, listeners: 1 });
      await publishEvent(env.ctx.redis, env.ctx.ns, { type: 'booking.failed', companyId: clinic.companyId, branchId: clinic.branchId, appointmentId: 7 });
      await until(() => got.length === 1);
      stop();
      expect(hub.stats()).toEqual({ channels: 0, listeners: 0 });
    } finally {
      await hub.close();
    }
  });

  it('refuses without a valid token, makes the admin name a company, keeps tokens to their company', async () => {
    const status = async (query: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${base}/events${query}`, { headers });
      const body = (await res.json()) as { error: { code: string } };
      return [res.status, body.error.code];
    };
    expect(await status('')).toEqual([401, 'unauthorized']);
    expect(await status('?token=cbk_not_a_real_token')).toEqual([401, 'unauthorized']);
    expect(await status('', { authorization: 'Bearer wrong' })).toEqual([401, 'unauthorized']);
    expect(await status(`?token=${env.config.ADMIN_TOKEN}`)).toEqual([400, 'company_required']);
    expect(await status(`?token=${env.config.ADMIN_TOKEN}&company=nope`)).toEqual([404, 'unknown_company']);
    expect(await status(`?token=${tokens.salon}&company=clinic-nord`)).toEqual([403, 'forbidden']);
  });

  it('sends a heartbeat comment while idle', async () => {
    const app = new Hono();
    mountEvents(app, eventsRouteDeps(env.ctx, { heartbeatMs: 50 }));
    const l = await connect(`?token=${tokens.salon}`, {}, async (url, init) => app.request(url.replace(base, ''), init));
    await l.ready();
    await until(() => l.comments.includes('ping'), 3000);
    l.close();
  });

  it('ends open streams when the server shuts down', async () => {
    const own = await listen(env.ctx, 0, '127.0.0.1');
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${own.port}/events?token=${tokens.salon}`, { signal: ac.signal });
    const reader = res.body!.getReader();
    await reader.read(); // ready
    const t0 = Date.now();
    await own.close();
    expect(Date.now() - t0).toBeLessThan(2000);
    for (;;) if ((await reader.read()).done) break;
    ac.abort();
  });
});
