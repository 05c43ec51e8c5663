/**
 * Imports one Retell account's phone numbers. Every number goes into the inventory
 * (`retell_phone_numbers`), mapped or not; for a number the tenants file already maps to a
 * branch, only what Retell owns is copied onto the mapping — the bound inbound agent and the
 * nickname — never its company or branch, which belong to the tenants file. Both agent-binding
 * shapes are read: the newer `inbound_agents`/`outbound_agents` lists and the deprecated single
 * `inbound_agent_id`/`outbound_agent_id` that older numbers still carry.
 */
import { eq } from 'drizzle-orm';
import type Retell from 'retell-sdk';
import { companies, phoneNumbers, retellPhoneNumbers } from '../../drizzle/schema';
import type { Db } from '../db';
import type { RetellSession } from '../retell/client';

/** Page size for list calls (Retell allows up to 1000). */
export const RETELL_PAGE_SIZE = 1000;

export const UNMAPPED_HINT = 'unmapped: add to a branch in the tenants file';

export interface UnmappedNumber {
  e164: string;
  account: string;
  nickname: string | null;
  inboundAgentIds: string[];
  problem: string;
}

export interface NumberConflict {
  e164: string;
  /** The account whose sync saw the number. */
  account: string;
  /** The company the tenants file maps the number to. */
  mappedTo: string;
  problem: string;
}

export interface NumbersResult {
  imported: number;
  updatedMappings: number;
  unmapped: UnmappedNumber[];
  conflicts: NumberConflict[];
}

/** A phone number as the SDK returns it, plus the deprecated single-agent fields it no longer types. */
export type RetellNumber = Retell.PhoneNumberResponse & {
  inbound_agent_id?: string | null;
  outbound_agent_id?: string | null;
};

/** Agent ids in order: the weighted list first, then the deprecated single id if not already listed. */
export function agentIds(list: Array<{ agent_id: string }> | null | undefined, single: string | null | undefined): string[] {
  const ids = (list ?? []).map((a) => a.agent_id).filter((id) => typeof id === 'string' && id !== '');
  if (single && !ids.includes(single)) ids.push(single);
  return ids;
}

/** Every number of the account, all pages. */
export async function listAllPhoneNumbers(session: RetellSession, pageSize = RETELL_PAGE_SIZE): Promise<RetellNumber[]> {
  const all: RetellNumber[] = [];
  const seenKeys = new Set<string>();
  let paginationKey: string | undefined;
  for (;;) {
    const query = { limit: pageSize, ...(paginationKey ? { pagination_key: paginationKey } : {}) };
    const page = await session.call((c, opts) => c.phoneNumber.list(query, opts));
    all.push(...(page.items as RetellNumber[]));
    if (!page.has_more || !page.pagination_key || seenKeys.has(page.pagination_key)) break;
    seenKeys.add(page.pagination_key);
    paginationKey = page.pagination_key;
  }
  return all;
}

/**
 * Upserts the account's numbers into the inventory and refreshes agent/nickname on existing
 * mappings. A number mapped to company A is left alone when it turns up in company B's own
 * account (reported as a conflict); the global account may refresh any company's numbers.
 */
export async function syncPhoneNumbers(
  db: Db,
  session: RetellSession,
  opts: { now?: Date; pageSize?: number } = {},
): Promise<NumbersResult> {
  const { account } = session;
  const numbers = await listAllPhoneNumbers(session, opts.pageSize);
  const now = opts.now ?? new Date();
  const result: NumbersResult = { imported: 0, updatedMappings: 0, unmapped: [], conflicts: [] };

  for (const n of numbers) {
    const e164 = n.phone_number;
    const inbound = agentIds(n.inbound_agents, n.inbound_agent_id);
    const outbound = agentIds(n.outbound_agents, n.outbound_agent_id);
    const nickname = n.nickname ?? null;
    const lastModifiedAt = typeof n.last_modification_timestamp === 'number' ? new Date(n.last_modification_timestamp) : null;
    const row = {
      companyId: account.companyId,
      e164,
      nickname: nickname?.slice(0, 200) ?? null,
      inboundAgentIds: inbound,
      outboundAgentIds: outbound,
      inboundWebhookUrl: n.inbound_webhook_url?.slice(0, 500) ?? null,
      lastModifiedAt,
      syncedAt: now,
    };
    await db
      .insert(retellPhoneNumbers)
      .values(row)
      .onDuplicateKeyUpdate({
        set: {
          companyId: row.companyId,
          nickname: row.nickname,
          inboundAgentIds: row.inboundAgentIds,
          outboundAgentIds: row.outboundAgentIds,
          inboundWebhookUrl: row.inboundWebhookUrl,
          lastModifiedAt: row.lastModifiedAt,
          syncedAt: row.syncedAt,
        },
      });
    result.imported++;

    const [mapping] = await db
      .select({ id: phoneNumbers.id, companyId: phoneNumbers.companyId, retellAgentId: phoneNumbers.retellAgentId, nickname: phoneNumbers.nickname })
      .from(phoneNumbers)
      .where(eq(phoneNumbers.e164, e164))
      .limit(1);
    if (!mapping) {
      result.unmapped.push({ e164, account: account.label, nickname, inboundAgentIds: inbound, problem: UNMAPPED_HINT });
      continue;
    }
    if (account.companyId !== null && mapping.companyId !== account.companyId) {
      const [owner] = await db.select({ slug: companies.slug }).from(companies).where(eq(companies.id, mapping.companyId)).limit(1);
      const mappedTo = owner?.slug ?? `company ${mapping.companyId}`;
      result.conflicts.push({
        e164,
        account: account.label,
        mappedTo,
        problem: `number is in the Retell account of ${account.label} but the tenants file maps it to ${mappedTo}: mapping left unchanged`,
      });
      continue;
    }
    const retellAgentId = inbound[0]?.slice(0, 100) ?? null;
    const nick = row.nickname;
    if (mapping.retellAgentId === retellAgentId && mapping.nickname === nick) continue;
    // Only the Retell-owned columns: company_id and branch_id stay as the tenants file set them.
    await db.update(phoneNumbers).set({ retellAgentId, nickname: nick }).where(eq(phoneNumbers.id, mapping.id));
    result.updatedMappings++;
  }
  return result;
}
