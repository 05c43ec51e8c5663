/**
 * Processes one `notifications` job: loads what the kind needs (scoped by the job's company),
 * picks recipients and language, renders (./messages) and hands the message to the transport
 * (./transports) — at most once per (kind, ref).
 *
 * Why at most once, and how: BullMQ runs a job again after a crash, a stall or a thrown error,
 * and a customer must never get two confirmations. So the `notifications` row (unique on kind +
 * ref) is claimed *before* the transport is called: INSERT status 'sending'; on a duplicate key
 * the existing row decides — 'sent', 'sending' or 'skipped' means someone already did (or is
 * doing) it, so nothing is sent; 'failed' (the transport said the message did not go out) is
 * re-claimed with a conditional UPDATE, which exactly one of several concurrent attempts wins.
 * After the transport: 'sent' with sent_at, or 'failed' with the error and the error rethrown
 * so BullMQ retries. A transport error that may have delivered (timeout after the provider took
 * the request) stays 'sending' with the error noted and is not retried.
 *
 * By design, a crash between the transport's success and the 'sent' update leaves the row
 * 'sending', and that message is never sent again: at most once, not at least once. Such rows
 * (status 'sending', minutes old) are the ones to look at after a crash.
 *
 * Refs: booking_confirmed and booking_failed use the appointment id (one message per appointment
 * and event; several operators share one message); breaker_opened uses `<service>-<minute>`, or
 * `<service>-<minute>-c<company>` when it goes to each company's own operators (one message per
 * company, so no company sees another's addresses). Recipients are stored masked.
 *
 * A booking_confirmed job from the bookings worker carries a sealed snapshot (./snapshot) of
 * customer and appointment as booked. Then nothing is read: the claim is one INSERT … SELECT
 * that inserts the 'sending' row only while the appointment is still the company's, booked, at
 * the snapshot's times, service and branch, and its customer is the snapshot's, not erased, with
 * the snapshot's number — two statements per confirmation (claim, record) instead of three. When
 * that guard inserts nothing, the job falls back to the read path above, which skips or rejects
 * with its reason (cancelled, erased, another company) or sends what the rows say now (moved to
 * another time); a duplicate key is handled as above ('failed' is re-claimed through the read
 * path, so the rows are checked again before a second attempt). A snapshot whose customer is not the
 * appointment's, or whose number is not the customer's, is refused: nothing is sent. The e-mail
 * and name are the snapshot's (the read path would take them from the row as it is then);
 * trusting them is trusting ENCRYPTION_KEY, as the webhook body does.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import { open, phoneIndexPair } from '../pii';
import type { Logger } from 'pino';
import { appointments, branches, companies, customers, notifications } from '../../drizzle/schema';
import { companyCatalogue } from '../tenants/catalogue';
import type { Config } from '../config';
import type { AppContext } from '../context';
import type { Cipher } from '../crypto';
import { isDuplicateKey, type Db } from '../db';
import { prepared, preparedSql } from '../db/prepared';
import { describeError, redactText } from '../errors/redact';
import { InvalidPayloadError, jobIds, type NotificationJob } from '../queues';
import { breakerAlertRef } from './breaker-alert';
import {
  maskPhone,
  maskRecipient,
  pickLang,
  renderBookingConfirmed,
  renderBookingFailed,
  renderBreakerOpened,
  type Rendered,
} from './messages';
import { openConfirmation, type ConfirmationSnapshot } from './snapshot';
import { createTransport, TransportError, UnsupportedChannelError, type Channel, type Transport } from './transports';

export interface NotificationDeps {
  db: Db;
  logger: Logger;
  transport: Transport;
  /** Opens a confirmation's sealed snapshot. */
  cipher: Cipher;
  config: Pick<Config, 'OPERATOR_ALERT_EMAILS' | 'PUBLIC_URL'>;
}

export function notificationDeps(ctx: AppContext, extra: Partial<NotificationDeps> = {}): NotificationDeps {
  const logger = extra.logger ?? ctx.logger.child({ component: 'notifications' });
  return {
    db: ctx.database.db,
    logger,
    cipher: ctx.cipher,
    config: ctx.config,
    ...extra,
    transport: extra.transport ?? createTransport(ctx.config, logger),
  };
}

/** The job can never succeed (missing ids, appointment not in that company): fail it without retries. */
export class NotificationRejected extends Error {
  override readonly name = 'NotificationRejected';
}

export type DeliveryStatus = 'sent' | 'duplicate' | 'skipped' | 'uncertain' | 'failed';

export interface DeliveryResult {
  ref: string;
  status: DeliveryStatus;
  channel: Channel | 'none';
  /** Masked. */
  recipient: string | null;
  reason?: string;
}

export interface NotificationResult {
  /** sent if anything was sent; else uncertain, skipped, duplicate — in that order. */
  status: Exclude<DeliveryStatus, 'failed'>;
  deliveries: DeliveryResult[];
}

/** One message to send (or to record as skipped). */
interface Plan {
  companyId: number | null;
  ref: string;
  channel: Channel | 'none';
  to: string[];
  message?: Rendered;
  skip?: string;
}

export async function processNotification(deps: NotificationDeps, job: NotificationJob, signal?: AbortSignal): Promise<NotificationResult> {
  const log = deps.logger.child({ kind: job.kind, companyId: job.companyId, appointmentId: job.appointmentId });
  if (job.kind === 'booking_confirmed' && job.sealedSnapshot !== undefined) {
    const snapshot = openConfirmation(deps.cipher, { ...job, sealedSnapshot: job.sealedSnapshot });
    return confirmFromSnapshot(deps, job, snapshot, log, signal);
  }
  return deliverAll(deps, job.kind, await plan(deps, job, log), log, signal);
}

async function deliverAll(deps: NotificationDeps, kind: NotificationJob['kind'], plans: Plan[], log: Logger, signal?: AbortSignal): Promise<NotificationResult> {
  const delivered: Delivered[] = [];
  for (const p of plans) delivered.push(await deliver(deps, kind, p, log, signal));
  return settle(delivered);
}

type Delivered = { result: DeliveryResult; error?: unknown };

function settle(delivered: Delivered[]): NotificationResult {
  // Rethrow so BullMQ retries: deliveries already 'sent' are duplicates next time, 'failed' ones are re-claimed.
  const failed = delivered.find((r) => r.error !== undefined);
  if (failed) throw failed.error;
  const results = delivered.map((r) => r.result);
  const order = ['sent', 'uncertain', 'skipped', 'duplicate'] as const;
  const status = order.find((s) => results.some((r) => r.status === s)) ?? 'duplicate';
  return { status, deliveries: results };
}

/**
 * A confirmation from its snapshot: message from the snapshot and the tenant catalogue, claim
 * guarded by the rows (claimIfUnchanged). Whatever the guard refuses, and a 'failed' row to
 * re-claim, goes the read path with the snapshot checked against the rows it reads.
 */
async function confirmFromSnapshot(
  deps: NotificationDeps,
  job: NotificationJob,
  snapshot: ConfirmationSnapshot,
  log: Logger,
  signal?: AbortSignal,
): Promise<NotificationResult> {
  // undefined: the catalogue no longer has the snapshot's service or branch; the read path says why.
  const p = await snapshotPlan(deps.db, snapshot);
  if (p) {
    const claimed = await claimIfUnchanged(deps.db, snapshot, p, maskedRecipients(p));
    if (claimed === 'claimed' || claimed === 'duplicate') return settle([await deliver(deps, 'booking_confirmed', p, log, signal, claimed === 'claimed')]);
    log.info({ claim: claimed }, 'confirmation snapshot: the rows changed, or a failed send is to be retried; reading them');
  }
  return deliverAll(deps, 'booking_confirmed', await plan(deps, job, log, snapshot), log, signal);
}

/** The snapshot's message; undefined when the catalogue lacks its company, service or branch. */
async function snapshotPlan(db: Db, s: ConfirmationSnapshot): Promise<Plan | undefined> {
  const cat = await companyCatalogue(db, s.companyId);
  const service = cat?.services.find((x) => x.id === s.serviceId);
  const branch = cat?.branches.get(s.branchId);
  if (!cat || !service || !branch) return undefined;
  // As the read path picks: e-mail when known, else an SMS to the number.
  const channel: Channel = s.email ? 'email' : 'sms';
  const message = renderBookingConfirmed(pickLang(branch.language, cat.company.language), {
    customerName: s.name,
    serviceName: service.name,
    branchName: branch.name,
    start: new Date(s.start),
    timeZone: branch.timezone,
  });
  return { companyId: s.companyId, ref: String(s.appointmentId), channel, to: [s.email || s.phone], message };
}

// ---------------------------------------------------------------------------
// What to send, to whom

async function plan(deps: NotificationDeps, job: NotificationJob, log: Logger, snapshot?: ConfirmationSnapshot): Promise<Plan[]> {
  if (job.kind === 'breaker_opened') return planBreaker(deps, job, log);

  if (!job.companyId || !job.appointmentId) throw new NotificationRejected(`${job.kind} needs companyId and appointmentId`);
  const row = await loadAppointment(deps.db, job.companyId, job.appointmentId);
  if (!row) throw new NotificationRejected(`appointment ${job.appointmentId} not found in company ${job.companyId}`);
  if (snapshot) checkSnapshot(snapshot, row);
  const lang = pickLang(row.branch.language, row.company.language);
  const ref = String(row.appointment.id);
  const companyId = job.companyId;

  if (job.kind === 'booking_confirmed') {
    const a = row.appointment;
    const c = row.customer;
    if (a.status !== 'booked') return [{ companyId, ref, channel: 'none', to: [], skip: `appointment is ${a.status}, not booked` }];
    if (c.erasedAt) return [{ companyId, ref, channel: 'none', to: [], skip: 'customer data was erased' }];
    const channel: Channel | null = c.email ? 'email' : c.phone ? 'sms' : null;
    const to = c.email || c.phone;
    if (!channel || !to) return [{ companyId, ref, channel: 'none', to: [], skip: 'customer has neither e-mail nor phone' }];
    const message = renderBookingConfirmed(lang, {
      customerName: c.name,
      serviceName: row.service.name,
      branchName: row.branch.name,
      start: a.startAt,
      timeZone: row.branch.timezone,
    });
    return [{ companyId, ref, channel, to: [to], message }];
  }

  // booking_failed → the company's operators, one message to all of them.
  const a = row.appointment;
  if (a.status === 'booked') return [{ companyId, ref, channel: 'none', to: [], skip: 'appointment was booked after all' }];
  const operators = uniqueEmails(row.company.operatorEmails);
  if (!operators.length) {
    log.warn({ company: row.company.name }, 'booking failed, but the company has no operatorEmails: nobody is told');
    return [{ companyId, ref, channel: 'email', to: [], skip: 'company has no operatorEmails' }];
  }
  const message = renderBookingFailed(lang, {
    appointmentId: a.id,
    customerName: row.customer.erasedAt ? null : row.customer.name,
    customerPhone: row.customer.erasedAt ? '(erased)' : maskPhone(row.customer.phone),
    serviceName: row.service.name,
    branchName: row.branch.name,
    start: a.startAt,
    timeZone: row.branch.timezone,
    reason: a.failureReason,
    freeSlots: a.alternatives ?? [],
    jobId: jobIds.booking(a.idempotencyKey),
    boardUrl: `${deps.config.PUBLIC_URL?.replace(/\/+$/, '') ?? ''}/admin/queues`,
  });
  return [{ companyId, ref, channel: 'email', to: operators, message }];
}

/**
 * A snapshot about someone else than the appointment's customer was never made by the bookings
 * worker (an appointment's customer and a customer's number do not change; erasure blanks the
 * number, so it is not compared then): refused, nothing sent. What may change legitimately
 * (status, times, e-mail, name) is the rows' to decide.
 */
function checkSnapshot(s: ConfirmationSnapshot, row: { appointment: { customerId: number }; customer: { phone: string; erasedAt: Date | null } }): void {
  const issues = [
    ...(row.appointment.customerId !== s.customerId ? [{ path: 'sealedSnapshot.customerId', message: "is not the appointment's customer" }] : []),
    ...(row.appointment.customerId === s.customerId && !row.customer.erasedAt && row.customer.phone !== s.phone
      ? [{ path: 'sealedSnapshot.phone', message: "is not the number of the appointment's customer" }]
      : []),
  ];
  if (issues.length) throw new InvalidPayloadError('notifications', issues);
}

/**
 * The appointment and its customer in one statement, both on the job's company (a wrong or forged
 * id finds nothing rather than another tenant's row); service, branch and company from the
 * process's tenant catalogue.
 */
async function loadAppointment(db: Db, companyId: number, appointmentId: number) {
  const [[row], cat] = await Promise.all([
    db
      .select({
        appointment: appointments,
        customer: { name: customers.name, phone: customers.phone, email: customers.email, erasedAt: customers.erasedAt },
      })
      .from(appointments)
      .innerJoin(customers, and(eq(customers.id, appointments.customerId), eq(customers.companyId, companyId)))
      .where(and(eq(appointments.id, appointmentId), eq(appointments.companyId, companyId))),
    companyCatalogue(db, companyId),
  ]);
  const service = cat?.services.find((s) => s.id === row?.appointment.serviceId);
  const branch = cat?.branches.get(row?.appointment.branchId ?? 0);
  if (!row || !cat || !service || !branch) return undefined;
  return {
    appointment: row.appointment,
    // The customer's contact may be stored encrypted (lib/pii): messages need the plaintext.
    customer: { ...row.customer, name: open(row.customer.name), phone: open(row.customer.phone), email: open(row.customer.email) },
    service: { name: service.name },
    branch: { name: branch.name, timezone: branch.timezone, language: branch.language },
    company: { name: cat.company.name, language: cat.company.language, operatorEmails: cat.company.operatorEmails },
  };
}

async function planBreaker(deps: NotificationDeps, job: NotificationJob, log: Logger): Promise<Plan[]> {
  if (!job.service || job.at === undefined) throw new NotificationRejected('breaker_opened needs service and at');
  const base = breakerAlertRef(job.service, job.at);
  const since = new Date(job.at);

  const global = uniqueEmails(deps.config.OPERATOR_ALERT_EMAILS ?? []);
  if (global.length) {
    // The platform's own operators: language unknown, so both.
    const message = renderBreakerOpened('both', { service: job.service, since, timeZone: 'UTC' });
    return [{ companyId: null, ref: base, channel: 'email', to: global, message }];
  }

  // No OPERATOR_ALERT_EMAILS: every company's operators, one message per company in its language.
  const all = await deps.db
    .select({ id: companies.id, language: companies.language, operatorEmails: companies.operatorEmails })
    .from(companies)
    .orderBy(asc(companies.id));
  const zones = new Map<number, string>();
  for (const b of await deps.db.select({ companyId: branches.companyId, timezone: branches.timezone }).from(branches).orderBy(asc(branches.id))) {
    if (!zones.has(b.companyId)) zones.set(b.companyId, b.timezone);
  }
  const plans: Plan[] = [];
  for (const c of all) {
    const to = uniqueEmails(c.operatorEmails);
    if (!to.length) continue;
    const message = renderBreakerOpened(pickLang(c.language), { service: job.service, since, timeZone: zones.get(c.id) ?? 'UTC' });
    plans.push({ companyId: c.id, ref: `${base}-c${c.id}`, channel: 'email', to, message });
  }
  if (!plans.length) {
    log.warn({ service: job.service }, 'circuit breaker opened, but neither OPERATOR_ALERT_EMAILS nor any company operatorEmails are set: nobody is told');
    return [{ companyId: null, ref: base, channel: 'email', to: [], skip: 'no OPERATOR_ALERT_EMAILS and no company operatorEmails' }];
  }
  return plans;
}

function uniqueEmails(list: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of list) {
    const e = raw.trim();
    if (e && !seen.has(e.toLowerCase())) {
      seen.add(e.toLowerCase());
      out.push(e);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Claim, send, record

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const maskedRecipients = (p: Plan) => (p.to.length ? clip(p.to.map(maskRecipient).join(', '), 200) : null);

type GuardedClaim = 'claimed' | 'refused' | 'duplicate' | 'failed';

/**
 * The claim of a confirmation from its snapshot, in one statement: the 'sending' row is inserted
 * only while appointment and customer still say what the snapshot says ('refused' otherwise).
 * A duplicate key is read as in claim(): 'failed' is left to the caller to re-claim.
 */
async function claimIfUnchanged(db: Db, s: ConfirmationSnapshot, p: Plan, recipient: string | null): Promise<GuardedClaim> {
  const [index, legacyIndex] = phoneIndexPair(s.companyId, s.phone);
  try {
    const [res] = await preparedSql(db, 'notifications.claim-if-unchanged', () => {
      const q = (name: string) => sql.placeholder(name);
      return sql`
        INSERT INTO ${notifications} (company_id, kind, ref, channel, recipient, status)
        SELECT a.company_id, 'booking_confirmed', ${q('ref')}, ${q('channel')}, ${q('recipient')}, 'sending'
        FROM ${appointments} a JOIN ${customers} c ON c.id = a.customer_id AND c.company_id = a.company_id
        WHERE a.id = ${q('appointmentId')} AND a.company_id = ${q('companyId')} AND a.status = 'booked'
          AND a.start_at = ${q('start')} AND a.end_at = ${q('end')}
          AND a.service_id = ${q('serviceId')} AND a.branch_id = ${q('branchId')}
          AND c.id = ${q('customerId')} AND c.erased_at IS NULL AND c.phone_index IN (${q('index')}, ${q('legacyIndex')})`;
    }).execute({
      ref: p.ref,
      channel: p.channel,
      recipient,
      appointmentId: s.appointmentId,
      companyId: s.companyId,
      start: new Date(s.start),
      end: new Date(s.end),
      serviceId: s.serviceId,
      branchId: s.branchId,
      customerId: s.customerId,
      index,
      legacyIndex,
    });
    return res.affectedRows === 1 ? 'claimed' : 'refused';
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  return (await claimedStatus(db, 'booking_confirmed', p.ref)) === 'failed' ? 'failed' : 'duplicate';
}

/** The status of the (kind, ref) row a claim ran into (its insert hit the unique key). */
async function claimedStatus(db: Db, kind: string, ref: string): Promise<string | undefined> {
  const [row] = await db
    .select({ status: notifications.status })
    .from(notifications)
    .where(and(eq(notifications.kind, kind), eq(notifications.ref, ref)));
  return row?.status;
}

/** True when this attempt owns the (kind, ref) row and may send. */
async function claim(db: Db, kind: string, p: Plan, recipient: string | null): Promise<boolean> {
  try {
    await db.insert(notifications).values({ companyId: p.companyId, kind, ref: p.ref, channel: p.channel, recipient, status: 'sending' });
    return true;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  if ((await claimedStatus(db, kind, p.ref)) !== 'failed') return false;
  // Known not delivered: try again. Of several concurrent attempts, only one changes the row.
  const [res] = await db
    .update(notifications)
    .set({ status: 'sending', error: null, channel: p.channel, recipient })
    .where(and(eq(notifications.kind, kind), eq(notifications.ref, p.ref), eq(notifications.status, 'failed')));
  return res.affectedRows === 1;
}

async function record(db: Db, kind: string, ref: string, set: { status: 'sent' | 'failed' | 'skipped' | 'sending'; error?: string | null; sentAt?: Date }) {
  const q = prepared(db, 'notifications.record', (d) => {
    const p = (name: string) => sql.placeholder(name);
    return d
      .update(notifications)
      // No sentAt given: the row keeps the one it has. updated_at set here: drizzle's $onUpdate
      // would be evaluated once, when the statement is prepared.
      .set({ status: p('status') as never, error: p('error') as never, sentAt: sql`COALESCE(${p('sentAt')}, ${notifications.sentAt})`, updatedAt: p('now') as never })
      .where(and(eq(notifications.kind, p('kind')), eq(notifications.ref, p('ref')), eq(notifications.status, 'sending')))
      .prepare();
  });
  await q.execute({ kind, ref, status: set.status, error: set.error === undefined ? null : set.error && redactText(set.error), sentAt: set.sentAt ?? null, now: new Date() });
}

/** `owned`: the caller has already claimed (true) or found the row handled (false). */
async function deliver(
  deps: NotificationDeps,
  kind: NotificationJob['kind'],
  p: Plan,
  log: Logger,
  signal?: AbortSignal,
  owned?: boolean,
): Promise<Delivered> {
  const recipient = maskedRecipients(p);
  const base = { ref: p.ref, channel: p.channel, recipient };
  const l = log.child({ ref: p.ref, channel: p.channel, to: recipient });

  if (!(owned ?? (await claim(deps.db, kind, p, recipient)))) {
    l.info('notification already handled: not sending again');
    return { result: { ...base, status: 'duplicate' } };
  }
  if (p.skip || !p.message || p.channel === 'none') {
    const reason = p.skip ?? 'nothing to send';
    await record(deps.db, kind, p.ref, { status: 'skipped', error: reason });
    l.warn({ reason }, 'notification skipped');
    return { result: { ...base, status: 'skipped', reason } };
  }

  try {
    await deps.transport.send({ channel: p.channel, to: p.to.join(', '), subject: p.message.subject, text: p.message.text, kind, ref: p.ref }, signal);
  } catch (err) {
    const message = describeError(err);
    if (err instanceof UnsupportedChannelError) {
      await record(deps.db, kind, p.ref, { status: 'skipped', error: message });
      l.warn({ reason: message }, 'notification skipped: transport cannot carry this channel');
      return { result: { ...base, status: 'skipped', reason: message } };
    }
    if (err instanceof TransportError && err.maybeDelivered) {
      // May have gone out: leave it 'sending' so no retry sends it twice.
      await record(deps.db, kind, p.ref, { status: 'sending', error: `outcome unknown, not retried: ${message}` });
      l.error({ err, transport: deps.transport.name }, 'notification outcome unknown (may have been delivered): not retrying');
      return { result: { ...base, status: 'uncertain', reason: message } };
    }
    await record(deps.db, kind, p.ref, { status: 'failed', error: message });
    l.warn({ err, transport: deps.transport.name }, 'notification not delivered: will be retried');
    return { result: { ...base, status: 'failed', reason: message }, error: err };
  }
  await record(deps.db, kind, p.ref, { status: 'sent', sentAt: new Date() });
  l.info({ transport: deps.transport.name }, 'notification sent');
  return { result: { ...base, status: 'sent' } };
}
