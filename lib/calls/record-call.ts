/**
 * Upserts of the customer and the call. Webhooks for one call arrive in any order and more than
 * once, so every write merges: a later event never blanks what an earlier one stored, a
 * call's status only moves forward, and a known name is never replaced by "Unknown".
 */
import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db';
import { calls, customers } from '../../drizzle/schema';
import type { RetellCall } from '../retell/webhook';

type Exec = Db | Tx;

/** Find or create the customer of `phone` inside one company; returns its id. */
export async function upsertCustomer(db: Exec, companyId: number, phone: string, name?: string, email?: string): Promise<number> {
  const [res] = await db
    .insert(customers)
    .values({ companyId, phone, name: name ?? null, email: email ?? null })
    .onDuplicateKeyUpdate({
      set: {
        // LAST_INSERT_ID(id) makes insertId the existing row's id on the update path.
        id: sql`LAST_INSERT_ID(${customers.id})`,
        name: sql`COALESCE(VALUES(${customers.name}), ${customers.name})`,
        email: sql`COALESCE(VALUES(${customers.email}), ${customers.email})`,
      },
    });
  return Number(res.insertId);
}

const STATUS_BY_EVENT: Record<string, string> = { call_started: 'ongoing', call_ended: 'ended', call_analyzed: 'analyzed' };

export interface CallWrite {
  companyId: number;
  branchId: number;
  customerId: number | null;
  event: string;
  call: RetellCall;
}

const ms = (v: number | undefined) => (v === undefined ? null : new Date(v));

/** Insert or merge the call row; returns its id. */
export async function upsertCall(db: Exec, w: CallWrite): Promise<number> {
  const c = w.call;
  const analysis = c.call_analysis;
  const vars = { ...(c.retell_llm_dynamic_variables ?? {}), ...(c.collected_dynamic_variables ?? {}) };
  const keep = (col: { name: string }) => sql.raw(`COALESCE(VALUES(\`${col.name}\`), \`${col.name}\`)`);
  // What callers said never comes back after retention or an erasure removed it (purged_at set).
  const keepUnlessPurged = (col: { name: string }) =>
    sql.raw(`IF(\`purged_at\` IS NULL, COALESCE(VALUES(\`${col.name}\`), \`${col.name}\`), \`${col.name}\`)`);
  const [res] = await db
    .insert(calls)
    .values({
      retellCallId: c.call_id,
      companyId: w.companyId,
      branchId: w.branchId,
      customerId: w.customerId,
      agentId: c.agent_id ?? null,
      direction: c.direction ?? null,
      fromNumber: c.from_number ?? null,
      toNumber: c.to_number ?? null,
      status: STATUS_BY_EVENT[w.event] ?? 'ongoing',
      startedAt: ms(c.start_timestamp),
      endedAt: ms(c.end_timestamp),
      durationMs: c.duration_ms ?? null,
      disconnectionReason: c.disconnection_reason ?? null,
      transcript: c.transcript ?? null,
      summary: analysis?.call_summary ?? null,
      sentiment: analysis?.user_sentiment ?? null,
      recordingUrl: c.recording_url ?? null,
      dynamicVariables: Object.keys(vars).length ? vars : null,
      analysisData: analysis?.custom_analysis_data ?? null,
    })
    .onDuplicateKeyUpdate({
      set: {
        id: sql`LAST_INSERT_ID(${calls.id})`,
        customerId: keep(calls.customerId),
        agentId: keep(calls.agentId),
        direction: keep(calls.direction),
        fromNumber: keepUnlessPurged(calls.fromNumber),
        toNumber: keepUnlessPurged(calls.toNumber),
        startedAt: keep(calls.startedAt),
        endedAt: keep(calls.endedAt),
        durationMs: keep(calls.durationMs),
        disconnectionReason: keep(calls.disconnectionReason),
        transcript: keepUnlessPurged(calls.transcript),
        summary: keepUnlessPurged(calls.summary),
        sentiment: keep(calls.sentiment),
        recordingUrl: keepUnlessPurged(calls.recordingUrl),
        dynamicVariables: keepUnlessPurged(calls.dynamicVariables),
        analysisData: keepUnlessPurged(calls.analysisData),
        // Only forward: ongoing < ended < analyzed, whatever order the events arrive in.
        status: sql.raw(
          "IF(FIELD(VALUES(`status`),'ongoing','ended','analyzed') > FIELD(`status`,'ongoing','ended','analyzed'), VALUES(`status`), `status`)",
        ),
      },
    });
  return Number(res.insertId);
}
