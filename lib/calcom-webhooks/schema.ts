/**
 * The shape of Cal.com's booking webhooks (`{triggerEvent, createdAt, payload}`), validated at the
 * edge, and the inbox key of one delivery. Only what callbook reads is checked; everything else
 * passes through (Cal.com adds fields over time). Triggers other than the three below are
 * acknowledged and ignored.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const HANDLED_TRIGGERS = ['BOOKING_CREATED', 'BOOKING_RESCHEDULED', 'BOOKING_CANCELLED'] as const;
export type HandledTrigger = (typeof HANDLED_TRIGGERS)[number];

export function isHandledTrigger(t: string): t is HandledTrigger {
  return (HANDLED_TRIGGERS as readonly string[]).includes(t);
}

const isoTime = z.string().max(64).refine((v) => !Number.isNaN(Date.parse(v)), { message: 'must be an ISO 8601 date-time' });
const uid = z.string().min(1).max(100);

/** Any webhook: enough to route it (trigger) and find its company (eventTypeId, if any). */
export const envelopeSchema = z.looseObject({
  triggerEvent: z.string().min(1).max(64),
  createdAt: z.string().max(64).optional(),
  payload: z.unknown().optional(),
});

export const bookingPayloadSchema = z.looseObject({
  uid,
  bookingId: z.number().int().nonnegative().nullish(),
  eventTypeId: z.number().int().positive().nullish(),
  startTime: isoTime,
  endTime: isoTime,
  /** UPPERCASE in webhooks: ACCEPTED, PENDING, CANCELLED, REJECTED … */
  status: z.string().max(32).nullish(),
  /** BOOKING_RESCHEDULED: the uid of the booking that was moved (the payload's uid is the new one). */
  rescheduleUid: uid.nullish(),
  rescheduleStartTime: isoTime.nullish(),
  updatedAt: z.string().max(64).nullish(),
  cancellationReason: z.string().max(1000).nullish(),
});

export const bookingWebhookSchema = z.looseObject({
  triggerEvent: z.enum(HANDLED_TRIGGERS),
  createdAt: z.string().max(64).optional(),
  payload: bookingPayloadSchema,
});
export type CalcomBookingWebhook = z.infer<typeof bookingWebhookSchema>;

/** The payload's event type id, read without validating the rest (to find candidate companies). */
export function peekEventTypeId(body: unknown): number | null {
  const id = (body as { payload?: { eventTypeId?: unknown } } | null)?.payload?.eventTypeId;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : null;
}

/**
 * `c<companyId>:<triggerEvent>:<uid>:<createdAt, else payload.updatedAt, else a hash of the body>`
 * — the same delivery sent twice to the same company has the same key. The company comes first:
 * Cal.com uids are unique only within one Cal.com installation, and two companies may receive a
 * webhook with the same uid and time (two accounts, a self-hosted Cal.com, or a body one company
 * replays at another's URL); scoped by company, neither can mark the other's delivery a duplicate.
 * Hashed when it would not fit the column (191).
 */
export function calcomDedupeKey(companyId: number, w: CalcomBookingWebhook, rawBody: Uint8Array | string): string {
  const stamp = w.createdAt ?? w.payload.updatedAt ?? `sha256-${createHash('sha256').update(rawBody).digest('hex').slice(0, 32)}`;
  const scope = `c${companyId}:${w.triggerEvent}`;
  const key = `${scope}:${w.payload.uid}:${stamp}`;
  return key.length <= 191 ? key : `${scope}:sha256-${createHash('sha256').update(key).digest('hex')}`;
}
