/**
 * webhook_events as an inbox: one row per (provider, dedupe key). It outlives the BullMQ job
 * (completed jobs are trimmed), so a re-delivery days later is still recognised.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db';
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

/** Claim the event: false when it was already handled to a final status. */
export async function claimEvent(db: Db, key: InboxKey, meta: { eventType: string; externalId?: string; receivedAt: Date }): Promise<boolean> {
  await db
    .insert(webhookEvents)
    .values({ ...key, eventType: meta.eventType, externalId: meta.externalId ?? null, status: 'processing', receivedAt: meta.receivedAt })
    .onDuplicateKeyUpdate({ set: { attempts: sql`${webhookEvents.attempts} + IF(${webhookEvents.status} IN ('processed','ignored','rejected'), 0, 1)` } });
  const [row] = await db
    .select({ status: webhookEvents.status })
    .from(webhookEvents)
    .where(and(eq(webhookEvents.provider, key.provider), eq(webhookEvents.dedupeKey, key.dedupeKey)));
  return !FINAL.includes(row!.status as InboxStatus);
}

/** `extra.error` is stored redacted (lib/errors/redact): no bound values of a failed query. */
export async function finishEvent(db: Db, key: InboxKey, status: InboxStatus, extra: { companyId?: number; error?: string } = {}): Promise<void> {
  await db
    .update(webhookEvents)
    .set({ status, companyId: extra.companyId ?? null, error: extra.error === undefined ? null : redactText(extra.error), processedAt: new Date() })
    .where(and(eq(webhookEvents.provider, key.provider), eq(webhookEvents.dedupeKey, key.dedupeKey)));
}
