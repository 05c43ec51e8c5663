/**
 * Live events (call and booking state changes) over Redis pub/sub, one channel per company, so
 * an event published by any worker process reaches every /events listener in any ingress
 * process. Events carry ids and states, not personal data.
 */
import type { Redis } from 'ioredis';
import { redisKeys } from '../redis/keys';

export type LiveEvent =
  | { type: 'call.updated'; companyId: number; branchId: number; callId: string; status: string; decision?: string | null }
  | { type: 'booking.booked' | 'booking.failed' | 'booking.cancelled' | 'booking.rescheduled'; companyId: number; branchId: number; appointmentId: number; start?: string; reason?: string };

export function eventsChannel(ns: string, companyId: number): string {
  return ns + redisKeys.eventsChannel(companyId);
}

/** Fire and forget: a lost live update must never fail the job that caused it. */
export async function publishEvent(redis: Redis, ns: string, event: LiveEvent, onError?: (err: unknown) => void): Promise<void> {
  try {
    await redis.publish(eventsChannel(ns, event.companyId), JSON.stringify({ ...event, at: new Date().toISOString() }));
  } catch (err) {
    onError?.(err);
  }
}
