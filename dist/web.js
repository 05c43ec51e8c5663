import {
  claimEvent,
  finishEvent,
  isUnknownName,
  matchService,
  metricsKeys,
  resolvePhone,
  servicesForBranch,
  startMetricsPublisher,
  thisProcess
} from "./chunks/chunk-RZFLHS6N.js";
import {
  AgentPromptError,
  authenticate,
  freeSlotsOn,
  manualBookingJob,
  updateAgentPrompt
} from "./chunks/chunk-WACY55QJ.js";
import {
  BookingDeferred,
  BookingRejected,
  BreakerOpenError,
  CalcomError,
  TTL_MS,
  WEBHOOK_PATHS,
  agentsCacheKey,
  assertPiiKeys,
  audit,
  bookingDeps,
  bookingIdempotencyKey,
  bookingJobSchema,
  cacheKeys,
  callCalcom,
  callSchema,
  checkAgentWebhook,
  createContext,
  createRedis,
  describeIssues,
  describeRetellError,
  describeSlots,
  eventsChannel,
  executeBooking,
  exportBreakerState,
  fetchAgents,
  getValues,
  isCiphertext,
  isHandledEvent,
  isRedisUnavailable,
  jobIds,
  loadConfig,
  nearestFreeSlots,
  open,
  openJson,
  openRetellSession,
  parseRequestedRange,
  parseRequestedStart,
  phoneIndexCandidates,
  publishEvent,
  retellKeysByAccount,
  runSync,
  safeEqual,
  serviceBreaker,
  speakTime,
  toZonedIso,
  upsertCall,
  upsertCustomer,
  webhookSchema
} from "./chunks/chunk-PSMONT7N.js";
import {
  appointments,
  branches,
  calls,
  companies,
  customers,
  dbUnavailable,
  phoneNumbers,
  registry,
  services,
  webhookTotal
} from "./chunks/chunk-NUTL6YPA.js";

// apps/ingress/server.ts
import { pathToFileURL } from "node:url";
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

// apps/ingress/app.ts
import { getConnInfo as getConnInfo2 } from "@hono/node-server/conninfo";
import { Hono } from "hono";
import { except } from "hono/combine";
import { HTTPException as HTTPException2 } from "hono/http-exception";

// apps/ingress/admin/index.ts
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { getConnInfo } from "@hono/node-server/conninfo";
import { serveStatic } from "@hono/node-server/serve-static";
import { bodyLimit } from "hono/body-limit";

// apps/ingress/admin/auth.ts
import { createHmac, randomBytes } from "node:crypto";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
var SESSION_COOKIE = "callbook_admin";
var SESSION_TTL_SECONDS = 8 * 3600;
var ADMIN_ROOT = "/admin";
var LOGIN_PATH = `${ADMIN_ROOT}/login`;
var LOGOUT_PATH = `${ADMIN_ROOT}/logout`;
function tokenMatches(adminToken, presented) {
  if (!adminToken.trim() || !presented) return false;
  return safeEqual(presented, adminToken);
}
function credentialFrom(authorization) {
  if (!authorization) return void 0;
  const m = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(authorization);
  if (!m) return void 0;
  if (m[1].toLowerCase() === "bearer") return m[2];
  const decoded = Buffer.from(m[2], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? void 0 : decoded.slice(colon + 1);
}
function sessionKey(adminToken) {
  return createHmac("sha256", adminToken).update("callbook:admin-session:v1").digest("base64url");
}
function isHttps(c) {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto")?.split(",")[0]?.trim() === "https";
}
async function startSession(c, adminToken, secure, now = Date.now()) {
  const expires = Math.floor(now / 1e3) + SESSION_TTL_SECONDS;
  await setSignedCookie(c, SESSION_COOKIE, `${expires}.${randomBytes(9).toString("base64url")}`, sessionKey(adminToken), {
    path: ADMIN_ROOT,
    httpOnly: true,
    sameSite: "Strict",
    secure,
    maxAge: SESSION_TTL_SECONDS
  });
}
async function hasSession(c, adminToken, now = Date.now()) {
  if (!adminToken.trim()) return false;
  const value = await getSignedCookie(c, sessionKey(adminToken), SESSION_COOKIE);
  if (!value) return false;
  const expires = Number(value.split(".")[0]);
  return Number.isFinite(expires) && expires * 1e3 > now;
}
function endSession(c, secure) {
  deleteCookie(c, SESSION_COOKIE, { path: ADMIN_ROOT, httpOnly: true, sameSite: "Strict", secure });
}
var LoginThrottle = class {
  constructor(limit = 10, windowMs = 6e4, now = Date.now) {
    this.limit = limit;
    this.windowMs = windowMs;
    this.now = now;
  }
  limit;
  windowMs;
  now;
  failures = /* @__PURE__ */ new Map();
  /** Seconds until `key` may try again, or 0 when it may try now. */
  retryAfter(key) {
    const entry = this.failures.get(key);
    if (!entry) return 0;
    const left = entry.resetAt - this.now();
    if (left <= 0) {
      this.failures.delete(key);
      return 0;
    }
    return entry.count >= this.limit ? Math.ceil(left / 1e3) : 0;
  }
  fail(key) {
    const t = this.now();
    if (this.failures.size >= 1e4) this.prune(t);
    const entry = this.failures.get(key);
    if (entry && entry.resetAt > t) entry.count++;
    else this.failures.set(key, { count: 1, resetAt: t + this.windowMs });
  }
  prune(t) {
    for (const [k, e] of this.failures) if (e.resetAt <= t) this.failures.delete(k);
    if (this.failures.size >= 1e4) this.failures.clear();
  }
};
var unauthorized = (c, message) => {
  c.header("WWW-Authenticate", 'Bearer realm="callbook admin"');
  return c.json({ error: { code: "unauthorized", message } }, 401);
};
var tooManyAttempts = (c, retryAfter) => {
  c.header("Retry-After", String(retryAfter));
  return c.json({ error: { code: "too_many_attempts", message: `too many wrong admin credentials; try again in ${retryAfter} s` } }, 429);
};
function requireAdmin(o) {
  return async (c, next) => {
    const authorization = c.req.header("authorization");
    if (authorization) {
      const key = o.clientKey(c);
      const wait = o.throttle.retryAfter(key);
      if (wait) return tooManyAttempts(c, wait);
      if (tokenMatches(o.adminToken, credentialFrom(authorization))) return next();
      o.throttle.fail(key);
      return unauthorized(c, "wrong admin credentials");
    }
    if (await hasSession(c, o.adminToken)) return next();
    const path = c.req.path;
    if (path === o.apiPrefix || path.startsWith(`${o.apiPrefix}/`) || c.req.method !== "GET" && c.req.method !== "HEAD") {
      return unauthorized(c, `log in at ${LOGIN_PATH}, or send Authorization: Bearer <ADMIN_TOKEN>`);
    }
    return c.redirect(`${LOGIN_PATH}?next=${encodeURIComponent(path)}`, 302);
  };
}
function safeNext(next, basePath) {
  if (!next || !/^\/[A-Za-z0-9/_.~%:@!$&'()*+,;=-]*$/.test(next) || next.includes("//") || next.includes("..")) return basePath;
  return next === basePath || next.startsWith(`${basePath}/`) ? next : basePath;
}

// apps/ingress/admin/login-page.ts
var PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
var escape = (s) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
var STYLE = `
  body { font-family: system-ui, sans-serif; background: #f4f5f7; color: #1f2933; display: flex; min-height: 100vh; margin: 0; align-items: center; justify-content: center; }
  main { background: #fff; padding: 2rem 2.5rem; border-radius: 8px; box-shadow: 0 2px 12px rgba(0,0,0,.08); width: 22rem; }
  h1 { font-size: 1.25rem; margin: 0 0 1rem; }
  label { display: block; font-size: .9rem; margin-bottom: .35rem; }
  input { width: 100%; box-sizing: border-box; padding: .55rem; font-size: 1rem; border: 1px solid #cbd2d9; border-radius: 4px; }
  button { margin-top: 1rem; width: 100%; padding: .6rem; font-size: 1rem; background: #2d6cdf; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
  .error { color: #b42318; background: #fef3f2; border: 1px solid #fecdca; padding: .5rem .75rem; border-radius: 4px; font-size: .9rem; }
  .note { color: #52606d; font-size: .85rem; }`;
function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escape(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}
function loginPage(opts2 = {}) {
  return page(
    "callbook admin: log in",
    `<h1>callbook admin</h1>
${opts2.error ? `<p class="error" role="alert" id="login-error">${escape(opts2.error)}</p>` : ""}
<form method="post" action="${LOGIN_PATH}">
  ${opts2.next ? `<input type="hidden" name="next" value="${escape(opts2.next)}">` : ""}
  <label for="token">Admin token</label>
  <input type="password" id="token" name="token" autocomplete="current-password" required autofocus>
  <button type="submit">Log in</button>
</form>
<p class="note">The ADMIN_TOKEN of this installation.</p>`
  );
}
function logoutPage() {
  return page(
    "callbook admin: log out",
    `<h1>callbook admin</h1>
<form method="post" action="${LOGOUT_PATH}"><button type="submit">Log out</button></form>`
  );
}

// apps/ingress/admin/index.ts
var DESCRIPTIONS = {
  webhooks: "Retell webhooks, verified and sealed; the webhook worker resolves the call and decides whether to book.",
  bookings: "Cal.com bookings, one job per idempotency key (booking-<key>). A failed job says why; retry it once the cause is fixed.",
  sync: "Retell numbers and agents, Cal.com event types.",
  notifications: "Operator and customer messages.",
  default: "Housekeeping: retention, GDPR export and erasure."
};
function connAddress(c) {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
function mountAdmin(app, deps) {
  const basePath = (deps.basePath ?? "/admin/queues").replace(/\/+$/, "");
  if (!basePath.startsWith(`${ADMIN_ROOT}/`)) throw new Error(`admin basePath must be under ${ADMIN_ROOT}/, got ${basePath}`);
  const token = deps.adminToken;
  const enabled = token.trim().length > 0;
  const throttle = new LoginThrottle(deps.loginsPerMinute ?? 10);
  const clientKey = deps.clientKey ?? connAddress;
  const secure = (c) => deps.secureCookies ?? isHttps(c);
  const adminHeaders = async (c, next) => {
    if (!enabled) return c.json({ error: { code: "admin_disabled", message: "ADMIN_TOKEN is not set; the admin area is disabled" } }, 403);
    await next();
    c.header("X-Frame-Options", "DENY");
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
    if (!c.req.path.startsWith(`${basePath}/static/`)) c.header("Cache-Control", "no-store");
  };
  app.use(ADMIN_ROOT, adminHeaders);
  app.use(`${ADMIN_ROOT}/*`, adminHeaders);
  app.get(ADMIN_ROOT, (c) => c.redirect(basePath, 302));
  app.get(LOGIN_PATH, async (c) => {
    const next = safeNext(c.req.query("next"), basePath);
    if (await hasSession(c, token)) return c.redirect(next, 302);
    c.header("Content-Security-Policy", PAGE_CSP);
    return c.html(loginPage({ next }));
  });
  app.post(LOGIN_PATH, bodyLimit({ maxSize: 4096, onError: (c) => c.text("login form too large", 413) }), async (c) => {
    c.header("Content-Security-Policy", PAGE_CSP);
    const who = clientKey(c);
    const wait = throttle.retryAfter(who);
    if (wait) {
      c.header("Retry-After", String(wait));
      return c.html(loginPage({ error: `Too many wrong tokens. Try again in ${wait} s.` }), 429);
    }
    const form = await c.req.parseBody().catch(() => ({}));
    const presented = typeof form.token === "string" ? form.token : void 0;
    const next = safeNext(typeof form.next === "string" ? form.next : void 0, basePath);
    if (!tokenMatches(token, presented)) {
      throttle.fail(who);
      return c.html(loginPage({ next, error: "Wrong token." }), 401);
    }
    await startSession(c, token, secure(c));
    return c.redirect(next, 303);
  });
  app.get(LOGOUT_PATH, (c) => {
    c.header("Content-Security-Policy", PAGE_CSP);
    return c.html(logoutPage());
  });
  app.post(LOGOUT_PATH, (c) => {
    endSession(c, secure(c));
    return c.redirect(LOGIN_PATH, 303);
  });
  const guard = requireAdmin({ adminToken: token, throttle, clientKey, apiPrefix: `${basePath}/api` });
  app.use(basePath, guard);
  app.use(`${basePath}/*`, guard);
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(basePath);
  createBullBoard({
    queues: deps.queues.map(
      (q) => new BullMQAdapter(q, { readOnlyMode: false, allowRetries: true, description: DESCRIPTIONS[q.name] ?? "" })
    ),
    // @bull-board/hono 9.10.1 pins its own copy of @bull-board/api (9.10.1) for types; the shapes
    // agree at run time, but TypeScript sees two declarations of the adapter's private fields.
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: "callbook",
        hideDocsLink: true,
        miscLinks: [{ text: "Log out", url: LOGOUT_PATH }]
      }
    }
  });
  app.get(`${basePath}/`, (c) => c.redirect(basePath, 302));
  app.route(basePath, serverAdapter.registerPlugin());
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
function bodyLimit2(opts2) {
  const streaming = honoBodyLimit(opts2);
  return async (c, next) => {
    const declared = c.req.header("content-length");
    if (declared !== void 0 && c.req.header("transfer-encoding") === void 0) {
      if (parseInt(declared, 10) > opts2.maxSize) return opts2.onError(c);
      return next();
    }
    return streaming(c, next);
  };
}
function maxBody(maxBytes) {
  return bodyLimit2({
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
var rateLimit = (opts2) => createMiddleware3(async (c, next) => {
  const windowStart = Math.floor(Date.now() / 6e4);
  const key = `${opts2.keyPrefix}ratelimit:webhook:${opts2.clientKey(c)}:${windowStart}`;
  let count;
  try {
    const replies = await opts2.redis.multi().incr(key).pexpire(key, 61e3).exec();
    count = replies[0][1];
  } catch (err) {
    throw new ApiError(503, "redis_unavailable", `rate limiter unavailable: ${err.message}`);
  }
  if (count > opts2.limitPerMinute) {
    c.header("Retry-After", String(60 - Math.floor(Date.now() / 1e3 % 60)));
    throw new ApiError(429, "rate_limited", `more than ${opts2.limitPerMinute} requests per minute from this source`);
  }
  await next();
});

// apps/ingress/middleware/retell-signature/index.ts
import { createMiddleware as createMiddleware4 } from "hono/factory";

// lib/retell/signature.ts
import { createHmac as createHmac2, timingSafeEqual as timingSafeEqual2 } from "node:crypto";
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
  const expected = createHmac2("sha256", apiKey).update(body).update(String(stamp)).digest();
  const given = Buffer.from(digestHex, "hex");
  return given.length === expected.length && timingSafeEqual2(given, expected) ? "ok" : "mismatch";
}

// apps/ingress/middleware/retell-signature/index.ts
var retellSignature = (opts2) => createMiddleware4(async (c, next) => {
  const raw = Buffer.from(await c.req.arrayBuffer());
  const header = c.req.header("x-retell-signature");
  let verdict = verifyRetellSignature(raw, opts2.apiKey, header);
  if (verdict === "mismatch" && opts2.keysFor) {
    for (const key of await opts2.keysFor(raw)) {
      if (verifyRetellSignature(raw, key, header) === "ok") {
        verdict = "ok";
        break;
      }
    }
  }
  if (verdict !== "ok") {
    opts2.onRejected?.(verdict);
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
    return getConnInfo2(c).remote.address ?? "unknown";
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
  const app = new Hono();
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
  if (deps.admin) mountAdmin(app, { ...deps.admin, clientKey: ip });
  for (const mount of deps.routes ?? []) mount(app);
  return app;
}

// apps/ingress/deps.ts
import { sql as sql2 } from "drizzle-orm";

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
import { createHmac as createHmac3, timingSafeEqual as timingSafeEqual3 } from "node:crypto";
var HEX64 = /^[0-9a-f]{64}$/i;
function verifyCalcomSignature(body, secret, header) {
  if (!header || !secret) return false;
  const given = header.trim();
  if (!HEX64.test(given)) return false;
  const expected = createHmac3("sha256", secret).update(body).digest();
  return timingSafeEqual3(Buffer.from(given, "hex"), expected);
}
function findSigner(body, header, candidates) {
  let found = null;
  for (const c of candidates) {
    if (verifyCalcomSignature(body, c.secret, header) && !found) found = c;
  }
  return found;
}

// lib/calcom-webhooks/schema.ts
import { createHash as createHash2 } from "node:crypto";
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
  const stamp = w.createdAt ?? w.payload.updatedAt ?? `sha256-${createHash2("sha256").update(rawBody).digest("hex").slice(0, 32)}`;
  const key = `${w.triggerEvent}:${w.payload.uid}:${stamp}`;
  return key.length <= 191 ? key : `${w.triggerEvent}:sha256-${createHash2("sha256").update(key).digest("hex")}`;
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
var HEADER2 = "x-cal-signature-256";
function mountCalcomWebhooks(app, deps) {
  const chain = [
    maxBody(deps.maxBodyBytes),
    rateLimit({ redis: deps.redis, keyPrefix: deps.keyPrefix, limitPerMinute: deps.rateLimitPerMinute, clientKey: (c) => clientIp(c, deps.trustProxy) })
  ];
  const receive = async (c) => {
    const receivedAt = /* @__PURE__ */ new Date();
    const raw = Buffer.from(await c.req.arrayBuffer());
    const header = c.req.header(HEADER2);
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
import { Hono as Hono2 } from "hono";
import { HTTPException as HTTPException3 } from "hono/http-exception";

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

// lib/appointments/manage.ts
import { and as and4, asc, eq as eq6, gt, inArray as inArray2 } from "drizzle-orm";
import { DateTime as DateTime4 } from "luxon";
var AppointmentNotFound = class extends Error {
  name = "AppointmentNotFound";
};
async function load(deps, scope, where) {
  const conds = [eq6(appointments.companyId, scope.companyId), inArray2(appointments.status, ["booked", "pending"])];
  if (where.id !== void 0) conds.push(eq6(appointments.id, where.id));
  if (where.upcomingFrom) conds.push(gt(appointments.startAt, where.upcomingFrom));
  if (scope.branchId) conds.push(eq6(appointments.branchId, scope.branchId));
  if (scope.customerPhone !== void 0) {
    if (!scope.customerPhone) return [];
    conds.push(inArray2(customers.phoneIndex, phoneIndexCandidates(scope.companyId, scope.customerPhone)));
  }
  const rows = await deps.db.select({ a: appointments, s: services, b: branches }).from(appointments).innerJoin(customers, and4(eq6(customers.id, appointments.customerId), eq6(customers.companyId, appointments.companyId))).innerJoin(services, and4(eq6(services.id, appointments.serviceId), eq6(services.companyId, appointments.companyId))).innerJoin(branches, and4(eq6(branches.id, appointments.branchId), eq6(branches.companyId, appointments.companyId))).where(and4(...conds)).orderBy(asc(appointments.startAt)).limit(50);
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
  const [company] = await deps.db.select({ key: companies.calcomApiKeyEnc }).from(companies).where(eq6(companies.id, companyId));
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
  const keys = starts.map((s) => cacheKeys.availability(eventTypeId, DateTime4.fromISO(s).setZone(timeZone).toISODate()));
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
  await deps.db.update(appointments).set({ status: "cancelled" }).where(and4(eq6(appointments.id, appt.id), eq6(appointments.companyId, scope.companyId)));
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
  await deps.db.update(appointments).set({ calcomBookingUid: moved.uid, calcomBookingId: moved.id, startAt: new Date(moved.start), endAt: new Date(moved.end), status: "booked" }).where(and4(eq6(appointments.id, appt.id), eq6(appointments.companyId, scope.companyId)));
  await forgetDays(deps, appt.service.eventTypeId, appt.branch.timezone, appt.start, moved.start);
  await audit(deps.db, { companyId: scope.companyId, actor: input.actor, action: "appointment.reschedule", target: `appointment:${appt.id}`, details: { from: appt.start, to: moved.start } });
  await deps.publish?.({ type: "booking.rescheduled", companyId: scope.companyId, branchId: appt.branch.id, appointmentId: appt.id, start: moved.start });
  return { ...appt, start: new Date(moved.start).toISOString(), end: new Date(moved.end).toISOString(), calcomUid: moved.uid, status: "booked" };
}

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
    const r = new Hono2();
    r.onError((err, c) => {
      if (err instanceof ApiError) {
        return c.json({ error: { code: err.code, message: err.message, ...err.issues ? { issues: err.issues } : {} } }, err.status);
      }
      if (err instanceof HTTPException3) return c.json({ error: { code: "http_error", message: err.message } }, err.status);
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
import { and as and5, asc as asc2, eq as eq7, gt as gt2, inArray as inArray3, isNull as isNull2 } from "drizzle-orm";
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
      const [row] = await deps.db.select({ openingHours: branches.openingHours }).from(branches).where(eq7(branches.id, where.branchId));
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
      and5(eq7(appointments.companyId, customers.companyId), eq7(appointments.customerId, customers.id), eq7(appointments.status, "booked"), gt2(appointments.startAt, now))
    ).leftJoin(services, eq7(services.id, appointments.serviceId)).leftJoin(branches, eq7(branches.id, appointments.branchId)).where(and5(eq7(customers.companyId, where.companyId), inArray3(customers.phoneIndex, phoneIndexCandidates(where.companyId, from)), isNull2(customers.erasedAt))).orderBy(asc2(appointments.startAt)).limit(1).then((rows) => rows[0])
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
      return c.json(EMPTY_ANSWER, 200);
    }
    let timer;
    const late = new Promise((resolve) => {
      timer = setTimeout(() => {
        log.warn({ deadlineMs }, "inbound lookup exceeded its deadline; answering empty");
        resolve(EMPTY_ANSWER);
      }, deadlineMs);
    });
    const lookup = answerInbound(deps, body).catch((err) => {
      log.error({ err }, "inbound lookup failed; answering empty");
      return EMPTY_ANSWER;
    });
    try {
      return c.json(await Promise.race([lookup, late]), 200);
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
var notFound2 = (what) => new McpToolError(ERROR_CODES.notFound, `not found: ${what}`);
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
import { z as z16 } from "zod";

// lib/mcp/bookings.ts
import { and as and7, eq as eq9 } from "drizzle-orm";
import { DateTime as DateTime5 } from "luxon";
import { z as z12 } from "zod";

// lib/mcp/scope.ts
import { and as and6, asc as asc3, eq as eq8, isNull as isNull3, or as or2 } from "drizzle-orm";
function isAdmin(t) {
  return t.principal.kind === "admin";
}
function requireAdmin2(t, why) {
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
    const [row] = await db.select().from(companies).where(eq8(companies.id, own));
    if (!row || slug !== void 0 && slug !== row.slug) throw notFound2(`no company "${slug ?? own}"`);
    return row;
  }
  const all = await db.select().from(companies).orderBy(asc3(companies.slug));
  if (slug === void 0) {
    if (all.length === 1) return all[0];
    throw invalidParams(`company: required (there are ${all.length} companies: ${all.map((c) => c.slug).join(", ") || "none"})`);
  }
  const found = all.find((c) => c.slug === slug);
  if (!found) throw notFound2(`no company "${slug}"; companies: ${all.map((c) => c.slug).join(", ") || "none"}`);
  return found;
}
async function optionalCompany(t, slug) {
  if (slug === void 0 && isAdmin(t)) return null;
  return resolveCompany(t, slug);
}
async function resolveBranch(t, company, slug, required) {
  const db = t.ctx.database.db;
  const own = tokenBranchId(t);
  const all = await db.select().from(branches).where(eq8(branches.companyId, company.id)).orderBy(asc3(branches.slug));
  if (own !== null) {
    const row = all.find((b) => b.id === own);
    if (!row || slug !== void 0 && slug !== row.slug) throw notFound2(`no branch "${slug ?? own}" in ${company.slug}`);
    return row;
  }
  if (slug === void 0) {
    if (!required) return null;
    if (all.length === 1) return all[0];
    throw invalidParams(`branch: required for ${company.slug} (branches: ${all.map((b) => b.slug).join(", ") || "none"})`);
  }
  const found = all.find((b) => b.slug === slug);
  if (!found) throw notFound2(`no branch "${slug}" in ${company.slug}; branches: ${all.map((b) => b.slug).join(", ")}`);
  return found;
}
async function resolveService(t, company, branch, slugOrId) {
  const all = await t.ctx.database.db.select().from(services).where(and6(eq8(services.companyId, company.id), or2(isNull3(services.branchId), eq8(services.branchId, branch.id)))).orderBy(asc3(services.slug));
  const found = all.find((s) => s.slug === slugOrId || String(s.calcomEventTypeId) === slugOrId);
  if (!found) throw notFound2(`no service "${slugOrId}" at ${company.slug}/${branch.slug}; services: ${all.map((s) => s.slug).join(", ") || "none"}`);
  return found;
}
function inScope(t, companyId, branchId) {
  const p = t.principal;
  if (p.kind === "admin") return true;
  if (p.companyId !== companyId) return false;
  return p.branchId === null || p.branchId === branchId;
}

// lib/mcp/tool.ts
import { z as z11 } from "zod";
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
  company: z11.string().min(1).max(64).describe("company slug (a company or branch token: its own company, may be left out)"),
  branch: z11.string().min(1).max(64).describe("branch slug (a branch token: its own branch, may be left out)"),
  phone: z11.string().regex(/^\+[1-9]\d{5,14}$/, "must be an E.164 number like +4930123456"),
  appointmentId: z11.number().int().positive().describe("appointment id (as booking_find / booking_create return it)")
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
var localTime = (iso, zone) => DateTime5.fromISO(iso).setZone(zone).toFormat("yyyy-MM-dd HH:mm");
var view = (a) => ({ ...a, local: localTime(a.start, a.branch.timezone) });
var availabilityCheck = defineTool({
  name: "availability_check",
  title: "Free slots",
  description: "Free slots of a service on one day at a branch, in the branch's time zone (cached 5 min, cleared when a booking lands on that day).",
  input: z12.object({
    company: arg.company.optional(),
    branch: arg.branch.optional(),
    service: z12.string().min(1).max(64).describe("service slug or Cal.com event type id"),
    date: z12.string().min(1).max(100).describe('YYYY-MM-DD, or a spoken day ("morgen", "next tuesday"), read in the branch time zone')
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
      date = DateTime5.fromJSDate(range.from).setZone(branch.timezone).toISODate();
    } else if (!DateTime5.fromISO(date).isValid) {
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
        local: slots.map((s) => DateTime5.fromISO(s).setZone(branch.timezone).toFormat("HH:mm"))
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
  input: z12.object({
    company: arg.company.optional(),
    branch: arg.branch.optional(),
    service: z12.string().min(1).max(64).describe("service slug or Cal.com event type id"),
    phone: arg.phone.describe("the customer's phone number, E.164"),
    start: z12.string().min(1).max(100).describe('ISO ("2026-12-01T11:00", read in the branch time zone unless it has an offset) or spoken ("Dienstag um 11")'),
    name: z12.string().min(1).max(200).optional(),
    email: z12.email().max(254).optional()
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
  input: z12.object({
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
  const conds = [eq9(appointments.id, appointmentId)];
  const own = tokenCompanyId(t);
  if (own !== null) conds.push(eq9(appointments.companyId, own));
  const ownBranch = tokenBranchId(t);
  if (ownBranch !== null) conds.push(eq9(appointments.branchId, ownBranch));
  if (companySlug !== void 0) {
    const company = await resolveCompany(t, companySlug);
    conds.push(eq9(appointments.companyId, company.id));
  }
  const [row] = await db.select({ companyId: appointments.companyId, branchId: appointments.branchId, timezone: branches.timezone }).from(appointments).innerJoin(branches, and7(eq9(branches.id, appointments.branchId), eq9(branches.companyId, appointments.companyId))).where(and7(...conds));
  if (!row) throw notFound2(`no appointment ${appointmentId}`);
  return { scope: { companyId: row.companyId, branchId: ownBranch }, timezone: row.timezone };
}
var bookingReschedule = defineTool({
  name: "booking_reschedule",
  title: "Move an appointment",
  description: "Move a booked appointment to a new start in Cal.com. A taken slot fails with the nearest free slots; asking twice for the same start changes nothing.",
  input: z12.object({
    company: arg.company.optional(),
    appointmentId: arg.appointmentId,
    start: z12.string().min(1).max(100).describe("the new start: ISO or spoken, read in the branch time zone")
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
      if (err instanceof AppointmentNotFound) throw notFound2(`no booked appointment ${a.appointmentId}`);
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
  input: z12.object({
    company: arg.company.optional(),
    appointmentId: arg.appointmentId,
    reason: z12.string().min(1).max(500).optional()
  }).strict(),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const { scope } = await appointmentScope(t, a.company, a.appointmentId);
    try {
      const cancelled = await cancelAppointment(t.booking(), scope, { appointmentId: a.appointmentId, reason: a.reason ?? "cancelled by an operator", actor: t.actor });
      return ok({ appointment: view(cancelled) });
    } catch (err) {
      if (err instanceof AppointmentNotFound) throw notFound2(`no booked appointment ${a.appointmentId}`);
      const failure = calcomFailure(err, "not cancelled");
      if (failure) return failure;
      throw err;
    }
  }
});
var bookingTools = [availabilityCheck, bookingCreate, bookingFind, bookingReschedule, bookingCancel];

// lib/mcp/calls.ts
import { and as and8, desc, eq as eq10, gte, inArray as inArray4, like, lt, or as or3, sql } from "drizzle-orm";
import { z as z13 } from "zod";
var dateArg = z13.string().refine((s) => /^\d{4}-\d{2}-\d{2}$/.test(s) || !Number.isNaN(Date.parse(s)), "must be YYYY-MM-DD or an ISO date-time").describe("YYYY-MM-DD (a whole day, UTC) or an ISO date-time");
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
  input: z13.object({
    company: arg.company.optional(),
    branch: arg.branch.optional(),
    phone: arg.phone.optional().describe("the caller's or the dialled number, E.164"),
    from: dateArg.optional(),
    to: dateArg.optional(),
    status: z13.enum(["ongoing", "ended", "analyzed"]).optional(),
    text: z13.string().min(2).max(200).optional().describe("words in the call summary (case-insensitive)"),
    bookingDecision: z13.enum(["book", "no_booking"]).optional(),
    limit: z13.number().int().min(1).max(100).default(20)
  }).strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const db = t.ctx.database.db;
    const company = await optionalCompany(t, a.company);
    const branch = company ? await resolveBranch(t, company, a.branch, false) : null;
    if (!company && a.branch) throw invalidParams("branch: name the company too");
    const conds = [];
    if (company) conds.push(eq10(calls.companyId, company.id));
    const branchId = branch?.id ?? tokenBranchId(t);
    if (branchId !== null) conds.push(eq10(calls.branchId, branchId));
    const checks = [];
    if (a.phone) {
      const phone = a.phone;
      const scope = company ? [company.id] : tokenCompanyId(t) !== null ? [tokenCompanyId(t)] : (await db.select({ id: companies.id }).from(companies)).map((r) => r.id);
      const indexes = new Map(scope.map((id) => [id, phoneIndexCandidates(id, phone)]));
      const byIndex = scope.map((id) => and8(eq10(calls.companyId, id), inArray4(calls.callerIndex, indexes.get(id))));
      const [owner] = await db.select({ companyId: phoneNumbers.companyId }).from(phoneNumbers).where(eq10(phoneNumbers.e164, phone));
      const sealedOfOwner = owner && scope.includes(owner.companyId) ? [and8(eq10(calls.companyId, owner.companyId), or3(like(calls.toNumber, SEALED), like(calls.fromNumber, SEALED)))] : [];
      conds.push(or3(eq10(calls.fromNumber, phone), eq10(calls.toNumber, phone), ...byIndex, ...sealedOfOwner));
      checks.push((c) => indexes.get(c.companyId)?.includes(c.callerIndex ?? "") || open(c.fromNumber) === phone || open(c.toNumber) === phone);
    }
    if (a.from) conds.push(gte(callTime, bound(a.from, false)));
    if (a.to) conds.push(lt(callTime, bound(a.to, true)));
    if (a.status) conds.push(eq10(calls.status, a.status));
    if (a.text) {
      const words = a.text.toLowerCase();
      conds.push(or3(like(calls.summary, `%${likeEscape(a.text)}%`), like(calls.summary, SEALED)));
      checks.push((c) => !c.summary || !isCiphertext(c.summary) || open(c.summary).toLowerCase().includes(words));
    }
    if (a.bookingDecision) conds.push(eq10(calls.bookingDecision, a.bookingDecision));
    const query = (limit, offset) => db.select({ c: calls, company: companies.slug, branch: branches.slug, customerName: customers.name }).from(calls).innerJoin(companies, eq10(companies.id, calls.companyId)).innerJoin(branches, and8(eq10(branches.id, calls.branchId), eq10(branches.companyId, calls.companyId))).leftJoin(customers, and8(eq10(customers.id, calls.customerId), eq10(customers.companyId, calls.companyId))).where(and8(...conds)).orderBy(desc(callTime), desc(calls.id)).limit(limit).offset(offset);
    const rows = [];
    let scanned = 0;
    let truncated = false;
    const pageSize = checks.length ? SCAN_PAGE : a.limit;
    for (; ; ) {
      const page2 = await query(pageSize, scanned);
      scanned += page2.length;
      for (const r of page2) if (rows.length < a.limit && checks.every((check) => check(r.c))) rows.push(r);
      if (rows.length >= a.limit || page2.length < pageSize) break;
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
  input: z13.object({ callId: z13.string().min(1).max(100).describe("the Retell call id, e.g. call_8f2c\u2026") }).strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const db = t.ctx.database.db;
    const conds = [eq10(calls.retellCallId, a.callId)];
    const ownCompany = tokenCompanyId(t);
    const ownBranch = tokenBranchId(t);
    if (ownCompany !== null) conds.push(eq10(calls.companyId, ownCompany));
    if (ownBranch !== null) conds.push(eq10(calls.branchId, ownBranch));
    const [row] = await db.select({ c: calls, company: companies.slug, branch: branches.slug }).from(calls).innerJoin(companies, eq10(companies.id, calls.companyId)).innerJoin(branches, and8(eq10(branches.id, calls.branchId), eq10(branches.companyId, calls.companyId))).where(and8(...conds));
    if (!row) throw notFound2(`no call "${a.callId}"`);
    const c = row.c;
    const [customer] = c.customerId ? await db.select().from(customers).where(and8(eq10(customers.id, c.customerId), eq10(customers.companyId, c.companyId))) : [];
    const appts = await db.select().from(appointments).where(and8(eq10(appointments.callId, c.id), eq10(appointments.companyId, c.companyId)));
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
import { eq as eq11 } from "drizzle-orm";
import { z as z14 } from "zod";
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
  input: z14.object({
    company: arg.company.optional(),
    branch: arg.branch.optional(),
    limit: z14.number().int().min(1).max(500).default(50)
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
  input: z14.object({
    jobId: z14.string().min(1).max(200).optional().describe("the job id from failed_bookings_list"),
    all: z14.literal(true).optional().describe("every failed booking job in scope (a token: its company's)"),
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
      if (!job || !visible) throw notFound2(`no booking job "${a.jobId}"`);
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
  input: z14.object({}).strict(),
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
  input: z14.object({ service: z14.enum(SERVICES) }).strict(),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (a, t) => {
    requireAdmin2(t, "the breakers are shared by every company");
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
    db.select({ eventTypeId: services.calcomEventTypeId }).from(services).where(eq11(services.companyId, company.id)),
    db.select({ e164: phoneNumbers.e164 }).from(phoneNumbers).where(eq11(phoneNumbers.companyId, company.id))
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
  input: z14.object({
    company: arg.company.optional(),
    prefix: z14.string().min(1).max(200).optional().describe("admin only: every key starting with this, e.g. mcp:calcom:availability:")
  }).strict().refine((o) => !(o.company && o.prefix), { message: "give a company or a prefix, not both", path: ["prefix"] }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (a, t) => {
    const cache = t.ctx.cache;
    if (a.prefix !== void 0 || a.company === void 0 && isAdmin(t)) {
      requireAdmin2(t, "a prefix reaches every company's keys; clear your company's with no arguments");
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
import { and as and9, asc as asc4, eq as eq12 } from "drizzle-orm";
import { z as z15 } from "zod";
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
  input: z15.object({ company: arg.company.optional() }).strict(),
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
  input: z15.object({ company: arg.company.optional(), refresh: z15.boolean().default(false) }).strict(),
  annotations: { readOnlyHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const company = await optionalCompany(t, a.company);
    const account = company ? await accountOf(t, company) : { companyId: null, label: "global", apiKey: t.ctx.config.RETELL_API_KEY };
    requireOwnAccount(t, account, "the agents");
    const key = agentsCacheKey(account.companyId);
    try {
      const load2 = () => fetchAgents(openRetellSession(t.ctx, account, t.signal));
      let agents;
      if (a.refresh) {
        agents = await load2();
        await t.ctx.cache.set(key, agents, TTL_MS.retellAgents);
      } else {
        agents = await t.ctx.cache.getOrLoad(key, TTL_MS.retellAgents, load2);
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
  input: z15.object({
    company: arg.company.optional().describe("the company whose Retell account holds the agent (admin: none = the shared account)"),
    agentId: z15.string().min(1).max(100),
    prompt: z15.string().trim().min(1).max(1e5)
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
        if (/ not found in /.test(err.message)) throw notFound2(err.message);
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
  input: z15.object({ company: arg.company.optional() }).strict(),
  annotations: { readOnlyHint: true, openWorldHint: true },
  handler: async (a, t) => {
    const publicUrl = t.ctx.config.PUBLIC_URL;
    const db = t.ctx.database.db;
    const company = await optionalCompany(t, a.company);
    const errors = [];
    const accounts = company ? [await accountOf(t, company)] : await retellKeysByAccount(t.ctx, { onError: (acc, err) => errors.push({ account: acc.label, message: `Retell key cannot be decrypted (${err.message})` }) });
    const conds = [];
    if (company) conds.push(eq12(phoneNumbers.companyId, company.id));
    const ownBranch = tokenBranchId(t);
    if (ownBranch !== null) conds.push(eq12(phoneNumbers.branchId, ownBranch));
    const numbers = await db.select({ e164: phoneNumbers.e164, agentId: phoneNumbers.retellAgentId, companyId: phoneNumbers.companyId, company: companies.slug, branch: branches.slug, ownKey: companies.retellApiKeyEnc }).from(phoneNumbers).innerJoin(companies, eq12(companies.id, phoneNumbers.companyId)).innerJoin(branches, eq12(branches.id, phoneNumbers.branchId)).where(and9(...conds)).orderBy(asc4(phoneNumbers.e164));
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
    const { $schema: _ignored, ...schema } = z16.toJSONSchema(def.input, { io: "input" });
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
function mountMcp(ctx, opts2 = {}) {
  const auth = { db: ctx.database.db, cache: ctx.cache, adminToken: ctx.config.ADMIN_TOKEN.trim() ? ctx.config.ADMIN_TOKEN : "" };
  const throttle = new LoginThrottle(opts2.wrongTokensPerMinute ?? 20);
  const log = ctx.logger.child({ component: "mcp" });
  return (app) => {
    app.on(["POST", "GET", "DELETE"], MCP_PATH, async (c) => {
      const who = clientIp(c, ctx.config.TRUST_PROXY);
      const wait = throttle.retryAfter(who);
      if (wait) {
        c.header("Retry-After", String(wait));
        return rpcError(c, 429, ERROR_CODES.unauthorized, `too many wrong tokens; try again in ${wait} s`);
      }
      const bearer2 = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
      const principal = await authenticate(auth, bearer2);
      if (!principal) {
        if (bearer2) throttle.fail(who);
        c.header("WWW-Authenticate", 'Bearer realm="callbook mcp"');
        return rpcError(c, 401, ERROR_CODES.unauthorized, bearer2 ? "unauthorized: unknown or revoked token" : "unauthorized: send Authorization: Bearer <ADMIN_TOKEN or a callbook token>");
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
      mountMcp(ctx)
    ],
    checkReady: async () => {
      const [redis, db] = await Promise.all([
        ctx.redis.ping().then(() => true, () => false),
        ctx.database.db.execute(sql2`SELECT 1`).then(() => true, () => false)
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
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
export {
  listen
};
//# sourceMappingURL=web.js.map
