/**
 * Upserts of the customer and the call. Webhooks for one call arrive in any order and more than
 * once, so every write merges: a later event never blanks what an earlier one stored, a
 * call's status only moves forward, and a known name is never replaced by "Unknown".
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Db, Tx } from '../db';
import { prepared, preparedSql } from '../db/prepared';
import { calls, customers } from '../../drizzle/schema';
import { phoneIndex, piiJsonSealer, piiSealer } from '../pii';
import { assertPlainIndexOpen, plainRowsMayExist, unlessPlainIndexClosed } from '../pii/plain-index';
import type { RetellCall } from '../retell/webhook';
import { unlessEventDone, type InboxKey } from './webhook-inbox';

type Exec = Db | Tx;

/** The Retell call event a webhook-path write belongs to: its call id and its inbox key. */
export interface CallEvent {
  callId: string;
  inbox: InboxKey;
}

/**
 * A customer row as the webhook path's upsert left it: its id, and `name` and `email` exactly as
 * the statement stored them (sealed when the company's PII is encrypted), or null where the call
 * brought none — the row then keeps whatever it held. A booking job carries these
 * (lib/booking/customer-snapshot), to be checked against the row instead of reading it.
 */
export interface CustomerWritten {
  id: number;
  name: string | null;
  email: string | null;
}

const p = (name: string) => sql.placeholder(name);

/** The customer upsert, with `unlessRefused` after its SELECT; LAST_INSERT_ID(id) makes insertId the existing row's id on the update path. */
const customerUpsert = (unlessRefused: SQL) => sql`
  INSERT INTO ${customers} (company_id, phone, phone_index, name, email)
  SELECT ${p('companyId')}, ${p('phone')}, ${p('index')}, ${p('name')}, ${p('email')} FROM DUAL ${unlessRefused}
  ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), name = COALESCE(VALUES(name), name), email = COALESCE(VALUES(email), email), updated_at = ${p('now')}`;

/** The webhook path's refusals: a call id another company holds or a purged call, or an event already handled. */
const forCallRefusals = () =>
  sql`NOT EXISTS (SELECT 1 FROM ${calls} WHERE ${calls.retellCallId} = ${p('callId')} AND (${calls.companyId} <> ${p('companyId')} OR ${calls.purgedAt} IS NOT NULL)) AND ${unlessEventDone()}`;

/**
 * The four shapes of the customer upsert, each prepared under its own name: with or without the
 * webhook path's refusals, and for a process without BLIND_INDEX_KEY also refused once the plain
 * index is closed (lib/pii/plain-index), so no plain row is written after `keys rotate` began.
 */
const upsertStatements = {
  keyed: { plain: ['customers.upsert', () => customerUpsert(sql``)], forCall: ['customers.upsert-for-call', () => customerUpsert(sql`WHERE ${forCallRefusals()}`)] },
  keyless: {
    plain: ['customers.upsert-keyless', () => customerUpsert(sql`WHERE ${unlessPlainIndexClosed()}`)],
    forCall: ['customers.upsert-for-call-keyless', () => customerUpsert(sql`WHERE ${forCallRefusals()} AND ${unlessPlainIndexClosed()}`)],
  },
} as const satisfies Record<string, Record<string, readonly [string, () => SQL]>>;

/**
 * Find or create the customer of `phone` inside one company; returns its id. The row is found by
 * its blind index (lib/pii), never by the phone column, which may hold a ciphertext.
 *
 * With `forCall` (the webhook path; returns CustomerWritten) the same statement refuses — writes nothing, returns null —
 * when that Retell call id is held by another company's row or was purged (a late webhook must
 * not re-create an erased caller, and a forged call id must not create customers), or when the
 * event was already handled (lib/calls/webhook-inbox: this is the inbox's duplicate check).
 * Those checks used to be a read of the call row and an inbox claim before this upsert.
 *
 * In a process without BLIND_INDEX_KEY, once `keys rotate` has closed the plain index, the
 * statement refuses to write a plain-indexed row too (lib/pii/plain-index): without `forCall` this
 * throws PlainIndexClosedError; with it, it returns null like the other refusals, and the webhook
 * path (which reads why only when nothing else explains a refusal) throws it from there.
 */
export async function upsertCustomer(db: Exec, companyId: number, phone: string, name?: string, email?: string): Promise<number>;
export async function upsertCustomer(db: Exec, companyId: number, phone: string, name: string | undefined, email: string | undefined, forCall: CallEvent): Promise<CustomerWritten | null>;
export async function upsertCustomer(db: Exec, companyId: number, phone: string, name?: string, email?: string, forCall?: CallEvent): Promise<number | CustomerWritten | null> {
  const seal = await piiSealer(db, companyId);
  const written = { name: seal(name ?? null), email: seal(email ?? null) };
  const index = phoneIndex(companyId, phone);
  const keyed = index !== phone;
  if (keyed && (await plainRowsMayExist(db))) await upgradeLegacyIndex(db, companyId, phone, index);
  const values = { companyId, phone: seal(phone), index, name: written.name, email: written.email, now: new Date() };
  const shapes = upsertStatements[keyed ? 'keyed' : 'keyless'];
  const [statement, build] = shapes[forCall === undefined ? 'plain' : 'forCall'];
  const [res] = await preparedSql(db, statement, build).execute(forCall === undefined ? values : { ...forCall.inbox, ...values, callId: forCall.callId });
  const id = Number(res.insertId);
  if (forCall !== undefined) return id ? { id, ...written } : null;
  if (id) return id;
  // Without the key the refusal is the closed plain index: an error that names the key.
  if (!keyed) await assertPlainIndexOpen(db);
  throw new Error(`customer upsert in company ${companyId} reported no id`);
}

/**
 * A row written before BLIND_INDEX_KEY was set carries the plain index (the E.164): move it to the
 * HMAC so the upsert below finds it instead of creating a second customer. A non-locking read
 * first; the update (by primary key) only when such a row exists. `callbook keys rotate` rewrites
 * all of them in bulk and then retires the plain index (lib/pii/plain-index), after which this
 * no longer runs.
 */
async function upgradeLegacyIndex(db: Exec, companyId: number, phone: string, index: string): Promise<void> {
  // Prepared: with the key set this runs on every upsert (two per booked call).
  const [legacy] = await prepared(db, 'customers.by-plain-index', (d) =>
    d
      .select({ id: customers.id })
      .from(customers)
      .where(and(eq(customers.companyId, sql.placeholder('companyId')), eq(customers.phoneIndex, sql.placeholder('phone'))))
      .prepare(),
  ).execute({ companyId, phone });
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

/**
 * The call row as the webhook path needs it after its upsert reported no id: who holds it,
 * whether it was purged, and its booking decision (lib/calls/decide-booking follows it from here).
 */
export async function callAfterUpsert(db: Db, retellCallId: string) {
  const [row] = await db
    .select({
      id: calls.id,
      companyId: calls.companyId,
      purgedAt: calls.purgedAt,
      decision: calls.bookingDecision,
      request: calls.bookingRequest,
      reason: calls.bookingReason,
      appointmentId: calls.appointmentId,
    })
    .from(calls)
    .where(eq(calls.retellCallId, retellCallId));
  return row;
}

/** A DATETIME(3) parameter as drizzle's datetime column would send it (UTC, no zone suffix). */
const datetime = (v: number | undefined) => (v === undefined ? null : new Date(v).toISOString().replace('T', ' ').replace('Z', ''));

/** The columns a later event merges into (COALESCE: a later event never blanks an earlier one's value). */
const MERGED = [
  'customer_id', 'agent_id', 'direction', 'from_number', 'to_number', 'caller_index', 'started_at', 'ended_at', 'duration_ms',
  'disconnection_reason', 'transcript', 'summary', 'sentiment', 'recording_url', 'dynamic_variables', 'analysis_data',
] as const;
const INSERTED = ['retell_call_id', 'company_id', 'branch_id', ...MERGED.slice(0, 6), 'status', ...MERGED.slice(6), 'booking_decision', 'booking_reason', 'booking_request'] as const;

/**
 * The call upsert, built once per handle (lib/db/prepared `preparedSql`): a placeholder per
 * INSERTED column, and `deciding`. Written out rather than through drizzle's builder, which
 * orders the assignments by the table's columns: MySQL and MariaDB run them in the order
 * written, each reading the row as the ones before it left it, so `id` tests the decision before
 * anything changes and `booking_decision` is written after the two columns whose condition reads
 * it. (Under MariaDB's SIMULTANEOUS_ASSIGNMENT every one reads the old row: the same result.)
 *
 * It carries a booking decision (or none: `booking_decision` NULL) and writes it where none was
 * taken and the call was not booked live. What it reports (its insertId) is all the caller learns:
 * - a new row: its id (the decision inserted with it);
 * - our row, the decision written now: LAST_INSERT_ID(id); none carried: the same, except that
 *   for a deciding event (the `deciding` placeholder) a decision already taken reports 0 — a
 *   retry whose own reading now says "wait" must still follow the decision its first attempt
 *   wrote;
 * - our row, a decision already taken or the call booked live: 0 — through LAST_INSERT_ID(0),
 *   since an updated row would otherwise report its own id (MySQL's documented behaviour for
 *   ON DUPLICATE KEY UPDATE); the row's other columns are merged all the same;
 * - another company's row, or a purged one: 0, and the row exactly as it was — every assignment
 *   is guarded by `own`, so nothing changes; `id` also says LAST_INSERT_ID(0) there, so that an
 *   assignment added later without the guard could not make the statement report that row.
 */
const upsertCallStatement = () => {
  const own = '`company_id` = VALUES(`company_id`) AND `purged_at` IS NULL';
  const guarded = (col: string, expr: string) => `\`${col}\` = IF(${own}, ${expr}, \`${col}\`)`;
  const undecided = '`booking_decision` IS NULL AND `appointment_id` IS NULL';
  const writes = `VALUES(\`booking_decision\`) IS NOT NULL AND ${undecided}`;
  const stands = sql`IF(VALUES(\`booking_decision\`) IS NULL, ${p('deciding')} = 0 OR \`booking_decision\` IS NULL, ${sql.raw(undecided)})`;
  const set = [
    sql`\`id\` = IF(${sql.raw(own)} AND (${stands}), LAST_INSERT_ID(\`id\`), LAST_INSERT_ID(0) + \`id\`)`,
    ...[
      ...MERGED.map((col) => guarded(col, `COALESCE(VALUES(\`${col}\`), \`${col}\`)`)),
      // Only forward: ongoing < ended < analyzed, whatever order the events arrive in.
      guarded('status', "IF(FIELD(VALUES(`status`),'ongoing','ended','analyzed') > FIELD(`status`,'ongoing','ended','analyzed'), VALUES(`status`), `status`)"),
      // Set here rather than by drizzle's $onUpdate, and guarded, so a refused row keeps even its updated_at.
      guarded('updated_at', 'CURRENT_TIMESTAMP(3)'),
      ...['booking_reason', 'booking_request', 'booking_decision'].map((col) => guarded(col, `IF(${writes}, VALUES(\`${col}\`), \`${col}\`)`)),
    ].map((assignment) => sql.raw(assignment)),
  ];
  const cols = sql.raw(INSERTED.map((c) => `\`${c}\``).join(', '));
  return sql`INSERT INTO \`calls\` (${cols}) VALUES (${sql.join(INSERTED.map((c) => p(c)), sql`, `)}) ON DUPLICATE KEY UPDATE ${sql.join(set, sql`, `)}`;
};

/** A decision as the calls row stores it (booking_decision, booking_reason, booking_request). */
export interface DecisionColumns {
  decision: 'book' | 'no_booking';
  reason: string | null;
  /** JSON text of { serviceId, start, idempotencyKey }. */
  request: string | null;
}

/**
 * Insert or merge the call row and write the booking decision it carries where none was taken;
 * returns the row's id. Null when the statement reported none: the row is another company's or
 * purged, or a decision was taken before (or the call booked live), also when `deciding` and none
 * was carried — the caller reads the row to tell which, and follows the decision recorded.
 */
export async function upsertCallDeciding(db: Db, w: CallWrite, decision: DecisionColumns | null, deciding = decision !== null): Promise<number | null> {
  const c = w.call;
  const analysis = c.call_analysis;
  const vars = { ...(c.retell_llm_dynamic_variables ?? {}), ...(c.collected_dynamic_variables ?? {}) };
  const seal = await piiSealer(db, w.companyId);
  const sealJson = await piiJsonSealer(db, w.companyId);
  const callerNumber = c.direction === 'outbound' ? c.to_number : c.from_number;
  const json = (v: Record<string, unknown> | null) => (v === null ? null : JSON.stringify(v));
  const values: Record<(typeof INSERTED)[number] | 'deciding', unknown> = {
    retell_call_id: c.call_id,
    company_id: w.companyId,
    branch_id: w.branchId,
    customer_id: w.customerId,
    agent_id: c.agent_id ?? null,
    direction: c.direction ?? null,
    from_number: seal(c.from_number ?? null),
    to_number: seal(c.to_number ?? null),
    caller_index: callerNumber ? phoneIndex(w.companyId, callerNumber) : null,
    status: STATUS_BY_EVENT[w.event] ?? 'ongoing',
    started_at: datetime(c.start_timestamp),
    ended_at: datetime(c.end_timestamp),
    duration_ms: c.duration_ms ?? null,
    disconnection_reason: c.disconnection_reason ?? null,
    transcript: seal(c.transcript ?? null),
    summary: seal(analysis?.call_summary ?? null),
    sentiment: analysis?.user_sentiment ?? null,
    recording_url: seal(c.recording_url ?? null),
    dynamic_variables: json(sealJson(Object.keys(vars).length ? vars : null)),
    analysis_data: json(sealJson(analysis?.custom_analysis_data ?? null)),
    booking_decision: decision?.decision ?? null,
    booking_reason: decision?.reason ?? null,
    booking_request: decision?.request ?? null,
    // The ON DUPLICATE KEY UPDATE part's one parameter (see upsertCallStatement).
    deciding: deciding ? 1 : 0,
  };
  const [res] = await preparedSql(db, 'calls.upsert-deciding', upsertCallStatement).execute(values);
  const id = Number(res.insertId);
  return id || null;
}

/**
 * Insert or merge the call row with no decision; returns its id, or throws ForeignCallError when
 * the row is another company's or purged (`callAfterUpsert` tells the two apart).
 */
export async function upsertCall(db: Db, w: CallWrite): Promise<number> {
  const id = await upsertCallDeciding(db, w, null);
  if (!id) throw new ForeignCallError(w.call.call_id);
  return id;
}
