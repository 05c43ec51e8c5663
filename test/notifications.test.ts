/**
 * The notifications queue against real MariaDB and Redis, a real SMTP server (smtp-server) and a
 * real HTTP endpoint: language per branch, tenant scoping, at most one message per (kind, ref)
 * under repeats, concurrency and transport failures, and the breaker → alert path.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { UnrecoverableError, type Job } from 'bullmq';
import { and, eq } from 'drizzle-orm';
import { forgetCatalogues } from '../lib/tenants/catalogue';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appointments, branches, companies, customers, notifications, services } from '../drizzle/schema';
import { bookingDeps } from '../lib/booking/deps';
import { breakerOpenedAlert } from '../lib/notifications/breaker-alert';
import { NotificationRejected, processNotification, type NotificationDeps } from '../lib/notifications/send';
import {
  createTransport,
  HttpTransport,
  LogTransport,
  SmtpTransport,
  TransportError,
  type OutgoingMessage,
  type Transport,
} from '../lib/notifications/transports';
import type { NotificationJob } from '../lib/queues';
import { importTenants } from '../lib/tenants/import';
import { notificationsHandler } from '../workers/notifications';
import { createTestEnv, testConfig, type TestEnv } from './helpers/env';
import { twoCompanies } from './helpers/fixtures';
import { freePort } from './helpers/ports';

let env: TestEnv;
const db = () => env.ctx.database.db;

const SALON_OPS = ['owner@salon.test', 'desk@salon.test'];
const CLINIC_OPS = ['ops@clinic.test'];
/** Tuesday 1 December 2026, 11:00 in Europe/Berlin. */
const START = new Date('2026-12-01T10:00:00.000Z');

beforeAll(async () => {
  env = await createTestEnv();
  const tenants = twoCompanies();
  tenants.companies[0]!.operatorEmails = SALON_OPS;
  tenants.companies[1]!.operatorEmails = CLINIC_OPS;
  await importTenants({ db: db(), cipher: env.ctx.cipher, cache: env.ctx.cache }, tenants, 'test');
});
afterAll(async () => {
  await env?.cleanup();
});

class RecordingTransport implements Transport {
  readonly name = 'recording';
  readonly sent: OutgoingMessage[] = [];
  /** Errors thrown by the next sends, in order. */
  failures: Error[] = [];
  delayMs = 0;
  async send(msg: OutgoingMessage): Promise<void> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const fail = this.failures.shift();
    if (fail) throw fail;
    this.sent.push(msg);
  }
}

function deps(transport: Transport, config: Partial<NotificationDeps['config']> = {}): NotificationDeps {
  return { db: db(), logger: env.ctx.logger, transport, cipher: env.ctx.cipher, config: { OPERATOR_ALERT_EMAILS: undefined, PUBLIC_URL: 'https://callbook.example.com/', ...config } };
}

async function tenant(slug: 'salon-anna' | 'clinic-nord') {
  const [company] = await db().select().from(companies).where(eq(companies.slug, slug));
  const [branch] = await db().select().from(branches).where(eq(branches.companyId, company!.id));
  const [service] = await db()
    .select()
    .from(services)
    .where(and(eq(services.companyId, company!.id), eq(services.slug, slug === 'salon-anna' ? 'haircut' : 'checkup')));
  return { companyId: company!.id, branchId: branch!.id, serviceId: service!.id };
}

let phoneSeq = 0;
async function seedAppointment(
  slug: 'salon-anna' | 'clinic-nord',
  o: { status?: string; name?: string | null; email?: string | null; failureReason?: string; alternatives?: string[] } = {},
) {
  const t = await tenant(slug);
  const phone = `+49170${String(1_000_000 + phoneSeq++).padStart(7, '0')}`;
  const [c] = await db()
    .insert(customers)
    .values({ companyId: t.companyId, phone, phoneIndex: phone, name: o.name === undefined ? 'Anna' : o.name, email: o.email ?? null });
  const key = randomBytes(32).toString('hex');
  const [a] = await db()
    .insert(appointments)
    .values({
      companyId: t.companyId,
      branchId: t.branchId,
      customerId: Number(c.insertId),
      serviceId: t.serviceId,
      idempotencyKey: key,
      startAt: START,
      endAt: new Date(START.getTime() + 30 * 60_000),
      status: o.status ?? 'booked',
      failureReason: o.failureReason ?? null,
      alternatives: o.alternatives ?? null,
      source: 'call',
    });
  const appointmentId = Number(a.insertId);
  return { ...t, appointmentId, phone, key };
}

async function notificationRow(kind: string, ref: string | number) {
  const [row] = await db().select().from(notifications).where(and(eq(notifications.kind, kind), eq(notifications.ref, String(ref))));
  return row;
}

const confirmed = (a: { companyId: number; appointmentId: number }): NotificationJob => ({ kind: 'booking_confirmed', companyId: a.companyId, appointmentId: a.appointmentId });
const failed = (a: { companyId: number; appointmentId: number }): NotificationJob => ({ kind: 'booking_failed', companyId: a.companyId, appointmentId: a.appointmentId });

describe('booking_confirmed', () => {
  it('texts a salon customer without e-mail in German, and records the message masked', async () => {
    const a = await seedAppointment('salon-anna');
    const t = new RecordingTransport();
    const res = await processNotification(deps(t), confirmed(a));
    expect(res.status).toBe('sent');
    expect(t.sent).toHaveLength(1);
    const msg = t.sent[0]!;
    expect(msg).toMatchObject({ channel: 'sms', to: a.phone, kind: 'booking_confirmed', ref: String(a.appointmentId) });
    expect(msg.text).toContain('Hallo Anna, Ihr Termin ist bestätigt: Haircut bei Salon Anna Mitte am Dienstag, 1. Dezember um 11:00 Uhr.');
    expect(msg.subject).toBe('Terminbestätigung: Haircut, Dienstag, 1. Dezember um 11:00 Uhr');
    const row = await notificationRow('booking_confirmed', a.appointmentId);
    expect(row).toMatchObject({ status: 'sent', channel: 'sms', companyId: a.companyId, error: null });
    expect(row!.sentAt).toBeInstanceOf(Date);
    expect(row!.recipient).toBe(`${a.phone.slice(0, 3)}${'*'.repeat(a.phone.length - 6)}${a.phone.slice(-3)}`);
  });

  it('e-mails a clinic customer with an address in English', async () => {
    const a = await seedAppointment('clinic-nord', { name: 'John', email: 'john@example.org' });
    const t = new RecordingTransport();
    await processNotification(deps(t), confirmed(a));
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]).toMatchObject({ channel: 'email', to: 'john@example.org' });
    expect(t.sent[0]!.text).toContain('Hello John, your appointment is confirmed: Check-up at Clinic Nord Hamburg on Tuesday, December 1 at 11:00 AM.');
    expect((await notificationRow('booking_confirmed', a.appointmentId))!.recipient).toBe('j***@example.org');
  });

  it('the same job twice sends one message', async () => {
    const a = await seedAppointment('salon-anna');
    const t = new RecordingTransport();
    expect((await processNotification(deps(t), confirmed(a))).status).toBe('sent');
    expect((await processNotification(deps(t), confirmed(a))).status).toBe('duplicate');
    expect(t.sent).toHaveLength(1);
  });

  it('the same job five times concurrently sends one message', async () => {
    const a = await seedAppointment('salon-anna');
    const t = new RecordingTransport();
    t.delayMs = 50;
    const results = await Promise.all([0, 1, 2, 3, 4].map(() => processNotification(deps(t), confirmed(a))));
    expect(t.sent).toHaveLength(1);
    expect(results.map((r) => r.status).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate', 'sent']);
  });

  it('a transport failure marks the row failed and rethrows; the retry sends once', async () => {
    const a = await seedAppointment('salon-anna');
    const t = new RecordingTransport();
    t.failures = [new Error('provider down')];
    await expect(processNotification(deps(t), confirmed(a))).rejects.toThrow('provider down');
    expect(await notificationRow('booking_confirmed', a.appointmentId)).toMatchObject({ status: 'failed', error: 'provider down', sentAt: null });
    // Concurrent retries: exactly one re-claims the failed row.
    t.delayMs = 50;
    const results = await Promise.all([0, 1, 2].map(() => processNotification(deps(t), confirmed(a))));
    expect(results.filter((r) => r.status === 'sent')).toHaveLength(1);
    expect(t.sent).toHaveLength(1);
    expect(await notificationRow('booking_confirmed', a.appointmentId)).toMatchObject({ status: 'sent', error: null });
    expect((await processNotification(deps(t), confirmed(a))).status).toBe('duplicate');
    expect(t.sent).toHaveLength(1);
  });

  it('a failure that may have delivered stays "sending" and is never sent again', async () => {
    const a = await seedAppointment('salon-anna');
    const t = new RecordingTransport();
    t.failures = [new TransportError('timed out after the provider took it', true)];
    const res = await processNotification(deps(t), confirmed(a));
    expect(res.status).toBe('uncertain');
    const row = await notificationRow('booking_confirmed', a.appointmentId);
    expect(row!.status).toBe('sending');
    expect(row!.error).toMatch(/outcome unknown/);
    expect((await processNotification(deps(t), confirmed(a))).status).toBe('duplicate');
    expect(t.sent).toHaveLength(0);
  });

  it("never reads another company's appointment", async () => {
    const salon = await seedAppointment('salon-anna');
    const clinic = await tenant('clinic-nord');
    const t = new RecordingTransport();
    await expect(processNotification(deps(t), { kind: 'booking_confirmed', companyId: clinic.companyId, appointmentId: salon.appointmentId })).rejects.toBeInstanceOf(
      NotificationRejected,
    );
    expect(t.sent).toHaveLength(0);
    // No row was written under that ref: the real job for the salon still sends.
    expect(await notificationRow('booking_confirmed', salon.appointmentId)).toBeUndefined();
    expect((await processNotification(deps(t), confirmed(salon))).status).toBe('sent');
  });

  it('skips an appointment that is no longer booked', async () => {
    const a = await seedAppointment('salon-anna', { status: 'cancelled' });
    const t = new RecordingTransport();
    expect((await processNotification(deps(t), confirmed(a))).status).toBe('skipped');
    expect(t.sent).toHaveLength(0);
    expect(await notificationRow('booking_confirmed', a.appointmentId)).toMatchObject({ status: 'skipped', error: 'appointment is cancelled, not booked' });
  });
});

describe('booking_failed', () => {
  it("reaches the company's operators with the free slots and how to retry, in German", async () => {
    const a = await seedAppointment('salon-anna', {
      status: 'failed',
      failureReason: 'slot taken (01.12.2026 11:00); free: 10:30, 11:30, 12:00',
      alternatives: ['2026-12-01T09:30:00.000Z', '2026-12-01T10:30:00.000Z', '2026-12-01T11:00:00.000Z'],
    });
    const t = new RecordingTransport();
    expect((await processNotification(deps(t), failed(a))).status).toBe('sent');
    expect(t.sent).toHaveLength(1);
    const msg = t.sent[0]!;
    expect(msg.channel).toBe('email');
    expect(msg.to).toBe(SALON_OPS.join(', '));
    expect(msg.subject).toBe('Buchung fehlgeschlagen: Haircut für Anna, Dienstag, 1. Dezember um 11:00 Uhr');
    expect(msg.text).toContain('free: 10:30, 11:30, 12:00');
    expect(msg.text).toContain('Freie Termine: Di 01.12. 10:30; Di 01.12. 11:30; Di 01.12. 12:00');
    expect(msg.text).toContain(`Kunde:        Anna, ${a.phone.slice(0, 3)}`);
    expect(msg.text).not.toContain(a.phone);
    expect(msg.text).toContain(`npx callbook failed retry --id booking-${a.key}`);
    expect(msg.text).toContain('https://callbook.example.com/admin/queues');
    expect(msg.text).toContain('Der Termin ist belegt');
    expect((await notificationRow('booking_failed', a.appointmentId))!.recipient).toBe('o***@salon.test, d***@salon.test');
    expect((await processNotification(deps(t), failed(a))).status).toBe('duplicate');
    expect(t.sent).toHaveLength(1);
  });

  it('is in English for the clinic', async () => {
    const a = await seedAppointment('clinic-nord', { status: 'failed', failureReason: 'gave up after 3 attempts: Cal.com answered 503' });
    const t = new RecordingTransport();
    await processNotification(deps(t), failed(a));
    expect(t.sent[0]!.to).toBe('ops@clinic.test');
    expect(t.sent[0]!.text).toContain('A booking has finally failed');
    expect(t.sent[0]!.text).toContain('Reason:      gave up after 3 attempts: Cal.com answered 503');
    expect(t.sent[0]!.text).toContain('To retry (helps with temporary errors):');
  });

  it('without operator e-mails: skipped with a warning, nothing sent', async () => {
    const a = await seedAppointment('clinic-nord', { status: 'failed', failureReason: 'x' });
    await db().update(companies).set({ operatorEmails: [] }).where(eq(companies.id, a.companyId));
    // Edited behind the tenants import's back: drop this process's catalogue (others see it within 30 s).
    forgetCatalogues();
    try {
      const t = new RecordingTransport();
      expect((await processNotification(deps(t), failed(a))).status).toBe('skipped');
      expect(t.sent).toHaveLength(0);
      expect(await notificationRow('booking_failed', a.appointmentId)).toMatchObject({ status: 'skipped', error: 'company has no operatorEmails' });
    } finally {
      await db().update(companies).set({ operatorEmails: CLINIC_OPS }).where(eq(companies.id, a.companyId));
      forgetCatalogues();
    }
  });
});

describe('breaker_opened', () => {
  let minute = 0;
  const at = () => Date.UTC(2026, 11, 1, 13, 3) + minute++ * 60_000;

  it('goes to OPERATOR_ALERT_EMAILS, once, in German and English', async () => {
    const job: NotificationJob = { kind: 'breaker_opened', service: 'calcom', at: at() };
    const t = new RecordingTransport();
    const res = await processNotification(deps(t, { OPERATOR_ALERT_EMAILS: ['oncall@callbook.test', 'lead@callbook.test'] }), job);
    expect(res.status).toBe('sent');
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]!.to).toBe('oncall@callbook.test, lead@callbook.test');
    expect(t.sent[0]!.subject).toBe('Störung: Cal.com antwortet nicht, Buchungen werden verzögert / Outage: Cal.com is not answering, bookings are delayed');
    expect(t.sent[0]!.text).toContain('seit 1.12.2026, 13:03 Uhr (UTC)');
    expect(t.sent[0]!.text).toContain('Bookings are not lost');
    expect(res.deliveries[0]!.ref).toBe(`calcom-${Math.floor(job.at! / 60_000)}`);
    expect((await processNotification(deps(t, { OPERATOR_ALERT_EMAILS: ['oncall@callbook.test'] }), job)).status).toBe('duplicate');
    expect(t.sent).toHaveLength(1);
  });

  it("without OPERATOR_ALERT_EMAILS: each company's operators get their own message in their language", async () => {
    const job: NotificationJob = { kind: 'breaker_opened', service: 'calcom', at: at() };
    const t = new RecordingTransport();
    await processNotification(deps(t), job);
    expect(t.sent).toHaveLength(2);
    const salon = t.sent.find((m) => m.to.includes('salon.test'))!;
    const clinic = t.sent.find((m) => m.to.includes('clinic.test'))!;
    expect(salon.to).toBe(SALON_OPS.join(', '));
    expect(salon.text).toContain('Buchungen gehen nicht verloren');
    expect(salon.text).toContain('(Europe/Berlin)');
    expect(clinic.to).toBe('ops@clinic.test');
    expect(clinic.text).toContain('Bookings are not lost');
    expect((await processNotification(deps(t), job)).status).toBe('duplicate');
    expect(t.sent).toHaveLength(2);
  });

  it('a breaker opening (deps from bookingDeps) queues exactly one breaker_opened job', async () => {
    const booking = bookingDeps(env.ctx);
    await booking.breaker.reset();
    try {
      for (let i = 0; i < 7; i++) await booking.breaker.failure(false); // opens at the 5th; later failures change nothing
      // A failed probe re-opening the breaker does not alert again.
      breakerOpenedAlert(env.ctx.queues.notifications, env.ctx.logger)('calcom', 'HALF_OPEN', 'OPEN');
      const jobs = async () =>
        (await env.ctx.queues.notifications.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed'])).filter((j) => j.name === 'breaker_opened');
      const end = Date.now() + 5_000;
      while ((await jobs()).length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
      await new Promise((r) => setTimeout(r, 200));
      const found = await jobs();
      expect(found).toHaveLength(1);
      const data = found[0]!.data as NotificationJob;
      expect(data).toMatchObject({ kind: 'breaker_opened', service: 'calcom' });
      expect(found[0]!.id).toBe(`notify-breaker_opened-calcom-${Math.floor(data.at! / 60_000)}`);
      // ... and that job makes one message.
      const t = new RecordingTransport();
      await processNotification(deps(t, { OPERATOR_ALERT_EMAILS: ['oncall@callbook.test'] }), data);
      expect(t.sent).toHaveLength(1);
    } finally {
      await booking.breaker.reset();
    }
  });
});

describe('worker handler', () => {
  const fakeJob = (data: unknown) => ({ id: 'test', data, timestamp: Date.now(), opts: {}, attemptsMade: 0 }) as unknown as Job;

  it('sends through the configured (log) transport and turns hopeless jobs into UnrecoverableError', async () => {
    const handler = notificationsHandler(env.ctx);
    const a = await seedAppointment('salon-anna');
    const signal = new AbortController().signal;
    expect(await handler(fakeJob(confirmed(a)), signal)).toMatchObject({ status: 'sent' });
    expect(await handler(fakeJob(confirmed(a)), signal)).toMatchObject({ status: 'duplicate' });
    await expect(handler(fakeJob({ kind: 'nonsense' }), signal)).rejects.toBeInstanceOf(UnrecoverableError);
    const clinic = await tenant('clinic-nord');
    await expect(handler(fakeJob({ kind: 'booking_failed', companyId: clinic.companyId, appointmentId: a.appointmentId }), signal)).rejects.toBeInstanceOf(
      UnrecoverableError,
    );
  });
});

// ---------------------------------------------------------------------------
// Transports

/** Just enough MIME for nodemailer's output: unfolded headers, RFC 2047 words, quoted-printable or base64 bodies. */
function parseMail(raw: string): { headers: Record<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of raw.slice(0, split).replace(/\r\n(?=[ \t])/g, '').split('\r\n')) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const words = (s: string) =>
    s
      .replace(/(=\?[^?]+\?[QB]\?[^?]*\?=)\s+(?==\?)/gi, '$1')
      .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_, _cs: string, enc: string, text: string) =>
        enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : qp(text.replace(/_/g, ' ')),
      );
  for (const k of Object.keys(headers)) headers[k] = words(headers[k]!);
  let body = raw.slice(split + 4);
  const cte = headers['content-transfer-encoding']?.toLowerCase();
  if (cte === 'quoted-printable') body = qp(body.replace(/=\r\n/g, ''));
  if (cte === 'base64') body = Buffer.from(body, 'base64').toString('utf8');
  return { headers, body: body.replace(/\r\n/g, '\n') };
}
function qp(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '=' && /^[0-9A-F]{2}$/i.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(s[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

describe('SMTP transport', () => {
  it('delivers the confirmation to a real SMTP server (German, umlauts intact)', async () => {
    const received: Array<{ from: string; rcpt: string[]; raw: string }> = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            rcpt: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    server.listen(0, '127.0.0.1');
    await once(server.server, 'listening');
    const port = (server.server.address() as AddressInfo).port;
    try {
      const transport = new SmtpTransport(`smtp://127.0.0.1:${port}`, 'Salon Anna <noreply@salon.test>');
      const a = await seedAppointment('salon-anna', { name: 'Jürgen', email: 'juergen@example.org' });
      expect((await processNotification(deps(transport), confirmed(a))).status).toBe('sent');
      expect(received).toHaveLength(1);
      expect(received[0]!.rcpt).toEqual(['juergen@example.org']);
      expect(received[0]!.from).toBe('noreply@salon.test');
      const mail = parseMail(received[0]!.raw);
      expect(mail.headers.to).toBe('juergen@example.org');
      expect(mail.headers.subject).toBe('Terminbestätigung: Haircut, Dienstag, 1. Dezember um 11:00 Uhr');
      expect(mail.body).toContain('Hallo Jürgen, Ihr Termin ist bestätigt: Haircut bei Salon Anna Mitte am Dienstag, 1. Dezember um 11:00 Uhr.');
      // Operators: one mail to all of them.
      const f = await seedAppointment('salon-anna', { status: 'failed', failureReason: 'slot taken (01.12.2026 11:00); free: 10:30' });
      await processNotification(deps(transport), failed(f));
      expect(received).toHaveLength(2);
      expect(received[1]!.rcpt).toEqual(SALON_OPS);
      // An SMS cannot go by SMTP: skipped with the reason, not retried.
      const s = await seedAppointment('salon-anna');
      const res = await processNotification(deps(transport), confirmed(s));
      expect(res.status).toBe('skipped');
      expect((await notificationRow('booking_confirmed', s.appointmentId))!.error).toMatch(/e-mail only; sms/);
      expect(received).toHaveLength(2);
      await transport.close();
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('an SMTP_URL nodemailer could not read is refused when the transport is made (the worker stops at start), naming the part, not the password', () => {
    const bad = (url: string) => {
      try {
        new SmtpTransport(url, 'x <x@x.test>');
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    const pct = bad('smtp://mailer:50%off@127.0.0.1:25');
    expect(pct).toMatch(/password is not valid URL encoding/);
    expect(pct).not.toContain('50%off');
    expect(bad('smtp://mail%zzer:pw@127.0.0.1:25')).toMatch(/user name/);
    expect(bad('smtp://')).toMatch(/no host/);
    expect(bad('mail.example.com')).toMatch(/not a URL/);
    expect(() => createTransport(testConfig({ NOTIFY_TRANSPORT: 'smtp', SMTP_URL: 'smtp://mailer:50%off@127.0.0.1:25' }), env.ctx.logger)).toThrow(/password/);
    expect(bad('smtp://mailer:50%25off@127.0.0.1:25')).toBe('accepted');
  });

  it('a refused connection is known not to have delivered', async () => {
    const port = await freePort();
    const transport = new SmtpTransport(`smtp://127.0.0.1:${port}`, 'x <x@x.test>');
    const err = await transport.send({ channel: 'email', to: 'a@b.test', subject: 's', text: 't', kind: 'k', ref: 'r' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).maybeDelivered).toBe(false);
  });
});


async function httpServer(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => handler(req, body, res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
  return {
    url,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

describe('HTTP transport', () => {
  it('POSTs JSON with the bearer token; non-2xx is an error with the status, retried once it works', async () => {
    const got: Array<{ auth?: string; key?: string; body: Record<string, unknown> }> = [];
    let answer = 503;
    const srv = await httpServer((req, body, res) => {
      got.push({ auth: req.headers.authorization, key: req.headers['idempotency-key'] as string, body: JSON.parse(body) as Record<string, unknown> });
      res.writeHead(answer, { 'content-type': 'application/json' }).end(answer === 202 ? '{"id":"m1"}' : '{"error":"busy"}');
    });
    try {
      const transport = new HttpTransport(srv.url, 'tok_123');
      const a = await seedAppointment('clinic-nord', { name: 'John' });
      const err = await processNotification(deps(transport), confirmed(a)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransportError);
      expect((err as TransportError).status).toBe(503);
      expect((err as Error).message).toContain('answered 503');
      expect((await notificationRow('booking_confirmed', a.appointmentId))!.status).toBe('failed');
      answer = 202;
      expect((await processNotification(deps(transport), confirmed(a))).status).toBe('sent');
      expect(got).toHaveLength(2);
      expect(got[1]!.auth).toBe('Bearer tok_123');
      expect(got[1]!.key).toBe(`booking_confirmed:${a.appointmentId}`);
      expect(got[1]!.body).toMatchObject({ channel: 'sms', to: a.phone, recipients: [a.phone], kind: 'booking_confirmed', ref: String(a.appointmentId) });
      expect(got[1]!.body.text).toContain('Hello John, your appointment is confirmed');
    } finally {
      await srv.close();
    }
  });

  it('a timeout may have delivered: not retried', async () => {
    let requests = 0;
    const srv = await httpServer(() => {
      requests++; // never answers
    });
    try {
      const transport = new HttpTransport(srv.url, undefined, 200);
      const a = await seedAppointment('salon-anna');
      expect((await processNotification(deps(transport), confirmed(a))).status).toBe('uncertain');
      expect((await processNotification(deps(transport), confirmed(a))).status).toBe('duplicate');
      expect(requests).toBe(1);
    } finally {
      await srv.close();
    }
  });

  it('a refused connection is known not to have delivered', async () => {
    const transport = new HttpTransport(`http://127.0.0.1:${await freePort()}/x`);
    const err = await transport.send({ channel: 'sms', to: '+491', subject: 's', text: 't', kind: 'k', ref: 'r' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).maybeDelivered).toBe(false);
  });
});

describe('createTransport', () => {
  it('log by default; smtp and http fail fast naming the missing variable', () => {
    expect(createTransport(testConfig(), env.ctx.logger)).toBeInstanceOf(LogTransport);
    expect(() => createTransport(testConfig({ NOTIFY_TRANSPORT: 'smtp' }), env.ctx.logger)).toThrow(/SMTP_URL/);
    expect(() => createTransport(testConfig({ NOTIFY_TRANSPORT: 'http' }), env.ctx.logger)).toThrow(/NOTIFY_HTTP_URL/);
    expect(createTransport(testConfig({ NOTIFY_TRANSPORT: 'smtp', SMTP_URL: 'smtp://127.0.0.1:2525' }), env.ctx.logger)).toBeInstanceOf(SmtpTransport);
    expect(createTransport(testConfig({ NOTIFY_TRANSPORT: 'http', NOTIFY_HTTP_URL: 'https://sms.example.com/send' }), env.ctx.logger)).toBeInstanceOf(HttpTransport);
  });
});
