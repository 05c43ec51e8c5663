/**
 * webhook_events as an inbox: one row per (provider, dedupe key). It outlives the BullMQ job
 * (completed jobs are trimmed), so a re-delivery days later is still recognised.
 *
 * Two ways to use it:
 * - Cal.com deliveries claim first (`claimEvent`: a 'processing' row) and finish after
 *   (`finishEvent`).
 * - Retell call events write their row once, when they are done (`recordEvent`): the check
 *   whether an event was already handled rides inside the first write of its processing (the
 *   customer upsert, lib/calls/record-call, through `unlessEventDone`), so a booked call's two
 *   webhooks spend no statement on a claim. Every step of a Retell event is idempotent; a crash
 *   before the record leaves no row, and the retried job runs the steps again.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db';
import { prepared, preparedSql } from '../db/prepared';
import { calls, webhookEvents } from '../../drizzle/schema';
import { redactText } from '../errors/redact';

export type InboxStatus = 'processing' | 'processed' | 'ignored' | 'rejected' | 'failed';
const FINAL: InboxStatus[] = ['processed', 'ignored', 'rejected'];
const FINAL_LIST = FINAL.map((s) => `'${s}'`).join(',');
/** "The row's status is final", on the webhook_events row an upsert or update is looking at. */
const IS_FINAL = `status IN (${FINAL_LIST})`;

/**
 * The event's row when it is final, as a subquery; `provider` and `dedupeKey` are values or
 * placeholders of a prepared statement.
 */
const finalRowOf = (provider: unknown, dedupeKey: unknown) =>
  sql`SELECT 1 FROM ${webhookEvents} WHERE ${webhookEvents.provider} = ${provider} AND ${webhookEvents.dedupeKey} = ${dedupeKey} AND ${webhookEvents.status} IN (${sql.raw(FINAL_LIST)})`;

export interface InboxKey {
  provider: 'retell' | 'calcom';
  dedupeKey: string;
}

/**
 * The inbox key of a Retell call event: `<call id>:<event>`, with `:c<company>` when the body was
 * signed with that company's own key (see jobIds.retellWebhook: a forged call id must not
 * occupy the genuine event's place).
 */
export function retellDedupeKey(callId: string, event: string, signerCompanyId?: number): string {
  return signerCompanyId === undefined ? `${callId}:${event}` : `${callId}:${event}:c${signerCompanyId}`;
}

/**
 * Claim the event: false when it was already handled to a final status. One statement: a new
 * row reports its id; an existing row not yet final counts the attempt and reports its id; a
 * final row is left exactly as it was — updated_at included, which is why it is set here — and
 * an upsert that changes nothing reports insertId 0. The claim used to be this insert plus a
 * read of the status.
 */
export async function claimEvent(db: Db, key: InboxKey, meta: { eventType: string; externalId?: string; receivedAt: Date }): Promise<boolean> {
  const q = prepared(db, 'webhook_events.claim', (d) => {
    const final = sql.raw(IS_FINAL);
    const p = (name: string) => sql.placeholder(name);
    return d
      .insert(webhookEvents)
      .values({ provider: p('provider'), dedupeKey: p('dedupeKey'), eventType: p('eventType'), externalId: p('externalId'), status: 'processing', receivedAt: p('receivedAt') })
      .onDuplicateKeyUpdate({
        set: {
          id: sql`IF(${final}, ${webhookEvents.id}, LAST_INSERT_ID(${webhookEvents.id}))`,
          attempts: sql`${webhookEvents.attempts} + IF(${final}, 0, 1)`,
          updatedAt: sql`IF(${final}, ${webhookEvents.updatedAt}, CURRENT_TIMESTAMP(3))`,
        },
      })
      .prepare();
  });
  const [res] = await q.execute({ ...key, eventType: meta.eventType, externalId: meta.externalId ?? null, receivedAt: meta.receivedAt });
  return Number(res.insertId) !== 0;
}

/**
 * The SQL condition "this event was not handled to a final status", for another prepared
 * statement's WHERE (lib/db/prepared `preparedSql`): the event's key fills its `provider` and
 * `dedupeKey` placeholders.
 */
export function unlessEventDone() {
  return sql`NOT EXISTS (${finalRowOf(sql.placeholder('provider'), sql.placeholder('dedupeKey'))})`;
}

/**
 * Whether the event was handled to a final status (read only where no other statement asked), and
 * whether its call was purged (retention, GDPR erasure), in one read: a duplicate of a purged call's event must drop its sealed body too
 * (workers/webhooks) — a re-delivery after the erase removed the first job, or a job that recorded
 * `ignored` and died before it could drop its own.
 */
export async function eventDoneOfCall(db: Db, key: InboxKey, retellCallId: string): Promise<{ done: boolean; purged: boolean }> {
  const q = prepared(db, 'webhook_events.done_of_call', (d) =>
    d
      .select({
        done: sql<number>`EXISTS (${finalRowOf(sql.placeholder('provider'), sql.placeholder('dedupeKey'))})`,
        purged: sql<number>`EXISTS (SELECT 1 FROM ${calls} WHERE ${calls.retellCallId} = ${sql.placeholder('callId')} AND ${calls.purgedAt} IS NOT NULL)`,
      })
      .from(sql`DUAL`)
      .prepare(),
  );
  const [row] = await q.execute({ ...key, callId: retellCallId });
  return { done: Number(row?.done) === 1, purged: Number(row?.purged) === 1 };
}

/**
 * Record how the event ended, in one statement that creates the row or updates it: false when the
 * row was already final, which it then keeps exactly as it was (a duplicate that ran alongside
 * finished first). `extra.error` is stored redacted (lib/errors/redact).
 */
export async function recordEvent(
  db: Db,
  key: InboxKey,
  meta: { eventType: string; externalId?: string; receivedAt: Date },
  status: Exclude<InboxStatus, 'processing'>,
  extra: { companyId?: number; error?: string } = {},
): Promise<boolean> {
  const now = new Date();
  const error = extra.error === undefined ? null : redactText(extra.error);
  const [res] = await preparedSql(db, 'webhook_events.record', () => {
    // Written out rather than through drizzle's builder, which orders the assignments by the
    // table's columns: MySQL runs them in the order written, each reading the row as the ones
    // before it left it, so the finality test must come before status changes.
    const final = sql.raw(IS_FINAL);
    const keep = (col: string) => sql.raw(`${col} = IF(${IS_FINAL}, ${col}, VALUES(${col}))`);
    const p = (name: string) => sql.placeholder(name);
    return sql`
      INSERT INTO ${webhookEvents} (provider, dedupe_key, event_type, external_id, status, company_id, error, received_at, processed_at, updated_at)
      VALUES (${p('provider')}, ${p('dedupeKey')}, ${p('eventType')}, ${p('externalId')}, ${p('status')}, ${p('companyId')}, ${p('error')}, ${p('receivedAt')}, ${p('now')}, ${p('now')})
      ON DUPLICATE KEY UPDATE id = IF(${final}, id, LAST_INSERT_ID(id)), attempts = attempts + IF(${final}, 0, 1),
        ${keep('company_id')}, ${keep('error')}, ${keep('processed_at')}, ${keep('updated_at')}, ${keep('status')}`;
  }).execute({ ...key, eventType: meta.eventType, externalId: meta.externalId ?? null, status, companyId: extra.companyId ?? null, error, receivedAt: meta.receivedAt, now });
  return Number(res.insertId) !== 0;
}

/**
 * Finish a claimed event. A row already final is left as it is: a slower duplicate that fails
 * must not turn another delivery's `processed` into `failed`. `extra.error` is stored redacted
 * (lib/errors/redact): no bound values of a failed query.
 */
export async function finishEvent(db: Db, key: InboxKey, status: InboxStatus, extra: { companyId?: number; error?: string } = {}): Promise<void> {
  const q = prepared(db, 'webhook_events.finish', (d) => {
    const p = (name: string) => sql.placeholder(name);
    return d
      .update(webhookEvents)
      .set({ status: p('status') as never, companyId: p('companyId') as never, error: p('error') as never, processedAt: p('processedAt') as never, updatedAt: p('processedAt') as never })
      .where(and(eq(webhookEvents.provider, p('provider')), eq(webhookEvents.dedupeKey, p('dedupeKey')), sql.raw(`NOT (${IS_FINAL})`)))
      .prepare();
  });
  await q.execute({ ...key, status, companyId: extra.companyId ?? null, error: extra.error === undefined ? null : redactText(extra.error), processedAt: new Date() });
}
