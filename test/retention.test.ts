/**
 * Retention purge against the real MariaDB: only calls past their own company's retention are
 * blanked, in batches, with one audit row per company, and a second run changes nothing. Also
 * the nightly scheduler: upserted by every process, there is still one.
 */
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, branches, calls, companies } from '../drizzle/schema';
import { purgeExpired } from '../lib/retention/purge';
import { importTenants } from '../lib/tenants/import';
import { RETENTION_SCHEDULER_ID, scheduleHousekeeping } from '../workers/default';
import { createTestEnv, type TestEnv } from './helpers/env';
import { CALLER, callId, twoCompanies } from './helpers/fixtures';

let env: TestEnv;
const db = () => env.ctx.database.db;
const DAY = 24 * 3600 * 1000;
const NOW = new Date('2026-06-15T12:00:00.000Z');
const ago = (days: number) => new Date(NOW.getTime() - days * DAY);

let salon: { id: number; branchId: number };
let clinic: { id: number; branchId: number };

beforeAll(async () => {
  env = await createTestEnv();
  const tenants = twoCompanies();
  tenants.companies[0]!.retentionDays = 30;
  await importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher, cache: env.ctx.cache }, tenants, 'test');
  const rows = await db().select({ id: companies.id, slug: companies.slug, branchId: branches.id }).from(companies).innerJoin(branches, eq(branches.companyId, companies.id));
  const pick = (slug: string) => {
    const r = rows.find((x) => x.slug === slug)!;
    return { id: r.id, branchId: r.branchId };
  };
  salon = pick('salon-anna');
  clinic = pick('clinic-nord');
});
afterAll(async () => {
  await env?.cleanup();
});

async function insertCall(company: { id: number; branchId: number }, o: { endedAt: Date | null; createdAt?: Date; tag: string }): Promise<number> {
  const [res] = await db()
    .insert(calls)
    .values({
      retellCallId: callId(),
      companyId: company.id,
      branchId: company.branchId,
      direction: 'inbound',
      fromNumber: CALLER,
      status: 'analyzed',
      endedAt: o.endedAt,
      ...(o.createdAt ? { createdAt: o.createdAt } : {}),
      transcript: `transcript ${o.tag}`,
      summary: `summary ${o.tag}`,
      recordingUrl: `https://rec.example/${o.tag}.wav`,
      dynamicVariables: { customer_name: 'Anna', tag: o.tag },
      analysisData: { booking_confirmed: true },
      sentiment: 'Positive',
    });
  return res.insertId;
}

const callRow = async (id: number) => (await db().select().from(calls).where(eq(calls.id, id)))[0]!;
const purgeAudits = (companyId: number) =>
  db().select().from(auditLog).where(and(eq(auditLog.companyId, companyId), eq(auditLog.action, 'retention.purge'))).orderBy(asc(auditLog.id));

describe('retention purge', () => {
  it('blanks only the calls past their own company’s retention, in batches, and audits each company', async () => {
    const salonOld = await insertCall(salon, { endedAt: ago(31), tag: 'salon-old' });
    const salonNew = await insertCall(salon, { endedAt: ago(29), tag: 'salon-new' });
    // No end time: its creation counts.
    const salonNoEndOld = await insertCall(salon, { endedAt: null, createdAt: ago(45), tag: 'salon-noend-old' });
    const salonNoEndNew = await insertCall(salon, { endedAt: null, createdAt: ago(2), tag: 'salon-noend-new' });
    // A created_at long ago does not matter when the call ended recently.
    const salonEndedRecently = await insertCall(salon, { endedAt: ago(3), createdAt: ago(90), tag: 'salon-ended-recently' });
    const bulk = [];
    for (let i = 0; i < 23; i++) bulk.push(await insertCall(salon, { endedAt: ago(60 + i), tag: `salon-bulk-${i}` }));
    // Clinic keeps 365 days (the default): 40 days old stays, 400 days old goes.
    const clinic40 = await insertCall(clinic, { endedAt: ago(40), tag: 'clinic-40' });
    const clinic400 = await insertCall(clinic, { endedAt: ago(400), tag: 'clinic-400' });

    const result = await purgeExpired(env.ctx, { now: NOW, batchSize: 10 });
    expect(result.map((r) => [r.slug, r.calls]).sort()).toEqual([
      ['clinic-nord', 1],
      ['salon-anna', 25],
    ]);
    expect(result.find((r) => r.companyId === salon.id)!.olderThan).toBe(ago(30).toISOString());

    for (const id of [salonOld, salonNoEndOld, clinic400, ...bulk]) {
      const c = await callRow(id);
      expect(c).toMatchObject({ transcript: null, summary: null, recordingUrl: null, dynamicVariables: null, analysisData: null });
      expect(c.purgedAt?.toISOString()).toBe(NOW.toISOString());
      // The call itself stays: status, number, sentiment are not what retention removes.
      expect(c).toMatchObject({ status: 'analyzed', sentiment: 'Positive' });
    }
    for (const id of [salonNew, salonNoEndNew, salonEndedRecently, clinic40]) {
      const c = await callRow(id);
      expect(c.purgedAt).toBeNull();
      expect(c.transcript).toMatch(/^transcript /);
      expect(c.recordingUrl).toMatch(/^https:/);
      expect(c.dynamicVariables).toMatchObject({ customer_name: 'Anna' });
    }

    const [salonAudit] = await purgeAudits(salon.id);
    expect(salonAudit).toMatchObject({ actor: 'worker:default', details: { calls: 25, olderThan: ago(30).toISOString() } });
    const [clinicAudit] = await purgeAudits(clinic.id);
    expect(clinicAudit).toMatchObject({ details: { calls: 1, olderThan: ago(365).toISOString() } });
  });

  it('is repeatable: a second run purges nothing and keeps the first purge time', async () => {
    const before = await db().select({ id: calls.id, purgedAt: calls.purgedAt }).from(calls).orderBy(asc(calls.id));
    const later = new Date(NOW.getTime() + 60_000);
    const again = await purgeExpired(env.ctx, { now: later });
    expect(again.every((r) => r.calls === 0)).toBe(true);
    const after = await db().select({ id: calls.id, purgedAt: calls.purgedAt }).from(calls).orderBy(asc(calls.id));
    expect(after).toEqual(before);
    expect((await purgeAudits(salon.id)).at(-1)!.details).toMatchObject({ calls: 0 });
  });

  it('one company only: the other company’s due calls wait for their own run', async () => {
    const salonDue = await insertCall(salon, { endedAt: ago(100), tag: 'salon-due' });
    const clinicDue = await insertCall(clinic, { endedAt: ago(1000), tag: 'clinic-due' });
    const clinicAuditsBefore = (await purgeAudits(clinic.id)).length;
    const result = await purgeExpired(env.ctx, { companyId: salon.id, now: NOW, actor: 'cli:test' });
    expect(result).toEqual([expect.objectContaining({ companyId: salon.id, calls: 1 })]);
    expect((await callRow(salonDue)).transcript).toBeNull();
    expect((await callRow(clinicDue)).transcript).toBe('transcript clinic-due');
    expect(await purgeAudits(clinic.id)).toHaveLength(clinicAuditsBefore);
    expect((await purgeAudits(salon.id)).at(-1)).toMatchObject({ actor: 'cli:test', details: { calls: 1 } });
    await expect(purgeExpired(env.ctx, { companyId: 999_999 })).rejects.toThrow(/company 999999 does not exist/);
  });
});

describe('retention purge interrupted', () => {
  it('keeps and audits what it purged before a stop; the next run finishes the rest', async () => {
    await purgeExpired(env.ctx, { companyId: clinic.id, now: NOW }); // what earlier tests left due
    const ids = [];
    for (let i = 0; i < 15; i++) ids.push(await insertCall(clinic, { endedAt: ago(500 + i), tag: `clinic-stop-${i}` }));
    let checks = 0;
    const stopAfterOneBatch = { throwIfAborted: () => { if (++checks > 1) throw new Error('job timeout'); } } as unknown as AbortSignal;
    await expect(purgeExpired(env.ctx, { companyId: clinic.id, now: NOW, batchSize: 10, signal: stopAfterOneBatch })).rejects.toThrow('job timeout');
    const rows = await Promise.all(ids.map(callRow));
    expect(rows.filter((r) => r.purgedAt !== null)).toHaveLength(10);
    expect((await purgeAudits(clinic.id)).at(-1)!.details).toMatchObject({ calls: 10, interrupted: true });
    const rest = await purgeExpired(env.ctx, { companyId: clinic.id, now: NOW, batchSize: 10 });
    expect(rest[0]!.calls).toBe(5);
    expect((await Promise.all(ids.map(callRow))).every((r) => r.transcript === null)).toBe(true);
  });
});

describe('scheduleHousekeeping', () => {
  it('upserting from several processes leaves one scheduler and one pending run', async () => {
    await Promise.all([scheduleHousekeeping(env.ctx), scheduleHousekeeping(env.ctx)]);
    await scheduleHousekeeping(env.ctx);
    const q = env.ctx.queues.default;
    expect(await q.getJobSchedulersCount()).toBe(1);
    const [scheduler] = await q.getJobSchedulers();
    expect(scheduler).toMatchObject({ key: RETENTION_SCHEDULER_ID, pattern: env.config.RETENTION_CRON, name: 'retention_purge' });
    const delayed = await q.getDelayed();
    expect(delayed).toHaveLength(1);
    expect(delayed[0]!.data).toEqual({ kind: 'retention_purge' });
  });
});
