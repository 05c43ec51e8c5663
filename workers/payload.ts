/**
 * The one way a worker reads its job's payload: a payload that fails its queue's schema throws
 * InvalidPayloadError (lib/queues/invalid-payload), an UnrecoverableError — failed after one
 * attempt, no retries — whose reason names each failing field.
 */
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { InvalidPayloadError, payloadIssues, type QueueName } from '../lib/queues';

export function parsePayload<S extends z.ZodType>(queue: QueueName, schema: S, job: Pick<Job, 'data'>): z.output<S> {
  const parsed = schema.safeParse(job.data);
  if (parsed.success) return parsed.data;
  throw new InvalidPayloadError(queue, payloadIssues(parsed.error));
}

/**
 * The job goes on without its sealed field (`sealedBody`, `sealedSnapshot`, `sealedCustomer`): ids only, for a job
 * whose outcome needs none of the personal data it carries and that Redis would otherwise keep
 * (24 h once completed). Best effort: the outcome stands if Redis refuses the update.
 */
export async function dropSealed<T extends object>(job: Job, data: T, field: keyof T & string, logger: Pick<Logger, 'warn'>, why: string): Promise<void> {
  const { [field]: _dropped, ...ids } = data;
  await job.updateData(ids).catch((err: unknown) => logger.warn({ err, jobId: job.id, field }, `could not drop the ${field} of ${why}`));
}
