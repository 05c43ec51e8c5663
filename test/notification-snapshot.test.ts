/**
 * The confirmation's sealed snapshot against real MariaDB and Redis and the Cal.com simulator:
 * bookings made by the bookings worker's own code (executeBooking) queue their confirmation with
 * customer and appointment sealed in the job, and the notifications worker sends it with two
 * statements — the guarded claim and the record — instead of three. Then what an attacker (or a
 * stale job) might try: another company's appointment or customer, a snapshot that cannot be
 * opened or does not parse, rows that changed after the snapshot was taken, re-runs; none sends
 * anything it should not, and the job in Redis never shows the customer's data in clear text.
 *
 * One company encrypts personal data (PII) and BLIND_INDEX_KEY is set, so the claim's guard on
 * the phone's blind index is exercised in both forms of customer rows.
 */
import { randomBytes } from 'node:crypto';
import type { Job } from 'bullmq';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appointments, customers, notifications } from '../drizzle/schema';
import { executeBooking } from '../lib/booking/book';
import { bookingDeps } from '../lib/booking/deps';
import { upsertCustomer } from '../lib/calls/record-call';
import { lookupPhone } from '../lib/calls/resolve-phone';
import { Cipher, isCiphertext } from '../lib/crypto';
import { eraseCustomer } from '../lib/gdpr/erase';
import { processNotification, type NotificationDeps } from '../lib/notifications/send';
import { openConfirmation, sealConfirmation, type ConfirmationSnapshot } from '../lib/notifications/snapshot';
import type { OutgoingMessage, Transport } from '../lib/notifications/transports';
import { bullPrefix, InvalidPayloadError, jobIds, type NotificationJob } from '../lib/queues';
import { startWorkers } from '../workers';
import { notificationsHandlerWith } from '../workers/notifications';
import { bookingJobFor, slotSequence } from './helpers/bookings';
import { resetCalcom, startSimTestEnv, stopSimTestEnv, type SimTestEnv } from './helpers/calcom';
import { CLINIC_NUMBER, SALON_NUMBER, callId, twoCompanies } from './helpers/fixtures';
import { countBuiltStatements, statements } from './helpers/statements';

let started: SimTestEnv;
const env = () => started.env;
const db = () => env().ctx.database.db;
const nextSlot = slotSequence();

beforeAll(async () => {
  const tenants = twoCompanies();
  tenants.companies[1]!.piiEncryption = true;
  started = await startSimTestEnv({ CALCOM_TIMEOUT_MS: '1500', BLIND_INDEX_KEY: randomBytes(32).toString('base64') }, tenants);
});
beforeEach(() => resetCalcom(started));
afterAll(() => stopSimTestEnv(started ?? {}));

class RecordingTransport implements Transport {
  readonly name = 'recording';
  readonly sent: OutgoingMessage[] = [];
  failures: Error[] = [];
  /** While set, a send waits for it after recording the message (a worker stuck or dying mid-send). */
  gate?: Promise<void>;
  async send(msg: OutgoingMessage): Promise<void> {
    const fail = this.failures.shift();
    if (fail) throw fail;
    this.sent.push(msg);
    await this.gate;
  }
}

const deps = (transport: Transport): NotificationDeps => ({
  db: db(),
  logger: env().ctx.logger,
  transport,
  cipher: env().ctx.cipher,
  config: { OPERATOR_ALERT_EMAILS: undefined, PUBLIC_URL: 'https://callbook.example.com' },
});

let phoneSeq = 0;
const newPhone = () => `+49171${String(2_000_000 + phoneSeq++).padStart(7, '0')}`;

interface Booked {
  companyId: number;
  branchId: number;
  customerId: number;
  appointmentId: number;
  phone: string;
  /** The job exactly as the bookings worker queued it. */
  job: NotificationJob;
}

/** A booking made by executeBooking (Cal.com simulator), and the confirmation job it queued. */
async function book(o: { clinic?: boolean; name?: string | null; email?: string } = {}): Promise<Booked> {
  const where = (await lookupPhone(db(), o.clinic ? CLINIC_NUMBER : SALON_NUMBER))!;
  const phone = newPhone();
  const customerId = await upsertCustomer(db(), where.companyId, phone, o.name === null ? undefined : (o.name ?? 'Zoë Schnappschuss'), o.email);
  const job = await bookingJobFor(db(), where, { customerId, service: o.clinic ? 'checkup' : 'haircut', callId: undefined, callRef: callId(), start: nextSlot().toUTC().toISO()! });
  const booked = await executeBooking(bookingDeps(env().ctx), job);
  expect(booked.status).toBe('booked');
  const queued = await env().ctx.queues.notifications.getJob(jobIds.notification('booking_confirmed', booked.appointmentId));
  expect(queued).toBeDefined();
  return { ...where, customerId, appointmentId: booked.appointmentId, phone, job: queued!.data as NotificationJob };
}

const idsOnly = (j: NotificationJob): NotificationJob => ({ kind: j.kind, companyId: j.companyId, appointmentId: j.appointmentId });
const snapshotOf = (j: NotificationJob) => openConfirmation(env().ctx.cipher, { ...j, sealedSnapshot: j.sealedSnapshot! });
const resealed = (j: NotificationJob, change: Partial<ConfirmationSnapshot>): NotificationJob => ({ ...j, sealedSnapshot: sealConfirmation(env().ctx.cipher, { ...snapshotOf(j), ...change }) });

async function notificationRow(ref: number) {
  const [row] = await db()
    .select()
    .from(notifications)
    .where(and(eq(notifications.kind, 'booking_confirmed'), eq(notifications.ref, String(ref))));
  return row;
}

/** What the read path (a job without snapshot) sends for these rows now; its notifications row is removed before and after. */
async function viaReadPath(b: Booked) {
  const clear = () => db().delete(notifications).where(and(eq(notifications.kind, 'booking_confirmed'), eq(notifications.ref, String(b.appointmentId))));
  await clear();
  const t = new RecordingTransport();
  const result = await processNotification(deps(t), idsOnly(b.job));
  const row = await notificationRow(b.appointmentId);
  await clear();
  return { result, sent: t.sent, row };
}

/** Statements run by this process so far (the metric bench/e2e and test/per-call-cost count). */
describe('a confirmation queued by the bookings worker', () => {
  it('carries customer and appointment sealed, naming its own company and appointment', async () => {
    const b = await book({ email: 'zoe@example.org' });
    expect(Object.keys(b.job).sort()).toEqual(['appointmentId', 'companyId', 'kind', 'sealedSnapshot']);
    expect(isCiphertext(b.job.sealedSnapshot!)).toBe(true);
    const [appt] = await db().select().from(appointments).where(eq(appointments.id, b.appointmentId));
    expect(snapshotOf(b.job)).toEqual({
      companyId: b.companyId,
      appointmentId: b.appointmentId,
      customerId: b.customerId,
      phone: b.phone,
      name: 'Zoë Schnappschuss',
      email: 'zoe@example.org',
      start: appt!.startAt.toISOString(),
      end: appt!.endAt!.toISOString(),
      serviceId: appt!.serviceId,
      branchId: appt!.branchId,
    });
  });

  it('one that would not fit the queue\'s size limit (a long name in a multi-byte script) goes with ids only, and is still sent', async () => {
    const name = '😀'.repeat(400);
    const b = await book({ name });
    expect(b.job).toEqual({ kind: 'booking_confirmed', companyId: b.companyId, appointmentId: b.appointmentId });
    const t = new RecordingTransport();
    expect((await processNotification(deps(t), b.job)).status).toBe('sent');
    expect(t.sent[0]!.text).toContain(name);
  });

  it('costs 2 statements (claim, record) and sends what the read path sends — SMS in German, e-mail in English from an encrypting company', async () => {
    await processNotification(deps(new RecordingTransport()), (await book({})).job); // prepares claim and record, as a running worker has them
    for (const o of [{}, { clinic: true, email: 'patient@example.org', name: 'John Snap' }]) {
      const b = await book(o);
      const t = new RecordingTransport();
      const n0 = await statements();
      const built = countBuiltStatements(db());
      const result = await processNotification(deps(t), b.job);
      built.stop();
      expect(await statements()).toBe(n0 + 2);
      expect(built.count()).toBe(0); // claim and record prepared once per process
      expect(result.status).toBe('sent');
      expect(t.sent).toHaveLength(1);
      const row = await notificationRow(b.appointmentId);
      expect(row).toMatchObject({ status: 'sent', companyId: b.companyId, error: null });

      // The same rows through the read path (a job without snapshot): 3 statements, the same message.
      await db().delete(notifications).where(eq(notifications.id, row!.id));
      const r = new RecordingTransport();
      const n1 = await statements();
      expect((await processNotification(deps(r), idsOnly(b.job))).status).toBe('sent');
      expect(await statements()).toBe(n1 + 3);
      expect(t.sent).toEqual(r.sent);
      const read = await notificationRow(b.appointmentId);
      expect({ channel: row!.channel, recipient: row!.recipient }).toEqual({ channel: read!.channel, recipient: read!.recipient });
    }
  });

  it('in Redis, as Bull Board shows it — waiting, then completed by a real worker — holds no name, number or e-mail in clear text', async () => {
    const b = await book({ clinic: true, email: 'redis.reader@example.org', name: 'Ramona Redis' });
    const jobId = jobIds.notification('booking_confirmed', b.appointmentId);
    const needles = [b.phone, b.phone.slice(1), b.phone.slice(-7), 'redis.reader', 'example.org', 'Ramona'];
    const redisText = async () => {
      const hash = await env().ctx.redis.hgetall(`${bullPrefix(env().config.REDIS_PREFIX)}:notifications:${jobId}`);
      const job = await env().ctx.queues.notifications.getJob(jobId);
      return JSON.stringify(hash) + JSON.stringify(job!.asJSON());
    };
    const waiting = await redisText();
    expect(waiting).toContain('sealedSnapshot');
    for (const n of needles) expect(waiting, n).not.toContain(n);

    const workers = startWorkers(env().ctx, ['notifications']);
    try {
      const end = Date.now() + 15_000;
      while ((await (await env().ctx.queues.notifications.getJob(jobId))!.getState()) !== 'completed' && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await workers.close();
    }
    const job = await env().ctx.queues.notifications.getJob(jobId);
    expect(job!.returnvalue).toMatchObject({ status: 'sent', deliveries: [{ channel: 'email', recipient: 'r***@example.org' }] });
    const completed = await redisText();
    for (const n of needles.filter((x) => x !== 'example.org')) expect(completed, n).not.toContain(n);
  });
});

describe("another company's appointment or customer: nothing is sent to anyone", () => {
  it("a salon snapshot moved into a job for a clinic appointment is refused for naming another company and appointment", async () => {
    const salon = await book();
    const clinic = await book({ clinic: true });
    const t = new RecordingTransport();
    const err = await processNotification(deps(t), { ...clinic.job, sealedSnapshot: salon.job.sealedSnapshot }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidPayloadError);
    expect((err as Error).message).toMatch(/sealedSnapshot\.companyId: is not the job's companyId; sealedSnapshot\.appointmentId: is not the job's appointmentId/);
    expect(t.sent).toHaveLength(0);
    expect(await notificationRow(salon.appointmentId)).toBeUndefined();
    expect(await notificationRow(clinic.appointmentId)).toBeUndefined();
  });

  it("a job and snapshot naming the clinic with the salon's appointment: the guard refuses, the read path finds no such appointment", async () => {
    const salon = await book();
    const clinic = await book({ clinic: true });
    const t = new RecordingTransport();
    const forged = { ...resealed(salon.job, { companyId: clinic.companyId }), companyId: clinic.companyId };
    await expect(processNotification(deps(t), forged)).rejects.toThrow(`appointment ${salon.appointmentId} not found in company ${clinic.companyId}`);
    expect(t.sent).toHaveLength(0);
    expect(await notificationRow(salon.appointmentId)).toBeUndefined();
    // The genuine job still sends, once, to the salon's customer.
    expect((await processNotification(deps(t), salon.job)).status).toBe('sent');
    expect(t.sent.map((m) => m.to)).toEqual([salon.phone]);
  });

  it("the salon's appointment with the clinic's customer (id, number, e-mail), or with a number not its customer's: refused, naming the field", async () => {
    const salon = await book();
    const clinic = await book({ clinic: true, email: 'other@clinic.example' });
    const t = new RecordingTransport();
    const foreignCustomer = resealed(salon.job, { customerId: clinic.customerId, phone: clinic.phone, email: 'other@clinic.example' });
    await expect(processNotification(deps(t), foreignCustomer)).rejects.toThrow(/sealedSnapshot\.customerId: is not the appointment's customer/);
    const foreignNumber = resealed(salon.job, { phone: clinic.phone });
    const err = await processNotification(deps(t), foreignNumber).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidPayloadError);
    expect((err as Error).message).toMatch(/sealedSnapshot\.phone: is not the number of the appointment's customer/);
    expect(t.sent).toHaveLength(0);
    expect(await notificationRow(salon.appointmentId)).toBeUndefined();
    expect(await notificationRow(clinic.appointmentId)).toBeUndefined();
    expect((await processNotification(deps(t), salon.job)).status).toBe('sent');
    expect(t.sent.map((m) => m.to)).toEqual([salon.phone]);
  });
});

describe('a snapshot that cannot be opened or does not parse', () => {
  const fakeJob = (data: unknown) => ({ id: 'test', name: 'booking_confirmed', data, timestamp: Date.now(), opts: {}, attemptsMade: 0 }) as unknown as Job;

  it('fails the job unrecoverably (one attempt), naming the field, and sends nothing', async () => {
    const b = await book();
    const t = new RecordingTransport();
    const handler = notificationsHandlerWith(deps(t));
    const signal = new AbortController().signal;
    const other = new Cipher(randomBytes(32).toString('base64'));
    const cases: Array<[unknown, RegExp]> = [
      [{ ...b.job, sealedSnapshot: 'not a ciphertext' }, /^invalid notifications job payload: sealedSnapshot: cannot be opened with ENCRYPTION_KEY/],
      [{ ...b.job, sealedSnapshot: other.encrypt(JSON.stringify(snapshotOf(b.job))) }, /sealedSnapshot: cannot be opened/],
      [{ ...b.job, sealedSnapshot: b.job.sealedSnapshot!.slice(0, -4) + 'AAA=' }, /sealedSnapshot: cannot be opened/],
      [{ ...b.job, sealedSnapshot: env().ctx.cipher.encrypt('{"phone":') }, /sealedSnapshot: cannot be opened .* or is not JSON/],
      [{ ...b.job, sealedSnapshot: env().ctx.cipher.encrypt(JSON.stringify({ ...snapshotOf(b.job), start: 'tomorrow', phone: 4917 })) }, /sealedSnapshot\.phone: .*sealedSnapshot\.start: /],
      [{ ...b.job, sealedSnapshot: env().ctx.cipher.encrypt('[]') }, /sealedSnapshot: /],
      [{ ...b.job, kind: 'booking_failed' }, /sealedSnapshot: only booking_confirmed jobs carry one/],
      [{ ...b.job, sealedSnapshot: 42 }, /sealedSnapshot: /],
    ];
    for (const [data, reason] of cases) {
      const err = await handler(fakeJob(data), signal).catch((e: unknown) => e);
      expect(err, JSON.stringify(data).slice(0, 80)).toBeInstanceOf(InvalidPayloadError);
      expect((err as Error).message).toMatch(reason);
    }
    expect(t.sent).toHaveLength(0);
    expect(await notificationRow(b.appointmentId)).toBeUndefined();
  });
});

describe('the rows changed after the snapshot was taken: the outcome of the read path, never the stale data', () => {
  it('cancelled: skipped with the read path\'s reason', async () => {
    const b = await book();
    await db().update(appointments).set({ status: 'cancelled' }).where(eq(appointments.id, b.appointmentId));
    const t = new RecordingTransport();
    expect(await processNotification(deps(t), b.job)).toMatchObject({ status: 'skipped', deliveries: [{ reason: 'appointment is cancelled, not booked' }] });
    expect(t.sent).toHaveLength(0);
    expect(await notificationRow(b.appointmentId)).toMatchObject({ status: 'skipped', error: 'appointment is cancelled, not booked' });
    const read = await viaReadPath(b);
    expect(read.result).toMatchObject({ status: 'skipped', deliveries: [{ reason: 'appointment is cancelled, not booked' }] });
  });

  it('rescheduled (start moved in Cal.com): the message names the new time, as the read path does', async () => {
    const b = await book();
    const snap = snapshotOf(b.job);
    const start = new Date(new Date(snap.start).getTime() + 26 * 3600_000);
    await db()
      .update(appointments)
      .set({ startAt: start, endAt: new Date(start.getTime() + 30 * 60_000) })
      .where(eq(appointments.id, b.appointmentId));
    const t = new RecordingTransport();
    expect((await processNotification(deps(t), b.job)).status).toBe('sent');
    const read = await viaReadPath(b);
    expect(t.sent).toEqual(read.sent);
    const stale = await viaReadPathAt(b, new Date(snap.start));
    expect(t.sent[0]!.text).not.toBe(stale.text);
  });

  it('the customer erased (GDPR): nothing sent, as the read path', async () => {
    const b = await book({ email: 'forget.me@example.org' });
    await eraseCustomer(env().ctx, { companyId: b.companyId, customerId: b.customerId, cancelBookings: false, actor: 'test' });
    const t = new RecordingTransport();
    expect(await processNotification(deps(t), b.job)).toMatchObject({ status: 'skipped', deliveries: [{ reason: 'customer data was erased' }] });
    expect(t.sent).toHaveLength(0);
    expect((await viaReadPath(b)).result).toMatchObject({ status: 'skipped', deliveries: [{ reason: 'customer data was erased' }] });
  });

  it('a failed send retried after a cancellation sends nothing (the re-claim reads the rows again)', async () => {
    const b = await book();
    const t = new RecordingTransport();
    t.failures = [new Error('provider down')];
    await expect(processNotification(deps(t), b.job)).rejects.toThrow('provider down');
    expect(await notificationRow(b.appointmentId)).toMatchObject({ status: 'failed' });
    await db().update(appointments).set({ status: 'cancelled' }).where(eq(appointments.id, b.appointmentId));
    expect((await processNotification(deps(t), b.job)).status).toBe('skipped');
    expect(t.sent).toHaveLength(0);
  });
});

/** The text the read path renders for these rows with the start at `start` (the rows are put back after). */
async function viaReadPathAt(b: Booked, start: Date) {
  const [before] = await db().select().from(appointments).where(eq(appointments.id, b.appointmentId));
  await db().update(appointments).set({ startAt: start }).where(eq(appointments.id, b.appointmentId));
  try {
    return (await viaReadPath(b)).sent[0]!;
  } finally {
    await db().update(appointments).set({ startAt: before!.startAt }).where(eq(appointments.id, b.appointmentId));
  }
}

describe('re-runs (retry, stall, crash) never send twice', () => {
  it('the same job again, and five at once: one message', async () => {
    const b = await book();
    const t = new RecordingTransport();
    expect((await processNotification(deps(t), b.job)).status).toBe('sent');
    expect((await processNotification(deps(t), b.job)).status).toBe('duplicate');
    const c = await book({ clinic: true });
    const results = await Promise.all([0, 1, 2, 3, 4].map(() => processNotification(deps(t), c.job)));
    expect(results.map((r) => r.status).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate', 'sent']);
    expect(t.sent).toHaveLength(2);
  });

  it('a run that stalls after the transport took the message (the row still "sending"): a re-run sends nothing', async () => {
    const b = await book();
    const t = new RecordingTransport();
    let release!: () => void;
    t.gate = new Promise((r) => (release = r));
    const first = processNotification(deps(t), b.job);
    const end = Date.now() + 5_000;
    while (t.sent.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(await notificationRow(b.appointmentId)).toMatchObject({ status: 'sending' });
    expect((await processNotification(deps(t), b.job)).status).toBe('duplicate');
    expect((await processNotification(deps(t), idsOnly(b.job))).status).toBe('duplicate');
    release();
    expect((await first).status).toBe('sent');
    expect(t.sent).toHaveLength(1);
  });

  it('a failure known not to have delivered is retried once, and sends once', async () => {
    const b = await book();
    const t = new RecordingTransport();
    t.failures = [new Error('provider down')];
    await expect(processNotification(deps(t), b.job)).rejects.toThrow('provider down');
    const results = await Promise.all([0, 1, 2].map(() => processNotification(deps(t), b.job)));
    expect(results.filter((r) => r.status === 'sent')).toHaveLength(1);
    expect((await processNotification(deps(t), b.job)).status).toBe('duplicate');
    expect(t.sent).toHaveLength(1);
    expect(await notificationRow(b.appointmentId)).toMatchObject({ status: 'sent', error: null });
  });
});

describe('fallbacks that keep the confirmation', () => {
  it('a snapshot naming a service the catalogue does not have: the read path sends what the rows say', async () => {
    const b = await book();
    const t = new RecordingTransport();
    const unknownService = resealed(b.job, { serviceId: 999_999 });
    expect((await processNotification(deps(t), unknownService)).status).toBe('sent');
    expect(t.sent).toEqual((await viaReadPath(b)).sent);
  });

  it('an e-mail added to the customer after the booking: the confirmation goes as the booking knew the customer (SMS), by design', async () => {
    const b = await book({ name: null });
    await db().update(customers).set({ email: 'late@example.org' }).where(eq(customers.id, b.customerId));
    const t = new RecordingTransport();
    expect((await processNotification(deps(t), b.job)).status).toBe('sent');
    expect(t.sent[0]).toMatchObject({ channel: 'sms', to: b.phone });
    expect(t.sent[0]!.text).toMatch(/^Guten Tag, Ihr Termin ist bestätigt/);
  });
});

describe('erasure racing the booking: the confirmation queued after the erase', () => {
  it('a booking committed before the erase and queued after it (the erase could not remove the job yet): the job sends nothing and keeps no copy of the customer', async () => {
    const where = (await lookupPhone(db(), SALON_NUMBER))!;
    const phone = newPhone();
    const customerId = await upsertCustomer(db(), where.companyId, phone, 'Eva Eraced', 'eva.eraced@example.org');
    const job = await bookingJobFor(db(), where, { customerId, service: 'haircut', callId: undefined, callRef: callId(), start: nextSlot().toUTC().toISO()! });
    const queue = env().ctx.queues.notifications;
    let erased: Awaited<ReturnType<typeof eraseCustomer>> | undefined;
    // The erase lands between markBooked and the confirmation's queue.add.
    const racing = {
      add: async (...args: Parameters<typeof queue.add>) => {
        erased = await eraseCustomer(env().ctx, { companyId: where.companyId, customerId, cancelBookings: false, actor: 'test' });
        return queue.add(...args);
      },
    } as unknown as typeof queue;
    const booked = await executeBooking({ ...bookingDeps(env().ctx), notificationsQueue: racing }, job);
    expect(booked.status).toBe('booked');
    expect(erased).toMatchObject({ notificationJobsRemoved: 0, warnings: [] });
    const jobId = jobIds.notification('booking_confirmed', booked.appointmentId);
    expect((await queue.getJob(jobId))!.data).toHaveProperty('sealedSnapshot');

    const workers = startWorkers(env().ctx, ['notifications']);
    try {
      const end = Date.now() + 15_000;
      while ((await (await queue.getJob(jobId))!.getState()) !== 'completed' && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await workers.close();
    }
    const done = (await queue.getJob(jobId))!;
    expect(done.returnvalue).toMatchObject({ status: 'skipped', deliveries: [{ reason: 'customer data was erased' }] });
    // Nothing in Redis opens to the erased customer's contact details.
    expect(done.data).toEqual({ kind: 'booking_confirmed', companyId: where.companyId, appointmentId: booked.appointmentId });
    const hash = await env().ctx.redis.hgetall(`${bullPrefix(env().config.REDIS_PREFIX)}:notifications:${jobId}`);
    expect(JSON.stringify(hash)).not.toContain('sealedSnapshot');
  });
});

