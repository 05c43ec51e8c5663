/** Operator CLI commands as a user runs them: a real process against real MariaDB/Redis and the Cal.com simulator. */
import { UnrecoverableError, Worker } from 'bullmq';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../drizzle/schema';
import { upsertCall, upsertCustomer } from '../lib/calls/record-call';
import { lookupPhone } from '../lib/calls/resolve-phone';
import { bullPrefix } from '../lib/queues';
import { createRedis } from '../lib/redis';
import { serviceBreaker } from '../lib/resilience/service-breakers';
import { importTenants } from '../lib/tenants/import';
import { startSeededSim } from './helpers/calcom';
import { runCli } from './helpers/cli';
import { createTestEnv, type TestEnv } from './helpers/env';
import { CALLER, SALON_NUMBER, callId, twoCompanies } from './helpers/fixtures';

let env: TestEnv;
let sim: Awaited<ReturnType<typeof startSeededSim>>;

beforeAll(async () => {
  sim = await startSeededSim();
  env = await createTestEnv({ CALCOM_API_URL: sim.url });
  await importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher, cache: env.ctx.cache }, twoCompanies(), 'test');
});
afterAll(async () => {
  await env.cleanup();
  await sim.close();
});

const cli = (...args: string[]) => runCli({ ...env.vars, CALCOM_API_URL: sim.url }, ...args);
const json = async (...args: string[]) => {
  const r = await cli('--json', ...args);
  expect(r.code, r.err + r.out).toBe(0);
  return JSON.parse(r.out) as Record<string, unknown>;
};
const audits = async () => (await env.ctx.database.db.select().from(auditLog)).map((a) => a.action);

let day = DateTime.now().setZone('Europe/Berlin').plus({ days: 10 }).startOf('day');
while (day.weekday > 5) day = day.plus({ days: 1 });

describe('callbook operator commands', () => {
  it('availability lists free slots in the branch time zone; book books once however often it is run', async () => {
    const date = day.toISODate()!;
    const free = await json('availability', 'haircut', date, '--company', 'salon-anna');
    expect(free.slots).toContain(day.set({ hour: 11 }).toUTC().toISO());
    const args = ['book', '--company', 'salon-anna', '--service', 'haircut', '--phone', '+4915112345678', '--name', 'Ina', '--at', `${date} 11:00`];
    const first = await json(...args);
    expect(first).toMatchObject({ status: 'booked' });
    const second = await json(...args);
    expect(second).toMatchObject({ status: 'already_booked', uid: first.uid });
    expect(sim.sim.bookings().filter((b) => b.uid === first.uid)).toHaveLength(1);
    const after = await json('availability', 'haircut', date, '--company', 'salon-anna');
    expect(after.slots).not.toContain(day.set({ hour: 11 }).toUTC().toISO());
    const taken = await cli('book', '--company', 'salon-anna', '--service', 'haircut', '--phone', '+4915199999999', '--at', `${date} 11:00`);
    expect(taken.code).toBe(1);
    expect(taken.err).toMatch(/not booked: slot taken .*free: /);
    expect(await audits()).toContain('booking.create');
  }, 180_000);

  it('names what is wrong: unknown company, service, bad phone', async () => {
    const r1 = await cli('availability', 'haircut', '2030-01-01', '--company', 'nope');
    expect(r1.code).toBe(2);
    expect(r1.err).toContain('no company "nope"; companies: clinic-nord, salon-anna');
    const r2 = await cli('book', '--company', 'salon-anna', '--service', 'massage', '--phone', '+4915112345678', '--at', '2030-01-01 10:00');
    expect(r2.err).toContain('no service "massage"');
    const r3 = await cli('book', '--company', 'salon-anna', '--service', 'haircut', '--phone', '0151', '--at', '2030-01-01 10:00');
    expect(r3.err).toContain('--phone must be E.164');
  }, 120_000);

  it('breaker status shows the shared state; reset closes it and is audited', async () => {
    const b = serviceBreaker('calcom', { redis: env.ctx.redis, ns: env.ctx.ns, logger: env.ctx.logger });
    for (let i = 0; i < 5; i++) await b.failure(false);
    const status = (await json('breaker', 'status')) as unknown as Array<{ service: string; state: string }>;
    expect(status.find((s) => s.service === 'calcom')!.state).toBe('OPEN');
    expect(await json('breaker', 'reset', 'calcom')).toMatchObject({ from: 'OPEN', to: 'CLOSED' });
    expect((await b.status()).state).toBe('CLOSED');
    expect(await audits()).toContain('breaker.reset');
  }, 120_000);

  it('cache clear removes keys under a prefix', async () => {
    await env.ctx.cache.set('mcp:calcom:availability:1001:2030-01-01', ['x'], 60_000);
    const r = await json('cache', 'clear', '--prefix', 'mcp:calcom:availability:');
    expect(r.removed).toBeGreaterThanOrEqual(1);
    expect(await env.ctx.redis.get(`${env.ctx.ns}mcp:calcom:availability:1001:2030-01-01`)).toBeNull();
    expect(await audits()).toContain('cache.clear');
  }, 120_000);

  it('failed list shows why; failed retry puts the job back', async () => {
    const connection = createRedis(env.config.REDIS_URL, 'worker');
    const worker = new Worker('default', async () => {
      throw new UnrecoverableError('retention purge impossible: test reason');
    }, { connection, prefix: bullPrefix(env.config.REDIS_PREFIX) });
    const job = await env.ctx.queues.default.add('retention_purge', { kind: 'retention_purge' }, { jobId: 'cli-failed-test' });
    for (let i = 0; i < 100 && (await job.getState()) !== 'failed'; i++) await new Promise((r) => setTimeout(r, 50));
    await worker.close();
    connection.disconnect();
    const list = (await json('failed', 'list', '--queue', 'default')) as unknown as Array<{ id: string; reason: string }>;
    expect(list).toContainEqual(expect.objectContaining({ id: 'cli-failed-test', reason: 'retention purge impossible: test reason' }));
    expect(await json('failed', 'retry', '--queue', 'default', '--id', 'cli-failed-test')).toMatchObject({ retried: [{ queue: 'default', id: 'cli-failed-test' }] });
    expect(await job.getState()).toBe('waiting');
    const none = await cli('failed', 'retry', '--id', 'no-such-job');
    expect(none.code).toBe(2);
    expect(await audits()).toContain('failed.retry');
  }, 120_000);

  it('calls show prints the transcript and audits the read', async () => {
    const where = (await lookupPhone(env.ctx.database.db, SALON_NUMBER))!;
    const customerId = await upsertCustomer(env.ctx.database.db, where.companyId, CALLER, 'Jana');
    const id = callId();
    await upsertCall(env.ctx.database.db, { companyId: where.companyId, branchId: where.branchId, customerId, event: 'call_ended', call: { call_id: id, transcript: 'User: Termin am Dienstag bitte.' } });
    const r = await cli('calls', 'show', id);
    expect(r.code).toBe(0);
    expect(r.out).toContain('User: Termin am Dienstag bitte.');
    expect(r.out).toContain('Jana');
    expect(await audits()).toContain('calls.show');
    expect((await cli('calls', 'show', 'call_missing')).code).toBe(2);
  }, 120_000);
});
