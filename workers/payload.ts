/**
 * The one way a worker reads its job's payload: a payload that fails its queue's schema throws
 * InvalidPayloadError (lib/queues/invalid-payload), an UnrecoverableError — failed after one
 * attempt, no retries — whose reason names each failing field.
 */
import type { Job } from 'bullmq';
import type { z } from 'zod';
import { InvalidPayloadError, payloadIssues, type QueueName } from '../lib/queues';

export function parsePayload<S extends z.ZodType>(queue: QueueName, schema: S, job: Pick<Job, 'data'>): z.output<S> {
  const parsed = schema.safeParse(job.data);
  if (parsed.success) return parsed.data;
  throw new InvalidPayloadError(queue, payloadIssues(parsed.error));
}
