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
export * from './invalid-payload';

const keepCompleted = { age: 24 * 3600, count: 5_000 };
const keepFailed = { age: 14 * 24 * 3600, count: 50_000 };

/**
 * A failed job's size is bounded: workers/run-job cuts its reason to 1,000 characters and each
 * stack to 10 frames (lib/errors/redact), and BullMQ keeps the stacks of the last
 * STACK_TRACES_KEPT attempts only (each attempt, and each operator retry, adds one).
 */
export const STACK_TRACES_KEPT = 3;
/**
 * Payloads of the id-only queues are a few hundred bytes; BullMQ refuses to add a bigger one, so
 * nothing larger (a transcript, a whole call) can slip into Redis by mistake. The webhooks queue
 * carries a sealed body instead, bounded by WEBHOOK_MAX_BODY_BYTES at the ingress.
 */
export const ID_PAYLOAD_MAX_BYTES = 2_048;

/** Whether `data` stays within an id-only queue's size limit (what BullMQ's `sizeLimit` measures: its JSON). */
export function fitsIdPayload(data: object): boolean {
  return Buffer.byteLength(JSON.stringify(data)) <= ID_PAYLOAD_MAX_BYTES;
}

const bounded = { stackTraceLimit: STACK_TRACES_KEPT } as const;
const idsOnly = { ...bounded, sizeLimit: ID_PAYLOAD_MAX_BYTES } as const;

export const DEFAULT_JOB_OPTIONS: Record<QueueName, DefaultJobOptions> = {
  webhooks: { ...bounded, attempts: 5, backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
  // 3 attempts at 1 s / 2 s / 4 s (+ jitter), as the design says.
  bookings: { ...idsOnly, attempts: 3, backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
  sync: { ...idsOnly, attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: { count: 100 }, removeOnFail: { count: 1_000 } },
  notifications: { ...idsOnly, attempts: 5, backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
  default: { ...idsOnly, attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: { count: 1_000 }, removeOnFail: keepFailed },
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
