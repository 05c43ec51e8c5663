/**
 * GDPR access (Art. 15): everything callbook holds about one customer of one company, as one
 * JSON document. Every query filters on the company AND the customer, so the same phone number
 * as a customer of another company never leaks in. The read itself is personal-data access and
 * leaves a `gdpr.export` audit row (counts only).
 *
 * The file goes to disk with mode 0600 (only the service user can read it); a queue job returns
 * its path, never the data, since job return values sit in Redis in clear text.
 *
 * The database is the whole story: what queue jobs in Redis hold about the customer (a webhook's
 * sealed body, a confirmation's sealed snapshot) are copies of what the calls and the customer
 * row already say, and are gone within days (lib/queues keeps jobs 24 hours / failed 14 days).
 */
import { open, openJson } from '../pii';
import { mkdir, writeFile, chmod } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { audit } from '../audit';
import type { AppContext } from '../context';
import { appointments, branches, calls, companies, customers, notifications, services } from '../../drizzle/schema';

export const EXPORT_FORMAT = 'callbook.gdpr-export/1';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export interface CustomerExport {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  company: { id: number; slug: string; name: string };
  customer: { id: number; name: string | null; email: string | null; phone: string; createdAt: string | null; erasedAt: string | null };
  calls: Array<{
    id: number;
    retellCallId: string;
    branch: string | null;
    direction: string | null;
    fromNumber: string | null;
    toNumber: string | null;
    status: string;
    startedAt: string | null;
    endedAt: string | null;
    durationMs: number | null;
    transcript: string | null;
    summary: string | null;
    sentiment: string | null;
    recordingUrl: string | null;
    dynamicVariables: Record<string, unknown> | null;
    analysisData: Record<string, unknown> | null;
    bookingDecision: string | null;
    bookingReason: string | null;
    appointmentId: number | null;
    purgedAt: string | null;
  }>;
  appointments: Array<{
    id: number;
    service: string | null;
    branch: string | null;
    startAt: string | null;
    endAt: string | null;
    status: string;
    calcomBookingUid: string | null;
    failureReason: string | null;
    alternatives: string[] | null;
    callId: number | null;
    createdAt: string | null;
  }>;
  notifications: Array<{ appointmentId: number; kind: string; channel: string; status: string; recipient: string | null; sentAt: string | null; createdAt: string | null }>;
}

export class GdprNotFoundError extends Error {
  override readonly name = 'GdprNotFoundError';
}

/** Notification kinds whose `ref` is an appointment id (breaker alerts are about services). */
export const APPOINTMENT_NOTIFICATION_KINDS = ['booking_confirmed', 'booking_failed'];

export async function exportCustomer(
  ctx: Pick<AppContext, 'database'>,
  req: { companyId: number; customerId: number; actor: string; now?: Date },
): Promise<CustomerExport> {
  const db = ctx.database.db;
  const { companyId, customerId } = req;
  const [company] = await db.select({ id: companies.id, slug: companies.slug, name: companies.name }).from(companies).where(eq(companies.id, companyId));
  if (!company) throw new GdprNotFoundError(`company ${companyId} does not exist`);
  const [customer] = await db.select().from(customers).where(and(eq(customers.companyId, companyId), eq(customers.id, customerId)));
  if (!customer) throw new GdprNotFoundError(`customer ${customerId} is not a customer of company ${company.slug}`);

  const callRows = await db
    .select({ call: calls, branch: branches.slug })
    .from(calls)
    .leftJoin(branches, and(eq(branches.id, calls.branchId), eq(branches.companyId, companyId)))
    .where(and(eq(calls.companyId, companyId), eq(calls.customerId, customerId)))
    .orderBy(asc(calls.id));
  const apptRows = await db
    .select({ appt: appointments, service: services.slug, branch: branches.slug })
    .from(appointments)
    .leftJoin(services, and(eq(services.id, appointments.serviceId), eq(services.companyId, companyId)))
    .leftJoin(branches, and(eq(branches.id, appointments.branchId), eq(branches.companyId, companyId)))
    .where(and(eq(appointments.companyId, companyId), eq(appointments.customerId, customerId)))
    .orderBy(asc(appointments.id));
  const apptIds = apptRows.map((r) => r.appt.id);
  const noteRows = apptIds.length
    ? await db
        .select()
        .from(notifications)
        .where(
          and(
            eq(notifications.companyId, companyId),
            inArray(notifications.kind, APPOINTMENT_NOTIFICATION_KINDS),
            inArray(notifications.ref, apptIds.map(String)),
          ),
        )
        .orderBy(asc(notifications.id))
    : [];

  const data: CustomerExport = {
    format: EXPORT_FORMAT,
    exportedAt: (req.now ?? new Date()).toISOString(),
    company,
    customer: { id: customer.id, name: open(customer.name), email: open(customer.email), phone: open(customer.phone), createdAt: iso(customer.createdAt), erasedAt: iso(customer.erasedAt) },
    calls: callRows.map(({ call: c, branch }) => ({
      id: c.id,
      retellCallId: c.retellCallId,
      branch,
      direction: c.direction,
      fromNumber: open(c.fromNumber),
      toNumber: open(c.toNumber),
      status: c.status,
      startedAt: iso(c.startedAt),
      endedAt: iso(c.endedAt),
      durationMs: c.durationMs,
      transcript: open(c.transcript),
      summary: open(c.summary),
      sentiment: c.sentiment,
      recordingUrl: open(c.recordingUrl),
      dynamicVariables: openJson(c.dynamicVariables),
      analysisData: openJson(c.analysisData),
      bookingDecision: c.bookingDecision,
      bookingReason: c.bookingReason,
      appointmentId: c.appointmentId,
      purgedAt: iso(c.purgedAt),
    })),
    appointments: apptRows.map(({ appt: a, service, branch }) => ({
      id: a.id,
      service,
      branch,
      startAt: iso(a.startAt),
      endAt: iso(a.endAt),
      status: a.status,
      calcomBookingUid: a.calcomBookingUid,
      failureReason: a.failureReason,
      alternatives: a.alternatives,
      callId: a.callId,
      createdAt: iso(a.createdAt),
    })),
    notifications: noteRows.map((n) => ({
      appointmentId: Number(n.ref),
      kind: n.kind,
      channel: n.channel,
      status: n.status,
      recipient: n.recipient,
      sentAt: iso(n.sentAt),
      createdAt: iso(n.createdAt),
    })),
  };

  await audit(db, {
    companyId,
    actor: req.actor,
    action: 'gdpr.export',
    target: `customer:${customerId}`,
    details: { calls: data.calls.length, appointments: data.appointments.length, notifications: data.notifications.length },
  });
  return data;
}

/** Writes `<company>-<customer>-<timestamp>.json` (mode 0600) into `dir` (created, 0700); returns its absolute path. */
export async function writeExport(dir: string, data: CustomerExport): Promise<string> {
  const abs = resolve(dir);
  await mkdir(abs, { recursive: true, mode: 0o700 });
  const stamp = data.exportedAt.replace(/[-:]/g, '').replace('.', '');
  const body = JSON.stringify(data, null, 2) + '\n';
  for (let n = 1; ; n++) {
    const path = join(abs, `${data.company.slug}-${data.customer.id}-${stamp}${n > 1 ? `-${n}` : ''}.json`);
    try {
      // 'wx': never overwrite (or follow a planted link to) an existing file.
      await writeFile(path, body, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && n < 100) continue;
      throw err;
    }
    await chmod(path, 0o600);
    return path;
  }
}
