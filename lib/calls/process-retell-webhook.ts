/**
 * One Retell call webhook, from sealed job payload to database: resolve the dialled number, find
 * or create the customer in that company (the same statement checks the inbox: an event already
 * handled is a duplicate), merge the call together with the booking decision (worked out first,
 * written by the same statement), queue the booking, record the event in the inbox. Three
 * statements when all goes as expected. Every step is idempotent, so a retried or duplicated job
 * converges on one result.
 */
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { TieredCache } from '../cache';
import type { Cipher } from '../crypto';
import type { Db } from '../db';
import type { LiveEvent } from '../events';
import { satisfactionScore } from '../metrics';
import { openSealedPayload, type WebhookJob } from '../queues';
import { webhookSchema } from '../retell/webhook';
import { extractIntent } from './booking-intent';
import { decideBooking, decisionColumns, decisionRecorded, followDecision, proposeDecision, type Decision } from './decide-booking';
import { callAfterUpsert, upsertCallDeciding, upsertCustomer } from './record-call';
import { blindIndexKeyMissing } from '../pii';
import { assertPlainIndexOpen } from '../pii/plain-index';
import { resolvePhone } from './resolve-phone';
import type { CustomerSnapshot } from '../booking/customer-snapshot';
import { eventDoneOfCall, recordEvent, retellDedupeKey, type InboxKey, type InboxStatus } from './webhook-inbox';

export interface WebhookDeps {
  db: Db;
  cache: TieredCache;
  cipher: Cipher;
  bookingsQueue: Queue;
  logger: Logger;
  /** Live updates (/events); absent in tests that don't listen. */
  publish?: (event: LiveEvent) => Promise<void>;
}

export type WebhookOutcome =
  /** `purged`: the call was purged too, so the job must not keep the body (workers/webhooks). */
  | { status: 'duplicate'; purged?: true }
  | { status: 'rejected'; reason: string; /** The call was purged: the webhook brought back what was removed. */ purged?: true }
  | { status: 'processed'; callRowId: number; companyId: number; decision: Decision };

const SENTIMENT_SCORE: Record<string, number> = { Positive: 1, Neutral: 0.5, Negative: 0 };

export async function processRetellWebhook(deps: WebhookDeps, job: WebhookJob, signal?: AbortSignal): Promise<WebhookOutcome> {
  const { db, logger } = deps;
  const { event, call } = openSealedPayload(deps.cipher, 'webhooks', 'sealedBody', job.sealedBody, webhookSchema);
  const key: InboxKey = { provider: 'retell', dedupeKey: retellDedupeKey(call.call_id, event, job.signerCompanyId) };
  const log = logger.child({ callId: call.call_id, event });
  const meta = { eventType: event, externalId: call.call_id, receivedAt: new Date(job.receivedAt) };
  const duplicate = (purged = false): WebhookOutcome => {
    log.info({ purged }, 'duplicate delivery, already processed');
    return purged ? { status: 'duplicate', purged: true } : { status: 'duplicate' };
  };
  /** Record the event's end in the inbox; false when an earlier delivery had already recorded one. */
  const record = (status: Exclude<InboxStatus, 'processing'>, extra: { companyId?: number; error?: string } = {}) => recordEvent(db, key, meta, status, extra);

  // The business's number is the dialled one inbound, the calling one outbound.
  const outbound = call.direction === 'outbound';
  const businessNumber = outbound ? call.from_number : call.to_number;
  const customerNumber = outbound ? call.to_number : call.from_number;
  if (!businessNumber) {
    const reason = `call has no ${outbound ? 'from_number' : 'to_number'} (web call?): cannot tell which company it belongs to`;
    if (!(await record('rejected', { error: reason }))) return duplicate();
    log.warn({ reason }, 'webhook rejected');
    return { status: 'rejected', reason };
  }
  const where = await resolvePhone(db, deps.cache, businessNumber);
  if (!where) {
    const reason = `unknown number ${businessNumber}: no phone_numbers row maps it to a company (import it with callbook tenants import)`;
    if (!(await record('rejected', { error: reason }))) return duplicate();
    log.warn({ reason }, 'webhook rejected');
    return { status: 'rejected', reason };
  }

  const reject = async (reason: string, status: 'rejected' | 'ignored' = 'rejected'): Promise<WebhookOutcome> => {
    if (!(await record(status, { companyId: where.companyId, error: reason }))) return duplicate(status === 'ignored');
    log.warn({ reason, companyId: where.companyId }, 'webhook rejected');
    return status === 'ignored' ? { status: 'rejected', reason, purged: true } : { status: 'rejected', reason };
  };
  // Signed with a company's own key: that company's number, and nobody else's. The ingress chose
  // the key by this very number, so a difference means the number moved company in between.
  if (job.signerCompanyId !== undefined && job.signerCompanyId !== where.companyId) {
    return reject(`signed with the Retell key of company ${job.signerCompanyId}, but ${businessNumber} belongs to company ${where.companyId}`);
  }

  const intent = extractIntent(call);
  if (intent.notes.length) log.warn({ notes: intent.notes }, 'call variables bounded');
  // No transaction (as in lib/live/book-appointment.ts): both upserts are idempotent, a retry
  // converges on the same rows, and a customer row without its call is harmless. Neither writes
  // anything when the call id is another company's or the call was purged (retention, GDPR
  // erasure: a late webhook would bring the caller's number, name and words back), and the
  // customer upsert nothing when the event was already handled; only then are the inbox and the
  // call row read, to say which.
  let customerId: number | null = null;
  let callRowId: number | null = null;
  // A duplicate of a purged call's event says so: its job drops the body like the first one did.
  const doneAlready = async () => {
    const { done, purged } = await eventDoneOfCall(db, key, call.call_id);
    return done ? duplicate(purged) : null;
  };
  let customer: CustomerSnapshot | undefined;
  if (customerNumber) {
    const written = await upsertCustomer(db, where.companyId, customerNumber, intent.customerName, intent.email, { callId: call.call_id, inbox: key });
    customerId = written?.id ?? null;
    if (written) customer = { companyId: where.companyId, customerId: written.id, phone: customerNumber, name: written.name, email: written.email };
  } else {
    const dup = await doneAlready(); // no customer upsert to ask (number withheld)
    if (dup) return dup;
  }

  // The decision is worked out before anything is written (intent, clock and the tenant catalogue:
  // no statement while the catalogue is warm) and travels in the call upsert, which writes it
  // where none was taken. Only when one was (call_ended decided, call_analyzed follows; a retry;
  // a call booked live) is the row read.
  const deciding = event === 'call_ended' || event === 'call_analyzed';
  const final = event === 'call_analyzed';
  const decideInput = {
    db,
    bookingsQueue: deps.bookingsQueue,
    logger: log,
    where,
    retellCallId: call.call_id,
    customerId,
    // The booking job carries it sealed: the bookings worker then checks the row instead of reading it.
    customer,
    cipher: deps.cipher,
    intent,
    final,
    signal,
    // Relative dates ("morgen") count from when the caller said them, however late this runs.
    ...(call.start_timestamp !== undefined ? { spokenAt: new Date(call.start_timestamp) } : {}),
  };
  let decision: Decision = { kind: 'wait', reason: 'call started' };
  /** The row as read when the upsert reported none; its decision is followed from there. */
  let read: Awaited<ReturnType<typeof callAfterUpsert>>;
  if (customerId !== null || !customerNumber) {
    if (deciding) decision = await proposeDecision(decideInput);
    callRowId = await upsertCallDeciding(db, { companyId: where.companyId, branchId: where.branchId, customerId, event, call }, decisionColumns(decision), deciding);
    // An id means the decision this upsert carried was written by it (or there was none to write).
    if (callRowId !== null && decision.kind !== 'wait') decisionRecorded(decideInput, decision);
  }
  if (callRowId === null) {
    const dup = customerNumber && customerId === null ? await doneAlready() : null;
    if (dup) return dup;
    const row = (read = await callAfterUpsert(db, call.call_id));
    if (row && row.companyId !== where.companyId) {
      return reject(`call ${call.call_id} belongs to another company; this webhook names ${businessNumber} of company ${where.companyId}`);
    }
    if (row?.purgedAt) return reject('call was purged (retention or GDPR erasure); late webhook ignored', 'ignored');
    // Ours and not purged: the upsert merged the call and left the decision to read (taken before,
    // also when this event now reads "wait", or the call was booked live). Anything else is a
    // refusal nothing explains.
    if (!row || (customerId === null && customerNumber) || !deciding) {
      // Without BLIND_INDEX_KEY the customer upsert is also refused once `keys rotate` closed the plain index.
      if (customerId === null && customerNumber && blindIndexKeyMissing()) await assertPlainIndexOpen(db);
      throw new Error(`call ${call.call_id}: upsert refused, yet the row is neither another company's nor purged`);
    }
    callRowId = row.id;
  }

  const sentiment = call.call_analysis?.user_sentiment;
  if (sentiment && sentiment in SENTIMENT_SCORE) satisfactionScore.set({ company: where.companySlug, branch: where.branchSlug }, SENTIMENT_SCORE[sentiment]!);

  if (read) decision = await decideBooking({ ...decideInput, callRowId, row: read });
  else await followDecision({ ...decideInput, callRowId }, decision);
  // False when a duplicate running alongside recorded first: both did the same idempotent work.
  await record('processed', { companyId: where.companyId });
  await deps.publish?.({
    type: 'call.updated',
    companyId: where.companyId,
    branchId: where.branchId,
    callId: call.call_id,
    status: event === 'call_started' ? 'ongoing' : event === 'call_ended' ? 'ended' : 'analyzed',
    decision: decision.kind === 'wait' ? null : decision.kind,
  });
  log.info({ companyId: where.companyId, decision: decision.kind }, 'webhook processed');
  return { status: 'processed', callRowId, companyId: where.companyId, decision };
}
