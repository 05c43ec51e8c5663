import {
  queueTelemetry
} from "./chunk-7WOGBSIY.js";

// lib/queues/names.ts
var QUEUE_NAMES = ["webhooks", "bookings", "sync", "notifications", "default"];
var JOB_TIMEOUT_MS = {
  webhooks: 6e4,
  bookings: 12e4,
  sync: 3e5,
  notifications: 6e4,
  default: 18e4
};
function concurrencyOf(config, queue) {
  return config[CONCURRENCY_SETTING[queue]];
}
var CONCURRENCY_SETTING = {
  webhooks: "CONCURRENCY_WEBHOOKS",
  bookings: "CONCURRENCY_BOOKINGS",
  sync: "CONCURRENCY_SYNC",
  notifications: "CONCURRENCY_NOTIFICATIONS",
  default: "CONCURRENCY_DEFAULT"
};
function isQueueName(s) {
  return QUEUE_NAMES.includes(s);
}
function idPart(s) {
  return s.replace(/[^A-Za-z0-9_.-]/g, "_");
}
var jobIds = {
  retellWebhook: (callId, event) => `retell-${idPart(callId)}-${idPart(event)}`,
  booking: (idempotencyKey) => `booking-${idempotencyKey}`,
  /** One message per appointment and event, however often it is asked for. */
  notification: (kind, ref) => `notify-${idPart(kind)}-${idPart(String(ref))}`
};
function bullPrefix(prefix) {
  return `{${prefix || "callbook"}}`;
}

// lib/queues/payloads.ts
import { z } from "zod";
var webhookJobSchema = z.object({
  provider: z.literal("retell"),
  event: z.string(),
  callId: z.string(),
  receivedAt: z.number(),
  /** AES-256-GCM of the raw webhook body (lib/crypto). */
  sealedBody: z.string()
});
var bookingJobSchema = z.object({
  companyId: z.number().int().positive(),
  branchId: z.number().int().positive(),
  customerId: z.number().int().positive(),
  serviceId: z.number().int().positive(),
  /** Internal calls.id; absent for bookings not made from a call (CLI, MCP). */
  callId: z.number().int().positive().optional(),
  /** Requested start, UTC ISO. */
  start: z.string().datetime(),
  idempotencyKey: z.string().regex(/^[0-9a-f]{64}$/),
  source: z.enum(["call", "live", "cli", "mcp"])
});
var notificationJobSchema = z.object({
  kind: z.enum(["booking_confirmed", "booking_failed", "breaker_opened"]),
  companyId: z.number().int().positive().optional(),
  appointmentId: z.number().int().positive().optional(),
  /** breaker_opened: which service. */
  service: z.string().optional(),
  at: z.number().optional()
});
var syncJobSchema = z.object({
  /** full = all of the below */
  kind: z.enum(["full", "retell_numbers", "retell_agents", "calcom_event_types"]),
  /** Limit to one company; absent = every company (and the global Retell key). */
  companyId: z.number().int().positive().optional()
});
var defaultJobSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("retention_purge"), companyId: z.number().int().positive().optional() }),
  z.object({ kind: z.literal("gdpr_export"), companyId: z.number().int().positive(), customerId: z.number().int().positive(), requestedBy: z.string() }),
  z.object({
    kind: z.literal("gdpr_erase"),
    companyId: z.number().int().positive(),
    customerId: z.number().int().positive(),
    requestedBy: z.string(),
    /** Cancel the customer's upcoming Cal.com bookings (true) or keep them (false). */
    cancelBookings: z.boolean()
  })
]);

// lib/queues/index.ts
import { Queue } from "bullmq";
var keepCompleted = { age: 24 * 3600, count: 5e3 };
var keepFailed = { age: 14 * 24 * 3600, count: 5e4 };
var DEFAULT_JOB_OPTIONS = {
  webhooks: { attempts: 5, backoff: { type: "exponential", delay: 1e3, jitter: 0.5 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
  // 3 attempts at 1 s / 2 s / 4 s (+ jitter), as the design says.
  bookings: { attempts: 3, backoff: { type: "exponential", delay: 1e3, jitter: 0.5 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
  sync: { attempts: 3, backoff: { type: "exponential", delay: 5e3 }, removeOnComplete: { count: 100 }, removeOnFail: { count: 1e3 } },
  notifications: { attempts: 5, backoff: { type: "exponential", delay: 2e3, jitter: 0.5 }, removeOnComplete: keepCompleted, removeOnFail: keepFailed },
  default: { attempts: 3, backoff: { type: "exponential", delay: 5e3 }, removeOnComplete: { count: 1e3 }, removeOnFail: keepFailed }
};
function createQueues(connection, prefix) {
  const entries = QUEUE_NAMES.map((name) => [
    name,
    new Queue(name, { connection, prefix: bullPrefix(prefix), defaultJobOptions: DEFAULT_JOB_OPTIONS[name], telemetry: queueTelemetry() })
  ]);
  return Object.fromEntries(entries);
}
async function closeQueues(queues) {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}

export {
  QUEUE_NAMES,
  JOB_TIMEOUT_MS,
  concurrencyOf,
  isQueueName,
  jobIds,
  bullPrefix,
  webhookJobSchema,
  bookingJobSchema,
  notificationJobSchema,
  syncJobSchema,
  defaultJobSchema,
  createQueues,
  closeQueues
};
//# sourceMappingURL=chunk-Z42SQZT6.js.map
