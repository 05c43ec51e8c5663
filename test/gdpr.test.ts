/**
 * GDPR export and erase against the real MariaDB and Redis and the Cal.com simulator. The same
 * phone number is a customer of both companies (fixtures.CALLER): every check also proves the
 * other company's customer is neither exported nor touched. The default queue's handler runs in
 * a real BullMQ worker.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, type Job } from 'bullmq';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appointments, auditLog, calls, customers, notifications } from '../drizzle/schema';
import { executeBooking } from '../lib/booking/book';
import { bookingDeps } from '../lib/booking/deps';
import { servicesForBranch } from '../lib/calls/match-service';
import { rememberReplayJob } from '../lib/calls/enqueue-webhook';
import { upsertCall, upsertCustomer } from '../lib/calls/record-call';
import { lookupPhone } from '../lib/calls/resolve-phone';
import { eraseCustomer, CANCELLATION_REASON } from '../lib/gdpr/erase';
import { exportCustomer, writeExport } from '../lib/gdpr/export';
import { findCustomer, GdprLookupError } from '../lib/gdpr/find';
import { bullPrefix, jobIds, type BookingJob, type DefaultJob } from '../lib/queues';
import { createRedis } from '../lib/redis';
import type { RetellCall } from '../lib/retell/webhook';
import { defaultHandler } from '../workers/default';
import { withTimeout } from '../workers/run-job';
import { berlinWeekday, bookingJobFor } from './helpers/bookings';
import { webhookDeliverer } from './helpers/webhooks';
import type { TestEnv } from './helpers/env';
import { CALLER, CLINIC_NUMBER, SALON_NUMBER, callId, retellEvent } from './helpers/fixtures';
import { startSimTestEnv, stopSimTestEnv, type SeededSim } from './helpers/calcom';

let env: TestEnv;
let sim: SeededSim;
const exportDir = join(tmpdir(), `cbt-gdpr-${randomBytes(4).toString('hex')}`, 'nested');
const db = () => env.ctx.database.db;
const pool = () => env.ctx.database.pool;

interface Where {
  companyId: number;
  branchId: number;
}
let salon: Where;
let clinic: Where;
/** The salon's and the clinic's customer behind the same number. */
let salonCustomer: number;
let clinicCustomer: number;
let salonCall: { id: number; retellId: string };
let clinicCall: { id: number; retellId: string };
let upcoming: { appointmentId: number; uid: string };
let pastAppointment: number;
let clinicAppointment: number;

beforeAll(async () => {
  ({ sim, env } = await startSimTestEnv({ CALCOM_TIMEOUT_MS: '1500', GDPR_EXPORT_DIR: exportDir }));
  salon = (await lookupPhone(db(), SALON_NUMBER))!;
  clinic = (await lookupPhone(db(), CLINIC_NUMBER))!;

  salonCustomer = await upsertCustomer(db(), salon.companyId, CALLER, 'Anna Salonkundin', 'anna@salon.example');
  clinicCustomer = await upsertCustomer(db(), clinic.companyId, CALLER, 'Anna Patientin', 'anna@clinic.example');
  salonCall = await recordCall(salon, salonCustomer, SALON_NUMBER, 'SALON-TALK Dienstag um 11, Haarschnitt, ich heiße Anna Salonkundin.');
  clinicCall = await recordCall(clinic, clinicCustomer, CLINIC_NUMBER, 'CLINIC-TALK Check-up please, I am Anna Patientin.');

  // An upcoming booking in Cal.com, made the way the bookings worker makes it.
  const job = await bookingJob(salon, salonCustomer, 'haircut', salonCall.id, nextSlot(0));
  const booked = await executeBooking(bookingDeps(env.ctx), job);
  expect(booked.status).toBe('booked');
  upcoming = { appointmentId: booked.appointmentId, uid: (booked as { uid: string }).uid };
  await db().insert(notifications).values({
    companyId: salon.companyId,
    kind: 'booking_confirmed',
    ref: String(upcoming.appointmentId),
    channel: 'sms',
    recipient: '+49*******5678',
    status: 'sent',
    sentAt: new Date(),
  });
  // A past appointment (never cancelled, whatever the flag) and a failed one with a reason.
  pastAppointment = await insertAppointment(salon, salonCustomer, { start: new Date(Date.now() - 10 * 86_400_000), status: 'booked', uid: `past-${randomBytes(4).toString('hex')}` });
  await insertAppointment(salon, salonCustomer, {
    start: new Date(Date.now() + 20 * 86_400_000),
    status: 'failed',
    failureReason: 'slot taken (01.12.2026 11:00) for Anna Salonkundin; free: 10:30',
    alternatives: ['2026-12-01T09:30:00.000Z'],
  });
  // The clinic customer has an appointment and notification too: the salon's erase must not touch them.
  const clinicAppt = await insertAppointment(clinic, clinicCustomer, { start: new Date(Date.now() + 5 * 86_400_000), status: 'failed', failureReason: 'clinic reason' });
  await db().insert(notifications).values({ companyId: clinic.companyId, kind: 'booking_failed', ref: String(clinicAppt), channel: 'sms', recipient: '+49*******5678', status: 'sent' });
  clinicAppointment = clinicAppt;
});

afterAll(async () => {
  await stopSimTestEnv({ env, sim });
  await rm(join(exportDir, '..'), { recursive: true, force: true });
});

async function recordCall(where: Where, customerId: number, to: string, transcript: string): Promise<{ id: number; retellId: string }> {
  const retellId = callId();
  const ev = retellEvent('call_analyzed', {
    callId: retellId,
    to,
    transcript,
    vars: { customer_name: 'Anna', booking_confirmed: true },
    analysis: { caller_phone: CALLER },
  });
  const call = { ...(ev.call as RetellCall), recording_url: `https://rec.example/${retellId}.wav` };
  const id = await upsertCall(db(), { companyId: where.companyId, branchId: where.branchId, customerId, event: 'call_analyzed', call });
  return { id, retellId };
}

/** A distinct weekday slot (Europe/Berlin, 9:00–16:00) a few days ahead. */
function nextSlot(i: number): string {
  return berlinWeekday(4, 9 + i).toUTC().toISO()!;
}

/** A booking job of `customerId` (idempotency key from a fresh call id), linked to the calls row `callRowId` if any. */
function bookingJob(where: Where, customerId: number, service: string, callRowId: number | undefined, start: string): Promise<BookingJob> {
  return bookingJobFor(db(), where, { customerId, service, callId: callRowId, callRef: callId(), start });
}

async function insertAppointment(
  where: Where,
  customerId: number,
  o: { start: Date; status: string; uid?: string; failureReason?: string; alternatives?: string[] },
): Promise<number> {
  const svc = (await servicesForBranch(db(), where.companyId, where.branchId))[0]!;
  const [res] = await db()
    .insert(appointments)
    .values({
      companyId: where.companyId,
      branchId: where.branchId,
      customerId,
      serviceId: svc.id,
      idempotencyKey: randomBytes(32).toString('hex'),
      calcomBookingUid: o.uid ?? null,
      startAt: o.start,
      endAt: new Date(o.start.getTime() + 30 * 60_000),
      status: o.status,
      failureReason: o.failureReason ?? null,
      alternatives: o.alternatives ?? null,
      source: 'cli',
    });
  return res.insertId;
}

const customerRow = async (id: number) => (await db().select().from(customers).where(eq(customers.id, id)))[0]!;
const callRow = async (id: number) => (await db().select().from(calls).where(eq(calls.id, id)))[0]!;
const apptRow = async (id: number) => (await db().select().from(appointments).where(eq(appointments.id, id)))[0]!;
const simBooking = (uid: string) => sim.sim.bookings().find((b) => b.uid === uid)!;
const audits = (action: string, companyId: number) =>
  db().select().from(auditLog).where(and(eq(auditLog.action, action), eq(auditLog.companyId, companyId)));

/** Rows of one company's customers, calls, appointments and notifications whose text contains `needle`. */
async function rowsMentioning(companyId: number, needle: string): Promise<number> {
  const like = `%${needle}%`;
  const queries: Array<[string, unknown[]]> = [
    ['SELECT COUNT(*) AS n FROM customers WHERE company_id = ? AND CONCAT_WS("|", phone, name, email) LIKE ?', [companyId, like]],
    [
      'SELECT COUNT(*) AS n FROM calls WHERE company_id = ? AND CONCAT_WS("|", from_number, to_number, transcript, summary, recording_url, dynamic_variables, analysis_data, booking_reason) LIKE ?',
      [companyId, like],
    ],
    ['SELECT COUNT(*) AS n FROM appointments WHERE company_id = ? AND CONCAT_WS("|", failure_reason, alternatives) LIKE ?', [companyId, like]],
    ['SELECT COUNT(*) AS n FROM notifications WHERE company_id = ? AND CONCAT_WS("|", recipient, error) LIKE ?', [companyId, like]],
  ];
  let total = 0;
  for (const [q, params] of queries) {
    const [rows] = await pool().query(q, params);
    total += Number((rows as Array<{ n: number }>)[0]!.n);
  }
  return total;
}

describe('findCustomer', () => {
  it('finds the customer of a number within the named company only', async () => {
    expect(await findCustomer(db(), { company: 'salon-anna', phone: CALLER })).toMatchObject({ companyId: salon.companyId, customerId: salonCustomer });
    expect(await findCustomer(db(), { company: clinic.companyId, phone: CALLER })).toMatchObject({ companyId: clinic.companyId, customerId: clinicCustomer });
    expect(await findCustomer(db(), { company: String(clinic.companyId), phone: CALLER })).toMatchObject({ customerId: clinicCustomer });
  });

  it('says clearly what is missing', async () => {
    await expect(findCustomer(db(), { company: 'salon-anna', phone: '+4915199999999' })).rejects.toThrow('no customer with that number in company salon-anna');
    await expect(findCustomer(db(), { company: 'no-such', phone: CALLER })).rejects.toThrow(GdprLookupError);
    await expect(findCustomer(db(), { company: 'no-such', phone: CALLER })).rejects.toThrow('no company with slug or id "no-such"');
    await expect(findCustomer(db(), { company: 'salon-anna', phone: '0170 123' })).rejects.toThrow(/not an E\.164 number/);
  });
});

describe('exportCustomer', () => {
  it('holds the customer’s calls, appointments and notifications, and nothing of the other company’s customer', async () => {
    const data = await exportCustomer(env.ctx, { companyId: salon.companyId, customerId: salonCustomer, actor: 'cli:test' });
    expect(data.customer).toMatchObject({ id: salonCustomer, name: 'Anna Salonkundin', email: 'anna@salon.example', phone: CALLER, erasedAt: null });
    expect(data.company.slug).toBe('salon-anna');
    expect(data.calls).toHaveLength(1);
    expect(data.calls[0]).toMatchObject({
      retellCallId: salonCall.retellId,
      direction: 'inbound',
      fromNumber: CALLER,
      sentiment: 'Positive',
      summary: 'Caller booked a haircut.',
      recordingUrl: `https://rec.example/${salonCall.retellId}.wav`,
      dynamicVariables: { customer_name: 'Anna', booking_confirmed: true },
      analysisData: { caller_phone: CALLER },
      appointmentId: upcoming.appointmentId,
    });
    expect(data.calls[0]!.transcript).toContain('SALON-TALK');
    expect(data.appointments.map((a) => a.id)).toContain(upcoming.appointmentId);
    expect(data.appointments.find((a) => a.id === upcoming.appointmentId)).toMatchObject({ service: 'haircut', status: 'booked', calcomBookingUid: upcoming.uid, branch: 'mitte' });
    expect(data.appointments.find((a) => a.status === 'failed')!.failureReason).toMatch(/slot taken/);
    expect(data.notifications).toEqual([expect.objectContaining({ appointmentId: upcoming.appointmentId, kind: 'booking_confirmed', channel: 'sms', status: 'sent' })]);

    const text = JSON.stringify(data);
    expect(text).not.toContain('CLINIC-TALK');
    expect(text).not.toContain('Anna Patientin');
    expect(text).not.toContain('anna@clinic.example');
    expect(text).not.toContain(clinicCall.retellId);
    expect(text).not.toContain('clinic reason');

    const [row] = await audits('gdpr.export', salon.companyId);
    expect(row).toMatchObject({ actor: 'cli:test', target: `customer:${salonCustomer}`, details: { calls: 1, appointments: 3, notifications: 1 } });
    expect(JSON.stringify(row!.details)).not.toContain(CALLER);
  });

  it('writes a 0600 file named by company, customer and time', async () => {
    const data = await exportCustomer(env.ctx, { companyId: clinic.companyId, customerId: clinicCustomer, actor: 'cli:test' });
    const path = await writeExport(exportDir, data);
    expect(path).toMatch(new RegExp(`/clinic-nord-${clinicCustomer}-\\d{8}T\\d{9}Z\\.json$`));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const back = JSON.parse(await readFile(path, 'utf8'));
    expect(back.customer).toMatchObject({ name: 'Anna Patientin', phone: CALLER });
    expect(back.calls[0].transcript).toContain('CLINIC-TALK');
    // Same data, same millisecond: a second file, never an overwrite.
    const second = await writeExport(exportDir, data);
    expect(second).not.toBe(path);
  });

  it('refuses a customer of another company', async () => {
    await expect(exportCustomer(env.ctx, { companyId: salon.companyId, customerId: clinicCustomer, actor: 'cli:test' })).rejects.toThrow(/is not a customer of company salon-anna/);
  });
});

describe('eraseCustomer', () => {
  it('cancels the upcoming Cal.com booking and leaves no name, number or transcript of the customer', async () => {
    // Webhook jobs still in Redis for both calls (sealed bodies with the caller's data).
    const salonJob = jobIds.retellWebhook(salonCall.retellId, 'call_analyzed');
    const clinicJob = jobIds.retellWebhook(clinicCall.retellId, 'call_analyzed');
    await env.ctx.queues.webhooks.add('retell', { sealed: 'x' }, { jobId: salonJob });
    await env.ctx.queues.webhooks.add('retell', { sealed: 'x' }, { jobId: clinicJob });
    // `calls replay` jobs, whose ids the erase cannot derive: remembered when queued, as replay does.
    const salonReplays = [`${salonJob}-replay-1`, `${salonJob}-replay-2`];
    const clinicReplay = `${clinicJob}-replay-1`;
    for (const jobId of salonReplays) {
      await rememberReplayJob(env.ctx, salonCall.retellId, jobId);
      await env.ctx.queues.webhooks.add('retell', { sealed: 'x' }, { jobId });
    }
    await rememberReplayJob(env.ctx, clinicCall.retellId, clinicReplay);
    await env.ctx.queues.webhooks.add('retell', { sealed: 'x' }, { jobId: clinicReplay });
    // The booking's confirmation, queued by the bookings worker with the customer sealed in it;
    // and a clinic appointment's notification jobs, which stay.
    const confirmation = jobIds.notification('booking_confirmed', upcoming.appointmentId);
    expect((await env.ctx.queues.notifications.getJob(confirmation))!.data).toMatchObject({ sealedSnapshot: expect.any(String) });
    const clinicNotes = [jobIds.notification('booking_confirmed', clinicAppointment), jobIds.notification('booking_failed', clinicAppointment)];
    for (const jobId of clinicNotes) await env.ctx.queues.notifications.add('n', { kind: 'booking_failed', companyId: clinic.companyId, appointmentId: clinicAppointment }, { jobId });
    expect(await rowsMentioning(salon.companyId, CALLER)).toBeGreaterThan(0);

    const result = await eraseCustomer(env.ctx, { companyId: salon.companyId, customerId: salonCustomer, cancelBookings: true, actor: 'cli:test' });
    expect(result).toMatchObject({ erasedLocally: true, complete: true, alreadyErased: false, calls: 1, appointments: 3, notifications: 1, webhookJobsRemoved: 3, notificationJobsRemoved: 1 });
    expect(result.message).toMatch(/3 webhook, 0 booking and 1 notification jobs removed from Redis/);
    expect(result.bookings.cancelled).toEqual([expect.objectContaining({ appointmentId: upcoming.appointmentId, uid: upcoming.uid })]);
    expect(result.bookings.failed).toEqual([]);

    // Cal.com: cancelled with the reason; locally cancelled, uid and times kept.
    expect(simBooking(upcoming.uid)).toMatchObject({ status: 'cancelled', cancellationReason: CANCELLATION_REASON });
    expect(await apptRow(upcoming.appointmentId)).toMatchObject({ status: 'cancelled', calcomBookingUid: upcoming.uid, failureReason: null, alternatives: null });
    expect(await apptRow(pastAppointment)).toMatchObject({ status: 'booked' });

    const c = await customerRow(salonCustomer);
    expect(c).toMatchObject({ name: null, email: null, phone: `erased-${salonCustomer}` });
    expect(c.erasedAt).toBeInstanceOf(Date);
    const call = await callRow(salonCall.id);
    expect(call).toMatchObject({ fromNumber: null, transcript: null, summary: null, recordingUrl: null, dynamicVariables: null, analysisData: null });
    expect(call).toMatchObject({ toNumber: SALON_NUMBER, status: 'analyzed', appointmentId: upcoming.appointmentId });
    const [note] = await db().select().from(notifications).where(and(eq(notifications.companyId, salon.companyId), eq(notifications.ref, String(upcoming.appointmentId))));
    expect(note).toMatchObject({ recipient: null, status: 'sent', kind: 'booking_confirmed' });

    for (const needle of [CALLER, CALLER.slice(1), 'Anna Salonkundin', 'anna@salon.example', 'SALON-TALK', '5678']) {
      expect(await rowsMentioning(salon.companyId, needle), needle).toBe(0);
    }

    // The other company's customer with the same number: untouched.
    expect(await customerRow(clinicCustomer)).toMatchObject({ name: 'Anna Patientin', email: 'anna@clinic.example', phone: CALLER, erasedAt: null });
    expect((await callRow(clinicCall.id)).transcript).toContain('CLINIC-TALK');
    expect((await callRow(clinicCall.id)).fromNumber).toBe(CALLER);
    expect(await rowsMentioning(clinic.companyId, CALLER)).toBeGreaterThan(0);
    expect(await rowsMentioning(clinic.companyId, 'clinic reason')).toBe(1);
    expect(await rowsMentioning(clinic.companyId, '5678')).toBeGreaterThan(0);

    // Redis: the salon call's webhook job and the confirmation are gone, the clinic's jobs stay.
    expect(await env.ctx.queues.webhooks.getJob(salonJob)).toBeUndefined();
    expect(await env.ctx.queues.webhooks.getJob(clinicJob)).toBeDefined();
    for (const jobId of salonReplays) expect(await env.ctx.queues.webhooks.getJob(jobId), jobId).toBeUndefined();
    expect(await env.ctx.queues.webhooks.getJob(clinicReplay)).toBeDefined();
    expect(await env.ctx.queues.notifications.getJob(confirmation)).toBeUndefined();
    for (const jobId of clinicNotes) expect(await env.ctx.queues.notifications.getJob(jobId), jobId).toBeDefined();

    const [row] = await audits('gdpr.erase', salon.companyId);
    expect(row).toMatchObject({ actor: 'cli:test', target: `customer:${salonCustomer}`, details: { calls: 1, cancelBookings: true, cancelled: [upcoming.appointmentId] } });
    expect(JSON.stringify(row)).not.toMatch(/4917012345678|Anna/);
    // Nothing in the audit log at all mentions the number.
    const [hits] = await pool().query('SELECT COUNT(*) AS n FROM audit_log WHERE CONCAT_WS("|", target, details) LIKE ?', [`%${CALLER}%`]);
    expect(Number((hits as Array<{ n: number }>)[0]!.n)).toBe(0);
  });

  it('is idempotent: erasing again finds nothing left and changes nothing', async () => {
    const before = await customerRow(salonCustomer);
    const again = await eraseCustomer(env.ctx, { companyId: salon.companyId, customerId: salonCustomer, cancelBookings: true, actor: 'cli:test' });
    expect(again).toMatchObject({ complete: true, alreadyErased: true, bookings: { cancelled: [], failed: [] }, webhookJobsRemoved: 0, notificationJobsRemoved: 0 });
    const after = await customerRow(salonCustomer);
    expect(after).toMatchObject({ phone: before.phone, erasedAt: before.erasedAt, name: null });
    expect(await audits('gdpr.erase', salon.companyId)).toHaveLength(2);
    // The number is free again in that company: a new call makes a new customer.
    await expect(findCustomer(db(), { company: 'salon-anna', phone: CALLER })).rejects.toThrow(/no customer with that number/);
  });

  it('cancelBookings=false keeps the Cal.com booking and says so', async () => {
    const phone = '+4917099990001';
    const customerId = await upsertCustomer(db(), salon.companyId, phone, 'Berta Behalten');
    const booked = await executeBooking(bookingDeps(env.ctx), await bookingJob(salon, customerId, 'haircut', undefined, nextSlot(2)));
    const uid = (booked as { uid: string }).uid;
    const result = await eraseCustomer(env.ctx, { companyId: salon.companyId, customerId, cancelBookings: false, actor: 'cli:test' });
    expect(result).toMatchObject({ complete: true, notificationJobsRemoved: 1 });
    expect(await env.ctx.queues.notifications.getJob(jobIds.notification('booking_confirmed', booked.appointmentId))).toBeUndefined();
    expect(result.bookings).toMatchObject({ mode: 'keep', cancelled: [], failed: [], kept: [expect.objectContaining({ uid })] });
    expect(result.message).toMatch(/kept as asked/);
    expect(simBooking(uid).status).toBe('accepted');
    expect(await apptRow(booked.appointmentId)).toMatchObject({ status: 'booked', calcomBookingUid: uid });
    expect(await customerRow(customerId)).toMatchObject({ name: null, phone: `erased-${customerId}` });
    expect(await rowsMentioning(salon.companyId, phone)).toBe(0);
  });

  it("a webhook's booking job carries the caller sealed: erasing removes it (waiting or done) and says how many", async () => {
    const phone = '+4917099990002';
    const deliver = webhookDeliverer(() => env.ctx);
    const analysis = { booking_confirmed: true, appointment_datetime: berlinWeekday(5, 10).toFormat("yyyy-MM-dd'T'HH:mm:ss"), service: 'Haarschnitt', customer_name: 'Greta Gebucht' };
    const decided = await deliver(retellEvent('call_analyzed', { callId: callId(), from: phone, analysis }));
    const key = (decided as { decision: { idempotencyKey: string } }).decision.idempotencyKey;
    const waiting = await env.ctx.queues.bookings.getJob(jobIds.booking(key));
    expect(waiting!.data.sealedCustomer).toBeDefined();
    const customerId = (waiting!.data as BookingJob).customerId;
    const result = await eraseCustomer(env.ctx, { companyId: salon.companyId, customerId, cancelBookings: true, actor: 'cli:test' });
    expect(result).toMatchObject({ complete: true, bookingJobsRemoved: 1, warnings: [] });
    expect(result.message).toContain('1 booking');
    expect(await env.ctx.queues.bookings.getJob(jobIds.booking(key))).toBeUndefined();
  });

  it('a confirmation job running during the erase is left with a warning; erasing again once it finished removes it', async () => {
    const phone = '+4917099990004';
    const customerId = await upsertCustomer(db(), salon.companyId, phone, 'Rita Running', 'rita@example.org');
    const booked = await executeBooking(bookingDeps(env.ctx), await bookingJob(salon, customerId, 'haircut', undefined, nextSlot(3)));
    const jobId = jobIds.notification('booking_confirmed', booked.appointmentId);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let taken!: () => void;
    const active = new Promise<void>((r) => (taken = r));
    const connection = createRedis(env.config.REDIS_URL, 'worker');
    const worker = new Worker(
      'notifications',
      async (job) => {
        if (job.id !== jobId) return {};
        taken();
        await gate;
        return { status: 'skipped' };
      },
      { connection, prefix: bullPrefix(env.config.REDIS_PREFIX) },
    );
    try {
      await active;
      const first = await eraseCustomer(env.ctx, { companyId: salon.companyId, customerId, cancelBookings: false, actor: 'cli:test' });
      expect(first.notificationJobsRemoved).toBe(0);
      expect(first.warnings).toContain(`notification job ${jobId} is running and was left in Redis; erase again once it has finished`);
      release();
      const end = Date.now() + 10_000;
      while ((await (await env.ctx.queues.notifications.getJob(jobId))!.getState()) !== 'completed' && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
      const again = await eraseCustomer(env.ctx, { companyId: salon.companyId, customerId, cancelBookings: false, actor: 'cli:test' });
      expect(again).toMatchObject({ notificationJobsRemoved: 1, warnings: [] });
      expect(await env.ctx.queues.notifications.getJob(jobId)).toBeUndefined();
    } finally {
      release();
      await worker.close();
      connection.disconnect();
    }
  });

  it('a booking Cal.com will not cancel is reported, and the local erase still completes', async () => {
    const phone = '+4917099990002';
    const customerId = await upsertCustomer(db(), salon.companyId, phone, 'Carla Kaputt');
    const appt = await insertAppointment(salon, customerId, { start: new Date(Date.now() + 7 * 86_400_000), status: 'booked', uid: 'uid-unknown-to-calcom' });
    const result = await eraseCustomer(env.ctx, { companyId: salon.companyId, customerId, cancelBookings: true, actor: 'cli:test' });
    expect(result).toMatchObject({ erasedLocally: true, complete: false });
    expect(result.bookings.failed).toEqual([expect.objectContaining({ appointmentId: appt, uid: 'uid-unknown-to-calcom' })]);
    expect(result.bookings.failed[0]!.error).toMatch(/404/);
    expect(result.message).toMatch(/could NOT be cancelled/);
    expect(result.message).toMatch(/erased locally/);
    expect(await apptRow(appt)).toMatchObject({ status: 'booked' });
    expect(await customerRow(customerId)).toMatchObject({ name: null, phone: `erased-${customerId}` });
    const rows = await audits('gdpr.erase', salon.companyId);
    expect(rows.at(-1)!.details).toMatchObject({ cancelFailed: [appt] });
  });
});

describe('default queue worker', () => {
  async function waitFor(jobId: string, ms = 15_000): Promise<{ job: Job; state: string }> {
    const end = Date.now() + ms;
    for (;;) {
      const job = await env.ctx.queues.default.getJob(jobId);
      const state = job ? await job.getState() : 'missing';
      if (state === 'completed' || state === 'failed' || Date.now() > end) return { job: job!, state };
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('runs export, erase and purge jobs; an export job returns only the path of a 0600 file', async () => {
    const connection = createRedis(env.config.REDIS_URL, 'worker');
    const worker = new Worker('default', withTimeout('default', defaultHandler(env.ctx)), { connection, prefix: bullPrefix(env.config.REDIS_PREFIX) });
    try {
      const add = (id: string, data: DefaultJob, opts: { attempts?: number } = {}) => env.ctx.queues.default.add(data.kind, data, { jobId: id, ...opts });

      await add('export-1', { kind: 'gdpr_export', companyId: clinic.companyId, customerId: clinicCustomer, requestedBy: 'admin' });
      const exported = await waitFor('export-1');
      expect(exported.state).toBe('completed');
      expect(Object.keys(exported.job.returnvalue)).toEqual(['path']);
      const path = exported.job.returnvalue.path as string;
      expect(path.startsWith(exportDir)).toBe(true);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(await readFile(path, 'utf8')).customer).toMatchObject({ phone: CALLER, name: 'Anna Patientin' });
      expect(JSON.stringify(exported.job.returnvalue)).not.toContain(CALLER);
      expect((await audits('gdpr.export', clinic.companyId)).some((r) => r.actor === 'admin')).toBe(true);

      // A customer that does not exist: failed at once, no retries.
      await add('erase-missing', { kind: 'gdpr_erase', companyId: clinic.companyId, customerId: 987_654, requestedBy: 'admin', cancelBookings: true });
      const missing = await waitFor('erase-missing');
      expect(missing.state).toBe('failed');
      expect(missing.job.attemptsMade).toBe(1);
      expect(missing.job.failedReason).toMatch(/customer 987654 is not a customer of company clinic-nord/);

      // A booking Cal.com refuses to cancel: the job fails with the message, the local erase is done.
      const customerId = await upsertCustomer(db(), clinic.companyId, '+4917099990003', 'Dora');
      await insertAppointment(clinic, customerId, { start: new Date(Date.now() + 7 * 86_400_000), status: 'booked', uid: 'uid-gone' });
      await add('erase-partial', { kind: 'gdpr_erase', companyId: clinic.companyId, customerId, requestedBy: 'admin', cancelBookings: true }, { attempts: 1 });
      const partial = await waitFor('erase-partial');
      expect(partial.state).toBe('failed');
      expect(partial.job.failedReason).toMatch(/erased locally.*could NOT be cancelled/);
      expect(await customerRow(customerId)).toMatchObject({ name: null, phone: `erased-${customerId}` });

      // The clinic customer, erased through the queue.
      await add('erase-clinic', { kind: 'gdpr_erase', companyId: clinic.companyId, customerId: clinicCustomer, requestedBy: 'admin', cancelBookings: false });
      const erased = await waitFor('erase-clinic');
      expect(erased.state).toBe('completed');
      expect(erased.job.returnvalue).toMatchObject({ customerId: clinicCustomer, calls: 1 });
      expect(await rowsMentioning(clinic.companyId, CALLER)).toBe(0);

      await add('purge-1', { kind: 'retention_purge', companyId: salon.companyId });
      const purged = await waitFor('purge-1');
      expect(purged.state).toBe('completed');
      expect(purged.job.returnvalue).toEqual({ companies: [expect.objectContaining({ companyId: salon.companyId, calls: 0 })] });
    } finally {
      await worker.close();
      connection.disconnect();
    }
  });
});
