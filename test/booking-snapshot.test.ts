/**
 * A booking queued by a webhook carries its customer sealed (lib/booking/customer-snapshot): the
 * bookings worker reads nothing before its pending insert, which inserts only while the customer
 * row still says what the snapshot says. Against real MariaDB and Redis and the Cal.com
 * simulator: the two-statement booking, and every way the row can have moved on (renamed, erased,
 * an e-mail the call did not repeat), a snapshot from another job, one that cannot be opened, one
 * too large to carry — each read instead, never booked with stale or foreign data.
 */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { appointments, customers } from '../drizzle/schema';
import { executeBooking } from '../lib/booking/book';
import { withCustomerSnapshot } from '../lib/booking/customer-snapshot';
import { bookingDeps } from '../lib/booking/deps';
import { BookingRejected } from '../lib/booking/errors';
import { dbQueryDuration } from '../lib/metrics';
import { jobIds, type BookingJob } from '../lib/queues';
import { slotSequence } from './helpers/bookings';
import type { TestEnv } from './helpers/env';
import { callId, retellEvent } from './helpers/fixtures';
import { useSimTestEnv, type SeededSim } from './helpers/calcom';
import { webhookDeliverer } from './helpers/webhooks';

let env: TestEnv;
let sim: SeededSim;
useSimTestEnv({}, (started) => ({ sim, env } = started));

const db = () => env.ctx.database.db;
const deliver = webhookDeliverer(() => env.ctx);
const nextSlot = slotSequence();
let callerSeq = 0;
/** A caller no earlier test has used (each test's customer row is its own). */
const newCaller = () => `+49151777${String(Date.now() % 10_000).padStart(4, '0')}${String(callerSeq++).padStart(2, '0')}`;

async function statements(): Promise<number> {
  const { values } = await dbQueryDuration.get();
  return values.filter((v) => v.metricName === 'mcp_db_query_duration_seconds_count').reduce((a, v) => a + v.value, 0);
}

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
    expect(await executeBooking(deps(), job)).toMatchObject({ status: 'booked' });
    expect((await statements()) - n0).toBe(2);
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

  it('a snapshot that would push the job past its size limit is left out (the job goes with ids only)', async () => {
    const job = await callAndJob({ name: 'Short' });
    const { sealedCustomer: _, ...ids } = job;
    const long = withCustomerSnapshot(env.ctx.cipher, ids, { companyId: job.companyId, customerId: job.customerId, phone: '+4915100000000', name: 'x'.repeat(1_500), email: null });
    expect(long).toEqual(ids);
    const short = withCustomerSnapshot(env.ctx.cipher, ids, { companyId: job.companyId, customerId: job.customerId, phone: '+4915100000000', name: 'Short', email: null });
    expect(short.sealedCustomer).toBeDefined();
  });
});
