/** Queue names, their job timeouts and job-id schemes: a contract other code relies on. */
import type { Config } from '../config';

export const QUEUE_NAMES = ['webhooks', 'bookings', 'sync', 'notifications', 'default'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Per-queue job timeouts (ms), enforced by the worker wrapper (workers/run-job.ts). */
export const JOB_TIMEOUT_MS: Record<QueueName, number> = {
  webhooks: 60_000,
  bookings: 120_000,
  sync: 300_000,
  notifications: 60_000,
  default: 180_000,
};

/** How many jobs of each queue one worker process runs at once: the CONCURRENCY_* settings. */
export function concurrencyOf(config: Pick<Config, ConcurrencySetting>, queue: QueueName): number {
  return config[CONCURRENCY_SETTING[queue]];
}

type ConcurrencySetting = 'CONCURRENCY_WEBHOOKS' | 'CONCURRENCY_BOOKINGS' | 'CONCURRENCY_SYNC' | 'CONCURRENCY_NOTIFICATIONS' | 'CONCURRENCY_DEFAULT';

const CONCURRENCY_SETTING: Record<QueueName, ConcurrencySetting> = {
  webhooks: 'CONCURRENCY_WEBHOOKS',
  bookings: 'CONCURRENCY_BOOKINGS',
  sync: 'CONCURRENCY_SYNC',
  notifications: 'CONCURRENCY_NOTIFICATIONS',
  default: 'CONCURRENCY_DEFAULT',
};

export function isQueueName(s: string): s is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(s);
}

/** BullMQ forbids ':' in custom ids; Retell ids are [A-Za-z0-9_-], but be strict anyway. */
function idPart(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}

export const jobIds = {
  /**
   * A body signed with a company's own Retell key gets that company in its id: call ids come
   * from the body, so a tenant naming another company's call id must not take the id (and with
   * it the delivery) of that company's genuine webhook.
   */
  retellWebhook: (callId: string, event: string, signerCompanyId?: number) =>
    `retell-${idPart(callId)}-${idPart(event)}${signerCompanyId === undefined ? '' : `-c${signerCompanyId}`}`,
  booking: (idempotencyKey: string) => `booking-${idempotencyKey}`,
  /** One message per appointment and event, however often it is asked for. */
  notification: (kind: string, ref: string | number) => `notify-${idPart(kind)}-${idPart(String(ref))}`,
};

/**
 * BullMQ key prefix. The braces are a Redis Cluster hash tag: every key of every queue lands in
 * one slot, so BullMQ's multi-key scripts work on a cluster.
 */
export function bullPrefix(prefix: string): string {
  return `{${prefix || 'callbook'}}`;
}
