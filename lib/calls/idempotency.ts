/**
 * The booking idempotency key: derived from the call (company, call id, event type, start), so
 * every path that books for the same call and slot — the webhook pipeline, a live-call
 * function, a retry — arrives at the same key, and the unique index on
 * appointments.idempotency_key lets exactly one through.
 */
import { createHash } from 'node:crypto';

export function bookingIdempotencyKey(parts: { companyId: number; callRef: string; eventTypeId: number; startIso: string }): string {
  const start = new Date(parts.startIso).toISOString();
  return createHash('sha256').update(`${parts.companyId}|${parts.callRef}|${parts.eventTypeId}|${start}`).digest('hex');
}
