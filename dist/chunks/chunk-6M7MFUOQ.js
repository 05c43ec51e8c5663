import {
  BookingRejected,
  callCalcom,
  describeSlots,
  nearestFreeSlots
} from "./chunk-FVWXLA2E.js";
import {
  audit
} from "./chunk-54VZ3ZP4.js";
import {
  CalcomError
} from "./chunk-6VOENOB6.js";
import {
  describeIssues,
  isHandledEvent,
  webhookSchema
} from "./chunk-RDU6U4K7.js";
import {
  cacheKeys,
  isRedisUnavailable
} from "./chunk-XN5S2XO3.js";
import {
  phoneIndexCandidates
} from "./chunk-RUAA5PEO.js";
import {
  jobIds
} from "./chunk-Z42SQZT6.js";
import {
  dbUnavailable
} from "./chunk-42NABTHE.js";
import {
  appointments,
  branches,
  companies,
  customers,
  services,
  webhookTotal
} from "./chunk-AQ2OROU7.js";

// apps/ingress/app.ts
import { getConnInfo } from "@hono/node-server/conninfo";
import { Hono as Hono2 } from "hono";
import { except } from "hono/combine";
import { HTTPException as HTTPException2 } from "hono/http-exception";

// apps/ingress/lazy-routes.ts
import { Hono } from "hono";
function lazyRoutes(paths, load2) {
  let sub;
  const build = async () => {
    const inner = new Hono();
    inner.onError((err) => {
      throw err;
    });
    inner.notFound((c) => c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` } }, 404));
    (await load2())(inner);
    return inner;
  };
  return (app) => {
    for (const path of paths) {
      app.all(path, async (c) => {
        sub ??= build().catch((err) => {
          sub = void 0;
          throw err;
        });
        return (await sub).fetch(c.req.raw, c.env);
      });
    }
  };
}

// apps/ingress/errors.ts
import { HTTPException } from "hono/http-exception";
var ApiError = class extends HTTPException {
  constructor(status, code, message, issues) {
    super(status, { message });
    this.code = code;
    this.issues = issues;
  }
  code;
  issues;
};

// apps/ingress/middleware/body-limit/index.ts
import { bodyLimit as honoBodyLimit } from "hono/body-limit";
function bodyLimit(opts) {
  const streaming = honoBodyLimit(opts);
  return async (c, next) => {
    const declared = c.req.header("content-length");
    if (declared !== void 0 && c.req.header("transfer-encoding") === void 0) {
      if (parseInt(declared, 10) > opts.maxSize) return opts.onError(c);
      return next();
    }
    return streaming(c, next);
  };
}
function maxBody(maxBytes) {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ApiError(413, "payload_too_large", `body exceeds ${maxBytes} bytes`);
    }
  });
}

// apps/ingress/middleware/metrics-token/index.ts
import { createHash, timingSafeEqual } from "node:crypto";
var digest = (s) => createHash("sha256").update(s).digest();
function sameToken(expected, presented) {
  return timingSafeEqual(digest(expected), digest(presented));
}
function metricsToken(token, log) {
  return async (c, next) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
    const reason = !token ? "METRICS_TOKEN is not configured" : !m ? "no bearer token" : sameToken(token, m[1]) ? void 0 : "wrong token";
    if (reason) {
      log.warn({ path: c.req.path, reason }, "metrics scrape refused");
      c.header("WWW-Authenticate", 'Bearer realm="metrics"');
      return c.json({ error: { code: "unauthorized", message: "a valid metrics bearer token is required" } }, 401);
    }
    await next();
  };
}

// apps/ingress/middleware/request-id/index.ts
import { randomUUID } from "node:crypto";
var SANE = /^[A-Za-z0-9._:-]{1,128}$/;
function requestId(logger) {
  return async (c, next) => {
    const given = c.req.header("x-request-id");
    const id = given && SANE.test(given) ? given : randomUUID();
    c.set("requestId", id);
    c.set("log", logger.child({ requestId: id }));
    c.header("X-Request-Id", id);
    await next();
  };
}

// apps/ingress/middleware/ip-allowlist/index.ts
import { createMiddleware } from "hono/factory";
var ipAllowlist = (allowed, clientIp2) => createMiddleware(async (c, next) => {
  if (allowed && allowed.length > 0) {
    const ip = clientIp2(c).replace(/^::ffff:/, "");
    if (!allowed.includes(ip)) throw new ApiError(403, "forbidden_source", `source address ${ip} is not in WEBHOOK_IP_ALLOWLIST`);
  }
  await next();
});

// apps/ingress/middleware/json-compression/index.ts
import { brotliCompressSync, constants } from "node:zlib";
import { createMiddleware as createMiddleware2 } from "hono/factory";
import { compress } from "hono/compress";
var THRESHOLD = 1024;
var isJson = (type) => Boolean(type && /^application\/(?:[\w.+-]+\+)?json/i.test(type));
var jsonCompression = () => {
  const fallback = compress({ threshold: THRESHOLD, contentTypeFilter: /^application\/(?:[\w.+-]+\+)?json/i });
  return createMiddleware2(async (c, next) => {
    const accepts = c.req.header("accept-encoding") ?? "";
    if (!/\b(?:br|gzip|deflate)\b/i.test(accepts)) return next();
    if (!/\bbr\b/.test(accepts)) return fallback(c, next);
    await next();
    const res = c.res;
    if (!isJson(res.headers.get("content-type")) || res.headers.has("content-encoding") || !res.body) return;
    const body = Buffer.from(await res.clone().arrayBuffer());
    if (body.length < THRESHOLD) return;
    const compressed = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } });
    const headers = new Headers(res.headers);
    headers.set("content-encoding", "br");
    headers.set("content-length", String(compressed.length));
    headers.append("vary", "Accept-Encoding");
    c.res = new Response(compressed, { status: res.status, headers });
  });
};

// apps/ingress/middleware/rate-limit/index.ts
import { createMiddleware as createMiddleware3 } from "hono/factory";
var rateLimit = (opts) => createMiddleware3(async (c, next) => {
  const windowStart = Math.floor(Date.now() / 6e4);
  const key = `${opts.keyPrefix}ratelimit:webhook:${opts.clientKey(c)}:${windowStart}`;
  let count;
  try {
    const replies = await opts.redis.multi().incr(key).pexpire(key, 61e3).exec();
    count = replies[0][1];
  } catch (err) {
    throw new ApiError(503, "redis_unavailable", `rate limiter unavailable: ${err.message}`);
  }
  if (count > opts.limitPerMinute) {
    c.header("Retry-After", String(60 - Math.floor(Date.now() / 1e3 % 60)));
    throw new ApiError(429, "rate_limited", `more than ${opts.limitPerMinute} requests per minute from this source`);
  }
  await next();
});

// apps/ingress/middleware/retell-signature/index.ts
import { createMiddleware as createMiddleware4 } from "hono/factory";

// lib/retell/signature.ts
import { createHmac, timingSafeEqual as timingSafeEqual2 } from "node:crypto";
var SIGNATURE_TOLERANCE_MS = 5 * 60 * 1e3;
var HEADER = /^v=(\d+),d=([0-9a-f]+)$/i;
function verifyRetellSignature(body, apiKey, header, now = Date.now()) {
  if (!header) return "missing";
  const match = HEADER.exec(header);
  if (!match) return "malformed";
  const stamp = Number(match[1]);
  const digestHex = match[2];
  if (!Number.isSafeInteger(stamp) || digestHex.length !== 64) return "malformed";
  if (Math.abs(now - stamp) > SIGNATURE_TOLERANCE_MS) return "stale";
  const expected = createHmac("sha256", apiKey).update(body).update(String(stamp)).digest();
  const given = Buffer.from(digestHex, "hex");
  return given.length === expected.length && timingSafeEqual2(given, expected) ? "ok" : "mismatch";
}

// apps/ingress/middleware/retell-signature/index.ts
var retellSignature = (opts) => createMiddleware4(async (c, next) => {
  const raw = Buffer.from(await c.req.arrayBuffer());
  const header = c.req.header("x-retell-signature");
  let verdict = verifyRetellSignature(raw, opts.apiKey, header);
  if (verdict === "mismatch" && opts.keysFor) {
    for (const key of await opts.keysFor(raw)) {
      if (verifyRetellSignature(raw, key, header) === "ok") {
        verdict = "ok";
        break;
      }
    }
  }
  if (verdict !== "ok") {
    opts.onRejected?.(verdict);
    const why = { missing: "missing x-retell-signature header", malformed: "malformed x-retell-signature header", stale: "signature timestamp is outside the 5-minute window", mismatch: "signature does not match the body" }[verdict];
    c.var.log?.warn({ path: c.req.path, reason: verdict }, `webhook refused (401): ${why}`);
    throw new ApiError(401, "invalid_signature", why);
  }
  c.set("rawBody", raw);
  await next();
});

// apps/ingress/app.ts
function clientIp(c, trustProxy) {
  if (trustProxy) {
    const fwd = c.req.header("x-forwarded-for");
    if (fwd) return fwd.split(",")[0].trim();
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
function withTimeout(p, ms, what) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e))
    );
  });
}
function createApp(deps) {
  const app = new Hono2();
  const baseLog = deps.logger.child({ component: "ingress" });
  const log = baseLog;
  const ip = (c) => clientIp(c, deps.trustProxy);
  app.use("*", except("/webhooks/*", jsonCompression()));
  app.use("*", requestId(baseLog));
  app.onError((err, c) => {
    const log2 = c.var.log ?? baseLog;
    if (err instanceof ApiError) {
      webhookTotal.inc({ status: String(err.status) });
      return c.json({ error: { code: err.code, message: err.message, ...err.issues ? { issues: err.issues } : {} } }, err.status);
    }
    if (err instanceof HTTPException2) {
      return c.json({ error: { code: "http_error", message: err.message } }, err.status);
    }
    if (isRedisUnavailable(err) || dbUnavailable(err)) {
      webhookTotal.inc({ status: "503" });
      log2.warn({ err: err.message, path: c.req.path }, "dependency unavailable; answering 503");
      c.header("Retry-After", "1");
      return c.json({ error: { code: "unavailable", message: "a backing service is unavailable; retry later" } }, 503);
    }
    log2.error({ err, path: c.req.path }, "unhandled error");
    return c.json({ error: { code: "internal", message: "internal error" } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` } }, 404));
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    if (deps.isDraining?.()) return c.json({ status: "draining" }, 503);
    const checks = await deps.checkReady();
    const ready = Object.values(checks).every(Boolean);
    return c.json({ status: ready ? "ready" : "not_ready", checks }, ready ? 200 : 503);
  });
  app.get("/api/metrics", metricsToken(deps.metricsToken, log), async (c) => {
    const { contentType, body } = await deps.scrapeMetrics();
    c.header("Content-Type", contentType);
    return c.body(body);
  });
  const webhookChain = [
    ipAllowlist(deps.ipAllowlist, ip),
    maxBody(deps.maxBodyBytes),
    rateLimit({ redis: deps.redis, keyPrefix: deps.keyPrefix, limitPerMinute: deps.rateLimitPerMinute, clientKey: ip }),
    retellSignature({ apiKey: deps.retellApiKey, keysFor: deps.retellKeysFor })
  ];
  const receiveRetellWebhook = async (c) => {
    const raw = c.var.rawBody;
    const text = raw.toString("utf8");
    let json;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new ApiError(400, "malformed_json", `body is not valid JSON: ${err.message}`);
    }
    const parsed = webhookSchema.safeParse(json);
    if (!parsed.success) {
      throw new ApiError(422, "schema_mismatch", "webhook does not match the Retell schema", describeIssues(parsed.error));
    }
    const { event, call } = parsed.data;
    if (!isHandledEvent(event)) {
      webhookTotal.inc({ status: "ignored" });
      return c.json({ status: "ignored", event }, 200);
    }
    const jobId = jobIds.retellWebhook(call.call_id, event);
    const data = { provider: "retell", event, callId: call.call_id, receivedAt: Date.now(), sealedBody: deps.cipher.encrypt(text) };
    try {
      await withTimeout(deps.webhooksQueue.add(event, data, { jobId }), deps.enqueueTimeoutMs ?? 3e3, "enqueue");
    } catch (err) {
      log.warn({ err: err.message, jobId }, "enqueue failed; answering 503 so Retell retries");
      throw new ApiError(503, "queue_unavailable", "the job queue is unavailable; retry later");
    }
    webhookTotal.inc({ status: "accepted" });
    return c.json({ status: "accepted", jobId }, 202);
  };
  app.post("/webhooks/retell", ...webhookChain, receiveRetellWebhook);
  app.post("/api/mcp/retell/webhook", ...webhookChain, receiveRetellWebhook);
  const admin = deps.admin;
  if (admin) {
    lazyRoutes(["/admin", "/admin/*"], async () => {
      const { mountAdmin } = await import("./admin-ZSF42TVA.js");
      return (sub) => mountAdmin(sub, { ...admin, clientKey: ip });
    })(app);
  }
  for (const mount of deps.routes ?? []) mount(app);
  return app;
}

// lib/appointments/manage.ts
import { and, asc, eq, gt, inArray } from "drizzle-orm";
import { DateTime } from "luxon";
var AppointmentNotFound = class extends Error {
  name = "AppointmentNotFound";
};
async function load(deps, scope, where) {
  const conds = [eq(appointments.companyId, scope.companyId), inArray(appointments.status, ["booked", "pending"])];
  if (where.id !== void 0) conds.push(eq(appointments.id, where.id));
  if (where.upcomingFrom) conds.push(gt(appointments.startAt, where.upcomingFrom));
  if (scope.branchId) conds.push(eq(appointments.branchId, scope.branchId));
  if (scope.customerPhone !== void 0) {
    if (!scope.customerPhone) return [];
    conds.push(inArray(customers.phoneIndex, phoneIndexCandidates(scope.companyId, scope.customerPhone)));
  }
  const rows = await deps.db.select({ a: appointments, s: services, b: branches }).from(appointments).innerJoin(customers, and(eq(customers.id, appointments.customerId), eq(customers.companyId, appointments.companyId))).innerJoin(services, and(eq(services.id, appointments.serviceId), eq(services.companyId, appointments.companyId))).innerJoin(branches, and(eq(branches.id, appointments.branchId), eq(branches.companyId, appointments.companyId))).where(and(...conds)).orderBy(asc(appointments.startAt)).limit(50);
  return rows.map(({ a, s, b }) => ({
    id: a.id,
    status: a.status,
    start: a.startAt.toISOString(),
    end: a.endAt?.toISOString() ?? null,
    service: { id: s.id, slug: s.slug, name: s.name, eventTypeId: s.calcomEventTypeId },
    branch: { id: b.id, name: b.name, timezone: b.timezone, language: b.language },
    calcomUid: a.calcomBookingUid
  }));
}
function findAppointments(deps, scope, now = /* @__PURE__ */ new Date()) {
  return load(deps, scope, { upcomingFrom: now });
}
async function one(deps, scope, id) {
  const [found] = await load(deps, scope, { id });
  if (!found || !found.calcomUid) throw new AppointmentNotFound(`no appointment ${id} of yours`);
  return found;
}
async function clientFor(deps, companyId) {
  const [company] = await deps.db.select({ key: companies.calcomApiKeyEnc }).from(companies).where(eq(companies.id, companyId));
  if (!company?.key) throw new BookingRejected(`company ${companyId} has no Cal.com API key`, "input");
  return deps.clientFor(deps.cipher.decrypt(company.key));
}
function calcomDetail(err) {
  const i = err.message.indexOf(": ");
  return i < 0 ? err.message : err.message.slice(i + 2);
}
var ALREADY_CANCELLED = /cancelled already/i;
var ALREADY_RESCHEDULED = /rescheduled already to booking with uid=([A-Za-z0-9_-]+)/;
async function forgetDays(deps, eventTypeId, timeZone, ...starts) {
  const keys = starts.map((s) => cacheKeys.availability(eventTypeId, DateTime.fromISO(s).setZone(timeZone).toISODate()));
  await deps.cache.invalidate(...new Set(keys));
}
async function cancelAppointment(deps, scope, input) {
  const appt = await one(deps, scope, input.appointmentId);
  const client = await clientFor(deps, scope.companyId);
  try {
    await callCalcom(deps, () => client.cancelBooking(appt.calcomUid, { cancellationReason: input.reason ?? "cancelled by the caller" }));
  } catch (err) {
    if (!(err instanceof CalcomError && (err.kind === "not_found" || ALREADY_CANCELLED.test(calcomDetail(err))))) throw err;
  }
  await deps.db.update(appointments).set({ status: "cancelled" }).where(and(eq(appointments.id, appt.id), eq(appointments.companyId, scope.companyId)));
  await forgetDays(deps, appt.service.eventTypeId, appt.branch.timezone, appt.start);
  await audit(deps.db, { companyId: scope.companyId, actor: input.actor, action: "appointment.cancel", target: `appointment:${appt.id}` });
  await deps.publish?.({ type: "booking.cancelled", companyId: scope.companyId, branchId: appt.branch.id, appointmentId: appt.id, start: appt.start });
  return { ...appt, status: "cancelled" };
}
async function rescheduleAppointment(deps, scope, input) {
  const appt = await one(deps, scope, input.appointmentId);
  const newStart = input.start.toISOString();
  if (newStart === appt.start) return appt;
  const client = await clientFor(deps, scope.companyId);
  let moved;
  try {
    moved = await callCalcom(deps, () => client.rescheduleBooking(appt.calcomUid, { start: newStart, reschedulingReason: "requested by the caller" }));
  } catch (err) {
    const movedTo = err instanceof CalcomError ? ALREADY_RESCHEDULED.exec(calcomDetail(err))?.[1] : void 0;
    const earlier = movedTo ? await callCalcom(deps, () => client.getBooking(movedTo)) : void 0;
    if (earlier && new Date(earlier.start).toISOString() === newStart && earlier.status !== "cancelled") {
      moved = earlier;
    } else if (err instanceof CalcomError && err.kind === "slot_unavailable") {
      const alternatives = await nearestFreeSlots(client, { eventTypeId: appt.service.eventTypeId, requested: input.start, timeZone: appt.branch.timezone }).catch(() => []);
      throw new BookingRejected(`slot taken; ${alternatives.length ? `free: ${describeSlots(alternatives, input.start, appt.branch.timezone)}` : "no free slot nearby"}`, err.kind, alternatives);
    } else if (err instanceof CalcomError && !err.retryable) {
      throw new BookingRejected(`Cal.com refused the change (${err.kind}): ${err.message}`, err.kind);
    } else {
      throw err;
    }
  }
  await deps.db.update(appointments).set({ calcomBookingUid: moved.uid, calcomBookingId: moved.id, startAt: new Date(moved.start), endAt: new Date(moved.end), status: "booked" }).where(and(eq(appointments.id, appt.id), eq(appointments.companyId, scope.companyId)));
  await forgetDays(deps, appt.service.eventTypeId, appt.branch.timezone, appt.start, moved.start);
  await audit(deps.db, { companyId: scope.companyId, actor: input.actor, action: "appointment.reschedule", target: `appointment:${appt.id}`, details: { from: appt.start, to: moved.start } });
  await deps.publish?.({ type: "booking.rescheduled", companyId: scope.companyId, branchId: appt.branch.id, appointmentId: appt.id, start: moved.start });
  return { ...appt, start: new Date(moved.start).toISOString(), end: new Date(moved.end).toISOString(), calcomUid: moved.uid, status: "booked" };
}

export {
  lazyRoutes,
  ApiError,
  maxBody,
  ipAllowlist,
  rateLimit,
  retellSignature,
  clientIp,
  createApp,
  AppointmentNotFound,
  findAppointments,
  cancelAppointment,
  rescheduleAppointment
};
//# sourceMappingURL=chunk-6M7MFUOQ.js.map
