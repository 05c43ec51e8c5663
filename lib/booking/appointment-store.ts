/**
 * The appointments table as the booking worker uses it. The row is created `pending` before
 * Cal.com is asked, keyed by the idempotency key (unique): whatever happens next, there is one
 * row per key, and its `calcom_request_sent_at` tells a later attempt whether a request may
 * already have reached Cal.com.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db';
import { appointments, calls } from '../../drizzle/schema';
import type { BookingJob } from '../queues';

export type AppointmentRow = typeof appointments.$inferSelect;

export async function findByKey(db: Db, companyId: number, key: string): Promise<AppointmentRow | undefined> {
  const [row] = await db
    .select()
    .from(appointments)
    .where(and(eq(appointments.companyId, companyId), eq(appointments.idempotencyKey, key)));
  return row;
}

/** Insert the pending row if absent; return the row either way. */
export async function ensurePending(db: Db, job: BookingJob, endAt: Date): Promise<AppointmentRow> {
  await db
    .insert(appointments)
    .values({
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
    })
    .onDuplicateKeyUpdate({ set: { idempotencyKey: sql`${appointments.idempotencyKey}` } });
  const row = await findByKey(db, job.companyId, job.idempotencyKey);
  if (!row) throw new Error(`appointment ${job.idempotencyKey} belongs to another company`);
  return row;
}

export async function markRequestSent(db: Db, id: number): Promise<void> {
  await db
    .update(appointments)
    .set({ calcomRequestSentAt: new Date(), attempts: sql`${appointments.attempts} + 1`, status: 'pending', failureReason: null })
    .where(eq(appointments.id, id));
}

/** Record the Cal.com booking and link the call, in one transaction. */
export async function markBooked(
  db: Db,
  row: AppointmentRow,
  booking: { uid: string; id: number; start: string; end: string; status: string },
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .update(appointments)
      .set({
        status: booking.status === 'cancelled' ? 'cancelled' : 'booked',
        calcomBookingUid: booking.uid,
        calcomBookingId: booking.id,
        startAt: new Date(booking.start),
        endAt: new Date(booking.end),
        failureReason: null,
        alternatives: null,
      })
      .where(eq(appointments.id, row.id));
    if (row.callId) {
      await tx
        .update(calls)
        .set({ appointmentId: row.id })
        .where(and(eq(calls.id, row.callId), eq(calls.companyId, row.companyId)));
    }
  });
}

export async function markFailed(db: Db, id: number, reason: string, alternatives?: string[]): Promise<void> {
  await db
    .update(appointments)
    .set({ status: 'failed', failureReason: reason.slice(0, 1000), alternatives: alternatives ?? null })
    .where(eq(appointments.id, id));
}
