import {
  __export
} from "./chunk-54KOYG5C.js";

// lib/metrics/index.ts
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
var registry = new Registry();
collectDefaultMetrics({ register: registry });
var webhookTotal = new Counter({
  name: "mcp_webhook_total",
  help: "Retell webhooks received, by outcome",
  labelNames: ["status"],
  registers: [registry]
});
var callsProcessedTotal = new Counter({
  name: "callbook_calls_processed_total",
  help: "Calls whose booking decision was taken, by outcome",
  labelNames: ["outcome"],
  registers: [registry]
});
var bookingTotal = new Counter({
  name: "mcp_booking_total",
  help: "Booking attempts by outcome",
  labelNames: ["status"],
  registers: [registry]
});
var appointmentsCreatedTotal = new Counter({
  name: "callbook_appointments_created_total",
  help: "Appointments created, by source",
  labelNames: ["source"],
  registers: [registry]
});
var circuitBreakerState = new Gauge({
  name: "mcp_circuit_breaker_state",
  help: "Circuit breaker state per service: 0 closed, 1 half-open, 2 open",
  labelNames: ["service"],
  registers: [registry]
});
var cacheHitsTotal = new Counter({
  name: "mcp_cache_hits_total",
  help: "Cache hits by level",
  labelNames: ["cache"],
  registers: [registry]
});
var apiDuration = new Histogram({
  name: "mcp_api_duration_seconds",
  help: "External API call duration",
  labelNames: ["service", "method"],
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry]
});
var jobDuration = new Histogram({
  name: "callbook_job_duration_seconds",
  help: "Job processing time per queue and outcome",
  labelNames: ["queue", "outcome"],
  buckets: [5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry]
});
var dbQueryDuration = new Histogram({
  name: "mcp_db_query_duration_seconds",
  help: "Database statement duration by operation (verb and table)",
  labelNames: ["op"],
  buckets: [5e-4, 1e-3, 25e-4, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5],
  registers: [registry]
});
var dbBreakerState = new Gauge({
  name: "callbook_db_breaker_state",
  help: "Database circuit breaker per process: 0 closed, 1 half-open, 2 open (max over processes)",
  registers: [registry]
});
var satisfactionScore = new Gauge({
  name: "callbook_customer_satisfaction_ratio",
  help: "Latest call sentiment per branch (company and branch slug): 1 positive, 0.5 neutral, 0 negative",
  labelNames: ["company", "branch"],
  registers: [registry]
});
var workerServing = new Gauge({
  name: "callbook_worker_serving",
  help: "Queues this worker process serves (1 each)",
  labelNames: ["queue"],
  registers: [registry]
});
var inboundAnswersTotal = new Counter({
  name: "callbook_inbound_answers_total",
  help: "Inbound-call webhooks answered, by outcome: answered, deadline_missed (empty answer after INBOUND_DEADLINE_MS), failed, malformed",
  labelNames: ["outcome"],
  registers: [registry]
});
for (const status of ["accepted", "ignored"]) webhookTotal.labels(status).inc(0);
for (const status of ["created", "failed", "cached"]) bookingTotal.labels(status).inc(0);
for (const outcome of ["booked", "no_booking", "failed"]) callsProcessedTotal.labels(outcome).inc(0);
for (const cache of ["l1", "l2"]) cacheHitsTotal.labels(cache).inc(0);
for (const outcome of ["answered", "deadline_missed", "failed", "malformed"]) inboundAnswersTotal.labels(outcome).inc(0);

// drizzle/schema.ts
var schema_exports = {};
__export(schema_exports, {
  apiTokens: () => apiTokens,
  appointments: () => appointments,
  auditLog: () => auditLog,
  branches: () => branches,
  calls: () => calls,
  companies: () => companies,
  customers: () => customers,
  notifications: () => notifications,
  phoneNumbers: () => phoneNumbers,
  retellPhoneNumbers: () => retellPhoneNumbers,
  services: () => services,
  syncRuns: () => syncRuns,
  webhookEvents: () => webhookEvents
});
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  datetime,
  customType,
  index,
  int,
  mediumtext,
  mysqlTable,
  text,
  timestamp,
  uniqueIndex,
  varchar
} from "drizzle-orm/mysql-core";
var json = (name) => customType({
  dataType: () => "json",
  toDriver: (value) => JSON.stringify(value),
  fromDriver: (value) => typeof value === "string" ? JSON.parse(value) : value
})(name);
var id = () => bigint("id", { mode: "number", unsigned: true }).autoincrement().primaryKey();
var ref = (name) => bigint(name, { mode: "number", unsigned: true });
var createdAt = () => timestamp("created_at", { fsp: 3 }).notNull().default(sql`CURRENT_TIMESTAMP(3)`);
var updatedAt = () => (
  // Set by drizzle on update: MySQL rejects ON UPDATE CURRENT_TIMESTAMP without a matching precision.
  timestamp("updated_at", { fsp: 3 }).notNull().default(sql`CURRENT_TIMESTAMP(3)`).$onUpdate(() => /* @__PURE__ */ new Date())
);
var companies = mysqlTable(
  "companies",
  {
    id: id(),
    slug: varchar("slug", { length: 64 }).notNull(),
    name: varchar("name", { length: 200 }).notNull(),
    language: varchar("language", { length: 8 }).notNull().default("de"),
    /** AES-256-GCM ciphertexts (lib/crypto); never stored in clear. */
    retellApiKeyEnc: text("retell_api_key_enc"),
    calcomApiKeyEnc: text("calcom_api_key_enc"),
    calcomWebhookSecretEnc: text("calcom_webhook_secret_enc"),
    calcomUsername: varchar("calcom_username", { length: 100 }),
    retentionDays: int("retention_days").notNull().default(365),
    operatorEmails: json("operator_emails").notNull().$defaultFn(() => []),
    /** Customers' name/email/phone and calls' words stored AES-256-GCM encrypted (lib/pii); null = PII_ENCRYPTION_DEFAULT. */
    piiEncryption: boolean("pii_encryption"),
    createdAt: createdAt(),
    updatedAt: updatedAt()
  },
  (t) => [uniqueIndex("companies_slug_uq").on(t.slug)]
);
var branches = mysqlTable(
  "branches",
  {
    id: id(),
    companyId: ref("company_id").notNull(),
    slug: varchar("slug", { length: 64 }).notNull(),
    name: varchar("name", { length: 200 }).notNull(),
    timezone: varchar("timezone", { length: 64 }).notNull(),
    language: varchar("language", { length: 8 }).notNull().default("de"),
    openingHours: varchar("opening_hours", { length: 500 }),
    defaultServiceId: ref("default_service_id"),
    createdAt: createdAt(),
    updatedAt: updatedAt()
  },
  (t) => [uniqueIndex("branches_company_slug_uq").on(t.companyId, t.slug)]
);
var phoneNumbers = mysqlTable(
  "phone_numbers",
  {
    id: id(),
    e164: varchar("e164", { length: 20 }).notNull(),
    companyId: ref("company_id").notNull(),
    branchId: ref("branch_id").notNull(),
    retellAgentId: varchar("retell_agent_id", { length: 100 }),
    nickname: varchar("nickname", { length: 200 }),
    createdAt: createdAt(),
    updatedAt: updatedAt()
  },
  (t) => [uniqueIndex("phone_numbers_e164_uq").on(t.e164), index("phone_numbers_company_idx").on(t.companyId)]
);
var services = mysqlTable(
  "services",
  {
    id: id(),
    companyId: ref("company_id").notNull(),
    /** null: offered by every branch of the company. */
    branchId: ref("branch_id"),
    slug: varchar("slug", { length: 64 }).notNull(),
    name: varchar("name", { length: 200 }).notNull(),
    calcomEventTypeId: int("calcom_event_type_id").notNull(),
    /** Data, never code: Cal.com finds the team from the event type; this serves discovery and checks. */
    calcomTeamId: int("calcom_team_id"),
    durationMinutes: int("duration_minutes").notNull(),
    aliases: json("aliases").notNull().$defaultFn(() => []),
    createdAt: createdAt(),
    updatedAt: updatedAt()
  },
  (t) => [uniqueIndex("services_company_slug_uq").on(t.companyId, t.slug)]
);
var customers = mysqlTable(
  "customers",
  {
    id: id(),
    companyId: ref("company_id").notNull(),
    /** E.164, or its ciphertext when the company encrypts PII (lib/pii); `erased-<id>` after an erasure. */
    phone: varchar("phone", { length: 512 }).notNull(),
    /** Blind index of the phone (lib/pii phoneIndex): the only column phone lookups use. */
    phoneIndex: varchar("phone_index", { length: 64 }).notNull(),
    name: varchar("name", { length: 1536 }),
    email: varchar("email", { length: 1536 }),
    /** Set by GDPR erase: name, email and phone are gone; the row stays so history keeps its shape. */
    erasedAt: datetime("erased_at", { fsp: 3 }),
    createdAt: createdAt(),
    updatedAt: updatedAt()
  },
  (t) => [uniqueIndex("customers_company_phone_index_uq").on(t.companyId, t.phoneIndex)]
);
var calls = mysqlTable(
  "calls",
  {
    id: id(),
    retellCallId: varchar("retell_call_id", { length: 100 }).notNull(),
    companyId: ref("company_id").notNull(),
    branchId: ref("branch_id").notNull(),
    customerId: ref("customer_id"),
    agentId: varchar("agent_id", { length: 100 }),
    direction: varchar("direction", { length: 16 }),
    fromNumber: varchar("from_number", { length: 512 }),
    toNumber: varchar("to_number", { length: 512 }),
    /** Blind index of the customer's number (lib/pii phoneIndex), for search by phone. */
    callerIndex: varchar("caller_index", { length: 64 }),
    status: varchar("status", { length: 20 }).notNull(),
    startedAt: datetime("started_at", { fsp: 3 }),
    endedAt: datetime("ended_at", { fsp: 3 }),
    durationMs: int("duration_ms"),
    disconnectionReason: varchar("disconnection_reason", { length: 64 }),
    transcript: mediumtext("transcript"),
    summary: text("summary"),
    sentiment: varchar("sentiment", { length: 16 }),
    recordingUrl: varchar("recording_url", { length: 2048 }),
    dynamicVariables: json("dynamic_variables"),
    analysisData: json("analysis_data"),
    /** Set exactly once (see lib/calls/decide-booking): 'book' or 'no_booking'. */
    bookingDecision: varchar("booking_decision", { length: 16 }),
    bookingReason: varchar("booking_reason", { length: 500 }),
    /** What the decision asked for, so a retry after a crash re-enqueues the very same job. */
    bookingRequest: json("booking_request"),
    appointmentId: ref("appointment_id"),
    /** Set when retention removed transcript, summary and recording. */
    purgedAt: datetime("purged_at", { fsp: 3 }),
    createdAt: createdAt(),
    updatedAt: updatedAt()
  },
  (t) => [
    uniqueIndex("calls_retell_call_id_uq").on(t.retellCallId),
    index("calls_company_idx").on(t.companyId, t.createdAt),
    index("calls_caller_index_idx").on(t.companyId, t.callerIndex)
  ]
);
var appointments = mysqlTable(
  "appointments",
  {
    id: id(),
    companyId: ref("company_id").notNull(),
    branchId: ref("branch_id").notNull(),
    customerId: ref("customer_id").notNull(),
    callId: ref("call_id"),
    serviceId: ref("service_id").notNull(),
    idempotencyKey: varchar("idempotency_key", { length: 64 }).notNull(),
    calcomBookingUid: varchar("calcom_booking_uid", { length: 100 }),
    calcomBookingId: int("calcom_booking_id"),
    startAt: datetime("start_at", { fsp: 3 }).notNull(),
    endAt: datetime("end_at", { fsp: 3 }),
    /** pending | booked | failed | cancelled | rescheduled */
    status: varchar("status", { length: 16 }).notNull(),
    failureReason: varchar("failure_reason", { length: 1e3 }),
    alternatives: json("alternatives"),
    /** Set before the create request goes out: a later attempt that finds it set must reconcile with Cal.com first. */
    calcomRequestSentAt: datetime("calcom_request_sent_at", { fsp: 3 }),
    attempts: int("attempts").notNull().default(0),
    source: varchar("source", { length: 16 }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt()
  },
  (t) => [
    uniqueIndex("appointments_idempotency_key_uq").on(t.idempotencyKey),
    uniqueIndex("appointments_calcom_uid_uq").on(t.calcomBookingUid),
    index("appointments_company_customer_idx").on(t.companyId, t.customerId)
  ]
);
var webhookEvents = mysqlTable(
  "webhook_events",
  {
    id: id(),
    provider: varchar("provider", { length: 16 }).notNull(),
    dedupeKey: varchar("dedupe_key", { length: 191 }).notNull(),
    companyId: ref("company_id"),
    eventType: varchar("event_type", { length: 64 }).notNull(),
    externalId: varchar("external_id", { length: 100 }),
    /** processing | processed | ignored | rejected | failed */
    status: varchar("status", { length: 16 }).notNull(),
    error: varchar("error", { length: 1e3 }),
    attempts: int("attempts").notNull().default(1),
    receivedAt: datetime("received_at", { fsp: 3 }).notNull(),
    processedAt: datetime("processed_at", { fsp: 3 }),
    createdAt: createdAt(),
    updatedAt: updatedAt()
  },
  (t) => [uniqueIndex("webhook_events_provider_key_uq").on(t.provider, t.dedupeKey), index("webhook_events_status_idx").on(t.status)]
);
var auditLog = mysqlTable(
  "audit_log",
  {
    id: id(),
    companyId: ref("company_id"),
    actor: varchar("actor", { length: 100 }).notNull(),
    action: varchar("action", { length: 100 }).notNull(),
    target: varchar("target", { length: 200 }),
    details: json("details"),
    createdAt: createdAt()
  },
  (t) => [index("audit_log_company_idx").on(t.companyId, t.createdAt)]
);
var notifications = mysqlTable(
  "notifications",
  {
    id: id(),
    companyId: ref("company_id"),
    /** booking_confirmed | booking_failed | breaker_opened */
    kind: varchar("kind", { length: 32 }).notNull(),
    /** What it is about: an appointment id, or service + time for a breaker. */
    ref: varchar("ref", { length: 100 }).notNull(),
    channel: varchar("channel", { length: 16 }).notNull(),
    /** Masked recipient (e.g. +49*****678): the full address stays in its own table. */
    recipient: varchar("recipient", { length: 200 }),
    /** sending | sent | failed | skipped */
    status: varchar("status", { length: 16 }).notNull(),
    error: varchar("error", { length: 1e3 }),
    sentAt: datetime("sent_at", { fsp: 3 }),
    createdAt: createdAt(),
    updatedAt: updatedAt()
  },
  (t) => [uniqueIndex("notifications_kind_ref_uq").on(t.kind, t.ref)]
);
var retellPhoneNumbers = mysqlTable(
  "retell_phone_numbers",
  {
    id: id(),
    /** Which Retell account (company with its own key), null for the global key. */
    companyId: ref("company_id"),
    e164: varchar("e164", { length: 20 }).notNull(),
    nickname: varchar("nickname", { length: 200 }),
    inboundAgentIds: json("inbound_agent_ids").notNull().$defaultFn(() => []),
    outboundAgentIds: json("outbound_agent_ids").notNull().$defaultFn(() => []),
    inboundWebhookUrl: varchar("inbound_webhook_url", { length: 500 }),
    lastModifiedAt: datetime("last_modified_at", { fsp: 3 }),
    syncedAt: datetime("synced_at", { fsp: 3 }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt()
  },
  (t) => [uniqueIndex("retell_phone_numbers_e164_uq").on(t.e164)]
);
var syncRuns = mysqlTable(
  "sync_runs",
  {
    id: id(),
    companyId: ref("company_id"),
    /** running | ok | problems | failed */
    status: varchar("status", { length: 16 }).notNull(),
    report: json("report"),
    startedAt: datetime("started_at", { fsp: 3 }).notNull(),
    finishedAt: datetime("finished_at", { fsp: 3 })
  },
  (t) => [index("sync_runs_started_idx").on(t.startedAt)]
);
var apiTokens = mysqlTable(
  "api_tokens",
  {
    id: id(),
    companyId: ref("company_id").notNull(),
    branchId: ref("branch_id"),
    name: varchar("name", { length: 100 }).notNull(),
    tokenHash: varchar("token_hash", { length: 64 }).notNull(),
    lastUsedAt: datetime("last_used_at", { fsp: 3 }),
    revokedAt: datetime("revoked_at", { fsp: 3 }),
    createdAt: createdAt()
  },
  (t) => [uniqueIndex("api_tokens_hash_uq").on(t.tokenHash), index("api_tokens_company_idx").on(t.companyId)]
);

export {
  registry,
  webhookTotal,
  callsProcessedTotal,
  bookingTotal,
  appointmentsCreatedTotal,
  circuitBreakerState,
  cacheHitsTotal,
  apiDuration,
  jobDuration,
  dbQueryDuration,
  dbBreakerState,
  satisfactionScore,
  workerServing,
  inboundAnswersTotal,
  companies,
  branches,
  phoneNumbers,
  services,
  customers,
  calls,
  appointments,
  webhookEvents,
  auditLog,
  notifications,
  retellPhoneNumbers,
  syncRuns,
  apiTokens,
  schema_exports
};
//# sourceMappingURL=chunk-AQ2OROU7.js.map
