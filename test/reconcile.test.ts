/**
 * Reconcile and replay: calls the Retell simulator recorded while the ingress heard nothing are
 * found through the official retell-sdk (v3 list-calls, paged), fed through the webhook job
 * path, and booked exactly once — checked in MariaDB and in the Cal.com simulator's bookings,
 * also when the webhooks arrive late, after reconcile ran.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appointments, calls, reconcileWatermarks, webhookEvents } from '../drizzle/schema';
import { createApp } from '../apps/ingress/app';
import { ingressDeps } from '../apps/ingress/deps';
import { runReconcile, type ReconcileReport } from '../lib/calls/reconcile';
import { replayCall } from '../lib/calls/replay';
import { replayJobsKey } from '../lib/calls/enqueue-webhook';
import { registry } from '../lib/metrics';
import { createRetellSim, startRetellSim, type RetellSim, type RunningRetellSim } from '../sim/retell';
import { RECONCILE_SCHEDULER_ID, scheduleReconcile } from '../workers/sync';
import { startWorkers, type RunningWorkers } from '../workers';
import { berlinWeekday, slotSequence } from './helpers/bookings';
import { runCli } from './helpers/cli';
import { startSimTestEnv, stopSimTestEnv, type SimTestEnv } from './helpers/calcom';
import { importTestTenants } from './helpers/env';
import { callId, retellEvent, signed, twoCompanies } from './helpers/fixtures';

const KEY = 'key_test_retell_global';
const NEW_NUMBER = '+4930111199';

let started: SimTestEnv;
let retellSim: RetellSim;
let retell: RunningRetellSim;
let workers: RunningWorkers;
const db = () => started.env.ctx.database.db;

const nextSlot = slotSequence();

/** A call as Retell's API holds it after the call: analysed unless `analysed: false`. */
function recordCall(o: { confirmed: boolean; endedAgoMs: number; analysed?: boolean; to?: string }): { id: string; when: string } {
  const id = callId();
  const when = nextSlot().toFormat("yyyy-MM-dd'T'HH:mm");
  const analysis = o.confirmed
    ? { booking_confirmed: true, appointment_datetime: when, service: 'Haarschnitt', customer_name: 'Anna Reconcile' }
    : { booking_confirmed: false, customer_name: 'Anna Reconcile' };
  const call = retellEvent(o.analysed === false ? 'call_ended' : 'call_analyzed', { callId: id, analysis, to: o.to }).call as Record<string, unknown>;
  call.end_timestamp = Date.now() - o.endedAgoMs;
  call.start_timestamp = (call.end_timestamp as number) - 120_000;
  retellSim.addCall(call);
  return { id, when };
}

async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const decidedCalls = (ids: string[]) => db().select().from(calls).where(inArray(calls.retellCallId, ids));

/** Every call decided and every `book` decision booked (or failed): the pipeline has gone quiet for them. */
async function settled(ids: string[]) {
  return until(
    `${ids.length} calls to settle`,
    async () => {
      const rows = await decidedCalls(ids);
      const appts = rows.some((r) => r.bookingDecision === 'book') ? await db().select().from(appointments).where(inArray(appointments.callId, rows.map((r) => r.id))) : [];
      return { rows, appts };
    },
    ({ rows, appts }) =>
      rows.length === ids.length &&
      rows.every((r) => r.bookingDecision !== null) &&
      rows.filter((r) => r.bookingDecision === 'book').every((r) => appts.some((a) => a.callId === r.id && (a.status === 'booked' || a.status === 'failed'))),
  );
}

const simBookingsOf = (keys: string[]) => started.sim.sim.bookings().filter((b) => keys.includes(String(b.metadata.callbook_key)));

async function counter(outcome: string): Promise<number> {
  const m = await registry.getSingleMetric('callbook_reconcile_calls_total')!.get();
  return m.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

const count = (r: ReconcileReport, outcome: string, ids: string[]) => r.calls.filter((c) => c.outcome === outcome && ids.includes(c.callId)).length;

beforeAll(async () => {
  retellSim = createRetellSim({ apiKeys: [KEY] });
  retell = await startRetellSim(retellSim);
  started = await startSimTestEnv({ RETELL_API_URL: retell.url, RETELL_API_KEY: KEY });
  workers = startWorkers(started.env.ctx, ['webhooks', 'bookings']);
});

afterAll(async () => {
  await workers?.close();
  await stopSimTestEnv(started ?? {});
  await retell?.close();
});

describe('reconcile', () => {
  const confirmed: Array<{ id: string; when: string }> = [];
  const unconfirmed: Array<{ id: string; when: string }> = [];
  let pending: { id: string; when: string };
  let first: ReconcileReport;

  it('finds the 20 calls whose webhooks never arrived and books every confirmed one exactly once', async () => {
    // The ingress is down: Retell records 20 calls and callbook hears nothing.
    for (let i = 0; i < 20; i++) (i % 3 === 2 ? unconfirmed : confirmed).push(recordCall({ confirmed: i % 3 !== 2, endedAgoMs: 5 * 60_000 + i * 1_000 }));
    // One more ended a moment ago; Retell has not analysed it yet.
    pending = recordCall({ confirmed: true, endedAgoMs: 30_000, analysed: false });
    const foundBefore = await counter('found_missing');

    // Page size 4: the run has to follow pagination keys.
    first = await runReconcile(started.env.ctx, { settleMs: 0, pageSize: 4 });
    const all = [...confirmed, ...unconfirmed].map((c) => c.id);
    expect(count(first, 'found_missing', all)).toBe(20);
    expect(first.calls.find((c) => c.callId === pending.id)?.outcome).toBe('analysis_pending');
    expect(await counter('found_missing')).toBe(foundBefore + 20);
    const pages = retellSim.requests().filter((r) => r.path === '/v3/list-calls');
    expect(pages.length).toBeGreaterThanOrEqual(6);
    expect(pages[0]!.body).toMatchObject({ filter_criteria: { end_timestamp: { op: 'bt', type: 'range' }, call_type: { op: 'in', type: 'enum', value: ['phone_call'] } }, sort_order: 'ascending' });

    const { rows } = await settled(all);
    const keys = rows.filter((r) => r.bookingDecision === 'book').map((r) => r.bookingRequest!.idempotencyKey);
    expect(keys).toHaveLength(confirmed.length);
    // In Cal.com: one booking per confirmed call, none for the others.
    const bookings = simBookingsOf(keys);
    expect(bookings).toHaveLength(confirmed.length);
    expect(new Set(bookings.map((b) => b.metadata.callbook_key)).size).toBe(confirmed.length);
    for (const r of rows.filter((x) => unconfirmed.some((u) => u.id === x.retellCallId))) {
      expect(r.bookingDecision).not.toBe('book');
      expect(r.bookingReason).toBeTruthy();
    }
    // The transcript came along: reconcile fetched each whole call.
    expect(rows.every((r) => r.status === 'analyzed')).toBe(true);
  });

  it('stores a watermark per account and leaves the pending call for the next run, which feeds it once analysed', async () => {
    const [mark] = await db().select().from(reconcileWatermarks).where(eq(reconcileWatermarks.account, 'global'));
    // Held at the pending call's end, so the next run looks at it again.
    expect(mark!.watermark.getTime()).toBeLessThan(Date.now() - 29_000);
    expect(first.accounts[0]!.watermark).toBe(mark!.watermark.toISOString());
    expect(await db().select().from(calls).where(eq(calls.retellCallId, pending.id))).toHaveLength(0);

    // Retell finishes the analysis.
    const analysed = retellEvent('call_analyzed', {
      callId: pending.id,
      analysis: { booking_confirmed: true, appointment_datetime: pending.when, service: 'Haarschnitt', customer_name: 'Anna Pending' },
    }).call as Record<string, unknown>;
    analysed.end_timestamp = Date.now() - 30_000;
    retellSim.addCall(analysed);
    const second = await runReconcile(started.env.ctx, { settleMs: 0 });
    expect(second.calls.find((c) => c.callId === pending.id)?.outcome).toBe('found_missing');
    const { rows } = await settled([pending.id]);
    expect(simBookingsOf([rows[0]!.bookingRequest!.idempotencyKey])).toHaveLength(1);
  });

  it('a third run finds nothing missing', async () => {
    const third = await runReconcile(started.env.ctx, { settleMs: 0, sinceMs: 3_600_000 });
    const all = [...confirmed, ...unconfirmed, pending].map((c) => c.id);
    expect(count(third, 'already_processed', all)).toBe(21);
    expect(count(third, 'found_missing', all)).toBe(0);
  });
});

describe('late webhooks after reconcile', () => {
  it('books once however the webhooks and reconcile interleave (checked in Cal.com)', async () => {
    const app = createApp(ingressDeps(started.env.ctx));
    const ten = Array.from({ length: 10 }, (_, i) => recordCall({ confirmed: true, endedAgoMs: 4 * 60_000 + i * 1_000 }));
    const ids = ten.map((c) => c.id);
    const r = await runReconcile(started.env.ctx, { settleMs: 0, sinceMs: 10 * 60_000 });
    expect(count(r, 'found_missing', ids)).toBe(10);
    await settled(ids);
    // Half of the calls' webhooks arrive now; for two of them the completed jobs are gone too (as after 24 h),
    // so only the inbox and the once-only decision stand between the late webhook and a second booking.
    for (const c of ten.slice(0, 2)) {
      for (const event of ['call_ended', 'call_analyzed']) await started.env.ctx.queues.webhooks.remove(`retell-${c.id}-${event}`);
    }
    for (const c of ten.slice(0, 5)) {
      const stored = retellSim.calls().find((x) => x.call_id === c.id)!;
      for (const event of ['call_started', 'call_ended', 'call_analyzed']) {
        const body = JSON.stringify({ event, call: stored });
        const res = await app.request('/webhooks/retell', { method: 'POST', body, headers: await signed(body) });
        expect(res.status).toBe(202);
      }
    }
    await until(
      'the late webhooks to be handled',
      () => db().select().from(webhookEvents).where(and(inArray(webhookEvents.externalId, ids.slice(0, 5)), eq(webhookEvents.eventType, 'call_started'))),
      (rows) => rows.length === 5 && rows.every((e) => e.status === 'processed'),
    );
    // The two whose jobs were gone went through the worker again, and the inbox knew them.
    for (const c of ten.slice(0, 2)) {
      const job = await until(
        `the late call_analyzed of ${c.id}`,
        async () => started.env.ctx.queues.webhooks.getJob(`retell-${c.id}-call_analyzed`),
        (j) => j?.finishedOn !== undefined,
      );
      expect(job!.returnvalue).toEqual({ status: 'duplicate' });
    }
    await until('the webhooks queue to drain', () => started.env.ctx.queues.webhooks.getJobCounts('waiting', 'active', 'delayed'), (n) => Object.values(n).every((x) => x === 0));
    const { rows } = await settled(ids);
    const keys = rows.map((x) => x.bookingRequest!.idempotencyKey);
    expect(simBookingsOf(keys)).toHaveLength(10);
    const appts = await db().select().from(appointments).where(inArray(appointments.callId, rows.map((x) => x.id)));
    expect(appts).toHaveLength(10);
    // And reconcile again: all done.
    const again = await runReconcile(started.env.ctx, { settleMs: 0, sinceMs: 10 * 60_000 });
    expect(count(again, 'already_processed', ids)).toBe(10);
  });
});

describe('calls replay', () => {
  it('runs a refused call again once its number is known, and never books it twice', async () => {
    const c = recordCall({ confirmed: true, endedAgoMs: 3 * 60_000, to: NEW_NUMBER });
    await runReconcile(started.env.ctx, { settleMs: 0, sinceMs: 10 * 60_000 });
    const rejected = await until(
      'the unknown number to be refused',
      () => db().select().from(webhookEvents).where(eq(webhookEvents.dedupeKey, `${c.id}:call_analyzed`)),
      (rows) => rows[0]?.status === 'rejected',
    );
    expect(rejected[0]!.error).toMatch(/unknown number/);
    // A refused call is done: reconcile does not feed it again and again.
    const again = await runReconcile(started.env.ctx, { settleMs: 0, sinceMs: 10 * 60_000 });
    expect(again.calls.find((x) => x.callId === c.id)?.outcome).toBe('already_processed');

    // The operator adds the number, then replays the call.
    const tenants = twoCompanies();
    tenants.companies[0]!.branches[0]!.phoneNumbers.push(NEW_NUMBER);
    await importTestTenants(started.env, tenants);
    const r = await replayCall(started.env.ctx, c.id);
    expect(r).toMatchObject({ callId: c.id, account: 'global', event: 'call_analyzed' });
    // Its job id is remembered for the GDPR erase, which cannot derive it from the call id.
    expect(await started.env.ctx.redis.smembers(replayJobsKey(started.env.ctx.ns, c.id))).toEqual([r.jobId]);
    const { rows } = await settled([c.id]);
    const key = rows[0]!.bookingRequest!.idempotencyKey;
    expect(simBookingsOf([key])).toHaveLength(1);

    // A second replay runs the pipeline again and books nothing more.
    await replayCall(started.env.ctx, c.id, { now: Date.now() + 1 });
    await until(
      'the second replay to be handled',
      () => db().select().from(webhookEvents).where(eq(webhookEvents.dedupeKey, `${c.id}:call_analyzed`)),
      (x) => x[0]?.status === 'processed',
    );
    await new Promise((res) => setTimeout(res, 300));
    expect(simBookingsOf([key])).toHaveLength(1);
    expect(await db().select().from(appointments).where(eq(appointments.idempotencyKey, key))).toHaveLength(1);
    await expect(replayCall(started.env.ctx, 'call_nowhere')).rejects.toThrow(/not found in the global Retell account/);
  });
});

describe('callbook calls reconcile', () => {
  it('looks back --since and reports per account; a bad duration is refused', async () => {
    const r = await runCli({ ...started.env.vars }, '--json', 'calls', 'reconcile', '--since', '2h');
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as ReconcileReport;
    expect(report.accounts.map((a) => a.account)).toEqual(['global']);
    expect(report.accounts[0]!.counts.found_missing).toBe(0);
    expect(report.accounts[0]!.counts.already_processed).toBeGreaterThanOrEqual(30);
    const bad = await runCli({ ...started.env.vars }, 'calls', 'reconcile', '--since', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--since must be a duration/);
  });
});

describe('the schedule', () => {
  it('is one job scheduler on the sync queue however often processes start', async () => {
    await scheduleReconcile(started.env.ctx);
    await scheduleReconcile(started.env.ctx);
    const schedulers = await started.env.ctx.queues.sync.getJobSchedulers();
    expect(schedulers.filter((s) => s.key === RECONCILE_SCHEDULER_ID || s.id === RECONCILE_SCHEDULER_ID)).toHaveLength(1);
    expect(schedulers.find((s) => s.key === RECONCILE_SCHEDULER_ID || s.id === RECONCILE_SCHEDULER_ID)).toMatchObject({ every: 300_000, name: 'reconcile' });
  });

  it('a reconcile job on the sync queue runs through the sync worker', async () => {
    const sync = startWorkers(started.env.ctx, ['sync']);
    try {
      const job = await started.env.ctx.queues.sync.add('reconcile', { sinceMs: 600_000 });
      const done = await until('the reconcile job', () => started.env.ctx.queues.sync.getJob(job.id!), (j) => j?.finishedOn !== undefined);
      expect(done!.failedReason).toBeUndefined();
      expect(done!.returnvalue).toEqual([expect.objectContaining({ account: 'global', found_missing: 0, failed: 0 })]);
    } finally {
      await sync.close();
    }
  });
});
