import {
  phoneIndex,
  piiJsonSealer,
  piiSealer
} from "./chunk-RUAA5PEO.js";
import {
  calls,
  customers
} from "./chunk-AQ2OROU7.js";

// lib/calls/record-call.ts
import { and, eq, sql } from "drizzle-orm";
async function upsertCustomer(db, companyId, phone, name, email) {
  const seal = await piiSealer(db, companyId);
  const index = phoneIndex(companyId, phone);
  if (index !== phone) await upgradeLegacyIndex(db, companyId, phone, index);
  const [res] = await db.insert(customers).values({ companyId, phone: seal(phone), phoneIndex: index, name: seal(name ?? null), email: seal(email ?? null) }).onDuplicateKeyUpdate({
    set: {
      // LAST_INSERT_ID(id) makes insertId the existing row's id on the update path.
      id: sql`LAST_INSERT_ID(${customers.id})`,
      name: sql`COALESCE(VALUES(${customers.name}), ${customers.name})`,
      email: sql`COALESCE(VALUES(${customers.email}), ${customers.email})`
    }
  });
  return Number(res.insertId);
}
async function upgradeLegacyIndex(db, companyId, phone, index) {
  const [legacy] = await db.select({ id: customers.id }).from(customers).where(and(eq(customers.companyId, companyId), eq(customers.phoneIndex, phone)));
  if (!legacy) return;
  try {
    await db.update(customers).set({ phoneIndex: index }).where(and(eq(customers.id, legacy.id), eq(customers.phoneIndex, phone)));
  } catch (err) {
    if (err.code !== "ER_DUP_ENTRY" && err.cause?.code !== "ER_DUP_ENTRY") throw err;
  }
}
var STATUS_BY_EVENT = { call_started: "ongoing", call_ended: "ended", call_analyzed: "analyzed" };
var ms = (v) => v === void 0 ? null : new Date(v);
async function upsertCall(db, w) {
  const c = w.call;
  const analysis = c.call_analysis;
  const vars = { ...c.retell_llm_dynamic_variables ?? {}, ...c.collected_dynamic_variables ?? {} };
  const keep = (col) => sql.raw(`COALESCE(VALUES(\`${col.name}\`), \`${col.name}\`)`);
  const keepUnlessPurged = (col) => sql.raw(`IF(\`purged_at\` IS NULL, COALESCE(VALUES(\`${col.name}\`), \`${col.name}\`), \`${col.name}\`)`);
  const seal = await piiSealer(db, w.companyId);
  const sealJson = await piiJsonSealer(db, w.companyId);
  const callerNumber = c.direction === "outbound" ? c.to_number : c.from_number;
  const [res] = await db.insert(calls).values({
    retellCallId: c.call_id,
    companyId: w.companyId,
    branchId: w.branchId,
    customerId: w.customerId,
    agentId: c.agent_id ?? null,
    direction: c.direction ?? null,
    fromNumber: seal(c.from_number ?? null),
    toNumber: seal(c.to_number ?? null),
    callerIndex: callerNumber ? phoneIndex(w.companyId, callerNumber) : null,
    status: STATUS_BY_EVENT[w.event] ?? "ongoing",
    startedAt: ms(c.start_timestamp),
    endedAt: ms(c.end_timestamp),
    durationMs: c.duration_ms ?? null,
    disconnectionReason: c.disconnection_reason ?? null,
    transcript: seal(c.transcript ?? null),
    summary: seal(analysis?.call_summary ?? null),
    sentiment: analysis?.user_sentiment ?? null,
    recordingUrl: seal(c.recording_url ?? null),
    dynamicVariables: sealJson(Object.keys(vars).length ? vars : null),
    analysisData: sealJson(analysis?.custom_analysis_data ?? null)
  }).onDuplicateKeyUpdate({
    set: {
      id: sql`LAST_INSERT_ID(${calls.id})`,
      customerId: keep(calls.customerId),
      agentId: keep(calls.agentId),
      direction: keep(calls.direction),
      fromNumber: keepUnlessPurged(calls.fromNumber),
      toNumber: keepUnlessPurged(calls.toNumber),
      callerIndex: keepUnlessPurged(calls.callerIndex),
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
        "IF(FIELD(VALUES(`status`),'ongoing','ended','analyzed') > FIELD(`status`,'ongoing','ended','analyzed'), VALUES(`status`), `status`)"
      )
    }
  });
  return Number(res.insertId);
}

// lib/calls/idempotency.ts
import { createHash } from "node:crypto";
function bookingIdempotencyKey(parts) {
  const start = new Date(parts.startIso).toISOString();
  return createHash("sha256").update(`${parts.companyId}|${parts.callRef}|${parts.eventTypeId}|${start}`).digest("hex");
}

export {
  bookingIdempotencyKey,
  upsertCustomer,
  upsertCall
};
//# sourceMappingURL=chunk-YXWKEBKV.js.map
