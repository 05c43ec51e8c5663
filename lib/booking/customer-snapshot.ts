/**
 * The sealed customer a bookings job from a webhook may carry: the caller's number and the name
 * and e-mail exactly as the webhook's customer upsert stored them (sealed when the company's PII
 * is encrypted; null where the call brought none). With it the booking needs no read of the
 * customer: its pending insert (./appointment-store `insertPendingFor`) is one INSERT … SELECT
 * that inserts only while the customer row still says what the snapshot says — same company, not
 * erased, that number's blind index, that very name and e-mail (so a row that kept an older name
 * or e-mail the call did not repeat is read instead, as is anything else that moved).
 *
 * Job data sits in Redis in clear text and operators see it in Bull Board, so the snapshot is JSON
 * sealed with ENCRYPTION_KEY (lib/crypto), as the confirmation's is (lib/notifications/snapshot).
 * It names its company and customer, so a snapshot copied into another job is refused. A snapshot
 * is an optimisation: one that cannot be opened, does not parse or names other ids is logged and
 * the booking reads the row, as it does for a job without one.
 */
import { z } from 'zod';
import type { Logger } from 'pino';
import type { Cipher } from '../crypto';
import { fitsIdPayload, openSealedPayload, type BookingJob } from '../queues';

export const customerSnapshotSchema = z.object({
  companyId: z.number().int().positive(),
  customerId: z.number().int().positive(),
  /** E.164, as the call gave it (its blind index is checked against the row). */
  phone: z.string().min(1).max(32),
  /** As stored: sealed or plain text, null when the call brought none. */
  name: z.string().max(2000).nullable(),
  email: z.string().max(2000).nullable(),
});
export type CustomerSnapshot = z.infer<typeof customerSnapshotSchema>;

/**
 * The job with its snapshot sealed in, or the job as it was when the snapshot would push it past
 * the queue's size limit (a long name, sealed twice): a booking is never lost to its snapshot.
 */
export function withCustomerSnapshot(cipher: Cipher, job: BookingJob, snapshot: CustomerSnapshot): BookingJob {
  const sealed = { ...job, sealedCustomer: cipher.encrypt(JSON.stringify(snapshot)) };
  return fitsIdPayload(sealed) ? sealed : job;
}

/** The job's snapshot, opened and checked against the job's own ids; undefined (and said) when it does not hold. */
export function openCustomerSnapshot(cipher: Cipher, job: BookingJob, log: Logger): CustomerSnapshot | undefined {
  if (job.sealedCustomer === undefined) return undefined;
  try {
    const s = openSealedPayload(cipher, 'bookings', 'sealedCustomer', job.sealedCustomer, customerSnapshotSchema);
    if (s.companyId === job.companyId && s.customerId === job.customerId) return s;
    log.warn({ customerId: job.customerId }, "booking's customer snapshot names another company or customer: reading the row instead");
  } catch (err) {
    log.warn({ err }, "booking's customer snapshot could not be used: reading the row instead");
  }
  return undefined;
}
