/**
 * Typed job payloads. Payloads carry ids, not personal data: Redis keeps them in clear text,
 * so the one payload that must carry a whole webhook (to be durable before we answer 2xx)
 * carries it sealed with ENCRYPTION_KEY, and so do the snapshots of the customer a booking and a
 * confirmation may carry.
 */
import { z } from 'zod';

export const webhookJobSchema = z.object({
  provider: z.literal('retell'),
  event: z.string().max(64),
  callId: z.string().max(128),
  receivedAt: z.number(),
  /** AES-256-GCM (lib/crypto) of `{event, call}` exactly as the ingress parsed and authenticated it. */
  sealedBody: z.string(),
  /** The company whose own Retell key signed the body; absent: the platform key (RETELL_API_KEY). */
  signerCompanyId: z.number().int().positive().optional(),
});
export type WebhookJob = z.infer<typeof webhookJobSchema>;

export const bookingJobSchema = z.object({
  companyId: z.number().int().positive(),
  branchId: z.number().int().positive(),
  customerId: z.number().int().positive(),
  serviceId: z.number().int().positive(),
  /** Internal calls.id; absent for bookings not made from a call (CLI, MCP). */
  callId: z.number().int().positive().optional(),
  /** Requested start, UTC ISO. */
  start: z.string().datetime(),
  idempotencyKey: z.string().regex(/^[0-9a-f]{64}$/),
  source: z.enum(['call', 'live', 'cli', 'mcp']),
  /**
   * From a webhook: the customer as its upsert stored it, AES-256-GCM (lib/crypto) of the JSON
   * lib/booking/customer-snapshot describes. Absent: the worker reads the customer.
   */
  sealedCustomer: z.string().optional(),
});
export type BookingJob = z.infer<typeof bookingJobSchema>;

export const notificationJobSchema = z
  .object({
    kind: z.enum(['booking_confirmed', 'booking_failed', 'breaker_opened']),
    companyId: z.number().int().positive().optional(),
    appointmentId: z.number().int().positive().optional(),
    /** breaker_opened: which service. */
    service: z.string().max(64).optional(),
    at: z.number().optional(),
    /**
     * booking_confirmed from the bookings worker: customer and appointment as booked, AES-256-GCM
     * (lib/crypto) of the JSON lib/notifications/snapshot describes. Absent: the worker reads them.
     */
    sealedSnapshot: z.string().optional(),
  })
  .refine((j) => j.sealedSnapshot === undefined || j.kind === 'booking_confirmed', { path: ['sealedSnapshot'], message: 'only booking_confirmed jobs carry one' });
export type NotificationJob = z.infer<typeof notificationJobSchema>;

export const syncJobSchema = z.object({
  /** full = all of the below */
  kind: z.enum(['full', 'retell_numbers', 'retell_agents', 'calcom_event_types']),
  /** Limit to one company; absent = every company (and the global Retell key). */
  companyId: z.number().int().positive().optional(),
});
export type SyncJob = z.infer<typeof syncJobSchema>;

/** A reconcile run on the `sync` queue (job name `reconcile`; lib/calls/reconcile). */
export const reconcileJobSchema = z.object({
  companyId: z.number().int().positive().optional(),
  /** Look back this far instead of from the watermark. */
  sinceMs: z.number().int().positive().optional(),
});
export type ReconcileJob = z.infer<typeof reconcileJobSchema>;

/** Housekeeping on the `default` queue. GDPR jobs name the customer by id: no phone number in Redis. */
export const defaultJobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('retention_purge'), companyId: z.number().int().positive().optional() }),
  z.object({ kind: z.literal('gdpr_export'), companyId: z.number().int().positive(), customerId: z.number().int().positive(), requestedBy: z.string().max(200) }),
  z.object({
    kind: z.literal('gdpr_erase'),
    companyId: z.number().int().positive(),
    customerId: z.number().int().positive(),
    requestedBy: z.string().max(200),
    /** Cancel the customer's upcoming Cal.com bookings (true) or keep them (false). */
    cancelBookings: z.boolean(),
  }),
]);
export type DefaultJob = z.infer<typeof defaultJobSchema>;
