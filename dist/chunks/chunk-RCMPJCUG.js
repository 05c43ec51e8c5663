import {
  safeEqual
} from "./chunk-E5ZFRTTD.js";

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

export {
  ADMIN_ROOT,
  LOGIN_PATH,
  LOGOUT_PATH,
  tokenMatches,
  isHttps,
  startSession,
  hasSession,
  endSession,
  LoginThrottle,
  requireAdmin,
  safeNext
};
//# sourceMappingURL=chunk-RCMPJCUG.js.map
