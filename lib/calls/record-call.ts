/**
 * Upserts of the customer and the call. Webhooks for one call arrive in any order and more than
 * once, so every write merges: a later event never blanks what an earlier one stored, a
 * call's status only moves forward, and a known name is never replaced by "Unknown".
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db';
import { prepared } from '../db/prepared';
import { calls, customers } from '../../drizzle/schema';
import { phoneIndex, piiJsonSealer, piiSealer } from '../pii';
import type { RetellCall } from '../retell/webhook';
import { unlessEventDone, type InboxKey } from './webhook-inbox';

type Exec = Db | Tx;

/** The Retell call event a webhook-path write belongs to: its call id and its inbox key. */
export interface CallEvent {
  callId: string;
  inbox: InboxKey;
}

/**
 * Find or create the customer of `phone` inside one company; returns its id. The row is found by
 * its blind index (lib/pii), never by the phone column, which may hold a ciphertext.
 *
 * With `forCall` (the webhook path) the same statement refuses — writes nothing, returns null —
 * when that Retell call id is held by another company's row or was purged (a late webhook must
 * not re-create an erased caller, and a forged call id must not create customers), or when the
 * event was already handled (lib/calls/webhook-inbox: this is the inbox's duplicate check).
 * Those checks used to be a read of the call row and an inbox claim before this upsert.
 */
export async function upsertCustomer(db: Exec, companyId: number, phone: string, name?: string, email?: string): Promise<number>;
export async function upsertCustomer(db: Exec, companyId: number, phone: string, name: string | undefined, email: string | undefined, forCall: CallEvent): Promise<number | null>;
export async function upsertCustomer(db: Exec, companyId: number, phone: string, name?: string, email?: string, forCall?: CallEvent): Promise<number | null> {
  const seal = await piiSealer(db, companyId);
  const index = phoneIndex(companyId, phone);
  if (index !== phone) await upgradeLegacyIndex(db, companyId, phone, index);
  const unlessRefused =
    forCall === undefined
      ? sql``
      : sql`WHERE NOT EXISTS (SELECT 1 FROM ${calls} WHERE ${calls.retellCallId} = ${forCall.callId} AND (${calls.companyId} <> ${companyId} OR ${calls.purgedAt} IS NOT NULL)) AND ${unlessEventDone(forCall.inbox)}`;
  // LAST_INSERT_ID(id) makes insertId the existing row's id on the update path.
  const [res] = (await db.execute(sql`
    INSERT INTO ${customers} (company_id, phone, phone_index, name, email)
    SELECT ${companyId}, ${seal(phone)}, ${index}, ${seal(name ?? null)}, ${seal(email ?? null)} FROM DUAL ${unlessRefused}
    ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), name = COALESCE(VALUES(name), name), email = COALESCE(VALUES(email), email), updated_at = ${new Date()}`)) as unknown as [{ insertId: number }];
  const id = Number(res.insertId);
  if (id) return id;
  if (forCall === undefined) throw new Error(`customer upsert in company ${companyId} reported no id`);
  return null;
}

/**
 * A row written before BLIND_INDEX_KEY was set carries the plain index (the E.164): move it to the
 * HMAC so the upsert below finds it instead of creating a second customer. A non-locking read
 * first; the update (by primary key) only when such a row exists. `callbook keys rotate` rewrites
 * all of them in bulk, after which this is one indexed read that finds nothing.
 */
async function upgradeLegacyIndex(db: Exec, companyId: number, phone: string, index: string): Promise<void> {
  const [legacy] = await db
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.companyId, companyId), eq(customers.phoneIndex, phone)));
  if (!legacy) return;
  try {
    await db.update(customers).set({ phoneIndex: index }).where(and(eq(customers.id, legacy.id), eq(customers.phoneIndex, phone)));
  } catch (err) {
    // Both forms exist (a row was created under the HMAC meanwhile): keep the legacy row as is.
    if ((err as { code?: string; cause?: { code?: string } }).code !== 'ER_DUP_ENTRY' && (err as { cause?: { code?: string } }).cause?.code !== 'ER_DUP_ENTRY') throw err;
  }
}

const STATUS_BY_EVENT: Record<string, string> = { call_started: 'ongoing', call_ended: 'ended', call_analyzed: 'analyzed' };

export interface CallWrite {
  companyId: number;
  branchId: number;
  customerId: number | null;
  event: string;
  call: RetellCall;
}


/**
 * A Retell call id that another company's row already holds. Call ids come from the body; a
 * tenant holding its own Retell key can write any id, so a row is merged only into its own
 * company's row, never into another's.
 */
export class ForeignCallError extends Error {
  override readonly name = 'ForeignCallError';
  constructor(readonly retellCallId: string) {
    super(`call ${retellCallId} belongs to another company or was purged; refused`);
  }
}

/** Who holds a Retell call id and whether it was purged: read only after an upsert refused. */
export async function callOwner(db: Exec, retellCallId: string): Promise<{ companyId: number; purgedAt: Date | null } | undefined> {
  const [row] = await db.select({ companyId: calls.companyId, purgedAt: calls.purgedAt }).from(calls).where(eq(calls.retellCallId, retellCallId));
  return row;
}

/** A DATETIME(3) parameter as drizzle's datetime column would send it (UTC, no zone suffix). */
const datetime = (v: number | undefined) => (v === undefined ? null : new Date(v).toISOString().replace('T', ' ').replace('Z', ''));

/**
 * The call upsert, built once per database handle (lib/db/prepared). Every value is a placeholder
 * filled with its driver value (sealed text, DATETIME text, JSON text), not through the column
 * encoders, which do not take NULL.
 */
function buildUpsertCall(db: Db) {
  // What callers said never comes back after retention or an erasure removed it (purged_at set).
  const own = (expr: string, col: string) => sql.raw(`IF(\`company_id\` = VALUES(\`company_id\`) AND \`purged_at\` IS NULL, ${expr}, \`${col}\`)`);
  const keep = (col: { name: string }) => own(`COALESCE(VALUES(\`${col.name}\`), \`${col.name}\`)`, col.name);
  const p = (name: string) => sql`${sql.placeholder(name)}` as never;
  return db
    .insert(calls)
    .values({
      retellCallId: p('retellCallId'),
      companyId: p('companyId'),
      branchId: p('branchId'),
      customerId: p('customerId'),
      agentId: p('agentId'),
      direction: p('direction'),
      fromNumber: p('fromNumber'),
      toNumber: p('toNumber'),
      callerIndex: p('callerIndex'),
      status: p('status'),
      startedAt: p('startedAt'),
      endedAt: p('endedAt'),
      durationMs: p('durationMs'),
      disconnectionReason: p('disconnectionReason'),
      transcript: p('transcript'),
      summary: p('summary'),
      sentiment: p('sentiment'),
      recordingUrl: p('recordingUrl'),
      dynamicVariables: p('dynamicVariables'),
      analysisData: p('analysisData'),
    })
    .onDuplicateKeyUpdate({
      set: {
        id: own('LAST_INSERT_ID(`id`)', 'id'),
        customerId: keep(calls.customerId),
        agentId: keep(calls.agentId),
        direction: keep(calls.direction),
        fromNumber: keep(calls.fromNumber),
        toNumber: keep(calls.toNumber),
        callerIndex: keep(calls.callerIndex),
        startedAt: keep(calls.startedAt),
        endedAt: keep(calls.endedAt),
        durationMs: keep(calls.durationMs),
        disconnectionReason: keep(calls.disconnectionReason),
        transcript: keep(calls.transcript),
        summary: keep(calls.summary),
        sentiment: keep(calls.sentiment),
        recordingUrl: keep(calls.recordingUrl),
        dynamicVariables: keep(calls.dynamicVariables),
        analysisData: keep(calls.analysisData),
        // Set here rather than by drizzle's $onUpdate (which a prepared statement would freeze at
        // build time), and guarded, so a refused row keeps even its updated_at.
        updatedAt: own('CURRENT_TIMESTAMP(3)', 'updated_at'),
        // Only forward: ongoing < ended < analyzed, whatever order the events arrive in.
        status: own("IF(FIELD(VALUES(`status`),'ongoing','ended','analyzed') > FIELD(`status`,'ongoing','ended','analyzed'), VALUES(`status`), `status`)", 'status'),
      },
    })
    .prepare();
}

/**
 * Insert or merge the call row; returns its id. Every merged column, and the LAST_INSERT_ID that
 * reports the row's id, is guarded by `company_id = VALUES(company_id) AND purged_at IS NULL`: a
 * row of another company, or one whose words were removed (retention, GDPR erasure), is left
 * exactly as it was, the statement reports insertId 0, and this throws ForeignCallError
 * (`callOwner` tells the two apart).
 */
export async function upsertCall(db: Exec, w: CallWrite): Promise<number> {
  const c = w.call;
  const analysis = c.call_analysis;
  const vars = { ...(c.retell_llm_dynamic_variables ?? {}), ...(c.collected_dynamic_variables ?? {}) };
  const seal = await piiSealer(db, w.companyId);
  const sealJson = await piiJsonSealer(db, w.companyId);
  const callerNumber = c.direction === 'outbound' ? c.to_number : c.from_number;
  const json = (v: Record<string, unknown> | null) => (v === null ? null : JSON.stringify(v));
  const [res] = await prepared(db, 'calls.upsert', buildUpsertCall).execute({
    retellCallId: c.call_id,
    companyId: w.companyId,
    branchId: w.branchId,
    customerId: w.customerId,
    agentId: c.agent_id ?? null,
    direction: c.direction ?? null,
    fromNumber: seal(c.from_number ?? null),
    toNumber: seal(c.to_number ?? null),
    callerIndex: callerNumber ? phoneIndex(w.companyId, callerNumber) : null,
    status: STATUS_BY_EVENT[w.event] ?? 'ongoing',
    startedAt: datetime(c.start_timestamp),
    endedAt: datetime(c.end_timestamp),
    durationMs: c.duration_ms ?? null,
    disconnectionReason: c.disconnection_reason ?? null,
    transcript: seal(c.transcript ?? null),
    summary: seal(analysis?.call_summary ?? null),
    sentiment: analysis?.user_sentiment ?? null,
    recordingUrl: seal(c.recording_url ?? null),
    dynamicVariables: json(sealJson(Object.keys(vars).length ? vars : null)),
    analysisData: json(sealJson(analysis?.custom_analysis_data ?? null)),
  });
  const id = Number(res.insertId);
  if (!id) throw new ForeignCallError(c.call_id);
  return id;
}
