/**
 * The one way a worker reads its job's payload. A payload that fails its queue's schema will fail
 * the same way on every attempt, so it becomes an UnrecoverableError at once — failed after one
 * attempt, no retries — with a reason naming each failing field:
 * `invalid bookings job payload: start: Invalid ISO datetime; idempotencyKey: Invalid input…`.
 * Zod's messages name the expected type or format, never the value received.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import type { z } from 'zod';
import type { QueueName } from '../lib/queues';

/** At most this many issues are named; the reason says how many more there were. */
const MAX_ISSUES = 5;

export class InvalidPayloadError extends UnrecoverableError {
  constructor(
    readonly queue: QueueName,
    readonly issues: Array<{ path: string; message: string }>,
  ) {
    const named = issues.slice(0, MAX_ISSUES).map((i) => `${i.path}: ${i.message}`);
    const more = issues.length > MAX_ISSUES ? `; and ${issues.length - MAX_ISSUES} more` : '';
    super(`invalid ${queue} job payload: ${named.join('; ')}${more}`);
  }
}

export function parsePayload<S extends z.ZodType>(queue: QueueName, schema: S, job: Pick<Job, 'data'>): z.output<S> {
  const parsed = schema.safeParse(job.data);
  if (parsed.success) return parsed.data;
  throw new InvalidPayloadError(
    queue,
    parsed.error.issues.map((i) => ({ path: i.path.length ? i.path.map(String).join('.') : '(payload)', message: i.message })),
  );
}
