/**
 * The MCP tools the operator console is built on — stats_overview, calls_list, queues_status,
 * tenants_list, and what calls_get and failed_bookings_list add for it — through the SDK's
 * Client over real HTTP against real MariaDB and Redis: what each counts, and that company A's
 * token and a branch token never see (or count) company B's or another branch's calls.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnrecoverableError, Worker } from 'bullmq';
import { eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../apps/ingress/app';
import { ingressDeps } from '../apps/ingress/deps';
import { mountMcp } from '../apps/ingress/routes/mcp';
import { listen, type RunningServer } from '../apps/ingress/server';
import { appointments, branches, calls, companies, customers, notifications, services } from '../drizzle/schema';
import { createToken } from '../lib/auth/tokens';
import { ERROR_CODES } from '../lib/mcp/errors';
import { bullPrefix, type BookingJob } from '../lib/queues';
import { createRedis } from '../lib/redis';
import { importTenants } from '../lib/tenants/import';
import { createTestEnv, type TestEnv } from './helpers/env';
import { twoCompanies } from './helpers/fixtures';
import { callTool, connectMcp, rpcError } from './helpers/mcp';

const ADMIN = 'admin-token-for-tests-0123456789';
const TZ = 'Europe/Berlin';

let env: TestEnv;
let server: RunningServer;
let url: URL;
const clients: Client[] = [];
const ids = { salon: 0, clinic: 0, mitte: 0, nord: 0, hh: 0 };
const tokens = { salon: '', clinic: '', nord: '' };
const appts: Record<string, number> = {};

async function connect(token: string): Promise<Client> {
  const client = await connectMcp(url, token, 'console-test');
  clients.push(client);
  return client;
}

// The tools' results are checked field by field below: `any` keeps those reads short.
const call = <T = any>(client: Client, name: string, args: Record<string, unknown> = {}) => callTool<T>(client, name, args);

/**
 * `minutes` minutes ago — or, in the first ten minutes of a Berlin day, that many tenths of the
 * time since midnight: every seeded call (at most 9 "minutes" back) stays today, in the same order.
 * (Minutes alone put the older calls into yesterday for a run just after midnight, and the counts
 * below failed.)
 */
const recent = (minutes: number) => {
  const sinceMidnight = Date.now() - DateTime.now().setZone(TZ).startOf('day').toMillis();
  return new Date(Date.now() - minutes * Math.min(60_000, Math.floor(sinceMidnight / 10)));
};

interface SeedCall {
  id: string;
  companyId: number;
  branchId: number;
  at: Date;
  decision?: 'book' | 'no_booking';
  reason?: string;
  /** An appointment made from the call, in this state. */
  appointment?: 'booked' | 'failed' | 'pending' | 'cancelled';
}

async function seed(c: SeedCall): Promise<void> {
  const db = env.ctx.database.db;
  const [row] = await db.insert(calls).values({
    retellCallId: c.id,
    companyId: c.companyId,
    branchId: c.branchId,
    status: 'analyzed',
    startedAt: c.at,
    durationMs: 90_000,
    summary: `summary of ${c.id}`,
    transcript: `transcript of ${c.id}`,
    bookingDecision: c.decision ?? null,
    bookingReason: c.reason ?? null,
  });
  const callRowId = Number(row.insertId);
  if (!c.appointment) return;
  const [customer] = await db.insert(customers).values({ companyId: c.companyId, phone: `+49170${callRowId}`.padEnd(12, '0'), phoneIndex: `idx-${c.id}`, name: 'Anna' });
  const [svc] = await db.select().from(services).where(eq(services.companyId, c.companyId)).limit(1);
  const [appt] = await db.insert(appointments).values({
    companyId: c.companyId,
    branchId: c.branchId,
    customerId: Number(customer.insertId),
    callId: callRowId,
    serviceId: svc!.id,
    idempotencyKey: c.id.padEnd(64, '0').slice(0, 64),
    startAt: new Date(Date.now() + 86_400_000),
    status: c.appointment,
    failureReason: c.appointment === 'failed' ? 'slot taken (01.12.2026 11:00); free: 11:30' : null,
    source: 'call',
  });
  appts[c.id] = Number(appt.insertId);
  if (c.appointment === 'booked' || c.appointment === 'cancelled') await db.update(calls).set({ appointmentId: Number(appt.insertId) }).where(eq(calls.id, callRowId));
}

beforeAll(async () => {
  env = await createTestEnv();
  const db = env.ctx.database.db;
  const tenants = twoCompanies();
  const salon = tenants.companies[0]!;
  salon.branches.push({ ...salon.branches[0]!, slug: 'nord', name: 'Salon Anna Nord', phoneNumbers: ['+4930111222'] });
  salon.services.push({ slug: 'nord-only', name: 'Nord special', calcomEventTypeId: 1003, durationMinutes: 30, aliases: [], branch: 'nord' });
  await importTenants({ db, cipher: env.ctx.cipher, cache: env.ctx.cache }, tenants, 'test');
  for (const c of await db.select().from(companies)) ids[c.slug === 'salon-anna' ? 'salon' : 'clinic'] = c.id;
  for (const b of await db.select().from(branches)) ids[b.slug as 'mitte' | 'nord' | 'hh'] = b.id;

  const m = { companyId: ids.salon, branchId: ids.mitte };
  await seed({ id: 'call_m1', ...m, at: recent(5), decision: 'book', appointment: 'booked' });
  await seed({ id: 'call_m2', ...m, at: recent(6), decision: 'no_booking', reason: 'caller did not confirm' });
  await seed({ id: 'call_m3', ...m, at: recent(7), decision: 'no_booking', reason: 'caller did not confirm' });
  await seed({ id: 'call_m4', ...m, at: recent(8), decision: 'book', appointment: 'failed' });
  await seed({ id: 'call_m5', ...m, at: recent(1) });
  await seed({ id: 'call_m6', ...m, at: recent(9), decision: 'book', appointment: 'cancelled' });
  await seed({ id: 'call_m_old', ...m, at: new Date('2025-01-15T10:00:00Z'), decision: 'no_booking', reason: 'no time given' });
  await seed({ id: 'call_n1', companyId: ids.salon, branchId: ids.nord, at: recent(3), decision: 'book', appointment: 'booked' });
  await seed({ id: 'call_c1', companyId: ids.clinic, branchId: ids.hh, at: recent(2), decision: 'book', appointment: 'booked' });
  await seed({ id: 'call_c2', companyId: ids.clinic, branchId: ids.hh, at: recent(4), decision: 'no_booking', reason: 'secret clinic reason' });
  // A live booking: the call has its appointment, and its decision says so.
  await db.update(calls).set({ bookingDecision: 'no_booking', bookingReason: `booked live during the call (appointment ${appts.call_c1})` }).where(eq(calls.retellCallId, 'call_c1'));
  await db.insert(notifications).values([
    { companyId: ids.salon, kind: 'booking_confirmed', ref: String(appts.call_m1), channel: 'sms', recipient: '+49*****001', status: 'sent', sentAt: new Date() },
    { companyId: ids.clinic, kind: 'booking_confirmed', ref: String(appts.call_c1), channel: 'email', recipient: 'p***@clinic.example', status: 'sent', sentAt: new Date() },
  ]);

  tokens.salon = (await createToken(db, { companyId: ids.salon, name: 'salon console' })).token;
  tokens.clinic = (await createToken(db, { companyId: ids.clinic, name: 'clinic console' })).token;
  tokens.nord = (await createToken(db, { companyId: ids.salon, branchId: ids.nord, name: 'nord console' })).token;
  server = await listen(env.ctx, 0, '127.0.0.1', createApp({ ...ingressDeps(env.ctx), routes: [mountMcp(env.ctx)] }));
  url = new URL(`http://127.0.0.1:${server.port}/mcp`);
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await server?.close();
  await env?.cleanup();
});

const counts = (o: Partial<Record<'calls' | 'booked' | 'no_booking' | 'failed' | 'cancelled' | 'open', number>>) => ({
  calls: 0,
  booked: 0,
  no_booking: 0,
  failed: 0,
  cancelled: 0,
  open: 0,
  ...o,
});

describe('stats_overview', () => {
  it('admin: every company, per branch, today and a range; top reasons; bookings per hour', async () => {
    const admin = await connect(ADMIN);
    const s = await call(admin, 'stats_overview', { timeZone: TZ });
    expect(s.timeZone).toBe(TZ);
    expect(s.today).toBe(DateTime.now().setZone(TZ).toISODate());
    expect(s.totals.today).toEqual(counts({ calls: 9, booked: 3, no_booking: 3, failed: 1, cancelled: 1, open: 1 }));
    expect(s.totals.range).toEqual(s.totals.today);
    expect(s.branches.map((b: any) => `${b.company}/${b.branch}`)).toEqual(['clinic-nord/hh', 'salon-anna/mitte', 'salon-anna/nord']);
    expect(s.branches.find((b: any) => b.branch === 'mitte').today).toEqual(counts({ calls: 6, booked: 1, no_booking: 2, failed: 1, cancelled: 1, open: 1 }));
    expect(s.topReasons).toEqual([
      { reason: 'caller did not confirm', count: 2 },
      { reason: 'secret clinic reason', count: 1 },
    ]);
    // Booked (and later cancelled) appointments were made just now: four, in this hour.
    expect(s.bookingsPerHour).toHaveLength(24);
    expect(s.bookingsPerHour[DateTime.now().setZone(TZ).hour]).toBe(4);
    expect(s.bookingsPerHour.reduce((x: number, y: number) => x + y, 0)).toBe(4);

    const old = await call(admin, 'stats_overview', { company: 'salon-anna', from: '2025-01-01', to: '2025-01-31', timeZone: TZ });
    expect(old.totals.range).toEqual(counts({ calls: 1, no_booking: 1 }));
    expect(old.topReasons).toEqual([{ reason: 'no time given', count: 1 }]);
    expect(old.totals.today.calls).toBe(7);
    // Without a time zone: the company's branches' (Berlin).
    expect((await call(admin, 'stats_overview', { company: 'salon-anna' })).timeZone).toBe(TZ);
  });

  it("a company token counts its own company only; naming the other is 'not found'", async () => {
    const salon = await connect(tokens.salon);
    const s = await call(salon, 'stats_overview', {});
    expect(s.totals.today).toEqual(counts({ calls: 7, booked: 2, no_booking: 2, failed: 1, cancelled: 1, open: 1 }));
    expect(s.branches.map((b: any) => b.branch)).toEqual(['mitte', 'nord']);
    expect(JSON.stringify(s)).not.toMatch(/clinic|secret/i);
    expect(await rpcError(salon, 'stats_overview', { company: 'clinic-nord' })).toEqual({ code: ERROR_CODES.notFound, message: 'not found: no company "clinic-nord"' });
    expect((await rpcError(salon, 'stats_overview', { company: 'no-such' })).message).toBe('not found: no company "no-such"');

    const clinic = await call(await connect(tokens.clinic), 'stats_overview', {});
    expect(clinic.totals.today).toEqual(counts({ calls: 2, booked: 1, no_booking: 1 }));
    expect(JSON.stringify(clinic)).not.toMatch(/salon|mitte|"nord"/i);
  });

  it('a branch token counts its branch only', async () => {
    const nord = await connect(tokens.nord);
    const s = await call(nord, 'stats_overview', {});
    expect(s.totals.today).toEqual(counts({ calls: 1, booked: 1 }));
    expect(s.branches.map((b: any) => b.branch)).toEqual(['nord']);
    expect(s.bookingsPerHour.reduce((x: number, y: number) => x + y, 0)).toBe(1);
    expect(await rpcError(nord, 'stats_overview', { branch: 'mitte' })).toEqual({ code: ERROR_CODES.notFound, message: 'not found: no branch "mitte" in salon-anna' });
    expect((await rpcError(nord, 'stats_overview', { company: 'clinic-nord' })).code).toBe(ERROR_CODES.notFound);
  });

  it('refuses a bad time zone and a backwards range, naming the field', async () => {
    const admin = await connect(ADMIN);
    expect((await rpcError(admin, 'stats_overview', { timeZone: 'Mars/Olympus' })).message).toContain('timeZone: must be an IANA time zone');
    expect((await rpcError(admin, 'stats_overview', { from: '2026-02-02', to: '2026-02-01', timeZone: TZ })).message).toBe('to: 2026-02-01 is before from: 2026-02-02');
    expect((await rpcError(admin, 'stats_overview', { from: '2026-13-01' })).code).toBe(ERROR_CODES.invalidParams);
  });
});

describe('calls_list', () => {
  it('admin: newest first, page by page with a cursor, no page overlapping; outcome filter with reasons', async () => {
    const admin = await connect(ADMIN);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await call(admin, 'calls_list', { limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.total).toBe(10);
      seen.push(...page.calls.map((c: any) => c.callId));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect(seen).toEqual(['call_m5', 'call_c1', 'call_n1', 'call_c2', 'call_m1', 'call_m2', 'call_m3', 'call_m4', 'call_m6', 'call_m_old']);

    const failed = await call(admin, 'calls_list', { outcome: 'failed' });
    expect(failed.calls).toEqual([
      expect.objectContaining({ callId: 'call_m4', company: 'salon-anna', branch: 'mitte', outcome: 'failed', reason: 'slot taken (01.12.2026 11:00); free: 11:30', appointment: expect.objectContaining({ id: appts.call_m4, status: 'failed' }) }),
    ]);
    const live = await call(admin, 'calls_list', { company: 'clinic-nord', outcome: 'booked' });
    expect(live.calls.map((c: any) => c.callId)).toEqual(['call_c1']);
    const ranged = await call(admin, 'calls_list', { company: 'salon-anna', from: '2025-01-15', to: '2025-01-15', timeZone: TZ });
    expect(ranged.calls.map((c: any) => [c.callId, c.reason])).toEqual([['call_m_old', 'no time given']]);
    // No personal data in a listing.
    expect(JSON.stringify(failed)).not.toMatch(/summary|transcript|Anna|\+49/);
    expect((await rpcError(admin, 'calls_list', { cursor: 'not-a-cursor' })).message).toMatch(/^cursor: /);
  });

  it("tokens list their own company's (branch's) calls only, whatever cursor they bring", async () => {
    const admin = await connect(ADMIN);
    const first = await call(admin, 'calls_list', { limit: 1 });
    const salon = await connect(tokens.salon);
    const own = await call(salon, 'calls_list', { limit: 100 });
    expect(own.total).toBe(8);
    expect(own.calls.every((c: any) => c.company === 'salon-anna')).toBe(true);
    const nord = await connect(tokens.nord);
    const viaCursor = await call(nord, 'calls_list', { cursor: first.nextCursor });
    expect(viaCursor.calls.map((c: any) => c.callId)).toEqual(['call_n1']);
    expect((await rpcError(nord, 'calls_list', { branch: 'mitte' })).code).toBe(ERROR_CODES.notFound);
    expect((await rpcError(salon, 'calls_list', { company: 'clinic-nord' })).code).toBe(ERROR_CODES.notFound);
    const clinic = await call(await connect(tokens.clinic), 'calls_list', {});
    expect(clinic.calls.map((c: any) => c.callId)).toEqual(['call_c1', 'call_c2']);
  });
});

describe('calls_get for the console', () => {
  it('adds the appointment (also a failed one) and its notifications; not across tenants', async () => {
    const salon = await connect(tokens.salon);
    const m1 = await call(salon, 'calls_get', { callId: 'call_m1' });
    expect(m1.appointments).toEqual([expect.objectContaining({ id: appts.call_m1, status: 'booked', service: 'coloring', serviceName: 'Coloring' })]);
    expect(m1.notifications).toEqual([{ appointmentId: appts.call_m1, kind: 'booking_confirmed', channel: 'sms', recipient: '+49*****001', status: 'sent', error: null, sentAt: expect.any(String) }]);
    const m4 = await call(salon, 'calls_get', { callId: 'call_m4' });
    expect(m4.appointments).toEqual([expect.objectContaining({ status: 'failed', failureReason: 'slot taken (01.12.2026 11:00); free: 11:30' })]);
    expect(m4.notifications).toEqual([]);
    expect((await rpcError(salon, 'calls_get', { callId: 'call_c1' })).code).toBe(ERROR_CODES.notFound);
    const c1 = await call(await connect(tokens.clinic), 'calls_get', { callId: 'call_c1' });
    expect(c1.notifications.map((n: any) => n.recipient)).toEqual(['p***@clinic.example']);
  });
});

describe('tenants_list', () => {
  it('the admin sees every company; a company token its own; a branch token its branch and its services', async () => {
    const all = await call(await connect(ADMIN), 'tenants_list');
    expect(all.principal).toEqual({ kind: 'admin' });
    expect(all.companies.map((c: any) => c.slug)).toEqual(['clinic-nord', 'salon-anna']);
    const salon = await call(await connect(tokens.salon), 'tenants_list');
    expect(salon.principal).toEqual({ kind: 'company', name: 'salon console' });
    expect(salon.companies).toHaveLength(1);
    expect(salon.companies[0].branches.map((b: any) => b.slug)).toEqual(['mitte', 'nord']);
    const nord = await call(await connect(tokens.nord), 'tenants_list');
    expect(nord.principal).toEqual({ kind: 'branch', name: 'nord console' });
    expect(nord.companies[0].branches).toEqual([{ id: ids.nord, slug: 'nord', name: 'Salon Anna Nord', timezone: TZ, language: 'de' }]);
    expect(nord.companies[0].services.map((s: any) => s.slug)).toEqual(['coloring', 'haircut', 'nord-only']);
    const clinic = await call(await connect(tokens.clinic), 'tenants_list');
    expect(clinic.companies.map((c: any) => c.slug)).toEqual(['clinic-nord']);
    expect(JSON.stringify(clinic)).not.toContain('salon');
  });
});

describe('queues_status and failed bookings', () => {
  it('admin: every queue and state; tokens: the shared backlog and their own failed bookings only', async () => {
    const ctx = env.ctx;
    const job = (companyId: number, branchId: number, n: string, callRowId?: number): BookingJob => ({
      companyId,
      branchId,
      customerId: 1,
      serviceId: 1,
      start: new Date(Date.now() + 86_400_000).toISOString(),
      idempotencyKey: n.repeat(64),
      source: 'call',
      ...(callRowId ? { callId: callRowId } : {}),
    });
    const [haircut] = await ctx.database.db.select().from(services).where(eq(services.slug, 'haircut'));
    const [m4] = await ctx.database.db.select().from(calls).where(eq(calls.retellCallId, 'call_m4'));
    const connection = createRedis(env.config.REDIS_URL, 'worker');
    const worker = new Worker('bookings', async () => {
      throw new UnrecoverableError('slot taken (test); free: 16:30');
    }, { connection, prefix: bullPrefix(env.config.REDIS_PREFIX) });
    const salonJob = await ctx.queues.bookings.add('book', { ...job(ids.salon, ids.mitte, 'a', m4!.id), serviceId: haircut!.id }, { jobId: 'booking-salon-failed' });
    const clinicJob = await ctx.queues.bookings.add('book', job(ids.clinic, ids.hh, 'b'), { jobId: 'booking-clinic-failed' });
    for (let i = 0; i < 100 && ((await salonJob.getState()) !== 'failed' || (await clinicJob.getState()) !== 'failed'); i++) await new Promise((r) => setTimeout(r, 50));
    await worker.close();
    connection.disconnect();
    await ctx.queues.webhooks.add('call_started', { x: 1 }, { delay: 60_000 });

    const admin = await call(await connect(ADMIN), 'queues_status');
    expect(admin.queues.map((q: any) => q.name)).toEqual(['webhooks', 'bookings', 'sync', 'notifications', 'default']);
    expect(admin.queues.find((q: any) => q.name === 'bookings')).toMatchObject({ failed: 2 });
    expect(admin.queues.find((q: any) => q.name === 'webhooks')).toMatchObject({ delayed: 1, completed: 0 });
    expect(admin.failedBookings).toBe(2);

    const salon = await call(await connect(tokens.salon), 'queues_status');
    expect(salon.queues.map((q: any) => q.name)).toEqual(['webhooks', 'bookings', 'notifications']);
    expect(salon.queues[0]).toEqual({ name: 'webhooks', waiting: 0, active: 0, delayed: 1 });
    expect(salon.failedBookings).toBe(1);
    expect((await call(await connect(tokens.nord), 'queues_status')).failedBookings).toBe(0);
    expect((await call(await connect(tokens.clinic), 'queues_status')).failedBookings).toBe(1);

    // The failed list names branch, service and call, for the console's links.
    const list = await call(await connect(tokens.salon), 'failed_bookings_list');
    expect(list.jobs).toEqual([expect.objectContaining({ id: 'booking-salon-failed', company: 'salon-anna', branch: 'mitte', service: 'haircut', callId: 'call_m4', reason: 'slot taken (test); free: 16:30' })]);
    await ctx.queues.bookings.obliterate({ force: true });
    await ctx.queues.webhooks.obliterate({ force: true });
  });
});
