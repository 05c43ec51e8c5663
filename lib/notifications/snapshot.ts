/**
 * The sealed snapshot a `booking_confirmed` job may carry: what the confirmation needs that the
 * tenant catalogue does not give — the customer (id, phone, name, e-mail as the booking used
 * them) and the appointment (start and end as Cal.com booked them, service, branch) — taken by
 * the bookings worker right after its commit, when it holds all of it decrypted. With it the
 * notifications worker needs no read of appointment and customer: its claim (./send) is one
 * INSERT … SELECT that inserts only while the rows still say what the snapshot says.
 *
 * Job data sits in Redis in clear text and operators see it in Bull Board, so the snapshot is
 * JSON sealed with ENCRYPTION_KEY (lib/crypto), as the webhook body is (`sealedBody`). It names
 * its company and appointment, so a snapshot copied into another job is refused. A snapshot that
 * cannot be opened or does not parse fails the same way on every attempt: InvalidPayloadError
 * (unrecoverable) naming `sealedSnapshot` or the field inside it.
 */
import { z } from 'zod';
import type { Cipher } from '../crypto';
import { InvalidPayloadError, openSealedPayload } from '../queues/invalid-payload';

export const confirmationSnapshotSchema = z.object({
  companyId: z.number().int().positive(),
  appointmentId: z.number().int().positive(),
  customerId: z.number().int().positive(),
  /** E.164, the customer's number (the SMS recipient when there is no e-mail). */
  phone: z.string().min(1).max(32),
  name: z.string().max(1000).nullable(),
  email: z.string().max(1000).nullable(),
  /** UTC ISO, as booked by Cal.com (= appointments.start_at / end_at after the commit). */
  start: z.string().datetime(),
  end: z.string().datetime(),
  serviceId: z.number().int().positive(),
  branchId: z.number().int().positive(),
});
export type ConfirmationSnapshot = z.infer<typeof confirmationSnapshotSchema>;

export function sealConfirmation(cipher: Cipher, snapshot: ConfirmationSnapshot): string {
  return cipher.encrypt(JSON.stringify(snapshot));
}

/** The job's snapshot, opened, checked against the schema and against the job's own ids. */
export function openConfirmation(cipher: Cipher, job: { sealedSnapshot: string; companyId?: number; appointmentId?: number }): ConfirmationSnapshot {
  const s = openSealedPayload(cipher, 'notifications', 'sealedSnapshot', job.sealedSnapshot, confirmationSnapshotSchema);
  const issues = [
    ...(s.companyId !== job.companyId ? [{ path: 'sealedSnapshot.companyId', message: "is not the job's companyId" }] : []),
    ...(s.appointmentId !== job.appointmentId ? [{ path: 'sealedSnapshot.appointmentId', message: "is not the job's appointmentId" }] : []),
  ];
  if (issues.length) throw new InvalidPayloadError('notifications', issues);
  return s;
}
