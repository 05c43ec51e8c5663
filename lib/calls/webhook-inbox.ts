/**
 * webhook_events as an inbox: one row per (provider, dedupe key). It outlives the BullMQ job
 * (completed jobs are trimmed), so a re-delivery days later is still recognised.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db';
import { prepared } from '../db/prepared';
import { webhookEvents } from '../../drizzle/schema';
import { redactText } from '../errors/redact';

export type InboxStatus = 'processing' | 'processed' | 'ignored' | 'rejected' | 'failed';
const FINAL: InboxStatus[] = ['processed', 'ignored', 'rejected'];

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
    const final = sql.raw(`${webhookEvents.status.name} IN (${FINAL.map((s) => `'${s}'`).join(',')})`);
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

/** `extra.error` is stored redacted (lib/errors/redact): no bound values of a failed query. */
export async function finishEvent(db: Db, key: InboxKey, status: InboxStatus, extra: { companyId?: number; error?: string } = {}): Promise<void> {
  const q = prepared(db, 'webhook_events.finish', (d) => {
    const p = (name: string) => sql.placeholder(name);
    return d
      .update(webhookEvents)
      .set({ status: p('status') as never, companyId: p('companyId') as never, error: p('error') as never, processedAt: p('processedAt') as never, updatedAt: p('processedAt') as never })
      .where(and(eq(webhookEvents.provider, p('provider')), eq(webhookEvents.dedupeKey, p('dedupeKey'))))
      .prepare();
  });
  await q.execute({ ...key, status, companyId: extra.companyId ?? null, error: extra.error === undefined ? null : redactText(extra.error), processedAt: new Date() });
}
