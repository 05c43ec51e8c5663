/**
 * The data model. Every tenant-owned table carries company_id and every query filters on it;
 * unique keys are the last line of defence for idempotency (calls per Retell call id,
 * appointments per idempotency key and Cal.com uid, webhook_events per dedupe key).
 */
import { sql } from 'drizzle-orm';
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
  varchar,
} from 'drizzle-orm/mysql-core';

/** JSON stored as JSON; MariaDB hands it back as text, so parse on the way out. */
const json = <T>(name: string) =>
  customType<{ data: T; driverData: string }>({
    dataType: () => 'json',
    toDriver: (value) => JSON.stringify(value),
    fromDriver: (value) => (typeof value === 'string' ? (JSON.parse(value) as T) : (value as T)),
  })(name);

const id = () => bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey();
const ref = (name: string) => bigint(name, { mode: 'number', unsigned: true });
const createdAt = () => timestamp('created_at', { fsp: 3 }).notNull().default(sql`CURRENT_TIMESTAMP(3)`);
const updatedAt = () =>
    // Set by drizzle on update: MySQL rejects ON UPDATE CURRENT_TIMESTAMP without a matching precision.
  timestamp('updated_at', { fsp: 3 }).notNull().default(sql`CURRENT_TIMESTAMP(3)`).$onUpdate(() => new Date());

export const companies = mysqlTable(
  'companies',
  {
    id: id(),
    slug: varchar('slug', { length: 64 }).notNull(),
    name: varchar('name', { length: 200 }).notNull(),
    language: varchar('language', { length: 8 }).notNull().default('de'),
    /** AES-256-GCM ciphertexts (lib/crypto); never stored in clear. */
    retellApiKeyEnc: text('retell_api_key_enc'),
    calcomApiKeyEnc: text('calcom_api_key_enc'),
    calcomWebhookSecretEnc: text('calcom_webhook_secret_enc'),
    calcomUsername: varchar('calcom_username', { length: 100 }),
    retentionDays: int('retention_days').notNull().default(365),
    operatorEmails: json<string[]>('operator_emails').notNull().$defaultFn(() => []),
    /** Customers' name/email/phone and calls' words stored AES-256-GCM encrypted (lib/pii); null = PII_ENCRYPTION_DEFAULT. */
    piiEncryption: boolean('pii_encryption'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('companies_slug_uq').on(t.slug)],
);

export const branches = mysqlTable(
  'branches',
  {
    id: id(),
    companyId: ref('company_id').notNull(),
    slug: varchar('slug', { length: 64 }).notNull(),
    name: varchar('name', { length: 200 }).notNull(),
    timezone: varchar('timezone', { length: 64 }).notNull(),
    language: varchar('language', { length: 8 }).notNull().default('de'),
    openingHours: varchar('opening_hours', { length: 500 }),
    defaultServiceId: ref('default_service_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('branches_company_slug_uq').on(t.companyId, t.slug)],
);

export const phoneNumbers = mysqlTable(
  'phone_numbers',
  {
    id: id(),
    e164: varchar('e164', { length: 20 }).notNull(),
    companyId: ref('company_id').notNull(),
    branchId: ref('branch_id').notNull(),
    retellAgentId: varchar('retell_agent_id', { length: 100 }),
    nickname: varchar('nickname', { length: 200 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('phone_numbers_e164_uq').on(t.e164), index('phone_numbers_company_idx').on(t.companyId)],
);

export const services = mysqlTable(
  'services',
  {
    id: id(),
    companyId: ref('company_id').notNull(),
    /** null: offered by every branch of the company. */
    branchId: ref('branch_id'),
    slug: varchar('slug', { length: 64 }).notNull(),
    name: varchar('name', { length: 200 }).notNull(),
    calcomEventTypeId: int('calcom_event_type_id').notNull(),
    /** Data, never code: Cal.com finds the team from the event type; this serves discovery and checks. */
    calcomTeamId: int('calcom_team_id'),
    durationMinutes: int('duration_minutes').notNull(),
    aliases: json<string[]>('aliases').notNull().$defaultFn(() => []),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('services_company_slug_uq').on(t.companyId, t.slug)],
);

export const customers = mysqlTable(
  'customers',
  {
    id: id(),
    companyId: ref('company_id').notNull(),
    /** E.164, or its ciphertext when the company encrypts PII (lib/pii); `erased-<id>` after an erasure. */
    phone: varchar('phone', { length: 512 }).notNull(),
    /** Blind index of the phone (lib/pii phoneIndex): the only column phone lookups use. */
    phoneIndex: varchar('phone_index', { length: 64 }).notNull(),
    name: varchar('name', { length: 1536 }),
    email: varchar('email', { length: 1536 }),
    /** Set by GDPR erase: name, email and phone are gone; the row stays so history keeps its shape. */
    erasedAt: datetime('erased_at', { fsp: 3 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('customers_company_phone_index_uq').on(t.companyId, t.phoneIndex)],
);

export const calls = mysqlTable(
  'calls',
  {
    id: id(),
    retellCallId: varchar('retell_call_id', { length: 100 }).notNull(),
    companyId: ref('company_id').notNull(),
    branchId: ref('branch_id').notNull(),
    customerId: ref('customer_id'),
    agentId: varchar('agent_id', { length: 100 }),
    direction: varchar('direction', { length: 16 }),
    fromNumber: varchar('from_number', { length: 512 }),
    toNumber: varchar('to_number', { length: 512 }),
    /** Blind index of the customer's number (lib/pii phoneIndex), for search by phone. */
    callerIndex: varchar('caller_index', { length: 64 }),
    status: varchar('status', { length: 20 }).notNull(),
    startedAt: datetime('started_at', { fsp: 3 }),
    endedAt: datetime('ended_at', { fsp: 3 }),
    durationMs: int('duration_ms'),
    disconnectionReason: varchar('disconnection_reason', { length: 64 }),
    transcript: mediumtext('transcript'),
    summary: text('summary'),
    sentiment: varchar('sentiment', { length: 16 }),
    recordingUrl: varchar('recording_url', { length: 2048 }),
    dynamicVariables: json<Record<string, unknown>>('dynamic_variables'),
    analysisData: json<Record<string, unknown>>('analysis_data'),
    /** Set exactly once (see lib/calls/decide-booking): 'book' or 'no_booking'. */
    bookingDecision: varchar('booking_decision', { length: 16 }),
    bookingReason: varchar('booking_reason', { length: 500 }),
    /** What the decision asked for, so a retry after a crash re-enqueues the very same job. */
    bookingRequest: json<{ serviceId: number; start: string; idempotencyKey: string }>('booking_request'),
    appointmentId: ref('appointment_id'),
    /** Set when retention removed transcript, summary and recording. */
    purgedAt: datetime('purged_at', { fsp: 3 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('calls_retell_call_id_uq').on(t.retellCallId),
    index('calls_company_idx').on(t.companyId, t.createdAt),
    index('calls_caller_index_idx').on(t.companyId, t.callerIndex),
  ],
);

export const appointments = mysqlTable(
  'appointments',
  {
    id: id(),
    companyId: ref('company_id').notNull(),
    branchId: ref('branch_id').notNull(),
    customerId: ref('customer_id').notNull(),
    callId: ref('call_id'),
    serviceId: ref('service_id').notNull(),
    idempotencyKey: varchar('idempotency_key', { length: 64 }).notNull(),
    calcomBookingUid: varchar('calcom_booking_uid', { length: 100 }),
    calcomBookingId: int('calcom_booking_id'),
    startAt: datetime('start_at', { fsp: 3 }).notNull(),
    endAt: datetime('end_at', { fsp: 3 }),
    /** pending | booked | failed | cancelled | rescheduled */
    status: varchar('status', { length: 16 }).notNull(),
    failureReason: varchar('failure_reason', { length: 1000 }),
    alternatives: json<string[]>('alternatives'),
    /** Set before the create request goes out: a later attempt that finds it set must reconcile with Cal.com first. */
    calcomRequestSentAt: datetime('calcom_request_sent_at', { fsp: 3 }),
    attempts: int('attempts').notNull().default(0),
    source: varchar('source', { length: 16 }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('appointments_idempotency_key_uq').on(t.idempotencyKey),
    uniqueIndex('appointments_calcom_uid_uq').on(t.calcomBookingUid),
    index('appointments_company_customer_idx').on(t.companyId, t.customerId),
    // A call's appointment(s): the console's outcome of a call whose booking has not landed, calls_get.
    index('appointments_company_call_idx').on(t.companyId, t.callId),
  ],
);

export const webhookEvents = mysqlTable(
  'webhook_events',
  {
    id: id(),
    provider: varchar('provider', { length: 16 }).notNull(),
    dedupeKey: varchar('dedupe_key', { length: 191 }).notNull(),
    companyId: ref('company_id'),
    eventType: varchar('event_type', { length: 64 }).notNull(),
    externalId: varchar('external_id', { length: 100 }),
    /** processing | processed | ignored | rejected | failed */
    status: varchar('status', { length: 16 }).notNull(),
    error: varchar('error', { length: 1000 }),
    attempts: int('attempts').notNull().default(1),
    receivedAt: datetime('received_at', { fsp: 3 }).notNull(),
    processedAt: datetime('processed_at', { fsp: 3 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('webhook_events_provider_key_uq').on(t.provider, t.dedupeKey), index('webhook_events_status_idx').on(t.status)],
);

export const auditLog = mysqlTable(
  'audit_log',
  {
    id: id(),
    companyId: ref('company_id'),
    actor: varchar('actor', { length: 100 }).notNull(),
    action: varchar('action', { length: 100 }).notNull(),
    target: varchar('target', { length: 200 }),
    details: json<Record<string, unknown>>('details'),
    createdAt: createdAt(),
  },
  (t) => [index('audit_log_company_idx').on(t.companyId, t.createdAt)],
);

/** Messages sent (or refused) per appointment and event: the unique key makes "at most one" hold. */
export const notifications = mysqlTable(
  'notifications',
  {
    id: id(),
    companyId: ref('company_id'),
    /** booking_confirmed | booking_failed | breaker_opened */
    kind: varchar('kind', { length: 32 }).notNull(),
    /** What it is about: an appointment id, or service + time for a breaker. */
    ref: varchar('ref', { length: 100 }).notNull(),
    channel: varchar('channel', { length: 16 }).notNull(),
    /** Masked recipient (e.g. +49*****678): the full address stays in its own table. */
    recipient: varchar('recipient', { length: 200 }),
    /** sending | sent | failed | skipped */
    status: varchar('status', { length: 16 }).notNull(),
    error: varchar('error', { length: 1000 }),
    sentAt: datetime('sent_at', { fsp: 3 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('notifications_kind_ref_uq').on(t.kind, t.ref)],
);

/** Retell's phone numbers as last synced: the inventory, whether or not a branch is mapped yet. */
export const retellPhoneNumbers = mysqlTable(
  'retell_phone_numbers',
  {
    id: id(),
    /** Which Retell account (company with its own key), null for the global key. */
    companyId: ref('company_id'),
    e164: varchar('e164', { length: 20 }).notNull(),
    nickname: varchar('nickname', { length: 200 }),
    inboundAgentIds: json<string[]>('inbound_agent_ids').notNull().$defaultFn(() => []),
    outboundAgentIds: json<string[]>('outbound_agent_ids').notNull().$defaultFn(() => []),
    inboundWebhookUrl: varchar('inbound_webhook_url', { length: 500 }),
    lastModifiedAt: datetime('last_modified_at', { fsp: 3 }),
    syncedAt: datetime('synced_at', { fsp: 3 }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('retell_phone_numbers_e164_uq').on(t.e164)],
);

/** One row per sync run: what was imported and every problem found (mismatched webhooks, vanished event types). */
export const syncRuns = mysqlTable(
  'sync_runs',
  {
    id: id(),
    companyId: ref('company_id'),
    /** running | ok | problems | failed */
    status: varchar('status', { length: 16 }).notNull(),
    report: json<Record<string, unknown>>('report'),
    startedAt: datetime('started_at', { fsp: 3 }).notNull(),
    finishedAt: datetime('finished_at', { fsp: 3 }),
  },
  (t) => [index('sync_runs_started_idx').on(t.startedAt)],
);

/**
 * Reconcile's progress per Retell account (`global` or `company:<id>`): every call that ended up
 * to `watermark` has been looked at (lib/calls/reconcile). The next run starts there, so an
 * outage of any length up to the window cap is covered.
 */
export const reconcileWatermarks = mysqlTable('reconcile_watermarks', {
  account: varchar('account', { length: 64 }).primaryKey(),
  companyId: ref('company_id'),
  watermark: datetime('watermark', { fsp: 3 }).notNull(),
  updatedAt: updatedAt(),
});

/**
 * Scoped access tokens for /mcp, /events and operator routes: a company's (branch_id null) or one
 * branch's. Only a SHA-256 of the token is stored; the token is shown once when created.
 */
export const apiTokens = mysqlTable(
  'api_tokens',
  {
    id: id(),
    companyId: ref('company_id').notNull(),
    branchId: ref('branch_id'),
    name: varchar('name', { length: 100 }).notNull(),
    tokenHash: varchar('token_hash', { length: 64 }).notNull(),
    lastUsedAt: datetime('last_used_at', { fsp: 3 }),
    revokedAt: datetime('revoked_at', { fsp: 3 }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('api_tokens_hash_uq').on(t.tokenHash), index('api_tokens_company_idx').on(t.companyId)],
);

/**
 * Deployment-wide states, one row each (lib/pii/plain-index: `plain_phone_index` moves
 * open → closing → retired as `callbook keys rotate` takes customers off the pre-key plain index).
 */
export const systemState = mysqlTable('system_state', {
  name: varchar('name', { length: 64 }).primaryKey(),
  value: varchar('value', { length: 32 }).notNull(),
  updatedAt: updatedAt(),
});
