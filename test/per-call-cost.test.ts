/**
 * What one call costs the database, and the one-statement forms that made it cheaper still
 * holding their guarantees, against the real MariaDB and Redis:
 * - the inbox claim (insert + status read → one upsert) still tells a final event from a retry;
 * - a Retell event spends no statement on a claim: its row is written once, at the end, and the
 *   customer upsert itself refuses an event already handled (a duplicate) without touching a row;
 * - the customer and call upserts refuse another company's call id and a purged call by
 *   themselves (the read of the call row before them is gone), changing nothing, not even
 *   updated_at;
 * - the tenant catalogue serves a company's rows from memory until a tenants import;
 * - the booking decision travels in the call upsert, which writes it where none was taken; only a
 *   decision taken before (or a call booked live) costs a read;
 * - a booked call's two webhooks take 6 statements when the catalogue is warm.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { branches, calls, customers, webhookEvents } from '../drizzle/schema';
import { decisionColumns } from '../lib/calls/decide-booking';
import { processRetellWebhook } from '../lib/calls/process-retell-webhook';
import { callAfterUpsert, ForeignCallError, upsertCall, upsertCallDeciding, upsertCustomer } from '../lib/calls/record-call';
import { claimEvent, finishEvent, recordEvent, retellDedupeKey } from '../lib/calls/webhook-inbox';
import { callsProcessedTotal } from '../lib/metrics';
import { jobIds } from '../lib/queues';
import { companyCatalogue, forgetCatalogues } from '../lib/tenants/catalogue';
import { importTenants } from '../lib/tenants/import';
import { createTestEnv, type TestEnv } from './helpers/env';
import { countBuiltStatements, statements } from './helpers/statements';
import { CALLER, CLINIC_NUMBER, callId, retellEvent, twoCompanies } from './helpers/fixtures';
import { webhookDeliverer } from './helpers/webhooks';

let env: TestEnv;
let salonId: number;
let clinicId: number;

beforeAll(async () => {
  env = await createTestEnv({});
  await importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher, cache: env.ctx.cache }, twoCompanies(), 'test');
  const rows = await env.ctx.database.db.query.companies.findMany();
  salonId = rows.find((r) => r.slug === 'salon-anna')!.id;
  clinicId = rows.find((r) => r.slug === 'clinic-nord')!.id;
});
afterAll(async () => {
  await env.cleanup();
});

const db = () => env.ctx.database.db;
const deliver = webhookDeliverer(() => env.ctx);

const future = () => `${new Date(Date.now() + 9 * 24 * 3600_000).toISOString().slice(0, 10)}T11:00:00`;

describe('inbox claim in one statement', () => {
  it('claims a new event, claims a retry of an unfinished one (counting it), and refuses a finished one without touching it', async () => {
    const key = { provider: 'retell' as const, dedupeKey: `${callId()}:call_ended` };
    const meta = { eventType: 'call_ended', receivedAt: new Date() };
    expect(await claimEvent(db(), key, meta)).toBe(true);
    expect(await claimEvent(db(), key, meta)).toBe(true);
    const row = async () => (await db().select().from(webhookEvents).where(eq(webhookEvents.dedupeKey, key.dedupeKey)))[0]!;
    expect((await row()).attempts).toBe(2);
    await finishEvent(db(), key, 'processed');
    const finished = await row();
    await new Promise((r) => setTimeout(r, 5));
    expect(await claimEvent(db(), key, meta)).toBe(false);
    expect(await row()).toEqual(finished);
    // A slower duplicate that fails afterwards does not turn the finished row into 'failed'.
    await finishEvent(db(), key, 'failed', { error: 'late duplicate failed' });
    expect(await row()).toEqual(finished);
  });
});

describe('Retell events: recorded once, at the end', () => {
  const row = async (dedupeKey: string) => (await db().select().from(webhookEvents).where(eq(webhookEvents.dedupeKey, dedupeKey)))[0];

  it('writes no row until the event is done; a re-delivery is a duplicate that changes no row and costs two statements', async () => {
    const id = callId();
    const caller = '+4917055507777';
    const ended = retellEvent('call_ended', { callId: id, from: caller });
    expect(await deliver(ended)).toMatchObject({ status: 'processed' });
    const done = await row(`${id}:call_ended`);
    expect(done).toMatchObject({ status: 'processed', attempts: 1, eventType: 'call_ended', externalId: id });
    const [customerBefore] = await db().select().from(customers).where(eq(customers.id, (await callOwnerRow(id)).customerId!));
    const [callBefore] = await db().select().from(calls).where(eq(calls.retellCallId, id));
    await new Promise((r) => setTimeout(r, 5));
    const n0 = await statements();
    expect(await deliver(ended)).toEqual({ status: 'duplicate' });
    expect((await statements()) - n0).toBe(2); // the refused customer upsert, the inbox read that says why
    expect(await row(`${id}:call_ended`)).toEqual(done);
    expect((await db().select().from(customers).where(eq(customers.id, customerBefore!.id)))[0]).toEqual(customerBefore);
    expect((await db().select().from(calls).where(eq(calls.retellCallId, id)))[0]).toEqual(callBefore);
  });

  it('a withheld number (no customer upsert to ask): the inbox is read first, and a re-delivery is still a duplicate', async () => {
    const id = callId();
    const ended = retellEvent('call_ended', { callId: id });
    (ended.call as Record<string, unknown>).from_number = undefined;
    expect(await deliver(ended)).toMatchObject({ status: 'processed' });
    const [callBefore] = await db().select().from(calls).where(eq(calls.retellCallId, id));
    expect(callBefore!.customerId).toBeNull();
    expect(await deliver(ended)).toEqual({ status: 'duplicate' });
    expect((await db().select().from(calls).where(eq(calls.retellCallId, id)))[0]).toEqual(callBefore);
  });

  it("records a failure, lets a retry record success over it, and never lets a late failure or rejection overwrite a final row", async () => {
    const key = { provider: 'retell' as const, dedupeKey: `${callId()}:call_analyzed` };
    const meta = { eventType: 'call_analyzed', externalId: 'x', receivedAt: new Date(Date.now() - 1000) };
    expect(await recordEvent(db(), key, meta, 'failed', { error: 'Cal.com down' })).toBe(true);
    expect(await row(key.dedupeKey)).toMatchObject({ status: 'failed', error: 'Cal.com down', attempts: 1 });
    expect(await recordEvent(db(), key, meta, 'processed', { companyId: salonId })).toBe(true);
    const final = await row(key.dedupeKey);
    expect(final).toMatchObject({ status: 'processed', error: null, attempts: 2, companyId: salonId });
    await new Promise((r) => setTimeout(r, 5));
    expect(await recordEvent(db(), key, meta, 'failed', { error: 'late' })).toBe(false);
    expect(await recordEvent(db(), key, meta, 'rejected', { error: 'late', companyId: clinicId })).toBe(false);
    expect(await row(key.dedupeKey)).toEqual(final);
  });

  it('a failed event is handled again on re-delivery', async () => {
    const id = callId();
    const key = { provider: 'retell' as const, dedupeKey: retellDedupeKey(id, 'call_ended') };
    await recordEvent(db(), key, { eventType: 'call_ended', externalId: id, receivedAt: new Date() }, 'failed', { error: 'worker died' });
    expect(await deliver(retellEvent('call_ended', { callId: id }))).toMatchObject({ status: 'processed' });
    expect(await row(key.dedupeKey)).toMatchObject({ status: 'processed', error: null, attempts: 2 });
  });
});

async function callOwnerRow(id: string) {
  return (await db().select().from(calls).where(eq(calls.retellCallId, id)))[0]!;
}

describe('upserts that refuse by themselves', () => {
  it("another company's call id: the customer upsert creates nobody, the call upsert changes nothing (updated_at included)", async () => {
    const id = callId();
    await deliver(retellEvent('call_ended', { callId: id, to: CLINIC_NUMBER }));
    const [before] = await db().select().from(calls).where(eq(calls.retellCallId, id));
    const stranger = '+4917099887766';
    await new Promise((r) => setTimeout(r, 5));
    expect(await upsertCustomer(db(), salonId, stranger, 'Mallory', undefined, { callId: id, inbox: { provider: 'retell', dedupeKey: retellDedupeKey(id, 'call_analyzed') } })).toBeNull();
    expect(await db().select().from(customers).where(eq(customers.phone, stranger))).toHaveLength(0);
    const event = retellEvent('call_analyzed', { callId: id, summary: 'forged' });
    await expect(upsertCall(db(), { companyId: salonId, branchId: before!.branchId, customerId: null, event: 'call_analyzed', call: event.call as never })).rejects.toBeInstanceOf(ForeignCallError);
    const [after] = await db().select().from(calls).where(eq(calls.retellCallId, id));
    expect(after).toEqual(before);
    expect(await callAfterUpsert(db(), id)).toMatchObject({ companyId: clinicId, purgedAt: null });
  });

  it('a purged call: a late webhook is ignored with its reason, writes nothing, and re-creates no customer', async () => {
    const id = callId();
    const caller = '+4917055501234';
    await deliver(retellEvent('call_ended', { callId: id, from: caller }));
    const [row] = await db().select().from(calls).where(eq(calls.retellCallId, id));
    // What an erasure leaves: the call purged, the customer's number gone from its index.
    await db().update(calls).set({ purgedAt: new Date(), transcript: null }).where(eq(calls.id, row!.id));
    await db().update(customers).set({ phone: `erased-${row!.customerId}`, phoneIndex: `erased-${row!.customerId}`, name: null }).where(eq(customers.id, row!.customerId!));
    const [purged] = await db().select().from(calls).where(eq(calls.id, row!.id));

    const outcome = await deliver(retellEvent('call_analyzed', { callId: id, from: caller, transcript: 'the words again' }));
    expect(outcome).toMatchObject({ status: 'rejected', reason: expect.stringContaining('purged') });
    expect((await db().select().from(calls).where(eq(calls.id, row!.id)))[0]).toEqual(purged);
    expect(await db().select().from(customers).where(eq(customers.phone, caller))).toHaveLength(0);
    const [ev] = await db().select().from(webhookEvents).where(eq(webhookEvents.dedupeKey, `${id}:call_analyzed`));
    expect(ev).toMatchObject({ status: 'ignored', error: expect.stringContaining('purged') });
  });
});

describe('tenant catalogue', () => {
  it('serves a company from memory, and reloads after a tenants import', async () => {
    const first = await companyCatalogue(db(), salonId);
    expect(first!.services.map((s) => s.slug)).toEqual(['haircut', 'coloring']);
    const n = await statements();
    expect(await companyCatalogue(db(), salonId)).toBe(first);
    expect(await statements()).toBe(n);
    const file = twoCompanies();
    file.companies[0]!.services[0]!.name = 'Cut';
    await importTenants({ db: db(), cipher: env.ctx.cipher, cache: env.ctx.cache }, file, 'test');
    expect((await companyCatalogue(db(), salonId))!.services[0]!.name).toBe('Cut');
    expect(await companyCatalogue(db(), 999_999)).toBeNull();
    forgetCatalogues();
  });
});

describe('statements per call', () => {
  const analysis = { booking_confirmed: true, appointment_datetime: future(), service: 'Haarschnitt' };
  const noBookings = async () => (await callsProcessedTotal.get()).values.find((v) => v.labels.outcome === 'no_booking')?.value ?? 0;
  const decisionOf = (o: unknown) => (o as { decision: { kind: string; start?: string; idempotencyKey?: string } }).decision;

  it('a booked call whose details come with the analysis: call_ended waits (3 statements), call_analyzed decides in its call upsert (3)', async () => {
    // Warm the catalogue and the PII flag as a running worker has them.
    await deliver(retellEvent('call_ended', { callId: callId(), vars: analysis }));
    const id = callId();
    const n0 = await statements();
    const ended = await deliver(retellEvent('call_ended', { callId: id, vars: { customer_name: 'Anna' } }));
    const n1 = await statements();
    const built = countBuiltStatements(db());
    const analyzed = await deliver(retellEvent('call_analyzed', { callId: id, vars: { customer_name: 'Anna' }, analysis }));
    built.stop();
    const n2 = await statements();
    // Each of them prepared once per process (lib/db/prepared): none built again for this call.
    expect(built.count()).toBe(0);
    expect(ended).toMatchObject({ status: 'processed', decision: { kind: 'wait' } });
    expect(analyzed).toMatchObject({ status: 'processed', decision: { kind: 'book' } });
    expect([n1 - n0, n2 - n1]).toEqual([3, 3]);
    const [row] = await db().select().from(calls).where(eq(calls.retellCallId, id));
    expect(row).toMatchObject({ bookingDecision: 'book', status: 'analyzed', bookingRequest: { idempotencyKey: decisionOf(analyzed).idempotencyKey } });
    expect(await env.ctx.queues.bookings.getJob(jobIds.booking(row!.bookingRequest!.idempotencyKey))).toBeDefined();
  });

  it('call_ended decides in its call upsert (3); call_analyzed finds the decision taken and follows it (4: one read)', async () => {
    const id = callId();
    const n0 = await statements();
    const ended = await deliver(retellEvent('call_ended', { callId: id, vars: analysis }));
    const n1 = await statements();
    expect(decisionOf(ended).kind).toBe('book');
    // The analysis reads another time: the decision taken stands, the call's words are merged.
    const other = { ...analysis, appointment_datetime: future().replace('T11:00', 'T15:00') };
    const analyzed = await deliver(retellEvent('call_analyzed', { callId: id, vars: other, analysis: other, transcript: 'Agent: 15 Uhr dann.' }));
    expect([n1 - n0, (await statements()) - n1]).toEqual([3, 4]);
    expect(decisionOf(analyzed)).toEqual(decisionOf(ended));
    const [row] = await db().select().from(calls).where(eq(calls.retellCallId, id));
    expect(row).toMatchObject({ status: 'analyzed', transcript: 'Agent: 15 Uhr dann.', bookingRequest: { start: decisionOf(ended).start } });
  });

  it('a no_booking decision is counted once per call: by the event that wrote it, not by the one that found it taken', async () => {
    const past = { booking_confirmed: true, appointment_datetime: '2020-01-07T11:00:00', service: 'Haarschnitt' };
    const id = callId();
    const before = await noBookings();
    expect(await deliver(retellEvent('call_ended', { callId: id, vars: past }))).toMatchObject({ decision: { kind: 'no_booking' } });
    expect(await deliver(retellEvent('call_analyzed', { callId: id, vars: past, analysis: past }))).toMatchObject({ decision: { kind: 'no_booking' } });
    expect(await noBookings()).toBe(before + 1);
    // call_analyzed alone (call_ended never came): its insert carries the decision, counted once.
    const alone = callId();
    const n0 = await statements();
    expect(await deliver(retellEvent('call_analyzed', { callId: alone, vars: past, analysis: past }))).toMatchObject({ decision: { kind: 'no_booking' } });
    expect(await statements()).toBe(n0 + 3);
    expect(await noBookings()).toBe(before + 2);
    expect((await db().select().from(calls).where(eq(calls.retellCallId, alone)))[0]).toMatchObject({ bookingDecision: 'no_booking', bookingReason: expect.stringContaining('in the past') });
  });

  it('a retry whose own reading now says "wait" (the catalogue changed in between) follows the decision its first attempt wrote', async () => {
    const id = callId();
    let fail = true;
    const queue = env.ctx.queues.bookings;
    // The first attempt writes the decision, then cannot queue the booking (Redis went away).
    const flaky = new Proxy(queue, {
      get(t, p) {
        if (p === 'add') {
          return async (...a: Parameters<typeof queue.add>) => {
            if (fail) {
              fail = false;
              throw new Error('Redis went away');
            }
            return t.add(...a);
          };
        }
        const v = Reflect.get(t, p, t) as unknown;
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(t) : v;
      },
    });
    const payload = retellEvent('call_ended', { callId: id, vars: { ...analysis, service: 'Färben' } });
    const job = { provider: 'retell' as const, event: 'call_ended', callId: id, receivedAt: Date.now(), sealedBody: env.ctx.cipher.encrypt(JSON.stringify(payload)) };
    const deps = { db: db(), cache: env.ctx.cache, cipher: env.ctx.cipher, bookingsQueue: flaky, logger: env.ctx.logger };
    await expect(processRetellWebhook(deps, job)).rejects.toThrow('Redis went away');
    const [row] = await db().select().from(calls).where(eq(calls.retellCallId, id));
    expect(row!.bookingDecision).toBe('book');
    // An operator drops the alias the caller used before the retry: its own reading is "wait" now.
    const file = twoCompanies();
    file.companies[0]!.services[1]!.aliases = [];
    await importTenants({ db: db(), cipher: env.ctx.cipher, cache: env.ctx.cache }, file, 'test');
    try {
      expect(await processRetellWebhook(deps, job)).toMatchObject({ status: 'processed', decision: { kind: 'book', idempotencyKey: row!.bookingRequest!.idempotencyKey } });
      expect(await queue.getJob(jobIds.booking(row!.bookingRequest!.idempotencyKey))).toBeDefined();
    } finally {
      await importTenants({ db: db(), cipher: env.ctx.cipher, cache: env.ctx.cache }, twoCompanies(), 'test');
      forgetCatalogues();
    }
  });

  it('the call upsert reports its row only when the decision it carries was written by it (or none was carried)', async () => {
    const [branch] = await db().select().from(branches).where(eq(branches.companyId, salonId));
    const id = callId();
    const w = { companyId: salonId, branchId: branch!.id, customerId: null, event: 'call_ended', call: { call_id: id } };
    const book = decisionColumns({ kind: 'book', serviceId: 1, start: '2031-01-07T10:00:00.000Z', idempotencyKey: 'k1' })!;
    const other = decisionColumns({ kind: 'book', serviceId: 1, start: '2031-01-07T15:00:00.000Z', idempotencyKey: 'k2' })!;
    const rowId = await upsertCallDeciding(db(), w, null);
    expect(rowId).toBeGreaterThan(0);
    expect(await upsertCallDeciding(db(), w, null)).toBe(rowId);
    expect(await upsertCallDeciding(db(), w, book)).toBe(rowId);
    // Decided now: the same decision or another one does not stand (nothing written), the call is
    // merged all the same; carrying none still reports the row.
    expect(await upsertCallDeciding(db(), w, book)).toBeNull();
    expect(await upsertCallDeciding(db(), { ...w, call: { call_id: id, transcript: 'merged' } }, other)).toBeNull();
    expect(await upsertCallDeciding(db(), w, null)).toBe(rowId);
    // ... but not for a deciding event, which must follow the decision taken.
    expect(await upsertCallDeciding(db(), w, null, true)).toBeNull();
    const [row] = await db().select().from(calls).where(eq(calls.id, rowId!));
    expect(row).toMatchObject({ bookingDecision: 'book', bookingRequest: JSON.parse(book.request!), transcript: 'merged' });
    // Another company's upsert changes nothing and reports nothing, whatever it carries.
    expect(await upsertCallDeciding(db(), { ...w, companyId: clinicId }, other)).toBeNull();
    expect(await upsertCallDeciding(db(), { ...w, companyId: clinicId }, null)).toBeNull();
    expect((await db().select().from(calls).where(eq(calls.id, rowId!)))[0]).toEqual(row);
    // A call booked live (appointment_id set, no decision): a decision carried is not written.
    const live = callId();
    const liveRow = await upsertCallDeciding(db(), { ...w, call: { call_id: live } }, null);
    await db().update(calls).set({ appointmentId: 424242 }).where(eq(calls.id, liveRow!));
    expect(await upsertCallDeciding(db(), { ...w, call: { call_id: live } }, book)).toBeNull();
    expect((await db().select().from(calls).where(eq(calls.id, liveRow!)))[0]).toMatchObject({ bookingDecision: null, bookingRequest: null });
  });
});
