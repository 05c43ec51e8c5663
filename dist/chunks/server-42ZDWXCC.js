import {
  metricsKeys,
  startMetricsPublisher,
  thisProcess
} from "./chunk-HRM5DEUL.js";
import {
  createContext,
  loadConfig
} from "./chunk-KF4VCP7M.js";
import "./chunk-AFPE6KLN.js";
import {
  ApiError,
  AppointmentNotFound,
  cancelAppointment,
  clientIp,
  createApp,
  findAppointments,
  ipAllowlist,
  lazyRoutes,
  maxBody,
  rateLimit,
  rescheduleAppointment,
  retellSignature
} from "./chunk-6M7MFUOQ.js";
import {
  authenticate,
  freeSlotsOn
} from "./chunk-TGK5L235.js";
import {
  BookingDeferred,
  BookingRejected,
  callCalcom,
  executeBooking
} from "./chunk-FVWXLA2E.js";
import "./chunk-WCWRLYGH.js";
import {
  audit
} from "./chunk-54VZ3ZP4.js";
import {
  CalcomError,
  bookingDeps,
  exportBreakerState,
  serviceBreaker
} from "./chunk-6VOENOB6.js";
import "./chunk-A7KMJAOI.js";
import {
  claimEvent,
  finishEvent,
  isUnknownName,
  matchService,
  servicesForBranch
} from "./chunk-RXOHMDR6.js";
import {
  resolvePhone
} from "./chunk-5BOZF2J7.js";
import {
  bookingIdempotencyKey,
  upsertCall,
  upsertCustomer
} from "./chunk-YXWKEBKV.js";
import {
  parseRequestedRange,
  parseRequestedStart,
  speakTime,
  toZonedIso
} from "./chunk-GN4KETLM.js";
import {
  callSchema,
  describeIssues
} from "./chunk-RDU6U4K7.js";
import {
  eventsChannel,
  publishEvent
} from "./chunk-SC2WLIXO.js";
import {
  TTL_MS,
  cacheKeys,
  createRedis,
  getValues
} from "./chunk-XN5S2XO3.js";
import {
  assertPiiKeys,
  open,
  phoneIndexCandidates
} from "./chunk-RUAA5PEO.js";
import "./chunk-Z42SQZT6.js";
import "./chunk-7WOGBSIY.js";
import "./chunk-42NABTHE.js";
import {
  appointments,
  branches,
  companies,
  customers,
  inboundAnswersTotal,
  phoneNumbers,
  registry,
  services
} from "./chunk-AQ2OROU7.js";
import "./chunk-E5ZFRTTD.js";
import "./chunk-54KOYG5C.js";

// apps/ingress/server.ts
import { serve } from "@hono/node-server";

// lib/events/hub.ts
var EventHub = class {
  constructor(opts2) {
    this.opts = opts2;
  }
  opts;
  sub;
  channels = /* @__PURE__ */ new Map();
  closed = false;
  connection() {
    if (!this.sub) {
      const sub = this.opts.connect?.() ?? createRedis(this.opts.redisUrl, "client", { connectionName: "callbook-events" });
      sub.on("message", (channel, message) => this.dispatch(channel, message));
      this.sub = sub;
    }
    return this.sub;
  }
  dispatch(channel, message) {
    const entry = this.channels.get(channel);
    if (!entry || entry.listeners.size === 0) return;
    let event;
    try {
      event = JSON.parse(message);
    } catch {
      this.opts.logger?.warn({ channel }, "live event is not JSON; dropped");
      return;
    }
    for (const l of entry.listeners) {
      try {
        l.onEvent(event);
      } catch (err) {
        this.opts.logger?.warn({ err }, "live event listener failed");
      }
    }
  }
  /**
   * Listen to a company's events; resolves once Redis confirmed the subscription (events
   * published after that reach the listener). Returns the function that stops listening.
   */
  async subscribe(companyId, listener) {
    if (this.closed) throw new Error("event hub is closed");
    const channel = eventsChannel(this.opts.ns, companyId);
    let entry = this.channels.get(channel);
    if (!entry) {
      const ready = this.connection().subscribe(channel).then(() => void 0);
      entry = { listeners: /* @__PURE__ */ new Set(), ready };
      this.channels.set(channel, entry);
    }
    entry.listeners.add(listener);
    const mine = entry;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      mine.listeners.delete(listener);
      if (mine.listeners.size === 0 && this.channels.get(channel) === mine) {
        this.channels.delete(channel);
        this.sub?.unsubscribe(channel).catch((err) => this.opts.logger?.warn({ err, channel }, "unsubscribe failed"));
      }
    };
    try {
      await mine.ready;
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }
  /** Channels subscribed and listeners attached (for tests and metrics). */
  stats() {
    let listeners = 0;
    for (const c of this.channels.values()) listeners += c.listeners.size;
    return { channels: this.channels.size, listeners };
  }
  /** End every listener's stream and drop the subscriber connection. */
  async close() {
    this.closed = true;
    const all = [...this.channels.values()].flatMap((c) => [...c.listeners]);
    this.channels.clear();
    for (const l of all) {
      try {
        l.onClose?.();
      } catch {
      }
    }
    const sub = this.sub;
    this.sub = void 0;
    if (sub) {
      await sub.quit().catch(() => void 0);
      sub.disconnect();
    }
  }
};
var hubs = /* @__PURE__ */ new Map();
function sharedEventHub(opts2) {
  const key = `${opts2.redisUrl}|${opts2.ns}`;
  let hub = hubs.get(key);
  if (!hub) {
    hub = new EventHub(opts2);
    hubs.set(key, hub);
  }
  return hub;
}
async function closeEventHubs() {
  const all = [...hubs.values()];
  hubs.clear();
  await Promise.all(all.map((h) => h.close()));
}

// apps/ingress/deps.ts
import { sql } from "drizzle-orm";

// lib/metrics/queues.ts
import { Gauge } from "prom-client";
var STATES = ["waiting", "active", "delayed", "failed", "completed"];
function registerQueueGauges(queues) {
  if (registry.getSingleMetric("callbook_queue_jobs")) registry.removeSingleMetric("callbook_queue_jobs");
  new Gauge({
    name: "callbook_queue_jobs",
    help: "Jobs per queue and state",
    labelNames: ["queue", "state"],
    registers: [registry],
    async collect() {
      const counts = await Promise.all(queues.map((q) => q.getJobCounts(...STATES)));
      queues.forEach((q, i) => {
        for (const state of STATES) this.set({ queue: q.name, state }, counts[i][state] ?? 0);
      });
    }
  });
}

// lib/metrics/scrape.ts
import { AggregatorRegistry } from "prom-client";
async function liveProcesses(redis, ns, now = Date.now()) {
  const set = metricsKeys.registrySet(ns);
  await redis.zremrangebyscore(set, "-inf", String(now));
  return redis.zrange(set, "0", "-1");
}
function labelled(snapshot) {
  const extra = { process: snapshot.process.id, process_type: snapshot.process.type };
  return snapshot.metrics.map((m) => ({
    ...m,
    // prom-client omits some default metrics (aggregator 'omit') from a merge; per process they all stay.
    aggregator: "sum",
    values: m.values.map((v) => ({ ...v, labels: { ...v.labels, ...extra } }))
  }));
}
async function renderAll(o) {
  await o.beforeScrape?.();
  const ids = (await liveProcesses(o.redis, o.ns)).filter((id) => id !== o.self.id);
  const published = await getValues(o.redis, ids.map((id) => metricsKeys.process(o.ns, id)));
  const snapshots = [{ process: o.self, metrics: await registry.getMetricsAsJSON() }];
  for (const raw of published) if (raw !== null) snapshots.push(JSON.parse(raw));
  const merged = AggregatorRegistry.aggregate(snapshots.map(labelled));
  return { contentType: registry.contentType, body: await merged.metrics() };
}
function metricsScraper(o) {
  let cached;
  return () => {
    const now = Date.now();
    if (cached && now - cached.at < o.cacheMs) return cached.answer;
    const answer = renderAll(o);
    cached = { at: now, answer };
    answer.catch(() => {
      if (cached?.answer === answer) cached = void 0;
    });
    return answer;
  };
}

// lib/retell/company-key.ts
import { eq } from "drizzle-orm";
var E164 = /^\+\d{6,15}$/;
async function companyRetellKeyFor(deps, e1643) {
  if (!E164.test(e1643)) return [];
  const keyEnc = await deps.cache.getOrLoad(cacheKeys.retellWebhookKey(e1643), TTL_MS.retellWebhookKey, async () => {
    const [row] = await deps.db.select({ key: companies.retellApiKeyEnc }).from(phoneNumbers).innerJoin(companies, eq(companies.id, phoneNumbers.companyId)).where(eq(phoneNumbers.e164, e1643));
    return row?.key ?? null;
  });
  return keyEnc ? [deps.cipher.decrypt(keyEnc)] : [];
}
var isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
function businessNumberOf(json) {
  if (!isObject(json)) return void 0;
  const src = isObject(json.call) ? json.call : isObject(json.args) && !("call" in json) ? json.args : json;
  const n = src.direction === "outbound" ? src.from_number : src.to_number;
  return typeof n === "string" ? n : void 0;
}
function companyKeysOfBody(deps) {
  return async (raw) => {
    let json;
    try {
      json = JSON.parse(raw.toString("utf8"));
    } catch {
      return [];
    }
    const number = businessNumberOf(json);
    return number ? companyRetellKeyFor(deps, number) : [];
  };
}

// lib/calcom-webhooks/signature.ts
import { createHmac, timingSafeEqual } from "node:crypto";
var HEX64 = /^[0-9a-f]{64}$/i;
function verifyCalcomSignature(body, secret, header) {
  if (!header || !secret) return false;
  const given = header.trim();
  if (!HEX64.test(given)) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  return timingSafeEqual(Buffer.from(given, "hex"), expected);
}
function findSigner(body, header, candidates) {
  let found = null;
  for (const c of candidates) {
    if (verifyCalcomSignature(body, c.secret, header) && !found) found = c;
  }
  return found;
}

// lib/calcom-webhooks/schema.ts
import { createHash } from "node:crypto";
import { z } from "zod";
var HANDLED_TRIGGERS = ["BOOKING_CREATED", "BOOKING_RESCHEDULED", "BOOKING_CANCELLED"];
function isHandledTrigger(t) {
  return HANDLED_TRIGGERS.includes(t);
}
var isoTime = z.string().max(64).refine((v) => !Number.isNaN(Date.parse(v)), { message: "must be an ISO 8601 date-time" });
var uid = z.string().min(1).max(100);
var envelopeSchema = z.looseObject({
  triggerEvent: z.string().min(1).max(64),
  createdAt: z.string().max(64).optional(),
  payload: z.unknown().optional()
});
var bookingPayloadSchema = z.looseObject({
  uid,
  bookingId: z.number().int().nonnegative().nullish(),
  eventTypeId: z.number().int().positive().nullish(),
  startTime: isoTime,
  endTime: isoTime,
  /** UPPERCASE in webhooks: ACCEPTED, PENDING, CANCELLED, REJECTED … */
  status: z.string().max(32).nullish(),
  /** BOOKING_RESCHEDULED: the uid of the booking that was moved (the payload's uid is the new one). */
  rescheduleUid: uid.nullish(),
  rescheduleStartTime: isoTime.nullish(),
  updatedAt: z.string().max(64).nullish(),
  cancellationReason: z.string().nullish()
});
var bookingWebhookSchema = z.looseObject({
  triggerEvent: z.enum(HANDLED_TRIGGERS),
  createdAt: z.string().max(64).optional(),
  payload: bookingPayloadSchema
});
function peekEventTypeId(body) {
  const id = body?.payload?.eventTypeId;
  return typeof id === "number" && Number.isSafeInteger(id) && id > 0 ? id : null;
}
function calcomDedupeKey(w, rawBody) {
  const stamp = w.createdAt ?? w.payload.updatedAt ?? `sha256-${createHash("sha256").update(rawBody).digest("hex").slice(0, 32)}`;
  const key = `${w.triggerEvent}:${w.payload.uid}:${stamp}`;
  return key.length <= 191 ? key : `${w.triggerEvent}:sha256-${createHash("sha256").update(key).digest("hex")}`;
}

// lib/calcom-webhooks/companies.ts
import { and, eq as eq2, isNotNull } from "drizzle-orm";
function decrypted(cipher, rows) {
  const out = [];
  for (const r of rows) {
    if (!r.secretEnc) continue;
    try {
      out.push({ companyId: r.companyId, slug: r.slug, secret: cipher.decrypt(r.secretEnc) });
    } catch {
    }
  }
  return out;
}
var cols = { companyId: companies.id, slug: companies.slug, secretEnc: companies.calcomWebhookSecretEnc };
async function companyBySlug(db, cipher, slug) {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/i.test(slug)) return null;
  const rows = await db.select(cols).from(companies).where(eq2(companies.slug, slug)).limit(1);
  return decrypted(cipher, rows)[0] ?? null;
}
async function candidateCompanies(db, cipher, eventTypeId) {
  if (eventTypeId !== null) {
    const rows2 = await db.selectDistinct(cols).from(services).innerJoin(companies, eq2(companies.id, services.companyId)).where(and(eq2(services.calcomEventTypeId, eventTypeId), isNotNull(companies.calcomWebhookSecretEnc)));
    if (rows2.length) return decrypted(cipher, rows2);
  }
  const rows = await db.select(cols).from(companies).where(isNotNull(companies.calcomWebhookSecretEnc));
  return decrypted(cipher, rows);
}

// lib/calcom-webhooks/process.ts
import { and as and2, eq as eq3, inArray, isNull, ne, or } from "drizzle-orm";
import { DateTime } from "luxon";
var ACTOR = "calcom:webhook";
async function handleCalcomWebhook(deps, input) {
  const { companyId, webhook } = input;
  const key = { provider: "calcom", dedupeKey: input.dedupeKey };
  const fresh = await claimEvent(deps.db, key, { eventType: webhook.triggerEvent, externalId: webhook.payload.uid, receivedAt: input.receivedAt ?? /* @__PURE__ */ new Date() });
  if (!fresh) return { outcome: "duplicate", invalidated: [] };
  try {
    const result = await apply(deps, companyId, webhook);
    await finishEvent(deps.db, key, "processed", { companyId });
    deps.logger.info({ companyId, trigger: webhook.triggerEvent, uid: webhook.payload.uid, outcome: result.outcome, appointmentId: result.appointmentId }, "cal.com webhook processed");
    return result;
  } catch (err) {
    await finishEvent(deps.db, key, "failed", { companyId, error: err.message }).catch(() => void 0);
    throw err;
  }
}
async function apply(deps, companyId, w) {
  const p = w.payload;
  const uids = [p.uid, ...p.rescheduleUid ? [p.rescheduleUid] : []];
  const rows = await deps.db.select({
    id: appointments.id,
    branchId: appointments.branchId,
    uid: appointments.calcomBookingUid,
    status: appointments.status,
    startAt: appointments.startAt,
    endAt: appointments.endAt,
    eventTypeId: services.calcomEventTypeId,
    timezone: branches.timezone
  }).from(appointments).innerJoin(services, and2(eq3(services.id, appointments.serviceId), eq3(services.companyId, appointments.companyId))).innerJoin(branches, and2(eq3(branches.id, appointments.branchId), eq3(branches.companyId, appointments.companyId))).where(and2(eq3(appointments.companyId, companyId), inArray(appointments.calcomBookingUid, uids)));
  const current = rows.find((r) => r.uid === p.uid);
  const previous = p.rescheduleUid ? rows.find((r) => r.uid === p.rescheduleUid) : void 0;
  const start = new Date(p.startTime);
  const end = new Date(p.endTime);
  const days = [{ eventTypeId: p.eventTypeId, at: start }];
  const forget = async (appointmentRow, extra) => {
    if (appointmentRow) days.push({ eventTypeId: appointmentRow.eventTypeId, at: appointmentRow.startAt, zone: appointmentRow.timezone }, { eventTypeId: appointmentRow.eventTypeId, at: start, zone: appointmentRow.timezone });
    if (extra) days.push({ eventTypeId: p.eventTypeId ?? appointmentRow?.eventTypeId, at: extra });
    return invalidateDays(deps, companyId, days);
  };
  switch (w.triggerEvent) {
    case "BOOKING_CREATED": {
      if (current) return { outcome: "created_by_callbook", appointmentId: current.id, invalidated: await forget(current) };
      return { outcome: "created_elsewhere", invalidated: await forget() };
    }
    case "BOOKING_CANCELLED": {
      if (!current) return { outcome: "unknown_booking", invalidated: await forget() };
      const [res] = await deps.db.update(appointments).set({ status: "cancelled" }).where(and2(eq3(appointments.id, current.id), eq3(appointments.companyId, companyId), ne(appointments.status, "cancelled")));
      const invalidated = await forget(current);
      if (res.affectedRows === 0) return { outcome: "already_cancelled", appointmentId: current.id, invalidated };
      await audit(deps.db, { companyId, actor: ACTOR, action: "appointment.cancel", target: `appointment:${current.id}`, details: { uid: p.uid, reason: p.cancellationReason ?? null } });
      await deps.publish?.({ type: "booking.cancelled", companyId, branchId: current.branchId, appointmentId: current.id, start: current.startAt.toISOString() });
      return { outcome: "cancelled", appointmentId: current.id, invalidated };
    }
    case "BOOKING_RESCHEDULED": {
      const oldStart = p.rescheduleStartTime ? new Date(p.rescheduleStartTime) : void 0;
      const target = current ?? previous;
      if (!target) return { outcome: "unknown_booking", invalidated: await forget(void 0, oldStart) };
      const already = current !== void 0 && current.status === "booked" && current.startAt.getTime() === start.getTime() && (current.endAt === null || current.endAt.getTime() === end.getTime());
      if (already) return { outcome: "already_rescheduled", appointmentId: current.id, invalidated: await forget(current, oldStart) };
      const [res] = await deps.db.update(appointments).set({ calcomBookingUid: p.uid, ...p.bookingId ? { calcomBookingId: p.bookingId } : {}, startAt: start, endAt: end, status: "booked" }).where(and2(eq3(appointments.id, target.id), eq3(appointments.companyId, companyId), eq3(appointments.calcomBookingUid, target.uid)));
      const invalidated = await forget(target, oldStart);
      if (res.affectedRows === 0) return { outcome: "already_rescheduled", appointmentId: target.id, invalidated };
      await audit(deps.db, { companyId, actor: ACTOR, action: "appointment.reschedule", target: `appointment:${target.id}`, details: { from: target.startAt.toISOString(), to: start.toISOString(), uid: p.uid, previousUid: target.uid } });
      await deps.publish?.({ type: "booking.rescheduled", companyId, branchId: target.branchId, appointmentId: target.id, start: start.toISOString() });
      return { outcome: "rescheduled", appointmentId: target.id, invalidated };
    }
  }
}
async function invalidateDays(deps, companyId, days) {
  const zonesByType = /* @__PURE__ */ new Map();
  const keys = /* @__PURE__ */ new Set();
  for (const d of days) {
    if (!d.eventTypeId || Number.isNaN(d.at.getTime())) continue;
    let zones = zonesByType.get(d.eventTypeId);
    if (!zones) {
      zones = await branchZones(deps.db, companyId, d.eventTypeId);
      zonesByType.set(d.eventTypeId, zones);
    }
    for (const zone of /* @__PURE__ */ new Set([...zones, ...d.zone ? [d.zone] : []])) {
      const day = DateTime.fromJSDate(d.at, { zone }).toISODate();
      if (day) keys.add(cacheKeys.availability(d.eventTypeId, day));
    }
  }
  if (keys.size) await deps.cache.invalidate(...keys);
  return [...keys];
}
async function branchZones(db, companyId, eventTypeId) {
  const rows = await db.selectDistinct({ zone: branches.timezone }).from(services).innerJoin(branches, and2(eq3(branches.companyId, services.companyId), or(isNull(services.branchId), eq3(services.branchId, branches.id)))).where(and2(eq3(services.companyId, companyId), eq3(services.calcomEventTypeId, eventTypeId)));
  return rows.map((r) => r.zone);
}

// apps/ingress/routes/calcom-webhooks.ts
function calcomWebhookRouteDeps(ctx) {
  return {
    db: ctx.database.db,
    cache: ctx.cache,
    cipher: ctx.cipher,
    logger: ctx.logger.child({ component: "calcom-webhooks" }),
    redis: ctx.redis,
    keyPrefix: ctx.ns,
    maxBodyBytes: ctx.config.WEBHOOK_MAX_BODY_BYTES,
    rateLimitPerMinute: ctx.config.WEBHOOK_RATE_LIMIT_PER_MINUTE,
    trustProxy: ctx.config.TRUST_PROXY,
    publish: (e) => publishEvent(ctx.redis, ctx.ns, e, (err) => ctx.logger.warn({ err }, "live event not published"))
  };
}
var calcomWebhookRoutes = (ctx) => (app) => mountCalcomWebhooks(app, calcomWebhookRouteDeps(ctx));
var HEADER = "x-cal-signature-256";
function mountCalcomWebhooks(app, deps) {
  const chain = [
    maxBody(deps.maxBodyBytes),
    rateLimit({ redis: deps.redis, keyPrefix: deps.keyPrefix, limitPerMinute: deps.rateLimitPerMinute, clientKey: (c) => clientIp(c, deps.trustProxy) })
  ];
  const receive = async (c) => {
    const receivedAt = /* @__PURE__ */ new Date();
    const raw = Buffer.from(await c.req.arrayBuffer());
    const header = c.req.header(HEADER);
    if (!header) throw new ApiError(401, "invalid_signature", "missing X-Cal-Signature-256 header");
    if (!/^[0-9a-f]{64}$/i.test(header.trim())) throw new ApiError(401, "invalid_signature", "malformed X-Cal-Signature-256 header (expected 64 hex digits)");
    let json;
    let parseError;
    try {
      json = JSON.parse(raw.toString("utf8"));
    } catch (err) {
      parseError = err.message;
    }
    const slug = c.req.param("company");
    let signer;
    if (slug !== void 0) {
      const company = await companyBySlug(deps.db, deps.cipher, slug);
      signer = company && verifyCalcomSignature(raw, company.secret, header) ? company : null;
    } else {
      signer = findSigner(raw, header, await candidateCompanies(deps.db, deps.cipher, parseError ? null : peekEventTypeId(json)));
    }
    if (!signer) throw new ApiError(401, "invalid_signature", "signature does not match the body for this company");
    if (parseError !== void 0) throw new ApiError(400, "malformed_json", `body is not valid JSON: ${parseError}`);
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) throw new ApiError(422, "schema_mismatch", "webhook does not match the Cal.com schema", describeIssues(envelope.error));
    const trigger = envelope.data.triggerEvent;
    if (!isHandledTrigger(trigger)) return c.json({ status: "ignored", triggerEvent: trigger }, 200);
    const parsed = bookingWebhookSchema.safeParse(json);
    if (!parsed.success) throw new ApiError(422, "schema_mismatch", "webhook does not match the Cal.com booking schema", describeIssues(parsed.error));
    const result = await handleCalcomWebhook(deps, {
      companyId: signer.companyId,
      webhook: parsed.data,
      dedupeKey: calcomDedupeKey(parsed.data, raw),
      receivedAt
    });
    return c.json(
      {
        status: result.outcome === "duplicate" ? "duplicate" : "processed",
        outcome: result.outcome,
        company: signer.slug,
        ...result.appointmentId !== void 0 ? { appointmentId: result.appointmentId } : {}
      },
      200
    );
  };
  app.post("/webhooks/calcom", ...chain, receive);
  app.post("/webhooks/calcom/:company", ...chain, receive);
}

// apps/ingress/routes/events.ts
import { streamSSE } from "hono/streaming";
import { eq as eq4 } from "drizzle-orm";
function eventsRouteDeps(ctx, extra = {}) {
  const logger = ctx.logger.child({ component: "events" });
  return {
    db: ctx.database.db,
    cache: ctx.cache,
    adminToken: ctx.config.ADMIN_TOKEN,
    hub: () => sharedEventHub({ redisUrl: ctx.config.REDIS_URL, ns: ctx.ns, logger }),
    logger,
    ...extra
  };
}
var eventRoutes = (ctx) => (app) => mountEvents(app, eventsRouteDeps(ctx));
function bearer(c) {
  const h = c.req.header("authorization");
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1] ?? c.req.query("token") ?? void 0;
}
async function scopeFor(deps, who, slug) {
  let companyId;
  if (slug !== void 0) {
    const [row] = await deps.db.select({ id: companies.id }).from(companies).where(eq4(companies.slug, slug)).limit(1);
    companyId = row?.id;
    if (companyId === void 0 || who.kind === "scoped" && who.companyId !== companyId) {
      throw new ApiError(who.kind === "admin" ? 404 : 403, who.kind === "admin" ? "unknown_company" : "forbidden", who.kind === "admin" ? `no company "${slug}"` : "this token does not see that company");
    }
  }
  if (who.kind === "admin") {
    if (companyId === void 0) throw new ApiError(400, "company_required", "the admin token must name a company: /events?company=<slug>");
    return { companyId, branchId: null };
  }
  return { companyId: who.companyId, branchId: who.branchId };
}
var MAX_PENDING = 1e3;
function mountEvents(app, deps) {
  const heartbeatMs = deps.heartbeatMs ?? 15e3;
  app.get("/events", async (c) => {
    const who = await authenticate(deps, bearer(c));
    if (!who) {
      c.header("WWW-Authenticate", "Bearer");
      return c.json({ error: { code: "unauthorized", message: "a valid token is required (Authorization: Bearer <token> or ?token=)" } }, 401);
    }
    let scope;
    try {
      scope = await scopeFor(deps, who, c.req.query("company") || void 0);
    } catch (err) {
      if (err instanceof ApiError) return c.json({ error: { code: err.code, message: err.message } }, err.status);
      throw err;
    }
    const hub = deps.hub();
    c.header("X-Accel-Buffering", "no");
    return streamSSE(c, async (stream) => {
      let seq = 0;
      let finish;
      const finished = new Promise((resolve) => finish = resolve);
      let pending = 0;
      let early = [];
      const send = (event) => {
        if (scope.branchId !== null && event.branchId !== scope.branchId) return;
        if (early) return void early.push(event);
        if (++pending > MAX_PENDING) {
          deps.logger.warn({ companyId: scope.companyId }, "live events client is not reading; disconnecting it");
          return finish();
        }
        stream.writeSSE({ event: event.type, id: String(++seq), data: JSON.stringify(event) }).then(() => void pending--, finish);
      };
      stream.onAbort(finish);
      let stop;
      try {
        stop = await hub.subscribe(scope.companyId, { onEvent: send, onClose: finish });
      } catch (err) {
        deps.logger.warn({ err }, "could not subscribe to live events");
        await stream.writeSSE({ event: "error", data: JSON.stringify({ code: "unavailable", message: "live events are unavailable; retry later" }) });
        return;
      }
      const heartbeat = setInterval(() => {
        stream.write(": ping\n\n").catch(finish);
      }, heartbeatMs);
      try {
        await stream.writeSSE({ event: "ready", retry: 3e3, data: JSON.stringify({ type: "ready", companyId: scope.companyId, branchId: scope.branchId }) });
        const waiting = early;
        early = null;
        for (const e of waiting) send(e);
        if (!stream.aborted) await finished;
      } finally {
        clearInterval(heartbeat);
        stop();
      }
    });
  });
}

// apps/ingress/routes/functions.ts
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";

// lib/live/book-appointment.ts
import { z as z5 } from "zod";

// lib/live/catalogue.ts
import { and as and3, eq as eq5 } from "drizzle-orm";
var TTL_MS2 = 3e4;
var memos = /* @__PURE__ */ new WeakMap();
function branchCatalogue(deps, where) {
  let memo = memos.get(deps.db);
  if (!memo) memos.set(deps.db, memo = /* @__PURE__ */ new Map());
  const key = `${where.companyId}:${where.branchId}`;
  const hit = memo.get(key);
  if (hit && hit.until > Date.now()) return hit.value;
  const value = loadCatalogue(deps, where);
  memo.set(key, { until: Date.now() + TTL_MS2, value });
  value.catch(() => memo.get(key)?.value === value && memo.delete(key));
  return value;
}
async function loadCatalogue(deps, where) {
  const [services2, [branch]] = await Promise.all([
    servicesForBranch(deps.db, where.companyId, where.branchId),
    deps.db.select({ defaultServiceId: branches.defaultServiceId, key: companies.calcomApiKeyEnc }).from(branches).innerJoin(companies, eq5(companies.id, branches.companyId)).where(and3(eq5(branches.id, where.branchId), eq5(branches.companyId, where.companyId)))
  ]);
  services2.sort((a, b) => a.id - b.id);
  return { services: services2, defaultServiceId: branch?.defaultServiceId ?? null, calcomKeyEnc: branch?.key ?? null };
}
function pickService(cat, named) {
  return matchService(cat.services, { service: named?.trim() || void 0 }, cat.defaultServiceId);
}
function calcomFor(deps, cat) {
  return cat.calcomKeyEnc ? deps.clientFor(deps.cipher.decrypt(cat.calcomKeyEnc)) : null;
}

// lib/live/check-availability.ts
import { z as z3 } from "zod";
import { DateTime as DateTime3 } from "luxon";

// lib/live/common.ts
import { z as z2 } from "zod";

// lib/live/say.ts
var WEEKDAYS = {
  de: ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
  en: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
};
var MONTHS = {
  de: ["Januar", "Februar", "M\xE4rz", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"],
  en: ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
};
var formatters = /* @__PURE__ */ new Map();
function wallTime(d, timeZone) {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    formatters.set(timeZone, f);
  }
  const n = {};
  for (const p of f.formatToParts(d)) if (p.type !== "literal") n[p.type] = Number(p.value);
  const ms = (d.getTime() % 1e3 + 1e3) % 1e3;
  const asUtc = Date.UTC(n.year, n.month - 1, n.day, n.hour, n.minute, n.second, ms);
  return {
    year: n.year,
    month: n.month,
    day: n.day,
    hour: n.hour,
    minute: n.minute,
    second: n.second,
    ms,
    offset: Math.round((asUtc - d.getTime()) / 6e4),
    weekday: (new Date(Date.UTC(n.year, n.month - 1, n.day)).getUTCDay() + 6) % 7
  };
}
var pad = (v, w = 2) => String(v).padStart(w, "0");
function isoOf(w, timeZone) {
  const fixedUtc = /^(?:Etc\/)?(?:UTC|GMT|Zulu|UCT)$/i.test(timeZone);
  const sign = w.offset < 0 ? "-" : "+";
  const off = Math.abs(w.offset);
  const zone = fixedUtc && w.offset === 0 ? "Z" : `${sign}${pad(Math.floor(off / 60))}:${pad(off % 60)}`;
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}.${pad(w.ms, 3)}${zone}`;
}
var clockOf = (w, lang) => lang === "de" ? `${pad(w.hour)}:${pad(w.minute)}` : `${w.hour % 12 || 12}:${pad(w.minute)} ${w.hour < 12 ? "AM" : "PM"}`;
var dayOf = (w, lang) => lang === "de" ? `${WEEKDAYS.de[w.weekday]}, ${w.day}. ${MONTHS.de[w.month - 1]}` : `${WEEKDAYS.en[w.weekday]}, ${MONTHS.en[w.month - 1]} ${w.day}`;
var spokenOf = (w, lang) => `${dayOf(w, lang)} ${lang === "de" ? "um" : "at"} ${clockOf(w, lang)}`;
function timeView(iso, timeZone, lang) {
  const d = typeof iso === "string" ? new Date(iso) : iso;
  const w = wallTime(d, timeZone);
  return { start: d.toISOString(), local: isoOf(w, timeZone), spoken: spokenOf(w, lang) };
}
function joinWords(items, lang, word) {
  const last = lang === "de" ? word === "or" ? "oder" : "und" : word;
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} ${last} ${items[items.length - 1]}`;
}
function speakSlots(slots, timeZone, lang, word = "or") {
  const groups = [];
  for (const s of slots) {
    const w = wallTime(new Date(s), timeZone);
    const name = dayOf(w, lang);
    const last = groups[groups.length - 1];
    if (last?.day === name) last.times.push(clockOf(w, lang));
    else groups.push({ day: name, times: [clockOf(w, lang)] });
  }
  return joinWords(
    groups.map((g) => lang === "de" ? `am ${g.day} um ${joinWords(g.times, lang, word)}` : `${g.day} at ${joinWords(g.times, lang, word)}`),
    lang,
    word
  );
}
var say = (lang, de, en) => lang === "de" ? de : en;

// lib/live/common.ts
var idArg = z2.union([z2.number().int().positive(), z2.string().trim().regex(/^\d{1,12}$/, "must be a number").transform(Number)]);
var whenArg = z2.string().trim().min(1, 'say when, e.g. "morgen um 14 Uhr" or "next Tuesday afternoon"').max(200);
var nowOf = (deps) => deps.now?.() ?? /* @__PURE__ */ new Date();
function opts(call, now) {
  return { timeZone: call.where.timezone, now };
}
function readStart(call, when, now) {
  return parseRequestedStart(when, opts(call, now));
}
function readRange(call, when, now) {
  return parseRequestedRange(when, opts(call, now));
}
function unusableStart(call, when, start, now) {
  const l = call.lang;
  if (!start) {
    return { say: say(l, `Ich habe \u201E${when}\u201C nicht als Termin verstanden. Welcher Tag und welche Uhrzeit?`, `I couldn't read "${when}" as a time. Which day and time?`), data: { status: "unreadable_time", when } };
  }
  if (!start.hasTime) {
    return { say: say(l, "Um wie viel Uhr?", "At what time?"), data: { status: "need_time", when } };
  }
  if (start.start.getTime() <= now.getTime()) {
    return { say: say(l, "Dieser Zeitpunkt liegt in der Vergangenheit. Welcher Termin passt stattdessen?", "That time is in the past. Which time would suit you instead?"), data: { status: "in_past", when, requested: start.start.toISOString() } };
  }
  return null;
}
function callerUnknown(call) {
  return {
    say: say(call.lang, "Ihre Rufnummer ist unterdr\xFCckt; ohne sie kann ich keine Termine f\xFCr Sie finden oder \xE4ndern.", "Your number is withheld; without it I can't find or change appointments for you."),
    data: { status: "caller_unknown" }
  };
}
function isTransient(err) {
  return err instanceof BookingDeferred || err instanceof CalcomError && err.retryable && !err.aborted;
}
function unavailable(call, err, action, now) {
  const retryAt = err instanceof BookingDeferred ? err.retryAt : err.retryAt ?? now.getTime() + 3e4;
  const retryAfter = Math.max(1, Math.ceil((retryAt - now.getTime()) / 1e3));
  return {
    say: say(call.lang, `Ich kann gerade nicht ${action.de}; bitte versuchen Sie es gleich noch einmal.`, `I can't ${action.en} right now; please try again in a moment.`),
    data: { status: "unavailable", retry_after: retryAfter, reason: err instanceof BookingDeferred ? err.reason : err.kind }
  };
}

// lib/live/slots.ts
import { DateTime as DateTime2 } from "luxon";
var MAX_RANGE_DAYS = 14;
function guarded(deps, client) {
  return { getSlots: (...a) => callCalcom(deps, () => client.getSlots(...a)) };
}
var inflight = /* @__PURE__ */ new Map();
function freeSlotsOnDay(deps, client, q) {
  const key = `${q.eventTypeId}|${q.date}|${q.timeZone}`;
  let p = inflight.get(key);
  if (!p) {
    p = freeSlotsOn(deps.cache, guarded(deps, client), q).finally(() => inflight.delete(key));
    inflight.set(key, p);
  }
  return p;
}
function daysOf(from, to, timeZone) {
  const days = [];
  const last = DateTime2.fromMillis(to.getTime() - 1, { zone: timeZone }).startOf("day");
  for (let d = DateTime2.fromJSDate(from, { zone: timeZone }).startOf("day"); d <= last && days.length < MAX_RANGE_DAYS; d = d.plus({ days: 1 })) {
    days.push(d.toISODate());
  }
  return days;
}
async function freeSlotsBetween(deps, client, q) {
  const perDay = await Promise.all(daysOf(q.from, q.to, q.timeZone).map((date) => freeSlotsOnDay(deps, client, { eventTypeId: q.eventTypeId, date, timeZone: q.timeZone })));
  const lo = Math.max(q.from.getTime(), (q.now ?? /* @__PURE__ */ new Date()).getTime());
  const hi = q.to.getTime();
  return perDay.flat().filter((s) => {
    const t = Date.parse(s);
    return t >= lo && t < hi;
  });
}
async function nearestFree(deps, client, q) {
  const first = DateTime2.fromJSDate(q.requested, { zone: q.timeZone }).startOf("day");
  const slots = await freeSlotsBetween(deps, client, { eventTypeId: q.eventTypeId, timeZone: q.timeZone, from: first.toJSDate(), to: first.plus({ days: 3 }).toJSDate(), now: q.now });
  const wanted = q.requested.getTime();
  return slots.filter((s) => Date.parse(s) !== wanted).sort((a, b) => Math.abs(Date.parse(a) - wanted) - Math.abs(Date.parse(b) - wanted) || Date.parse(b) - Date.parse(a)).slice(0, q.count ?? 3).sort();
}

// lib/live/types.ts
var defineFunction = (f) => f;

// lib/live/check-availability.ts
var SPOKEN_SLOTS = 3;
var DATA_SLOTS = 12;
function unknownService(call, cat, named) {
  const names = cat.services.map((s) => s.name).join(", ");
  return {
    say: named ? say(call.lang, `\u201E${named}\u201C bieten wir hier nicht an. M\xF6glich sind: ${names}.`, `We don't offer "${named}" here. Available: ${names}.`) : say(call.lang, `F\xFCr welche Leistung? M\xF6glich sind: ${names}.`, `For which service? Available: ${names}.`),
    data: { status: "unknown_service", service: named ?? null, services: cat.services.map((s) => s.slug) }
  };
}
var noCalendar = (call) => ({
  say: say(call.lang, "F\xFCr diesen Standort ist kein Kalender verbunden.", "No calendar is connected for this location."),
  data: { status: "no_calendar" }
});
var checkAvailability = defineFunction({
  name: "check_availability",
  args: z3.object({ when: whenArg, service: z3.string().trim().max(100).optional() }),
  async run(deps, call, args) {
    const now = nowOf(deps);
    const l = call.lang;
    const tz = call.where.timezone;
    const cat = await branchCatalogue(deps.booking, call.where);
    const service = pickService(cat, args.service);
    if (!service) return unknownService(call, cat, args.service);
    const client = calcomFor(deps.booking, cat);
    if (!client) return noCalendar(call);
    const svc = { slug: service.slug, name: service.name, duration_minutes: service.durationMinutes };
    const q = { eventTypeId: service.calcomEventTypeId, timeZone: tz, now };
    try {
      const start = readStart(call, args.when, now);
      if (start?.hasTime) {
        const requested = timeView(start.start, tz, l);
        if (start.start.getTime() <= now.getTime()) {
          return { say: say(l, "Dieser Zeitpunkt liegt in der Vergangenheit.", "That time is in the past."), data: { status: "in_past", service: svc, requested } };
        }
        const dayEnd = DateTime3.fromJSDate(start.start, { zone: tz }).plus({ days: 1 }).startOf("day").toJSDate();
        const free = await freeSlotsBetween(deps.booking, client, { ...q, from: start.start, to: dayEnd });
        if (free[0] === requested.start) {
          return { say: say(l, `${requested.spoken} ist frei.`, `${requested.spoken} is available.`), data: { status: "available", service: svc, requested, available: true } };
        }
        const alternatives = await nearestFree(deps.booking, client, { ...q, requested: start.start });
        return {
          say: alternatives.length ? say(l, `${requested.spoken} ist leider nicht frei. Frei w\xE4re ${speakSlots(alternatives, tz, l)}.`, `${requested.spoken} is not available. Free: ${speakSlots(alternatives, tz, l)}.`) : say(l, `${requested.spoken} ist leider nicht frei, und in den Tagen danach auch nichts.`, `${requested.spoken} is not available, and nothing is free in the days after.`),
          data: { status: "taken", service: svc, requested, available: false, alternatives: alternatives.map((s) => timeView(s, tz, l)) }
        };
      }
      const range = readRange(call, args.when, now);
      if (!range) {
        return { say: say(l, `Ich habe \u201E${args.when}\u201C nicht als Tag verstanden. Welcher Tag?`, `I couldn't read "${args.when}" as a day. Which day?`), data: { status: "unreadable_time", when: args.when } };
      }
      if (range.to.getTime() <= now.getTime()) {
        return { say: say(l, "Dieser Zeitraum liegt in der Vergangenheit.", "That time is in the past."), data: { status: "in_past", when: args.when } };
      }
      const to = new Date(Math.min(range.to.getTime(), range.from.getTime() + MAX_RANGE_DAYS * 864e5));
      const rangeData = { from: timeView(range.from, tz, l).local, to: timeView(to, tz, l).local };
      const slots = await freeSlotsBetween(deps.booking, client, { ...q, from: range.from, to });
      if (slots.length) {
        const more = slots.length - SPOKEN_SLOTS;
        const extra = more > 0 ? say(l, ` (und ${more} weitere)`, ` (and ${more} more)`) : "";
        return {
          say: say(l, `Frei ist ${speakSlots(slots.slice(0, SPOKEN_SLOTS), tz, l)}${extra}.`, `Available: ${speakSlots(slots.slice(0, SPOKEN_SLOTS), tz, l)}${extra}.`),
          data: { status: "available", service: svc, range: rangeData, total: slots.length, slots: slots.slice(0, DATA_SLOTS).map((s) => timeView(s, tz, l)) }
        };
      }
      const later = (await freeSlotsBetween(deps.booking, client, { ...q, from: to, to: new Date(to.getTime() + 7 * 864e5) })).slice(0, SPOKEN_SLOTS);
      return {
        say: later.length ? say(l, `Da ist leider nichts frei. Die n\xE4chsten freien Termine: ${speakSlots(later, tz, l)}.`, `Nothing is free then. The next free times: ${speakSlots(later, tz, l)}.`) : say(l, "Da und in der Woche danach ist leider nichts frei.", "Nothing is free then, nor in the week after."),
        data: { status: "none", service: svc, range: rangeData, total: 0, slots: [], next: later.map((s) => timeView(s, tz, l)) }
      };
    } catch (err) {
      if (isTransient(err)) return unavailable(call, err, { de: "in den Kalender sehen", en: "check the calendar" }, now);
      throw err;
    }
  }
});

// lib/live/context.ts
import { z as z4 } from "zod";
var LiveError = class extends Error {
  constructor(status, code, message, issues) {
    super(message);
    this.status = status;
    this.code = code;
    this.issues = issues;
  }
  status;
  code;
  issues;
  name = "LiveError";
};
var e164 = z4.string().regex(/^\+[1-9]\d{5,14}$/, "must be an E.164 number like +4930123456");
var identitySchema = z4.object({
  call_id: z4.string().min(1).max(100).optional(),
  to_number: e164.optional(),
  from_number: e164.optional(),
  direction: z4.enum(["inbound", "outbound"]).optional()
});
var isObject2 = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
function issuesOf(error, prefix) {
  return error.issues.map((i) => {
    const p = i.path.map(String).join(".");
    return { path: p ? prefix + p : prefix.replace(/\.$/, "") || "(root)", message: i.message };
  });
}
function readLiveBody(json) {
  if (!isObject2(json)) throw new LiveError(422, "bad_args", "the body must be a JSON object", [{ path: "(root)", message: "expected an object" }]);
  if (isObject2(json.args) && ("call" in json || typeof json.name === "string")) {
    if (json.call === void 0) return { shape: "envelope", args: json.args, argsPath: "args.", call: identityCall(json.args, "args."), identityPath: "args." };
    const parsed = callSchema.safeParse(json.call);
    if (!parsed.success) throw new LiveError(422, "bad_call", "call does not match the Retell call object", issuesOf(parsed.error, "call."));
    return { shape: "envelope", args: json.args, argsPath: "args.", call: parsed.data, identityPath: "call." };
  }
  return { shape: "args_at_root", args: json, argsPath: "", call: identityCall(json, ""), identityPath: "" };
}
function identityCall(args, prefix) {
  const parsed = identitySchema.safeParse(args);
  if (!parsed.success) throw new LiveError(422, "bad_args", "call identity fields are invalid", issuesOf(parsed.error, prefix));
  const { call_id, to_number, from_number, direction } = parsed.data;
  if (!call_id && !to_number && !from_number) return null;
  return { call_id: call_id ?? "", to_number, from_number, direction };
}
async function resolveLiveCall(db, cache, req) {
  const call = req.call;
  const outbound = call?.direction === "outbound";
  const business = outbound ? call?.from_number : call?.to_number;
  if (!business) {
    const field = outbound ? "from_number" : "to_number";
    throw new LiveError(422, "company_unknown", `cannot tell which company this call belongs to: send the call object, or ${field} in the args`, [
      { path: `${req.identityPath}${field}`, message: "required to find the company (the dialled number)" }
    ]);
  }
  const resolved = await resolvePhone(db, cache, business);
  if (!resolved) throw new LiveError(404, "unknown_number", `no company answers ${business}: import it with callbook tenants import`);
  return {
    where: resolved,
    lang: resolved.language === "en" ? "en" : "de",
    customerNumber: (outbound ? call?.to_number : call?.from_number) ?? null,
    retellCallId: call?.call_id || null,
    call,
    shape: req.shape,
    identityPath: req.identityPath
  };
}

// lib/live/book-appointment.ts
var LOCK_WAIT_MS = 5e3;
var LOCK_POLL_MS = 100;
async function bookWaitingForLock(deps, job) {
  const until = Date.now() + LOCK_WAIT_MS;
  for (; ; ) {
    try {
      return await executeBooking(deps.booking, job);
    } catch (err) {
      const locked = err instanceof BookingDeferred && err.reason.startsWith("another attempt");
      if (!locked || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }
}
var bookAppointment = defineFunction({
  name: "book_appointment",
  args: z5.object({
    when: whenArg,
    service: z5.string().trim().max(100).optional(),
    customer_name: z5.string().trim().max(100).optional(),
    email: z5.email().max(200).optional()
  }),
  async run(deps, call, args) {
    const now = nowOf(deps);
    const l = call.lang;
    const tz = call.where.timezone;
    const { where } = call;
    if (!call.retellCallId || !call.call) {
      throw new LiveError(422, "call_id_required", "book_appointment needs the Retell call id (send the call object, or call_id in the args)", [
        { path: `${call.identityPath}call_id`, message: "required: the booking is keyed by the call" }
      ]);
    }
    if (!call.customerNumber) return callerUnknown(call);
    const start = readStart(call, args.when, now);
    const unusable = unusableStart(call, args.when, start, now);
    if (unusable || !start) return unusable;
    const cat = await branchCatalogue(deps.booking, where);
    const service = pickService(cat, args.service);
    if (!service) return unknownService(call, cat, args.service);
    if (!cat.calcomKeyEnc) return noCalendar(call);
    const name = isUnknownName(args.customer_name) ? void 0 : args.customer_name;
    const customerId = await upsertCustomer(deps.booking.db, where.companyId, call.customerNumber, name, args.email);
    const callRowId = await upsertCall(deps.booking.db, { companyId: where.companyId, branchId: where.branchId, customerId, event: "call_started", call: call.call });
    const startIso = start.start.toISOString();
    const job = {
      companyId: where.companyId,
      branchId: where.branchId,
      customerId,
      serviceId: service.id,
      callId: callRowId,
      start: startIso,
      idempotencyKey: bookingIdempotencyKey({ companyId: where.companyId, callRef: call.retellCallId, eventTypeId: service.calcomEventTypeId, startIso }),
      source: "live"
    };
    const requested = timeView(start.start, tz, l);
    const svc = { slug: service.slug, name: service.name, duration_minutes: service.durationMinutes };
    try {
      const result = await bookWaitingForLock(deps, job);
      const booked = timeView(result.start, tz, l);
      return {
        say: say(l, `Gebucht: ${service.name} am ${booked.spoken}.`, `Booked: ${service.name} on ${booked.spoken}.`),
        data: { status: result.status, appointment_id: result.appointmentId, service: svc, start: booked }
      };
    } catch (err) {
      if (err instanceof BookingRejected && err.kind === "slot_unavailable") {
        const alternatives = err.alternatives;
        return {
          say: alternatives.length ? say(l, `${requested.spoken} ist leider vergeben. Frei w\xE4re ${speakSlots(alternatives, tz, l)}.`, `${requested.spoken} is already taken. Free: ${speakSlots(alternatives, tz, l)}.`) : say(l, `${requested.spoken} ist leider vergeben, und in den Tagen danach ist nichts frei.`, `${requested.spoken} is already taken, and nothing is free in the days after.`),
          data: { status: "slot_taken", service: svc, requested, alternatives: alternatives.map((s) => timeView(s, tz, l)) }
        };
      }
      if (err instanceof BookingRejected) {
        return {
          say: say(l, "Diesen Termin kann ich leider nicht buchen.", "I can't book that appointment."),
          data: { status: "refused", service: svc, requested, reason: err.reason }
        };
      }
      if (isTransient(err)) return unavailable(call, err, { de: "buchen", en: "book" }, now);
      throw err;
    }
  }
});

// lib/live/cancel-appointment.ts
import { z as z7 } from "zod";

// lib/live/find-appointments.ts
import { z as z6 } from "zod";
var SPOKEN = 3;
function appointmentData(a, lang) {
  return {
    id: a.id,
    status: a.status,
    service: { slug: a.service.slug, name: a.service.name },
    branch: a.branch.name,
    start: timeView(a.start, a.branch.timezone, lang)
  };
}
function speakAppointment(a, lang) {
  const when = timeView(a.start, a.branch.timezone, lang).spoken;
  return lang === "de" ? `${a.service.name} am ${when}` : `${a.service.name} on ${when}`;
}
function callersAppointments(deps, call) {
  return findAppointments(deps.booking, { companyId: call.where.companyId, customerPhone: call.customerNumber }, nowOf(deps));
}
var findAppointmentsFn = defineFunction({
  name: "find_appointments",
  args: z6.object({}),
  async run(deps, call) {
    const l = call.lang;
    if (!call.customerNumber) return callerUnknown(call);
    const found = await callersAppointments(deps, { ...call, customerNumber: call.customerNumber });
    const appointments2 = found.map((a) => appointmentData(a, l));
    if (!found.length) {
      return { say: say(l, "Unter Ihrer Nummer finde ich keinen anstehenden Termin.", "I can't find an upcoming appointment under your number."), data: { status: "none", appointments: appointments2 } };
    }
    const spoken = found.slice(0, SPOKEN).map((a) => speakAppointment(a, l));
    const more = found.length > SPOKEN ? say(l, ` und ${found.length - SPOKEN} weitere`, ` and ${found.length - SPOKEN} more`) : "";
    return {
      say: found.length === 1 ? say(l, `Sie haben einen Termin: ${spoken[0]}.`, `You have one appointment: ${spoken[0]}.`) : say(l, `Sie haben ${found.length} Termine: ${spoken.join("; ")}${more}.`, `You have ${found.length} appointments: ${spoken.join("; ")}${more}.`),
      data: { status: "ok", appointments: appointments2 }
    };
  }
});

// lib/live/appointment-target.ts
function notFound(call, id) {
  return {
    say: say(call.lang, "Einen solchen Termin finde ich unter Ihrer Nummer nicht.", "I can't find that appointment under your number."),
    data: { status: "not_found", appointment_id: id ?? null }
  };
}
async function targetAppointment(deps, call, id) {
  if (id !== void 0) return id;
  const upcoming = await callersAppointments(deps, call);
  if (upcoming.length === 1) return upcoming[0].id;
  if (!upcoming.length) return notFound(call, void 0);
  const l = call.lang;
  const list = upcoming.slice(0, 3).map((a) => speakAppointment(a, l)).join("; ");
  return {
    say: say(l, `Sie haben ${upcoming.length} Termine: ${list}. Welchen meinen Sie?`, `You have ${upcoming.length} appointments: ${list}. Which one do you mean?`),
    data: { status: "ambiguous", appointments: upcoming.map((a) => appointmentData(a, l)) }
  };
}

// lib/live/cancel-appointment.ts
var cancelAppointmentFn = defineFunction({
  name: "cancel_appointment",
  args: z7.object({ appointment_id: idArg.optional(), reason: z7.string().trim().max(300).optional() }),
  async run(deps, call, args) {
    const l = call.lang;
    if (!call.customerNumber) return callerUnknown(call);
    const id = await targetAppointment(deps, { ...call, customerNumber: call.customerNumber }, args.appointment_id);
    if (typeof id !== "number") return id;
    const scope = { companyId: call.where.companyId, customerPhone: call.customerNumber };
    try {
      const cancelled = await cancelAppointment(deps.booking, scope, { appointmentId: id, reason: args.reason, actor: `caller:retell:${call.retellCallId ?? "unknown"}` });
      return {
        say: say(l, `Storniert: ${speakAppointment(cancelled, l)}.`, `Cancelled: ${speakAppointment(cancelled, l)}.`),
        data: { status: "cancelled", appointment: appointmentData(cancelled, l) }
      };
    } catch (err) {
      if (err instanceof AppointmentNotFound) return notFound(call, args.appointment_id);
      if (isTransient(err)) return unavailable(call, err, { de: "Termine stornieren", en: "cancel appointments" }, nowOf(deps));
      if (err instanceof BookingRejected || err instanceof CalcomError) {
        return { say: say(l, "Diesen Termin kann ich leider nicht stornieren.", "I can't cancel that appointment."), data: { status: "refused", appointment_id: id, reason: err.message } };
      }
      throw err;
    }
  }
});

// lib/live/list-services.ts
import { z as z8 } from "zod";
var listServices = defineFunction({
  name: "list_services",
  args: z8.object({}),
  async run(deps, call) {
    const cat = await branchCatalogue(deps.booking, call.where);
    const l = call.lang;
    const services2 = cat.services.map((s) => ({ slug: s.slug, name: s.name, duration_minutes: s.durationMinutes, aliases: s.aliases }));
    if (!services2.length) {
      return { say: say(l, "Hier sind noch keine Leistungen eingerichtet.", "No services are set up here yet."), data: { status: "none", services: services2 } };
    }
    const names = services2.map((s) => `${s.name} (${s.duration_minutes} ${say(l, "Minuten", "minutes")})`);
    const def = cat.services.find((s) => s.id === cat.defaultServiceId);
    return {
      say: say(l, `Wir bieten ${joinWords(names, l, "and")} an.`, `We offer ${joinWords(names, l, "and")}.`),
      data: { status: "ok", services: services2, default_service: def?.slug ?? null }
    };
  }
});

// lib/live/reschedule-appointment.ts
import { z as z9 } from "zod";
var rescheduleAppointmentFn = defineFunction({
  name: "reschedule_appointment",
  args: z9.object({ when: whenArg, appointment_id: idArg.optional() }),
  async run(deps, call, args) {
    const now = nowOf(deps);
    const l = call.lang;
    const tz = call.where.timezone;
    if (!call.customerNumber) return callerUnknown(call);
    const start = readStart(call, args.when, now);
    const unusable = unusableStart(call, args.when, start, now);
    if (unusable || !start) return unusable;
    const id = await targetAppointment(deps, { ...call, customerNumber: call.customerNumber }, args.appointment_id);
    if (typeof id !== "number") return id;
    const scope = { companyId: call.where.companyId, customerPhone: call.customerNumber };
    try {
      const moved = await rescheduleAppointment(deps.booking, scope, { appointmentId: id, start: start.start, actor: `caller:retell:${call.retellCallId ?? "unknown"}` });
      return {
        say: say(l, `Verschoben: ${speakAppointment(moved, l)}.`, `Moved: ${speakAppointment(moved, l)}.`),
        data: { status: "rescheduled", appointment: appointmentData(moved, l) }
      };
    } catch (err) {
      if (err instanceof AppointmentNotFound) return notFound(call, args.appointment_id);
      const requested = timeView(start.start, tz, l);
      if (err instanceof BookingRejected && err.kind === "slot_unavailable") {
        const alt = err.alternatives;
        return {
          say: alt.length ? say(l, `${requested.spoken} ist leider vergeben. Frei w\xE4re ${speakSlots(alt, tz, l)}.`, `${requested.spoken} is already taken. Free: ${speakSlots(alt, tz, l)}.`) : say(l, `${requested.spoken} ist leider vergeben.`, `${requested.spoken} is already taken.`),
          data: { status: "slot_taken", appointment_id: id, requested, alternatives: alt.map((s) => timeView(s, tz, l)) }
        };
      }
      if (err instanceof BookingRejected) {
        return { say: say(l, "Diesen Termin kann ich leider nicht verschieben.", "I can't move that appointment."), data: { status: "refused", appointment_id: id, requested, reason: err.reason } };
      }
      if (isTransient(err)) return unavailable(call, err, { de: "Termine verschieben", en: "move appointments" }, now);
      throw err;
    }
  }
});

// lib/live/index.ts
var FUNCTIONS = [listServices, checkAvailability, bookAppointment, findAppointmentsFn, rescheduleAppointmentFn, cancelAppointmentFn];
var BY_NAME = new Map(FUNCTIONS.map((f) => [f.name, f]));
var LIVE_FUNCTION_NAMES = FUNCTIONS.map((f) => f.name);
function liveFunction(name) {
  return BY_NAME.get(name);
}
async function runLiveFunction(deps, fn, json) {
  const req = readLiveBody(json);
  const args = fn.args.safeParse(req.args);
  if (!args.success) {
    throw new LiveError(422, "bad_args", `${fn.name}: invalid args`, issuesOf(args.error, req.argsPath));
  }
  const call = await resolveLiveCall(deps.booking.db, deps.booking.cache, req);
  return fn.run(deps, call, args.data);
}

// apps/ingress/routes/functions.ts
var FUNCTIONS_MAX_BODY_BYTES = 64 * 1024;
function mountFunctions(ctx) {
  const deps = { booking: bookingDeps(ctx) };
  const log = ctx.logger.child({ component: "functions" });
  return (app) => {
    const r = new Hono();
    r.onError((err, c) => {
      if (err instanceof ApiError) {
        return c.json({ error: { code: err.code, message: err.message, ...err.issues ? { issues: err.issues } : {} } }, err.status);
      }
      if (err instanceof HTTPException) return c.json({ error: { code: "http_error", message: err.message } }, err.status);
      log.error({ err, fn: c.req.param("name") }, "live function failed");
      return c.json({ error: { code: "internal", message: "internal error" } }, 500);
    });
    r.post(
      "/functions/retell/:name",
      maxBody(FUNCTIONS_MAX_BODY_BYTES),
      retellSignature({ apiKey: ctx.config.RETELL_API_KEY, keysFor: companyKeysOfBody({ db: ctx.database.db, cache: ctx.cache, cipher: ctx.cipher }) }),
      async (c) => {
        const name = c.req.param("name");
        const fn = liveFunction(name);
        if (!fn) throw new ApiError(404, "unknown_function", `no live-call function "${name}"; known: ${LIVE_FUNCTION_NAMES.join(", ")}`);
        let json;
        try {
          json = JSON.parse(c.var.rawBody.toString("utf8"));
        } catch (err) {
          throw new ApiError(400, "malformed_json", `body is not valid JSON: ${err.message}`);
        }
        try {
          const { say: say2, data } = await runLiveFunction(deps, fn, json);
          log.debug({ fn: name, status: data.status }, "live function answered");
          return c.json({ result: say2, ...data }, 200);
        } catch (err) {
          if (err instanceof LiveError) throw new ApiError(err.status, err.code, err.message, err.issues);
          throw err;
        }
      }
    );
    app.route("/", r);
  };
}

// lib/inbound/index.ts
import { and as and4, asc, eq as eq6, gt, inArray as inArray2, isNull as isNull2 } from "drizzle-orm";
import { z as z10 } from "zod";
var e1642 = z10.string().regex(/^\+[1-9]\d{5,14}$/);
var inboundSchema = z10.looseObject({
  event: z10.string().max(64).optional(),
  call_inbound: z10.looseObject({
    agent_id: z10.string().max(100).nullish(),
    from_number: z10.string().max(32).nullish(),
    to_number: z10.string().max(32).nullish()
  })
});
var EMPTY_ANSWER = Object.freeze({ call_inbound: Object.freeze({}) });
function inboundToNumber(body) {
  const to = body?.call_inbound?.to_number;
  return typeof to === "string" && e1642.safeParse(to).success ? to : null;
}
var branchKey = (branchId) => `mcp:inbound:branch:${branchId}`;
var BRANCH_TTL_MS = 6e4;
async function answerInbound(deps, body, now = /* @__PURE__ */ new Date()) {
  const parsed = inboundSchema.safeParse(body);
  if (!parsed.success) return EMPTY_ANSWER;
  const { from_number: from, to_number: to } = parsed.data.call_inbound;
  if (!from || !to || !e1642.safeParse(from).success || !e1642.safeParse(to).success) return EMPTY_ANSWER;
  const where = await resolvePhone(deps.db, deps.cache, to);
  if (!where) return EMPTY_ANSWER;
  const [branchInfo, caller] = await Promise.all([
    deps.cache.getOrLoad(branchKey(where.branchId), BRANCH_TTL_MS, async () => {
      const [row] = await deps.db.select({ openingHours: branches.openingHours }).from(branches).where(eq6(branches.id, where.branchId));
      return { openingHours: row?.openingHours ?? null };
    }),
    // One query: the customer and, when there is one, their soonest upcoming booked appointment.
    deps.db.select({
      customerId: customers.id,
      name: customers.name,
      appointmentId: appointments.id,
      start: appointments.startAt,
      branchId: appointments.branchId,
      serviceName: services.name,
      branchName: branches.name,
      branchTimezone: branches.timezone
    }).from(customers).leftJoin(
      appointments,
      and4(eq6(appointments.companyId, customers.companyId), eq6(appointments.customerId, customers.id), eq6(appointments.status, "booked"), gt(appointments.startAt, now))
    ).leftJoin(services, eq6(services.id, appointments.serviceId)).leftJoin(branches, eq6(branches.id, appointments.branchId)).where(and4(eq6(customers.companyId, where.companyId), inArray2(customers.phoneIndex, phoneIndexCandidates(where.companyId, from)), isNull2(customers.erasedAt))).orderBy(asc(appointments.startAt)).limit(1).then((rows) => rows[0])
  ]);
  if (!caller) return EMPTY_ANSWER;
  const lang = where.language === "en" ? "en" : "de";
  const vars = {
    caller_known: "true",
    customer_name: open(caller.name) ?? "",
    company_name: where.companyName,
    branch_name: where.branchName,
    opening_hours: branchInfo.openingHours ?? "",
    next_appointment: "",
    next_appointment_service: "",
    next_appointment_branch: "",
    next_appointment_start: ""
  };
  const metadata = { callbook_company: where.companySlug, callbook_branch_id: where.branchId, callbook_customer_id: caller.customerId };
  if (caller.appointmentId !== null && caller.start) {
    const zone = caller.branchTimezone ?? where.timezone;
    vars.next_appointment = speakTime(caller.start, zone, lang);
    vars.next_appointment_service = caller.serviceName ?? "";
    vars.next_appointment_branch = caller.branchName ?? "";
    vars.next_appointment_start = toZonedIso(caller.start, zone);
    metadata.callbook_appointment_id = caller.appointmentId;
  }
  return { call_inbound: { dynamic_variables: vars, metadata } };
}

// apps/ingress/routes/inbound.ts
function inboundRouteDeps(ctx, extra = {}) {
  return {
    db: ctx.database.db,
    cache: ctx.cache,
    cipher: ctx.cipher,
    logger: ctx.logger.child({ component: "inbound" }),
    retellApiKey: ctx.config.RETELL_API_KEY,
    ipAllowlist: ctx.config.WEBHOOK_IP_ALLOWLIST,
    trustProxy: ctx.config.TRUST_PROXY,
    maxBodyBytes: Math.min(ctx.config.WEBHOOK_MAX_BODY_BYTES, 64 * 1024),
    deadlineMs: ctx.config.INBOUND_DEADLINE_MS,
    ...extra
  };
}
var inboundRoutes = (ctx) => (app) => mountInbound(app, inboundRouteDeps(ctx));
function companyKeysForInbound(deps) {
  return async (raw) => {
    let to;
    try {
      to = inboundToNumber(JSON.parse(raw.toString("utf8")));
    } catch {
      return [];
    }
    if (!to) return [];
    return companyRetellKeyFor(deps, to);
  };
}
function mountInbound(app, deps) {
  const deadlineMs = deps.deadlineMs ?? 80;
  const log = deps.logger;
  const answer = async (c) => {
    let body;
    try {
      body = JSON.parse(c.var.rawBody.toString("utf8"));
    } catch {
      log.warn("inbound webhook body is not JSON; answering empty");
      inboundAnswersTotal.inc({ outcome: "malformed" });
      return c.json(EMPTY_ANSWER, 200);
    }
    let timer;
    let outcome = "answered";
    const late = new Promise((resolve) => {
      timer = setTimeout(() => {
        log.warn({ deadlineMs }, "inbound lookup exceeded its deadline; answering empty");
        outcome = "deadline_missed";
        resolve(EMPTY_ANSWER);
      }, deadlineMs);
    });
    const lookup = answerInbound(deps, body).catch((err) => {
      log.error({ err }, "inbound lookup failed; answering empty");
      outcome = "failed";
      return EMPTY_ANSWER;
    });
    try {
      const answered = await Promise.race([lookup, late]);
      inboundAnswersTotal.inc({ outcome });
      return c.json(answered, 200);
    } finally {
      clearTimeout(timer);
    }
  };
  app.post(
    "/webhooks/retell/inbound",
    ipAllowlist(deps.ipAllowlist, (c) => clientIp(c, deps.trustProxy)),
    maxBody(deps.maxBodyBytes),
    retellSignature({ apiKey: deps.retellApiKey, keysFor: companyKeysForInbound(deps) }),
    answer
  );
}

// apps/ingress/deps.ts
function ingressDeps(ctx, self = thisProcess("web")) {
  const c = ctx.config;
  registerQueueGauges(Object.values(ctx.queues));
  const breakers = ["calcom", "retell"].map((s) => serviceBreaker(s, { redis: ctx.redis, ns: ctx.ns, logger: ctx.logger }));
  return {
    scrapeMetrics: metricsScraper({
      redis: ctx.redis,
      ns: ctx.ns,
      self,
      cacheMs: c.METRICS_CACHE_MS,
      beforeScrape: async () => {
        await Promise.all(breakers.map(exportBreakerState));
      }
    }),
    metricsToken: c.METRICS_TOKEN,
    retellApiKey: c.RETELL_API_KEY,
    retellKeysFor: companyKeysOfBody({ db: ctx.database.db, cache: ctx.cache, cipher: ctx.cipher }),
    webhooksQueue: ctx.queues.webhooks,
    redis: ctx.redis,
    keyPrefix: ctx.ns,
    cipher: ctx.cipher,
    logger: ctx.logger,
    maxBodyBytes: c.WEBHOOK_MAX_BODY_BYTES,
    rateLimitPerMinute: c.WEBHOOK_RATE_LIMIT_PER_MINUTE,
    ipAllowlist: c.WEBHOOK_IP_ALLOWLIST,
    trustProxy: c.TRUST_PROXY,
    admin: { queues: Object.values(ctx.queues), adminToken: c.ADMIN_TOKEN },
    routes: [
      // Route groups: one entry per module under apps/ingress/routes/.
      mountFunctions(ctx),
      calcomWebhookRoutes(ctx),
      inboundRoutes(ctx),
      eventRoutes(ctx),
      // The MCP SDK loads on the first /mcp request (routes/mcp.ts MCP_PATH).
      lazyRoutes(["/mcp"], async () => (await import("./mcp-BG6AAGML.js")).mountMcp(ctx))
    ],
    checkReady: async () => {
      const [redis, db] = await Promise.all([
        ctx.redis.ping().then(() => true, () => false),
        ctx.database.db.execute(sql`SELECT 1`).then(() => true, () => false)
      ]);
      return { redis, db: db && ctx.database.breaker.state !== "OPEN" };
    }
  };
}

// apps/ingress/server.ts
function listen(ctx, port, host = "0.0.0.0", app = createApp(ingressDeps(ctx))) {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
      resolve({
        server,
        port: info.port,
        close: () => new Promise((done, fail) => {
          server.close((err) => err ? fail(err) : done());
          const closeIdle = () => "closeIdleConnections" in server ? server.closeIdleConnections() : void 0;
          closeIdle();
          void closeEventHubs().then(() => setTimeout(closeIdle, 50));
        })
      });
    });
  });
}
async function main() {
  const config = loadConfig();
  const ctx = createContext(config);
  await assertPiiKeys(ctx.database.db);
  let stopping = false;
  const self = thisProcess("web");
  const running = await listen(ctx, config.PORT, config.HOST, createApp({ ...ingressDeps(ctx, self), isDraining: () => stopping }));
  const stopPublishing = startMetricsPublisher(ctx.redis, ctx.ns, self, (err) => ctx.logger.warn({ err }, "could not publish metrics"), config.METRICS_PUBLISH_INTERVAL_MS);
  ctx.logger.info({ port: running.port }, "ingress listening");
  const stop = async (signal) => {
    if (stopping) process.exit(1);
    stopping = true;
    ctx.logger.info({ signal, delayMs: config.SHUTDOWN_DELAY_MS }, "draining: /readyz answers 503; then finishing in-flight requests");
    await new Promise((r) => setTimeout(r, config.SHUTDOWN_DELAY_MS));
    await running.close();
    await stopPublishing();
    await ctx.close();
    ctx.logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
export {
  listen,
  main
};
//# sourceMappingURL=server-42ZDWXCC.js.map
