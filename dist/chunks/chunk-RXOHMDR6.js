import {
  branches,
  services,
  webhookEvents
} from "./chunk-AQ2OROU7.js";

// lib/calls/webhook-inbox.ts
import { and, eq, sql } from "drizzle-orm";
var FINAL = ["processed", "ignored", "rejected"];
async function claimEvent(db, key, meta) {
  await db.insert(webhookEvents).values({ ...key, eventType: meta.eventType, externalId: meta.externalId ?? null, status: "processing", receivedAt: meta.receivedAt }).onDuplicateKeyUpdate({ set: { attempts: sql`${webhookEvents.attempts} + IF(${webhookEvents.status} IN ('processed','ignored','rejected'), 0, 1)` } });
  const [row] = await db.select({ status: webhookEvents.status }).from(webhookEvents).where(and(eq(webhookEvents.provider, key.provider), eq(webhookEvents.dedupeKey, key.dedupeKey)));
  return !FINAL.includes(row.status);
}
async function finishEvent(db, key, status, extra = {}) {
  await db.update(webhookEvents).set({ status, companyId: extra.companyId ?? null, error: extra.error?.slice(0, 1e3) ?? null, processedAt: /* @__PURE__ */ new Date() }).where(and(eq(webhookEvents.provider, key.provider), eq(webhookEvents.dedupeKey, key.dedupeKey)));
}

// lib/calls/booking-intent.ts
var CONFIRM_KEYS = ["booking_confirmed", "appointment_confirmed", "confirmed", "book_appointment", "wants_booking", "termin_bestaetigt", "termin_best\xE4tigt", "buchung_bestaetigt"];
var DATETIME_KEYS = ["appointment_datetime", "appointment_start", "datetime", "start", "start_time", "wunschtermin", "termin"];
var DATE_KEYS = ["appointment_date", "date", "datum"];
var TIME_KEYS = ["appointment_time", "time", "uhrzeit"];
var SERVICE_KEYS = ["service", "service_name", "appointment_type", "event_type", "dienstleistung", "leistung"];
var EVENT_TYPE_ID_KEYS = ["event_type_id", "calcom_event_type_id"];
var NAME_KEYS = ["customer_name", "caller_name", "patient_name", "full_name", "name"];
var EMAIL_KEYS = ["customer_email", "email"];
var YES = /* @__PURE__ */ new Set(["true", "1", "yes", "ja"]);
function readConfirmation(value) {
  if (value === true || value === 1) return true;
  if (typeof value === "string") return YES.has(value.trim().toLowerCase());
  return false;
}
function isUnknownName(name) {
  if (!name) return true;
  return /^(unknown|unbekannt|n\/?a|none|null|undefined|anonymous|anonym|caller|anrufer|-|\?)$/i.test(name.trim());
}
function normaliseKey(k) {
  return k.trim().toLowerCase().replace(/[\s-]+/g, "_");
}
function asText(v) {
  if (typeof v === "string") return v.trim() || void 0;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return void 0;
}
function mergedVariables(call) {
  const merged = /* @__PURE__ */ new Map();
  const sources = [call.retell_llm_dynamic_variables, call.collected_dynamic_variables, call.call_analysis?.custom_analysis_data];
  for (const src of sources) {
    if (!src) continue;
    for (const [k, v] of Object.entries(src)) if (v !== null && v !== void 0 && v !== "") merged.set(normaliseKey(k), v);
  }
  return merged;
}
function first(vars, keys) {
  for (const k of keys) if (vars.has(k)) return vars.get(k);
  return void 0;
}
function extractIntent(call) {
  const vars = mergedVariables(call);
  const eventTypeId = Number(asText(first(vars, EVENT_TYPE_ID_KEYS)));
  const name = asText(first(vars, NAME_KEYS));
  return {
    confirmed: readConfirmation(first(vars, CONFIRM_KEYS)),
    datetime: asText(first(vars, DATETIME_KEYS)),
    date: asText(first(vars, DATE_KEYS)),
    time: asText(first(vars, TIME_KEYS)),
    service: asText(first(vars, SERVICE_KEYS)),
    eventTypeId: Number.isInteger(eventTypeId) && eventTypeId > 0 ? eventTypeId : void 0,
    customerName: isUnknownName(name) ? void 0 : name,
    email: asText(first(vars, EMAIL_KEYS))
  };
}

// lib/calls/match-service.ts
import { and as and2, eq as eq2, isNull, or } from "drizzle-orm";
function fold(s) {
  return s.normalize("NFD").replace(new RegExp("\\p{Diacritic}", "gu"), "").toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
}
async function servicesForBranch(db, companyId, branchId) {
  return db.select().from(services).where(and2(eq2(services.companyId, companyId), or(isNull(services.branchId), eq2(services.branchId, branchId))));
}
function matchService(candidates, wanted, branchDefaultId) {
  if (wanted.eventTypeId) {
    const byId = candidates.find((s) => s.calcomEventTypeId === wanted.eventTypeId);
    if (byId) return byId;
  }
  if (wanted.service) {
    const w = fold(wanted.service);
    const names = (s) => [s.slug, s.name, ...s.aliases].map(fold);
    const exact = candidates.find((s) => names(s).includes(w));
    if (exact) return exact;
    const partial = candidates.find((s) => names(s).some((n) => n.length >= 3 && (w.includes(n) || n.includes(w))));
    if (partial) return partial;
    return null;
  }
  if (branchDefaultId) {
    const def = candidates.find((s) => s.id === branchDefaultId);
    if (def) return def;
  }
  return candidates.length === 1 ? candidates[0] : null;
}
async function findService(db, companyId, branchId, wanted) {
  const [candidates, branch] = await Promise.all([
    servicesForBranch(db, companyId, branchId),
    db.select({ defaultServiceId: branches.defaultServiceId }).from(branches).where(and2(eq2(branches.id, branchId), eq2(branches.companyId, companyId)))
  ]);
  return matchService(candidates, wanted, branch[0]?.defaultServiceId ?? null);
}

export {
  claimEvent,
  finishEvent,
  isUnknownName,
  extractIntent,
  servicesForBranch,
  matchService,
  findService
};
//# sourceMappingURL=chunk-RXOHMDR6.js.map
