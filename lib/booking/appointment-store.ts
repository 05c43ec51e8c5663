/**
 * The appointments table as the booking worker uses it. The row is created `pending` before
 * Cal.com is asked, keyed by the idempotency key (unique): whatever happens next, there is one
 * row per key, and its `calcom_request_sent_at` tells a later attempt whether a request may
 * already have reached Cal.com.
 */
import { and, eq, sql } from 'drizzle-orm';
import { isDuplicateKey, type Db } from '../db';
import { prepared, preparedSql } from '../db/prepared';
import { appointments, calls, customers } from '../../drizzle/schema';
import { redactText } from '../errors/redact';
import type { BookingJob } from '../queues';
import { phoneIndexPair } from '../pii';
import type { CustomerSnapshot } from './customer-snapshot';

export type AppointmentRow = typeof appointments.$inferSelect;

export async function findByKey(db: Db, companyId: number, key: string): Promise<AppointmentRow | undefined> {
  const [row] = await db
    .select()
    .from(appointments)
    .where(and(eq(appointments.companyId, companyId), eq(appointments.idempotencyKey, key)));
  return row;
}

/**
 * The job's customer (scoped by company) and its appointment row if one exists, in one statement.
 * Undefined when the customer is not the company's.
 */
export async function findCustomerAndAppointment(db: Db, job: Pick<BookingJob, 'companyId' | 'customerId' | 'idempotencyKey'>) {
  const q = prepared(db, 'booking.customer-and-appointment', (d) => {
    const p = (name: string) => sql.placeholder(name);
    return d
      .select({
        customer: { id: customers.id, phone: customers.phone, name: customers.name, email: customers.email, erasedAt: customers.erasedAt },
        appointment: appointments,
      })
      .from(customers)
      .leftJoin(appointments, and(eq(appointments.idempotencyKey, p('key')), eq(appointments.companyId, p('companyId'))))
      .where(and(eq(customers.id, p('customerId')), eq(customers.companyId, p('companyId'))))
      .prepare();
  });
  const [row] = await q.execute({ key: job.idempotencyKey, companyId: job.companyId, customerId: job.customerId });
  return row;
}

/**
 * Insert the pending row; with `markSent`, already marked as about to be sent
 * (`calcom_request_sent_at`, attempt 1) — for a caller that holds the booking lock and has
 * nothing left to do but post (a fresh row proves that no earlier attempt got as far as
 * Cal.com). One statement; the row is built from what was inserted rather than read back. When the key exists after all (a concurrent path inserted it), that row is read
 * and returned with `fresh: false`.
 */
export async function insertPending(db: Db, job: BookingJob, endAt: Date, markSent: boolean): Promise<{ row: AppointmentRow; fresh: boolean }> {
  const { values, built } = pendingRow(job, endAt, markSent);
  const q = prepared(db, 'appointments.insert-pending', (d) => {
    const p = (name: keyof typeof values) => sql.placeholder(name);
    return d
      .insert(appointments)
      .values({
        companyId: p('companyId'),
        branchId: p('branchId'),
        customerId: p('customerId'),
        callId: p('callId'),
        serviceId: p('serviceId'),
        idempotencyKey: p('idempotencyKey'),
        startAt: p('startAt'),
        endAt: p('endAt'),
        status: 'pending',
        source: p('source'),
        // Null until marked: a placeholder bound to the column would go through its encoder, which
        // takes no null; as a bare parameter mysql2 sends the Date (UTC: the pool's timezone 'Z') or NULL.
        calcomRequestSentAt: sql`${p('calcomRequestSentAt')}`,
        attempts: p('attempts'),
      })
      .prepare();
  });
  try {
    const [res] = await q.execute(values);
    return { row: built(Number(res.insertId)), fresh: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const row = await findByKey(db, job.companyId, job.idempotencyKey);
  if (!row) throw new Error(`appointment ${job.idempotencyKey} belongs to another company`);
  return { row, fresh: false };
}

/**
 * insertPending for a job whose customer came as a snapshot (./customer-snapshot): one
 * INSERT … SELECT that inserts only while the customer row still says what the snapshot says —
 * the job's company, not erased, the number's blind index, the very name and e-mail stored
 * (compared as bytes: the column's collation would take "René" for "Rene"). The
 * fresh row, built from what was inserted, or null when nothing was inserted (the row moved on,
 * or the key exists already): the caller then reads customer and appointment, as for any job.
 */
export async function insertPendingFor(db: Db, job: BookingJob, endAt: Date, markSent: boolean, customer: CustomerSnapshot): Promise<AppointmentRow | null> {
  const { values, built } = pendingRow(job, endAt, markSent);
  const [index, legacyIndex] = phoneIndexPair(job.companyId, customer.phone);
  let res: { insertId: number; affectedRows: number };
  try {
    [res] = await preparedSql(db, 'appointments.insert-pending-for', () => {
      const p = (name: string) => sql.placeholder(name);
      return sql`
        INSERT INTO ${appointments} (company_id, branch_id, customer_id, call_id, service_id, idempotency_key, start_at, end_at, status, source, calcom_request_sent_at, attempts)
        SELECT ${p('companyId')}, ${p('branchId')}, c.id, ${p('callId')}, ${p('serviceId')}, ${p('idempotencyKey')}, ${p('startAt')}, ${p('endAt')}, 'pending', ${p('source')}, ${p('calcomRequestSentAt')}, ${p('attempts')}
        FROM ${customers} c
        WHERE c.id = ${p('customerId')} AND c.company_id = ${p('companyId')} AND c.erased_at IS NULL
          AND c.phone_index IN (${p('index')}, ${p('legacyIndex')}) AND BINARY c.name <=> BINARY ${p('name')} AND BINARY c.email <=> BINARY ${p('email')}`;
    }).execute({ ...values, index, legacyIndex, name: customer.name, email: customer.email });
  } catch (err) {
    if (isDuplicateKey(err)) return null;
    throw err;
  }
  return res.affectedRows === 1 ? built(Number(res.insertId)) : null;
}

/** The pending row's values, and the row as it stands once inserted under `id` (not read back). */
function pendingRow(job: BookingJob, endAt: Date, markSent: boolean) {
  const now = new Date();
  const values = {
    companyId: job.companyId,
    branchId: job.branchId,
    customerId: job.customerId,
    callId: job.callId ?? null,
    serviceId: job.serviceId,
    idempotencyKey: job.idempotencyKey,
    startAt: new Date(job.start),
    endAt,
    status: 'pending',
    source: job.source,
    calcomRequestSentAt: markSent ? now : null,
    attempts: markSent ? 1 : 0,
  };
  const built = (id: number): AppointmentRow => ({ ...values, id, calcomBookingUid: null, calcomBookingId: null, failureReason: null, alternatives: null, createdAt: now, updatedAt: now });
  return { values, built };
}

/**
 * Marks the row "request sent" just before the POST. Fenced by `attempts` as this attempt read it:
 * false when another attempt marked it meanwhile (this one's lock lapsed while it waited), which may
 * have posted; the caller must not post without reconciling first.
 */
export async function markRequestSent(db: Db, row: Pick<AppointmentRow, 'id' | 'attempts'>): Promise<boolean> {
  const [res] = await db
    .update(appointments)
    .set({ calcomRequestSentAt: new Date(), attempts: sql`${appointments.attempts} + 1`, status: 'pending', failureReason: null })
    .where(and(eq(appointments.id, row.id), eq(appointments.attempts, row.attempts)));
  return res.affectedRows === 1;
}

/**
 * Record the Cal.com booking and link the call. One multi-table UPDATE, atomic like the
 * transaction it replaces (BEGIN, two UPDATEs, COMMIT: four round trips, each a socket write
 * and a wake-up of MariaDB — mysql2's socket writes were 13 % of a worker's CPU in bench/e2e);
 * the LEFT JOIN leaves the appointment's update standing when there is no call to link, and
 * `c.company_id = a.company_id` keeps the link within the company.
 */
export async function markBooked(
  db: Db,
  row: AppointmentRow,
  booking: { uid: string; id: number; start: string; end: string; status: string },
): Promise<void> {
  const now = new Date();
  await preparedSql(db, 'appointments.booked', () => {
    const p = (name: string) => sql.placeholder(name);
    return sql`
      UPDATE ${appointments} a
      LEFT JOIN ${calls} c ON c.id = ${p('callId')} AND c.company_id = a.company_id
      SET a.status = ${p('status')}, a.calcom_booking_uid = ${p('uid')}, a.calcom_booking_id = ${p('bookingId')},
          a.start_at = ${p('start')}, a.end_at = ${p('end')},
          a.failure_reason = NULL, a.alternatives = NULL, a.updated_at = ${p('now')},
          c.appointment_id = a.id, c.updated_at = ${p('now')}
      WHERE a.id = ${p('id')}`;
  }).execute({
    callId: row.callId ?? null,
    status: booking.status === 'cancelled' ? 'cancelled' : 'booked',
    uid: booking.uid,
    bookingId: booking.id,
    start: new Date(booking.start),
    end: new Date(booking.end),
    now,
    id: row.id,
  });
}

export async function markFailed(db: Db, id: number, reason: string, alternatives?: string[]): Promise<void> {
  await db
    .update(appointments)
    .set({ status: 'failed', failureReason: redactText(reason), alternatives: alternatives ?? null })
    .where(eq(appointments.id, id));
}
