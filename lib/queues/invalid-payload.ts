/**
 * A job payload that fails its queue's schema: it fails the same way on every attempt, so it is
 * an UnrecoverableError — BullMQ fails the job after one attempt — and its message names each
 * failing field: `invalid bookings job payload: start: Invalid ISO datetime`. Zod's messages name
 * the expected type or format, never the value received. Thrown by workers/payload.ts for
 * `job.data`, and by the webhook worker's path for the sealed body inside it.
 */
import { UnrecoverableError } from 'bullmq';
import type { z } from 'zod';
import type { Cipher } from '../crypto';
import type { QueueName } from './names';

/** At most this many issues are named; the reason says how many more there were. */
const MAX_ISSUES = 5;

export interface PayloadIssue {
  path: string;
  message: string;
}

export class InvalidPayloadError extends UnrecoverableError {
  constructor(
    readonly queue: QueueName,
    readonly issues: PayloadIssue[],
  ) {
    const named = issues.slice(0, MAX_ISSUES).map((i) => `${i.path}: ${i.message}`);
    const more = issues.length > MAX_ISSUES ? `; and ${issues.length - MAX_ISSUES} more` : '';
    super(`invalid ${queue} job payload: ${named.join('; ')}${more}`);
  }
}

/** Zod's issues as `path: message`, paths under `prefix` (e.g. `sealedBody.` for the body inside a job). */
export function payloadIssues(error: z.ZodError, prefix = ''): PayloadIssue[] {
  return error.issues.map((i) => ({ path: i.path.length ? `${prefix}${i.path.map(String).join('.')}` : prefix.replace(/\.$/, '') || '(payload)', message: i.message }));
}

/**
 * A sealed (AES-GCM, lib/crypto) JSON value inside a job — the webhook body, a confirmation's
 * snapshot — opened and checked against its schema. One that cannot be opened or read, or does
 * not match, fails the same way on every attempt: an InvalidPayloadError naming `field` or the
 * field inside it.
 */
export function openSealedPayload<S extends z.ZodType>(cipher: Cipher, queue: QueueName, field: string, sealed: string, schema: S): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(cipher.decrypt(sealed));
  } catch {
    throw new InvalidPayloadError(queue, [{ path: field, message: 'cannot be opened with ENCRYPTION_KEY / ENCRYPTION_KEYS_PREVIOUS, or is not JSON' }]);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InvalidPayloadError(queue, payloadIssues(parsed.error, `${field}.`));
  return parsed.data;
}
