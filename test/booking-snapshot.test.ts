/**
 * A booking queued by a webhook carries its customer sealed (lib/booking/customer-snapshot): the
 * bookings worker reads nothing before its pending insert, which inserts only while the customer
 * row still says what the snapshot says. Against real MariaDB and Redis and the Cal.com
 * simulator: the two-statement booking, and every way the row can have moved on (renamed, erased,
 * an e-mail the call did not repeat), a snapshot from another job, one that cannot be opened, one
 * too large to carry — each read instead, never booked with stale or foreign data; and what
 * erasure does to the jobs that carry a customer.
 */
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { appointments, companies, customers } from '../drizzle/schema';
import { executeBooking } from '../lib/booking/book';
import { withCustomerSnapshot } from '../lib/booking/customer-snapshot';
import { bookingDeps } from '../lib/booking/deps';
import { BookingRejected } from '../lib/booking/errors';
import { eraseCustomer } from '../lib/gdpr/erase';
import { forgetCatalogues } from '../lib/tenants/catalogue';
import { startWorkers, type RunningWorkers } from '../workers';
import { jobIds, type BookingJob } from '../lib/queues';
import { slotSequence } from './helpers/bookings';
import { countBuiltStatements, statements } from './helpers/statements';
import type { TestEnv } from './helpers/env';
import { callId, retellEvent } from './helpers/fixtures';
import { useSimTestEnv, type SeededSim } from './helpers/calcom';
import { webhookDeliverer } from './helpers/webhooks';

let env: TestEnv;
let sim: SeededSim;
let workers: RunningWorkers | undefined;
useSimTestEnv({}, (started) => ({ sim, env } = started));
afterEach(async () => {
  await workers?.close();
  workers = undefined;
});

async function waitFor<T>(probe: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const db = () => env.ctx.database.db;
const deliver = webhookDeliverer(() => env.ctx);
const nextSlot = slotSequence();
let callerSeq = 0;
/** A caller no earlier test has used (each test's customer row is its own). */
const newCaller = () => `+49151777${String(Date.now() % 10_000).padStart(4, '0')}${String(callerSeq++).padStart(2, '0')}`;

/** A call that asks for a booking, through the webhook path; the bookings job it queued. */
async function callAndJob(o: { from?: string; name?: string; email?: string } = {}): Promise<BookingJob> {
  const start = nextSlot();
  const analysis = {
    booking_confirmed: true,
    appointment_datetime: start.toFormat("yyyy-MM-dd'T'HH:mm:ss"),
    service: 'Haarschnitt',
    ...(o.name ? { customer_name: o.name } : {}),
    ...(o.email ? { customer_email: o.email } : {}),
  };
  const outcome = await deliver(retellEvent('call_analyzed', { callId: callId(), from: o.from ?? newCaller(), analysis }));
  expect(outcome).toMatchObject({ status: 'processed', decision: { kind: 'book' } });
  const key = (outcome as { decision: { idempotencyKey: string } }).decision.idempotencyKey;
  const job = await env.ctx.queues.bookings.getJob(jobIds.booking(key));
  await job!.remove(); // run here, by the test, not by a worker
  return job!.data as BookingJob;
}

const deps = () => bookingDeps(env.ctx);
const attendeeOf = (job: BookingJob) => sim.sim.bookings().find((b) => b.metadata.callbook_key === job.idempotencyKey)?.attendees[0];

describe('a booking that carries its customer', () => {
  it('reads nothing before its pending insert: insert and commit, 2 statements; the attendee is the caller as the call gave them', async () => {
    await executeBooking(deps(), await callAndJob({ name: 'Warm Up' })); // the event-type catalogue, cached as a running worker has it
    const caller = newCaller();
    const job = await callAndJob({ from: caller, name: 'Anna Snapshot', email: 'anna@example.org' });
    expect(job.sealedCustomer).toBeDefined();
    // Sealed: neither the number nor the name in clear text in Redis.
    expect(JSON.stringify(job)).not.toContain(caller);
    expect(JSON.stringify(job)).not.toContain('Anna Snapshot');
    const n0 = await statements();
    const built = countBuiltStatements(env.ctx.database.db);
    expect(await executeBooking(deps(), job)).toMatchObject({ status: 'booked' });
    built.stop();
    expect((await statements()) - n0).toBe(2);
    expect(built.count()).toBe(0); // both prepared once per process
    expect(attendeeOf(job)).toMatchObject({ name: 'Anna Snapshot', phoneNumber: caller, email: 'anna@example.org' });
  });

  it('a customer renamed after the call: the insert does not take, the row is read, the attendee carries the name the row holds now', async () => {
    const job = await callAndJob({ name: 'Old Name' });
    await db().update(customers).set({ name: 'New Name' }).where(eq(customers.id, job.customerId));
    expect(await executeBooking(deps(), job)).toMatchObject({ status: 'booked' });
    expect(attendeeOf(job)).toMatchObject({ name: 'New Name' });
  });

  it('a customer erased after the call: refused as input, nothing sent to Cal.com, no appointment', async () => {
    const job = await callAndJob({ name: 'Erased Soon' });
    await db().update(customers).set({ erasedAt: new Date(), name: null, phone: 'erased', phoneIndex: `erased-${job.customerId}` }).where(eq(customers.id, job.customerId));
    const posts = sim.sim.requests().filter((r) => r.method === 'POST').length;
    await expect(executeBooking(deps(), job)).rejects.toBeInstanceOf(BookingRejected);
    expect(sim.sim.requests().filter((r) => r.method === 'POST').length).toBe(posts);
    expect(await db().select().from(appointments).where(eq(appointments.idempotencyKey, job.idempotencyKey))).toHaveLength(0);
  });

  it('an e-mail an earlier call stored, not repeated in this one: read, and the attendee has it', async () => {
    const caller = newCaller();
    await callAndJob({ from: caller, name: 'Returning', email: 'returning@example.org' });
    const job = await callAndJob({ from: caller, name: 'Returning' });
    expect(job.sealedCustomer).toBeDefined();
    const n0 = await statements();
    expect(await executeBooking(deps(), job)).toMatchObject({ status: 'booked' });
    // The insert that did not take, the read, the insert, the commit.
    expect((await statements()) - n0).toBe(4);
    expect(attendeeOf(job)).toMatchObject({ name: 'Returning', email: 'returning@example.org' });
  });

  it("another job's snapshot, or one that cannot be opened, is not used: the job's own customer is read and booked", async () => {
    const other = await callAndJob({ name: 'Mallory' });
    const job = await callAndJob({ name: 'Victim' });
    expect(await executeBooking(deps(), { ...job, sealedCustomer: other.sealedCustomer })).toMatchObject({ status: 'booked' });
    expect(attendeeOf(job)).toMatchObject({ name: 'Victim' });
    const garbled = await callAndJob({ name: 'Garbled' });
    expect(await executeBooking(deps(), { ...garbled, sealedCustomer: 'not a sealed value' })).toMatchObject({ status: 'booked' });
    expect(attendeeOf(garbled)).toMatchObject({ name: 'Garbled' });
  });

  it('a retry finds the appointment made: answered from the row, nothing posted again', async () => {
    const job = await callAndJob({ name: 'Twice' });
    const first = await executeBooking(deps(), job);
    const posts = sim.sim.requests().filter((r) => r.method === 'POST').length;
    expect(await executeBooking(deps(), job)).toMatchObject({ status: 'already_booked', appointmentId: first.appointmentId });
    expect(sim.sim.requests().filter((r) => r.method === 'POST').length).toBe(posts);
  });

  it('names and e-mails are compared as bytes: a row changed only in case or accents is read, not taken for the snapshot', async () => {
    const job = await callAndJob({ name: 'Rene Muller', email: 'Rene@Example.org' });
    // Equal under the column's utf8mb4_unicode_ci collation, not as text.
    await db().update(customers).set({ name: 'René Müller', email: 'rene@example.org' }).where(eq(customers.id, job.customerId));
    expect(await executeBooking(deps(), job)).toMatchObject({ status: 'booked' });
    expect(attendeeOf(job)).toMatchObject({ name: 'René Müller', email: 'rene@example.org' });
  });

  it('a booking job queued after its customer was erased (the webhook raced the erase) fails as erased and drops the sealed customer', async () => {
    const job = await callAndJob({ name: 'Late Larry', email: 'larry@example.org' });
    const erased = await eraseCustomer(env.ctx, { companyId: job.companyId, customerId: job.customerId, cancelBookings: true, actor: 'cli:test' });
    expect(erased).toMatchObject({ complete: true, warnings: [], bookingJobsRemoved: 0 });
    await env.ctx.queues.bookings.add('book', job, { jobId: jobIds.booking(job.idempotencyKey) });
    workers = startWorkers(env.ctx, ['bookings']);
    const failed = await waitFor(async () => {
      const j = await env.ctx.queues.bookings.getJob(jobIds.booking(job.idempotencyKey));
      // Read again once failed: the object fetched before the state changed lacks failedReason.
      return j && (await j.getState()) === 'failed' ? env.ctx.queues.bookings.getJob(jobIds.booking(job.idempotencyKey)) : undefined;
    });
    expect(failed.failedReason).toMatch(/erased/);
    expect((failed.data as BookingJob).sealedCustomer).toBeUndefined();
    expect(failed.data).toMatchObject({ customerId: job.customerId, idempotencyKey: job.idempotencyKey });
  });

  it('erase leaves the retry of a booking still pending (Cal.com may hold it): it is what settles the row', async () => {
    const job = await callAndJob({ name: 'Pending Paula' });
    const crashing = bookingDeps(env.ctx, {
      afterCalcomAccepted: async () => {
        throw new Error('simulated crash before commit');
      },
    });
    await expect(executeBooking(crashing, job)).rejects.toThrow('simulated crash');
    await env.ctx.queues.bookings.add('book', job, { jobId: jobIds.booking(job.idempotencyKey), delay: 60_000 });
    const erased = await eraseCustomer(env.ctx, { companyId: job.companyId, customerId: job.customerId, cancelBookings: true, actor: 'cli:test' });
    expect(erased.warnings.join(' ')).toMatch(/still being booked \(pending\)/);
    expect(erased.bookingJobsRemoved).toBe(0);
    expect(await env.ctx.queues.bookings.getJob(jobIds.booking(job.idempotencyKey))).toBeDefined();
  });

  it("a retry of a booking already made is answered from the row even when the tenant's config no longer checks out", async () => {
    const job = await callAndJob({ name: 'Booked Bea' });
    const first = await executeBooking(deps(), job);
    const [co] = await db().select().from(companies).where(eq(companies.id, job.companyId));
    await db().update(companies).set({ calcomApiKeyEnc: null }).where(eq(companies.id, job.companyId));
    forgetCatalogues();
    try {
      expect(await executeBooking(deps(), job)).toMatchObject({ status: 'already_booked', appointmentId: first.appointmentId });
    } finally {
      await db().update(companies).set({ calcomApiKeyEnc: co!.calcomApiKeyEnc }).where(eq(companies.id, job.companyId));
      forgetCatalogues();
    }
  });

  it('a snapshot that would push the job past its size limit is left out (the job goes with ids only)', async () => {
    const job = await callAndJob({ name: 'Short' });
    const { sealedCustomer: _, ...ids } = job;
    const long = withCustomerSnapshot(env.ctx.cipher, ids, { companyId: job.companyId, customerId: job.customerId, phone: '+4915100000000', name: 'x'.repeat(1_500), email: null });
    expect(long).toEqual(ids);
    const short = withCustomerSnapshot(env.ctx.cipher, ids, { companyId: job.companyId, customerId: job.customerId, phone: '+4915100000000', name: 'Short', email: null });
    expect(short.sealedCustomer).toBeDefined();
  });
});
