/**
 * The five BullMQ queues with their default job options. Completed jobs are trimmed (by age
 * and count) so Redis memory stays bounded; webhook_events in the database remembers what was
 * processed after the job is gone.
 */
import { queueTelemetry } from '../tracing';
import { Queue, type DefaultJobOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { bullPrefix, QUEUE_NAMES, type QueueName } from './names';

export * from './names';
export * from './payloads';

const keepCompleted = { age: 24 * 3600, count: 5_000 };
const keepFailed = { age: 14 * 24 * 3600, count: 50_000 };

export const DEFAULT_JOB_OPTIONS: Record<QueueName, DefaultJobOptions> = {
  webhooks: { attempts: 5, backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
  // 3 attempts at 1 s / 2 s / 4 s (+ jitter), as the design says.
  bookings: { attempts: 3, backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
  sync: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: { count: 100 }, removeOnFail: { count: 1_000 } },
  notifications: { attempts: 5, backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
  default: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: { count: 1_000 }, removeOnFail: keepFailed },
};

export type Queues = Record<QueueName, Queue>;

export function createQueues(connection: Redis, prefix: string): Queues {
  const entries = QUEUE_NAMES.map((name) => [
    name,
    new Queue(name, { connection, prefix: bullPrefix(prefix), defaultJobOptions: DEFAULT_JOB_OPTIONS[name], telemetry: queueTelemetry() }),
  ]);
  return Object.fromEntries(entries) as Queues;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}
