import {
  AgentPromptError,
  manualBookingJob,
  updateAgentPrompt
} from "./chunk-L7ZCO24U.js";
import {
  WEBHOOK_PATHS,
  agentsCacheKey,
  checkAgentWebhook,
  describeRetellError,
  fetchAgents,
  openRetellSession,
  retellKeysByAccount,
  runSync
} from "./chunk-IKLR67YA.js";
import {
  LoginThrottle
} from "./chunk-RCMPJCUG.js";
import {
  AppointmentNotFound,
  cancelAppointment,
  clientIp,
  findAppointments,
  rescheduleAppointment
} from "./chunk-6M7MFUOQ.js";
import {
  authenticate,
  freeSlotsOn
} from "./chunk-TGK5L235.js";
import {
  BookingDeferred,
  BookingRejected,
  executeBooking
} from "./chunk-FVWXLA2E.js";
import "./chunk-WCWRLYGH.js";
import {
  audit
} from "./chunk-54VZ3ZP4.js";
import {
  BreakerOpenError,
  CalcomError,
  bookingDeps,
  serviceBreaker
} from "./chunk-6VOENOB6.js";
import "./chunk-A7KMJAOI.js";
import "./chunk-YXWKEBKV.js";
import {
  parseRequestedRange,
  parseRequestedStart
} from "./chunk-GN4KETLM.js";
import "./chunk-RDU6U4K7.js";
import "./chunk-SC2WLIXO.js";
import {
  TTL_MS,
  cacheKeys
} from "./chunk-XN5S2XO3.js";
import {
  open,
  openJson,
  phoneIndexCandidates
} from "./chunk-RUAA5PEO.js";
import {
  bookingJobSchema
} from "./chunk-Z42SQZT6.js";
import "./chunk-7WOGBSIY.js";
import "./chunk-42NABTHE.js";
import {
  appointments,
  branches,
  calls,
  companies,
  customers,
  phoneNumbers,
  services
} from "./chunk-AQ2OROU7.js";
import {
  isCiphertext
} from "./chunk-E5ZFRTTD.js";
import "./chunk-54KOYG5C.js";

// apps/ingress/routes/mcp.ts
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";

// lib/mcp/errors.ts
var ERROR_CODES = {
  unauthorized: -32001,
  notFound: -32002,
  forbidden: -32003,
  invalidParams: -32602,
  internal: -32603
};
var McpToolError = class extends Error {
  constructor(code, message, data) {
    super(message);
    this.code = code;
    this.data = data;
  }
  code;
  data;
  name = "McpToolError";
};
var invalidParams = (message, data) => new McpToolError(ERROR_CODES.invalidParams, message, data);
var notFound = (what) => new McpToolError(ERROR_CODES.notFound, `not found: ${what}`);
var adminOnly = (why) => new McpToolError(ERROR_CODES.forbidden, `forbidden: admin only (${why})`);
function describeZodIssues(tool, error) {
  const issues = error.issues.map((i) => ({
    path: i.path.length ? i.path.join(".") : i.code === "unrecognized_keys" ? i.keys?.join(", ") ?? "(arguments)" : "(arguments)",
    message: i.message
  }));
  return invalidParams(`invalid arguments for ${tool}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, { issues });
}

// lib/mcp/server.ts
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { z as z6 } from "zod";

// lib/mcp/bookings.ts
import { and as and2, eq as eq2 } from "drizzle-orm";
import { DateTime } from "luxon";
import { z as z2 } from "zod";

// lib/mcp/scope.ts
import { and, asc, eq, isNull, or } from "drizzle-orm";
function isAdmin(t) {
  return t.principal.kind === "admin";
}
function requireAdmin(t, why) {
  if (!isAdmin(t)) throw adminOnly(why);
}
function tokenBranchId(t) {
  return t.principal.kind === "scoped" ? t.principal.branchId : null;
}
function tokenCompanyId(t) {
  return t.principal.kind === "scoped" ? t.principal.companyId : null;
}
async function resolveCompany(t, slug) {
  const db = t.ctx.database.db;
  const own = tokenCompanyId(t);
  if (own !== null) {
    const [row] = await db.select().from(companies).where(eq(companies.id, own));
    if (!row || slug !== void 0 && slug !== row.slug) throw notFound(`no company "${slug ?? own}"`);
    return row;
  }
  const all = await db.select().from(companies).orderBy(asc(companies.slug));
  if (slug === void 0) {
    if (all.length === 1) return all[0];
    throw invalidParams(`company: required (there are ${all.length} companies: ${all.map((c) => c.slug).join(", ") || "none"})`);
  }
  const found = all.find((c) => c.slug === slug);
  if (!found) throw notFound(`no company "${slug}"; companies: ${all.map((c) => c.slug).join(", ") || "none"}`);
  return found;
}
async function optionalCompany(t, slug) {
  if (slug === void 0 && isAdmin(t)) return null;
  return resolveCompany(t, slug);
}
async function resolveBranch(t, company, slug, required) {
  const db = t.ctx.database.db;
  const own = tokenBranchId(t);
  const all = await db.select().from(branches).where(eq(branches.companyId, company.id)).orderBy(asc(branches.slug));
  if (own !== null) {
    const row = all.find((b) => b.id === own);
    if (!row || slug !== void 0 && slug !== row.slug) throw notFound(`no branch "${slug ?? own}" in ${company.slug}`);
    return row;
  }
  if (slug === void 0) {
    if (!required) return null;
    if (all.length === 1) return all[0];
    throw invalidParams(`branch: required for ${company.slug} (branches: ${all.map((b) => b.slug).join(", ") || "none"})`);
  }
  const found = all.find((b) => b.slug === slug);
  if (!found) throw notFound(`no branch "${slug}" in ${company.slug}; branches: ${all.map((b) => b.slug).join(", ")}`);
  return found;
}
async function resolveService(t, company, branch, slugOrId) {
  const all = await t.ctx.database.db.select().from(services).where(and(eq(services.companyId, company.id), or(isNull(services.branchId), eq(services.branchId, branch.id)))).orderBy(asc(services.slug));
  const found = all.find((s) => s.slug === slugOrId || String(s.calcomEventTypeId) === slugOrId);
  if (!found) throw notFound(`no service "${slugOrId}" at ${company.slug}/${branch.slug}; services: ${all.map((s) => s.slug).join(", ") || "none"}`);
  return found;
}
function inScope(t, companyId, branchId) {
  const p = t.principal;
  if (p.kind === "admin") return true;
  if (p.companyId !== companyId) return false;
  return p.branchId === null || p.branchId === branchId;
}

// lib/mcp/tool.ts
import { z } from "zod";
function defineTool(def) {
  return def;
}
function ok(data) {
  return { content: [{ type: "text", text: JSON.stringify(data, null, 2) }], structuredContent: data };
}
function toolFailure(message, data = {}) {
  return { content: [{ type: "text", text: message }], structuredContent: { error: message, ...data }, isError: true };
}
function actorOf(p) {
  return p.kind === "admin" ? "mcp:admin" : `mcp:token:${p.tokenId}`;
}
var depsByContext = /* @__PURE__ */ new WeakMap();
function sharedBookingDeps(ctx) {
  let deps = depsByContext.get(ctx);
  if (!deps) {
    deps = bookingDeps(ctx);
    depsByContext.set(ctx, deps);
  }
  return deps;
}
var arg = {
  company: z.string().min(1).max(64).describe("company slug (a company or branch token: its own company, may be left out)"),
  branch: z.string().min(1).max(64).describe("branch slug (a branch token: its own branch, may be left out)"),
  phone: z.string().regex(/^\+[1-9]\d{5,14}$/, "must be an E.164 number like +4930123456"),
  appointmentId: z.number().int().positive().describe("appointment id (as booking_find / booking_create return it)")
};

// lib/mcp/bookings.ts
function calcomFailure(err, what) {
  if (err instanceof BookingRejected) return toolFailure(`${what}: ${err.reason}`, { kind: err.kind, alternatives: err.alternatives });
  if (err instanceof BookingDeferred) return toolFailure(`${what} now: ${err.message}`, { retryAt: new Date(err.retryAt).toISOString() });
  if (err instanceof BreakerOpenError) return toolFailure(`${what}: Cal.com circuit breaker is ${err.state}`, { retryAt: new Date(err.retryAt).toISOString() });
  if (err instanceof CalcomError) return toolFailure(`${what}: Cal.com answered ${err.status ?? err.kind}: ${err.message}`, { kind: err.kind });
  return null;
}
function calcomKey(t, company) {
  if (!company.calcomApiKeyEnc) throw invalidParams(`company ${company.slug} has no Cal.com API key (add calcomApiKey in the tenants file)`);
  return t.ctx.cipher.decrypt(company.calcomApiKeyEnc);
}
var localTime = (iso, zone) => DateTime.fromISO(iso).setZone(zone).toFormat("yyyy-MM-dd HH:mm");
var view = (a) => ({ ...a, local: localTime(a.start, a.branch.timezone) });
var availabilityCheck = defineTool({
  name: "availability_check",
  title: "Free slots",
  description: "Free slots of a service on one day at a branch, in the branch's time zone (cached 5 min, cleared when a booking lands on that day).",
  input: z2.object({
    company: arg.company.optional(),
    branch: arg.branch.optional(),
    service: z2.string().min(1).max(64).describe("service slug or Cal.com event type id"),
    date: z2.string().min(1).max(100).describe('YYYY-MM-DD, or a spoken day ("morgen", "next tuesday"), read in the branch time zone')
  }).strict(),
  annotations: { readOnlyHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const company = await resolveCompany(t, a.company);
    const branch = await resolveBranch(t, company, a.branch, true);
    const service = await resolveService(t, company, branch, a.service);
    let date = a.date;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) {
      const range = parseRequestedRange(date, { timeZone: branch.timezone });
      if (!range) throw invalidParams(`date: cannot read "${a.date}" (use YYYY-MM-DD or e.g. "morgen")`);
      date = DateTime.fromJSDate(range.from).setZone(branch.timezone).toISODate();
    } else if (!DateTime.fromISO(date).isValid) {
      throw invalidParams(`date: "${a.date}" is not a calendar day`);
    }
    const key = calcomKey(t, company);
    try {
      const slots = await freeSlotsOn(t.ctx.cache, t.booking().clientFor(key), { eventTypeId: service.calcomEventTypeId, date, timeZone: branch.timezone }, t.signal);
      return ok({
        company: company.slug,
        branch: branch.slug,
        service: service.slug,
        date,
        timeZone: branch.timezone,
        slots,
        local: slots.map((s) => DateTime.fromISO(s).setZone(branch.timezone).toFormat("HH:mm"))
      });
    } catch (err) {
      const failure = calcomFailure(err, "no availability");
      if (failure) return failure;
      throw err;
    }
  }
});
var bookingCreate = defineTool({
  name: "booking_create",
  title: "Book an appointment",
  description: "Book a service for a customer (found or created by phone number) in Cal.com, exactly once: the same service, customer and start asked twice is one booking. A taken slot fails with the nearest free slots.",
  input: z2.object({
    company: arg.company.optional(),
    branch: arg.branch.optional(),
    service: z2.string().min(1).max(64).describe("service slug or Cal.com event type id"),
    phone: arg.phone.describe("the customer's phone number, E.164"),
    start: z2.string().min(1).max(100).describe('ISO ("2026-12-01T11:00", read in the branch time zone unless it has an offset) or spoken ("Dienstag um 11")'),
    name: z2.string().min(1).max(200).optional(),
    email: z2.email().max(254).optional()
  }).strict(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const db = t.ctx.database.db;
    const company = await resolveCompany(t, a.company);
    const branch = await resolveBranch(t, company, a.branch, true);
    const service = await resolveService(t, company, branch, a.service);
    const when = parseRequestedStart(a.start, { timeZone: branch.timezone });
    if (!when?.hasTime) throw invalidParams(`start: cannot read a start time from "${a.start}"`);
    if (when.start.getTime() <= Date.now()) throw invalidParams(`start: ${when.start.toISOString()} is in the past`);
    calcomKey(t, company);
    const job = await manualBookingJob(db, { companyId: company.id, branchId: branch.id, service, phone: a.phone, name: a.name, email: a.email, start: when.start, source: "mcp" });
    const start = job.start;
    await audit(db, { companyId: company.id, actor: t.actor, action: "booking.create", target: `service:${service.slug}`, details: { tool: "booking_create", start, branch: branch.slug } });
    try {
      const r = await executeBooking(t.booking(), job, t.signal);
      return ok({ ...r, local: localTime(r.start, branch.timezone), timeZone: branch.timezone, company: company.slug, branch: branch.slug, service: service.slug });
    } catch (err) {
      const failure = calcomFailure(err, "not booked");
      if (failure) return failure;
      throw err;
    }
  }
});
var bookingFind = defineTool({
  name: "booking_find",
  title: "Find appointments",
  description: "Upcoming appointments (booked or pending) of the company, soonest first; optionally one customer's (by phone) or one branch's.",
  input: z2.object({
    company: arg.company.optional(),
    branch: arg.branch.optional(),
    phone: arg.phone.optional().describe("the customer's phone number, E.164")
  }).strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const company = await resolveCompany(t, a.company);
    const branch = await resolveBranch(t, company, a.branch, false);
    const scope = { companyId: company.id, branchId: branch?.id ?? null, ...a.phone ? { customerPhone: a.phone } : {} };
    const found = await findAppointments(t.booking(), scope);
    await audit(t.ctx.database.db, {
      companyId: company.id,
      actor: t.actor,
      action: "appointments.find",
      target: a.phone ? "customer" : `company:${company.slug}`,
      details: { tool: "booking_find", branch: branch?.slug, results: found.length }
    });
    return ok({ company: company.slug, count: found.length, appointments: found.map(view) });
  }
});
async function appointmentScope(t, companySlug, appointmentId) {
  const db = t.ctx.database.db;
  const conds = [eq2(appointments.id, appointmentId)];
  const own = tokenCompanyId(t);
  if (own !== null) conds.push(eq2(appointments.companyId, own));
  const ownBranch = tokenBranchId(t);
  if (ownBranch !== null) conds.push(eq2(appointments.branchId, ownBranch));
  if (companySlug !== void 0) {
    const company = await resolveCompany(t, companySlug);
    conds.push(eq2(appointments.companyId, company.id));
  }
  const [row] = await db.select({ companyId: appointments.companyId, branchId: appointments.branchId, timezone: branches.timezone }).from(appointments).innerJoin(branches, and2(eq2(branches.id, appointments.branchId), eq2(branches.companyId, appointments.companyId))).where(and2(...conds));
  if (!row) throw notFound(`no appointment ${appointmentId}`);
  return { scope: { companyId: row.companyId, branchId: ownBranch }, timezone: row.timezone };
}
var bookingReschedule = defineTool({
  name: "booking_reschedule",
  title: "Move an appointment",
  description: "Move a booked appointment to a new start in Cal.com. A taken slot fails with the nearest free slots; asking twice for the same start changes nothing.",
  input: z2.object({
    company: arg.company.optional(),
    appointmentId: arg.appointmentId,
    start: z2.string().min(1).max(100).describe("the new start: ISO or spoken, read in the branch time zone")
  }).strict(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const { scope, timezone } = await appointmentScope(t, a.company, a.appointmentId);
    const when = parseRequestedStart(a.start, { timeZone: timezone });
    if (!when?.hasTime) throw invalidParams(`start: cannot read a start time from "${a.start}"`);
    if (when.start.getTime() <= Date.now()) throw invalidParams(`start: ${when.start.toISOString()} is in the past`);
    try {
      const moved = await rescheduleAppointment(t.booking(), scope, { appointmentId: a.appointmentId, start: when.start, actor: t.actor });
      return ok({ appointment: view(moved) });
    } catch (err) {
      if (err instanceof AppointmentNotFound) throw notFound(`no booked appointment ${a.appointmentId}`);
      const failure = calcomFailure(err, "not moved");
      if (failure) return failure;
      throw err;
    }
  }
});
var bookingCancel = defineTool({
  name: "booking_cancel",
  title: "Cancel an appointment",
  description: "Cancel a booked appointment in Cal.com and here. Cancelling one already cancelled in Cal.com converges.",
  input: z2.object({
    company: arg.company.optional(),
    appointmentId: arg.appointmentId,
    reason: z2.string().min(1).max(500).optional()
  }).strict(),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const { scope } = await appointmentScope(t, a.company, a.appointmentId);
    try {
      const cancelled = await cancelAppointment(t.booking(), scope, { appointmentId: a.appointmentId, reason: a.reason ?? "cancelled by an operator", actor: t.actor });
      return ok({ appointment: view(cancelled) });
    } catch (err) {
      if (err instanceof AppointmentNotFound) throw notFound(`no booked appointment ${a.appointmentId}`);
      const failure = calcomFailure(err, "not cancelled");
      if (failure) return failure;
      throw err;
    }
  }
});
var bookingTools = [availabilityCheck, bookingCreate, bookingFind, bookingReschedule, bookingCancel];

// lib/mcp/calls.ts
import { and as and3, desc, eq as eq3, gte, inArray, like, lt, or as or2, sql } from "drizzle-orm";
import { z as z3 } from "zod";
var dateArg = z3.string().refine((s) => /^\d{4}-\d{2}-\d{2}$/.test(s) || !Number.isNaN(Date.parse(s)), "must be YYYY-MM-DD or an ISO date-time").describe("YYYY-MM-DD (a whole day, UTC) or an ISO date-time");
function bound(s, end) {
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) {
    const d = /* @__PURE__ */ new Date(`${s}T00:00:00.000Z`);
    if (Number.isNaN(d.getTime())) throw invalidParams(`invalid date "${s}"`);
    return end ? new Date(d.getTime() + 864e5) : d;
  }
  return new Date(s);
}
var likeEscape = (s) => s.replace(/[\\%_]/g, (m) => `\\${m}`);
var callTime = sql`COALESCE(${calls.startedAt}, ${calls.createdAt})`;
var SEALED = "v1:%";
var SCAN_PAGE = 250;
var SEALED_SCAN_LIMIT = 2e3;
var callsSearch = defineTool({
  name: "calls_search",
  title: "Search calls",
  description: "Find recorded calls by phone number (caller or dialled), date range, status and words in the summary; newest first, without transcripts (use calls_get). A company/branch token sees only its own calls; the admin sees every company unless one is named.",
  input: z3.object({
    company: arg.company.optional(),
    branch: arg.branch.optional(),
    phone: arg.phone.optional().describe("the caller's or the dialled number, E.164"),
    from: dateArg.optional(),
    to: dateArg.optional(),
    status: z3.enum(["ongoing", "ended", "analyzed"]).optional(),
    text: z3.string().min(2).max(200).optional().describe("words in the call summary (case-insensitive)"),
    bookingDecision: z3.enum(["book", "no_booking"]).optional(),
    limit: z3.number().int().min(1).max(100).default(20)
  }).strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const db = t.ctx.database.db;
    const company = await optionalCompany(t, a.company);
    const branch = company ? await resolveBranch(t, company, a.branch, false) : null;
    if (!company && a.branch) throw invalidParams("branch: name the company too");
    const conds = [];
    if (company) conds.push(eq3(calls.companyId, company.id));
    const branchId = branch?.id ?? tokenBranchId(t);
    if (branchId !== null) conds.push(eq3(calls.branchId, branchId));
    const checks = [];
    if (a.phone) {
      const phone = a.phone;
      const scope = company ? [company.id] : tokenCompanyId(t) !== null ? [tokenCompanyId(t)] : (await db.select({ id: companies.id }).from(companies)).map((r) => r.id);
      const indexes = new Map(scope.map((id) => [id, phoneIndexCandidates(id, phone)]));
      const byIndex = scope.map((id) => and3(eq3(calls.companyId, id), inArray(calls.callerIndex, indexes.get(id))));
      const [owner] = await db.select({ companyId: phoneNumbers.companyId }).from(phoneNumbers).where(eq3(phoneNumbers.e164, phone));
      const sealedOfOwner = owner && scope.includes(owner.companyId) ? [and3(eq3(calls.companyId, owner.companyId), or2(like(calls.toNumber, SEALED), like(calls.fromNumber, SEALED)))] : [];
      conds.push(or2(eq3(calls.fromNumber, phone), eq3(calls.toNumber, phone), ...byIndex, ...sealedOfOwner));
      checks.push((c) => indexes.get(c.companyId)?.includes(c.callerIndex ?? "") || open(c.fromNumber) === phone || open(c.toNumber) === phone);
    }
    if (a.from) conds.push(gte(callTime, bound(a.from, false)));
    if (a.to) conds.push(lt(callTime, bound(a.to, true)));
    if (a.status) conds.push(eq3(calls.status, a.status));
    if (a.text) {
      const words = a.text.toLowerCase();
      conds.push(or2(like(calls.summary, `%${likeEscape(a.text)}%`), like(calls.summary, SEALED)));
      checks.push((c) => !c.summary || !isCiphertext(c.summary) || open(c.summary).toLowerCase().includes(words));
    }
    if (a.bookingDecision) conds.push(eq3(calls.bookingDecision, a.bookingDecision));
    const query = (limit, offset) => db.select({ c: calls, company: companies.slug, branch: branches.slug, customerName: customers.name }).from(calls).innerJoin(companies, eq3(companies.id, calls.companyId)).innerJoin(branches, and3(eq3(branches.id, calls.branchId), eq3(branches.companyId, calls.companyId))).leftJoin(customers, and3(eq3(customers.id, calls.customerId), eq3(customers.companyId, calls.companyId))).where(and3(...conds)).orderBy(desc(callTime), desc(calls.id)).limit(limit).offset(offset);
    const rows = [];
    let scanned = 0;
    let truncated = false;
    const pageSize = checks.length ? SCAN_PAGE : a.limit;
    for (; ; ) {
      const page = await query(pageSize, scanned);
      scanned += page.length;
      for (const r of page) if (rows.length < a.limit && checks.every((check) => check(r.c))) rows.push(r);
      if (rows.length >= a.limit || page.length < pageSize) break;
      if (scanned >= SEALED_SCAN_LIMIT) {
        truncated = true;
        break;
      }
    }
    const filters = { phone: a.phone ? "given" : void 0, from: a.from, to: a.to, status: a.status, text: a.text ? "given" : void 0, branch: branch?.slug };
    await audit(db, {
      companyId: company?.id ?? tokenCompanyId(t),
      actor: t.actor,
      action: "calls.search",
      target: company ? `company:${company.slug}` : "all companies",
      details: { tool: "calls_search", filters, results: rows.length }
    });
    return ok({
      count: rows.length,
      ...truncated ? { truncated: `searched the newest ${scanned} candidate calls (encrypted summaries and numbers are read one by one); narrow the search with dates, a company or a branch to reach older ones` } : {},
      calls: rows.map(({ c, company: co, branch: br, customerName }) => ({
        callId: c.retellCallId,
        company: co,
        branch: br,
        status: c.status,
        direction: c.direction,
        from: open(c.fromNumber),
        to: open(c.toNumber),
        customerName: open(customerName),
        startedAt: c.startedAt?.toISOString() ?? null,
        durationMs: c.durationMs,
        summary: open(c.summary),
        sentiment: c.sentiment,
        bookingDecision: c.bookingDecision,
        bookingReason: c.bookingReason,
        appointmentId: c.appointmentId,
        purged: c.purgedAt !== null
      }))
    });
  }
});
var callsGet = defineTool({
  name: "calls_get",
  title: "Get one call",
  description: `One call by its Retell call id, with transcript, summary, collected variables, the customer and its appointments. Another company's call is "not found".`,
  input: z3.object({ callId: z3.string().min(1).max(100).describe("the Retell call id, e.g. call_8f2c\u2026") }).strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const db = t.ctx.database.db;
    const conds = [eq3(calls.retellCallId, a.callId)];
    const ownCompany = tokenCompanyId(t);
    const ownBranch = tokenBranchId(t);
    if (ownCompany !== null) conds.push(eq3(calls.companyId, ownCompany));
    if (ownBranch !== null) conds.push(eq3(calls.branchId, ownBranch));
    const [row] = await db.select({ c: calls, company: companies.slug, branch: branches.slug }).from(calls).innerJoin(companies, eq3(companies.id, calls.companyId)).innerJoin(branches, and3(eq3(branches.id, calls.branchId), eq3(branches.companyId, calls.companyId))).where(and3(...conds));
    if (!row) throw notFound(`no call "${a.callId}"`);
    const c = row.c;
    const [customer] = c.customerId ? await db.select().from(customers).where(and3(eq3(customers.id, c.customerId), eq3(customers.companyId, c.companyId))) : [];
    const appts = await db.select().from(appointments).where(and3(eq3(appointments.callId, c.id), eq3(appointments.companyId, c.companyId)));
    await audit(db, { companyId: c.companyId, actor: t.actor, action: "calls.get", target: `call:${c.retellCallId}`, details: { tool: "calls_get" } });
    return ok({
      call: {
        callId: c.retellCallId,
        company: row.company,
        branch: row.branch,
        agentId: c.agentId,
        status: c.status,
        direction: c.direction,
        from: open(c.fromNumber),
        to: open(c.toNumber),
        startedAt: c.startedAt?.toISOString() ?? null,
        endedAt: c.endedAt?.toISOString() ?? null,
        durationMs: c.durationMs,
        disconnectionReason: c.disconnectionReason,
        summary: open(c.summary),
        sentiment: c.sentiment,
        transcript: open(c.transcript),
        recordingUrl: open(c.recordingUrl),
        dynamicVariables: openJson(c.dynamicVariables),
        analysisData: openJson(c.analysisData),
        bookingDecision: c.bookingDecision,
        bookingReason: c.bookingReason,
        bookingRequest: c.bookingRequest,
        purgedAt: c.purgedAt?.toISOString() ?? null
      },
      customer: customer ? { id: customer.id, name: open(customer.name), phone: open(customer.phone), email: open(customer.email), erased: customer.erasedAt !== null } : null,
      appointments: appts.map((ap) => ({
        id: ap.id,
        status: ap.status,
        start: ap.startAt.toISOString(),
        end: ap.endAt?.toISOString() ?? null,
        calcomUid: ap.calcomBookingUid,
        failureReason: ap.failureReason,
        alternatives: ap.alternatives
      }))
    });
  }
});
var callTools = [callsSearch, callsGet];

// lib/mcp/operations.ts
import { eq as eq4 } from "drizzle-orm";
import { z as z4 } from "zod";
var SERVICES = ["calcom", "retell"];
var FAILED_SCAN = 1e3;
function companyOfJob(j) {
  const parsed = bookingJobSchema.safeParse(j.data);
  return parsed.success ? { companyId: parsed.data.companyId, branchId: parsed.data.branchId } : null;
}
async function failedInScope(t, company, branchId) {
  const jobs = await t.ctx.queues.bookings.getFailed(0, FAILED_SCAN - 1);
  return jobs.filter((j) => {
    const owner = companyOfJob(j);
    if (!owner) return isAdmin(t) && !company;
    if (company && owner.companyId !== company.id) return false;
    if (branchId !== null && owner.branchId !== branchId) return false;
    return inScope(t, owner.companyId, owner.branchId);
  });
}
var failedList = defineTool({
  name: "failed_bookings_list",
  title: "Failed booking jobs",
  description: "Booking jobs that failed (newest first) with the reason: slot taken with free alternatives, Cal.com refusals, gave up after retries. A token sees its company's (branch's) jobs only.",
  input: z4.object({
    company: arg.company.optional(),
    branch: arg.branch.optional(),
    limit: z4.number().int().min(1).max(500).default(50)
  }).strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const company = await optionalCompany(t, a.company);
    const branch = company ? await resolveBranch(t, company, a.branch, false) : null;
    if (!company && a.branch) throw invalidParams("branch: name the company too");
    const jobs = (await failedInScope(t, company, branch?.id ?? tokenBranchId(t))).slice(0, a.limit);
    const slugs = new Map((await t.ctx.database.db.select({ id: companies.id, slug: companies.slug }).from(companies)).map((c) => [c.id, c.slug]));
    return ok({
      count: jobs.length,
      jobs: jobs.map((j) => {
        const data = bookingJobSchema.safeParse(j.data);
        return {
          id: j.id,
          company: data.success ? slugs.get(data.data.companyId) ?? null : null,
          companyId: data.success ? data.data.companyId : null,
          branchId: data.success ? data.data.branchId : null,
          serviceId: data.success ? data.data.serviceId : null,
          start: data.success ? data.data.start : null,
          source: data.success ? data.data.source : null,
          attempts: j.attemptsMade,
          failedAt: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
          reason: j.failedReason
        };
      })
    });
  }
});
var failedRetry = defineTool({
  name: "failed_bookings_retry",
  title: "Retry failed booking jobs",
  description: "Put a failed booking job (jobId) or every failed booking job in scope (all: true) back in the queue. Retrying is safe: a booking is made at most once.",
  input: z4.object({
    jobId: z4.string().min(1).max(200).optional().describe("the job id from failed_bookings_list"),
    all: z4.literal(true).optional().describe("every failed booking job in scope (a token: its company's)"),
    company: arg.company.optional().describe("with all: only this company")
  }).strict().refine((o) => Boolean(o.jobId) !== Boolean(o.all), { message: "give exactly one of jobId or all: true", path: ["jobId"] }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const queue = t.ctx.queues.bookings;
    let jobs;
    let company = null;
    if (a.jobId) {
      const job = await queue.getJob(a.jobId);
      const owner2 = job && companyOfJob(job);
      const visible = job && (owner2 ? inScope(t, owner2.companyId, owner2.branchId) : isAdmin(t));
      if (!job || !visible) throw notFound(`no booking job "${a.jobId}"`);
      const state = await job.getState();
      if (state !== "failed") throw invalidParams(`jobId: booking job "${a.jobId}" is not failed (it is ${state})`);
      jobs = [job];
    } else {
      company = await optionalCompany(t, a.company);
      jobs = await failedInScope(t, company, tokenBranchId(t));
    }
    const retried = [];
    for (const j of jobs) {
      if (await j.getState() !== "failed") continue;
      await j.retry("failed");
      retried.push(j.id);
    }
    const owner = jobs.length === 1 ? companyOfJob(jobs[0]) : null;
    await audit(t.ctx.database.db, {
      companyId: company?.id ?? owner?.companyId ?? tokenCompanyId(t),
      actor: t.actor,
      action: "failed.retry",
      target: a.jobId ?? `bookings:all${company ? `:${company.slug}` : ""}`,
      details: { tool: "failed_bookings_retry", jobs: retried }
    });
    return ok({ retried });
  }
});
var breakerFor = (t, service) => serviceBreaker(service, { redis: t.ctx.redis, ns: t.ctx.ns, logger: t.ctx.logger });
var breakerStatus = defineTool({
  name: "breaker_status",
  title: "Circuit breakers",
  description: "State of the Cal.com and Retell circuit breakers, shared by every process: CLOSED, OPEN (requests refused until retryAt) or HALF_OPEN (one probe).",
  input: z4.object({}).strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (_a, t) => {
    const rows = await Promise.all(SERVICES.map((s) => breakerFor(t, s).status()));
    return ok({
      breakers: rows.map((r) => ({
        service: r.service,
        state: r.state,
        failures: r.failures,
        openedAt: r.openedAt ? new Date(r.openedAt).toISOString() : null,
        retryAt: r.retryAt && r.state !== "CLOSED" ? new Date(r.retryAt).toISOString() : null
      }))
    });
  }
});
var breakerReset = defineTool({
  name: "breaker_reset",
  title: "Reset a circuit breaker",
  description: "Force a breaker CLOSED (admin only: the breakers are shared by every company).",
  input: z4.object({ service: z4.enum(SERVICES) }).strict(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (a, t) => {
    requireAdmin(t, "the breakers are shared by every company");
    const b = breakerFor(t, a.service);
    const before = await b.status();
    await b.reset();
    await audit(t.ctx.database.db, { actor: t.actor, action: "breaker.reset", target: `breaker:${a.service}`, details: { tool: "breaker_reset", from: before.state } });
    return ok({ service: a.service, from: before.state, to: "CLOSED" });
  }
});
async function companyCacheKeys(t, company) {
  const db = t.ctx.database.db;
  const [svc, numbers] = await Promise.all([
    db.select({ eventTypeId: services.calcomEventTypeId }).from(services).where(eq4(services.companyId, company.id)),
    db.select({ e164: phoneNumbers.e164 }).from(phoneNumbers).where(eq4(phoneNumbers.companyId, company.id))
  ]);
  const keys = [
    cacheKeys.eventTypes(company.id),
    agentsCacheKey(company.id),
    ...numbers.flatMap((n) => [cacheKeys.phoneResolution(n.e164), cacheKeys.retellWebhookKey(n.e164)])
  ];
  const prefixes = [...new Set(svc.map((s) => `mcp:calcom:availability:${s.eventTypeId}:`))];
  return { keys, prefixes };
}
var cacheClear = defineTool({
  name: "cache_clear",
  title: "Clear caches",
  description: "Clear a company's cached data (event types, free slots, number resolution, agents) \u2014 a token: its own company's; the admin: any company's, or every key under a prefix (default mcp:). In-process copies expire within 30 s.",
  input: z4.object({
    company: arg.company.optional(),
    prefix: z4.string().min(1).max(200).optional().describe("admin only: every key starting with this, e.g. mcp:calcom:availability:")
  }).strict().refine((o) => !(o.company && o.prefix), { message: "give a company or a prefix, not both", path: ["prefix"] }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const cache = t.ctx.cache;
    if (a.prefix !== void 0 || a.company === void 0 && isAdmin(t)) {
      requireAdmin(t, "a prefix reaches every company's keys; clear your company's with no arguments");
      const prefix = a.prefix ?? "mcp:";
      const removed2 = await cache.invalidatePrefix(prefix);
      await audit(t.ctx.database.db, { actor: t.actor, action: "cache.clear", target: prefix, details: { tool: "cache_clear", removed: removed2 } });
      return ok({ prefix, removed: removed2 });
    }
    const company = await optionalCompany(t, a.company);
    const { keys, prefixes } = await companyCacheKeys(t, company);
    let removed = await cache.invalidate(...keys);
    for (const p of prefixes) removed += await cache.invalidatePrefix(p);
    await audit(t.ctx.database.db, { companyId: company.id, actor: t.actor, action: "cache.clear", target: `company:${company.slug}`, details: { tool: "cache_clear", removed } });
    return ok({ company: company.slug, removed, keys, prefixes });
  }
});
var operationTools = [failedList, failedRetry, breakerStatus, breakerReset, cacheClear];

// lib/mcp/retell.ts
import { and as and4, asc as asc2, eq as eq5 } from "drizzle-orm";
import { z as z5 } from "zod";
async function accountOf(t, company) {
  const [account] = await retellKeysByAccount(t.ctx, {
    companyId: company.id,
    onError: (acc, err) => {
      throw invalidParams(`the Retell key of ${acc.label} cannot be decrypted (${err.message}): re-import it from the tenants file`);
    }
  });
  if (!account) throw invalidParams(`company ${company.slug} has no Retell account`);
  return account;
}
function requireOwnAccount(t, account, what) {
  if (!isAdmin(t) && account.companyId === null) {
    throw adminOnly(`${what} of the shared Retell account; your company has no Retell key of its own`);
  }
}
function retellFailure(err, what) {
  if (err instanceof BreakerOpenError) return toolFailure(`${what}: ${err.message}`, { retryAt: new Date(err.retryAt).toISOString() });
  return toolFailure(`${what}: ${describeRetellError(err)}`);
}
var agentView = (a, account, publicUrl) => ({
  ...a,
  account,
  problems: checkAgentWebhook(a, account, publicUrl).map((m) => m.problem)
});
var phoneNumbersSync = defineTool({
  name: "phone_numbers_sync",
  title: "Sync phone numbers from Retell",
  description: "Import the Retell account's phone numbers now: the inventory, bound agents and nicknames of mapped numbers; reports numbers no branch maps and numbers mapped elsewhere. Without a company (admin only): every account.",
  input: z5.object({ company: arg.company.optional() }).strict(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const company = await optionalCompany(t, a.company);
    if (company) requireOwnAccount(t, await accountOf(t, company), "phone numbers sync");
    const report = await runSync(t.ctx, { kind: "retell_numbers", ...company ? { companyId: company.id } : {} });
    await audit(t.ctx.database.db, {
      companyId: company?.id ?? null,
      actor: t.actor,
      action: "sync.run",
      target: "retell_numbers",
      details: { tool: "phone_numbers_sync", runId: report.runId, status: report.status }
    });
    const scoped = !isAdmin(t);
    const out = {
      runId: report.runId,
      status: report.status,
      accounts: report.accounts,
      imported: report.numbers.imported,
      updatedMappings: report.numbers.updatedMappings,
      unmapped: report.numbers.unmapped,
      // Which other company maps a number is not a token's business.
      conflicts: report.numbers.conflicts.map((c) => scoped ? { ...c, mappedTo: "another company", problem: `number is in your Retell account but mapped to another company: mapping left unchanged` } : c),
      errors: report.errors
    };
    return report.status === "failed" ? toolFailure(`sync failed: ${report.errors.map((e) => e.message).join("; ")}`, out) : ok(out);
  }
});
var agentsList = defineTool({
  name: "agents_list",
  title: "Retell agents",
  description: "The agents of a Retell account (cached 10 min; refresh: true reads Retell now) with their response engine and webhook settings, and what is wrong with each. A token: its company's own account; the shared account is admin only.",
  input: z5.object({ company: arg.company.optional(), refresh: z5.boolean().default(false) }).strict(),
  annotations: { readOnlyHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const company = await optionalCompany(t, a.company);
    const account = company ? await accountOf(t, company) : { companyId: null, label: "global", apiKey: t.ctx.config.RETELL_API_KEY };
    requireOwnAccount(t, account, "the agents");
    const key = agentsCacheKey(account.companyId);
    try {
      const load = () => fetchAgents(openRetellSession(t.ctx, account, t.signal));
      let agents;
      if (a.refresh) {
        agents = await load();
        await t.ctx.cache.set(key, agents, TTL_MS.retellAgents);
      } else {
        agents = await t.ctx.cache.getOrLoad(key, TTL_MS.retellAgents, load);
      }
      return ok({ account: account.label, count: agents.length, agents: agents.map((ag) => agentView(ag, account.label, t.ctx.config.PUBLIC_URL)) });
    } catch (err) {
      return retellFailure(err, "agents not listed");
    }
  }
});
var agentsUpdatePrompt = defineTool({
  name: "agents_update_prompt",
  title: "Change an agent's prompt",
  description: "Replace an agent's prompt (its Retell LLM general_prompt). The change lands in the LLM's newest version; a draft must be published in Retell before calls use it. A token: agents of its company's own account only.",
  input: z5.object({
    company: arg.company.optional().describe("the company whose Retell account holds the agent (admin: none = the shared account)"),
    agentId: z5.string().min(1).max(100),
    prompt: z5.string().trim().min(1).max(1e5)
  }).strict(),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const company = await optionalCompany(t, a.company);
    if (company) requireOwnAccount(t, await accountOf(t, company), "prompt changes");
    try {
      const r = await updateAgentPrompt(t.ctx, { companyId: company?.id ?? null, agentId: a.agentId, prompt: a.prompt, actor: t.actor }, t.signal);
      return ok({ ...r, note: r.published ? "published" : "a draft: publish the agent in Retell for calls to use it" });
    } catch (err) {
      if (err instanceof AgentPromptError) {
        if (/ not found in /.test(err.message)) throw notFound(err.message);
        if (/^could not /.test(err.message)) return toolFailure(err.message);
        throw invalidParams(err.message);
      }
      if (err instanceof BreakerOpenError) return retellFailure(err, "prompt not changed");
      throw err;
    }
  }
});
var webhookConfigCheck = defineTool({
  name: "webhook_config_check",
  title: "Check webhook configuration",
  description: "Check that Retell sends each agent's webhooks to this callbook (PUBLIC_URL + /webhooks/retell, with call_started, call_ended and call_analyzed) and that every number of the company has an existing agent bound. A token: its company's numbers and their agents; the admin without a company: every account.",
  input: z5.object({ company: arg.company.optional() }).strict(),
  annotations: { readOnlyHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const publicUrl = t.ctx.config.PUBLIC_URL;
    const db = t.ctx.database.db;
    const company = await optionalCompany(t, a.company);
    const errors = [];
    const accounts = company ? [await accountOf(t, company)] : await retellKeysByAccount(t.ctx, { onError: (acc, err) => errors.push({ account: acc.label, message: `Retell key cannot be decrypted (${err.message})` }) });
    const conds = [];
    if (company) conds.push(eq5(phoneNumbers.companyId, company.id));
    const ownBranch = tokenBranchId(t);
    if (ownBranch !== null) conds.push(eq5(phoneNumbers.branchId, ownBranch));
    const numbers = await db.select({ e164: phoneNumbers.e164, agentId: phoneNumbers.retellAgentId, companyId: phoneNumbers.companyId, company: companies.slug, branch: branches.slug, ownKey: companies.retellApiKeyEnc }).from(phoneNumbers).innerJoin(companies, eq5(companies.id, phoneNumbers.companyId)).innerJoin(branches, eq5(branches.id, phoneNumbers.branchId)).where(and4(...conds)).orderBy(asc2(phoneNumbers.e164));
    const agentsByAccount = /* @__PURE__ */ new Map();
    for (const account of accounts) {
      try {
        const agents2 = await fetchAgents(openRetellSession(t.ctx, account, t.signal));
        await t.ctx.cache.set(agentsCacheKey(account.companyId), agents2, TTL_MS.retellAgents);
        agentsByAccount.set(account.label, agents2);
      } catch (err) {
        errors.push({ account: account.label, message: err instanceof BreakerOpenError ? err.message : describeRetellError(err) });
      }
    }
    const labelOf = (n) => n.ownKey && accounts.some((acc) => acc.label === n.company) ? n.company : "global";
    const restrictTo = company && accounts[0].companyId === null ? new Set(numbers.map((n) => n.agentId).filter((id) => Boolean(id))) : null;
    const agents = [...agentsByAccount].flatMap(
      ([label, list]) => list.filter((ag) => !restrictTo || restrictTo.has(ag.agentId)).map((ag) => agentView(ag, label, publicUrl))
    );
    const numberRows = numbers.map((n) => {
      const label = company ? accounts[0].label : labelOf(n);
      const known = agentsByAccount.get(label);
      let problem = null;
      if (!n.agentId) problem = "no Retell agent bound (bind one in Retell, then run phone_numbers_sync)";
      else if (known && !known.some((ag) => ag.agentId === n.agentId)) problem = `bound agent ${n.agentId} not found in the ${label} Retell account`;
      return { e164: n.e164, company: n.company, branch: n.branch, agentId: n.agentId, account: label, problem };
    });
    const problems = agents.reduce((s, ag) => s + ag.problems.length, 0) + numberRows.filter((n) => n.problem).length + errors.length;
    return ok({
      ok: problems === 0,
      publicUrl: publicUrl ?? null,
      expectedWebhookUrls: publicUrl ? WEBHOOK_PATHS.map((p) => publicUrl.replace(/\/+$/, "") + p) : [],
      ...publicUrl ? {} : { warning: "PUBLIC_URL is not set: webhook URLs cannot be checked" },
      accounts: accounts.map((acc) => acc.label),
      agents,
      numbers: numberRows,
      errors
    });
  }
});
var retellTools = [phoneNumbersSync, agentsList, agentsUpdatePrompt, webhookConfigCheck];

// lib/mcp/server.ts
var SERVER_INFO = { name: "callbook", version: "0.1.0" };
var INSTRUCTIONS = [
  "callbook books Cal.com appointments from Retell phone calls for many companies and branches.",
  "Companies and branches are named by slug. A company or branch token is confined to its own company (branch):",
  'leave `company` out; other companies\' rows answer "not found". Times are read in the branch time zone.'
].join(" ");
var TOOLS = [...callTools, ...operationTools, ...bookingTools, ...retellTools];
var listed;
function toolList() {
  listed ??= TOOLS.map((def) => {
    const { $schema: _ignored, ...schema } = z6.toJSONSchema(def.input, { io: "input" });
    return {
      name: def.name,
      title: def.title,
      description: def.description,
      inputSchema: schema,
      ...def.annotations ? { annotations: { title: def.title, ...def.annotations } } : {}
    };
  });
  return listed;
}
var byName = new Map(TOOLS.map((t) => [t.name, t]));
function createMcpServer(ctx, principal) {
  const server = new Server(SERVER_INFO, { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS });
  const actor = actorOf(principal);
  const log = ctx.logger.child({ component: "mcp", actor });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: toolList() }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const name = request.params.name;
    const def = byName.get(name);
    if (!def) throw invalidParams(`unknown tool "${name}"; tools: ${TOOLS.map((t2) => t2.name).join(", ")}`);
    const parsed = def.input.safeParse(request.params.arguments ?? {});
    if (!parsed.success) throw describeZodIssues(name, parsed.error);
    const t = { ctx, principal, actor, booking: () => sharedBookingDeps(ctx), signal: extra.signal };
    const started = performance.now();
    try {
      const result = await def.handler(parsed.data, t);
      log.info({ tool: name, ms: Math.round(performance.now() - started), outcome: result.isError ? "tool_error" : "ok" }, "mcp tool call");
      return result;
    } catch (err) {
      const ms = Math.round(performance.now() - started);
      if (err instanceof McpToolError) {
        log.info({ tool: name, ms, outcome: "refused", code: err.code, reason: err.message }, "mcp tool call");
        throw err;
      }
      log.error({ tool: name, ms, err }, "mcp tool failed");
      throw new McpToolError(ERROR_CODES.internal, `internal error in ${name}; the server log has the details`);
    }
  });
  return server;
}

// apps/ingress/routes/mcp.ts
var MCP_PATH = "/mcp";
var MAX_BODY_BYTES = 1024 * 1024;
function rpcError(c, status, code, message) {
  return c.json({ jsonrpc: "2.0", error: { code, message }, id: null }, status);
}
function mountMcp(ctx, opts = {}) {
  const auth = { db: ctx.database.db, cache: ctx.cache, adminToken: ctx.config.ADMIN_TOKEN.trim() ? ctx.config.ADMIN_TOKEN : "" };
  const throttle = new LoginThrottle(opts.wrongTokensPerMinute ?? 20);
  const log = ctx.logger.child({ component: "mcp" });
  return (app) => {
    app.on(["POST", "GET", "DELETE"], MCP_PATH, async (c) => {
      const who = clientIp(c, ctx.config.TRUST_PROXY);
      const wait = throttle.retryAfter(who);
      if (wait) {
        c.header("Retry-After", String(wait));
        return rpcError(c, 429, ERROR_CODES.unauthorized, `too many wrong tokens; try again in ${wait} s`);
      }
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
      const principal = await authenticate(auth, bearer);
      if (!principal) {
        if (bearer) throttle.fail(who);
        c.header("WWW-Authenticate", 'Bearer realm="callbook mcp"');
        return rpcError(c, 401, ERROR_CODES.unauthorized, bearer ? "unauthorized: unknown or revoked token" : "unauthorized: send Authorization: Bearer <ADMIN_TOKEN or a callbook token>");
      }
      if (c.req.method !== "POST") {
        c.header("Allow", "POST");
        return rpcError(c, 405, -32e3, "method not allowed: this MCP server is stateless (no SSE stream, no sessions); POST JSON-RPC messages");
      }
      const server = createMcpServer(ctx, principal);
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: void 0, enableJsonResponse: true, maxRequestBodySize: MAX_BODY_BYTES });
      transport.onerror = (err) => log.debug({ err: err.message }, "mcp transport");
      await server.connect(transport);
      try {
        return await transport.handleRequest(c.req.raw);
      } finally {
        await server.close();
      }
    });
  };
}
export {
  MCP_PATH,
  mountMcp
};
//# sourceMappingURL=mcp-BG6AAGML.js.map
