/**
 * Operator access to /admin: ADMIN_TOKEN, presented as a login (an HMAC-signed session cookie,
 * 8 h), as `Authorization: Bearer <token>`, or as HTTP basic auth with the token as password.
 * Tokens are compared in constant time; an empty token matches nothing; wrong credentials are
 * throttled per client address (in memory, per process).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import { safeEqual } from '../../../lib/crypto';

export const SESSION_COOKIE = 'callbook_admin';
export const SESSION_TTL_SECONDS = 8 * 3600;
/** Every admin path lives under here, so the cookie is never sent anywhere else. */
export const ADMIN_ROOT = '/admin';
export const LOGIN_PATH = `${ADMIN_ROOT}/login`;
export const LOGOUT_PATH = `${ADMIN_ROOT}/logout`;

/** False for an empty configured token, whatever is presented: the admin area is never open. */
export function tokenMatches(adminToken: string, presented: string | undefined): boolean {
  if (!adminToken.trim() || !presented) return false;
  return safeEqual(presented, adminToken);
}

/** The secret a header carries: the bearer token, or the password of basic auth (any user). */
export function credentialFrom(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(authorization);
  if (!m) return undefined;
  if (m[1]!.toLowerCase() === 'bearer') return m[2];
  const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** The cookie signing key: derived from ADMIN_TOKEN, so rotating the token ends every session. */
function sessionKey(adminToken: string): string {
  return createHmac('sha256', adminToken).update('callbook:admin-session:v1').digest('base64url');
}

export function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';
}

export async function startSession(c: Context, adminToken: string, secure: boolean, now = Date.now()): Promise<void> {
  const expires = Math.floor(now / 1000) + SESSION_TTL_SECONDS;
  await setSignedCookie(c, SESSION_COOKIE, `${expires}.${randomBytes(9).toString('base64url')}`, sessionKey(adminToken), {
    path: ADMIN_ROOT,
    httpOnly: true,
    sameSite: 'Strict',
    secure,
    maxAge: SESSION_TTL_SECONDS,
  });
}

/** A cookie we signed with the current token and that has not expired (the browser's Max-Age is not trusted). */
export async function hasSession(c: Context, adminToken: string, now = Date.now()): Promise<boolean> {
  if (!adminToken.trim()) return false;
  const value = await getSignedCookie(c, sessionKey(adminToken), SESSION_COOKIE);
  if (!value) return false;
  const expires = Number(value.split('.')[0]);
  return Number.isFinite(expires) && expires * 1000 > now;
}

export function endSession(c: Context, secure: boolean): void {
  deleteCookie(c, SESSION_COOKIE, { path: ADMIN_ROOT, httpOnly: true, sameSite: 'Strict', secure });
}

/**
 * Wrong credentials per client address in a fixed one-minute window. In memory: each ingress
 * process counts its own, which still caps guessing at `limit × processes` a minute.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `key` may try again, or 0 when it may try now. */
  retryAfter(key: string): number {
    const entry = this.failures.get(key);
    if (!entry) return 0;
    const left = entry.resetAt - this.now();
    if (left <= 0) {
      this.failures.delete(key);
      return 0;
    }
    return entry.count >= this.limit ? Math.ceil(left / 1000) : 0;
  }

  fail(key: string): void {
    const t = this.now();
    if (this.failures.size >= 10_000) this.prune(t);
    const entry = this.failures.get(key);
    if (entry && entry.resetAt > t) entry.count++;
    else this.failures.set(key, { count: 1, resetAt: t + this.windowMs });
  }

  private prune(t: number): void {
    for (const [k, e] of this.failures) if (e.resetAt <= t) this.failures.delete(k);
    // Still full: a spray from many addresses, where a per-address count protects nothing anyway.
    if (this.failures.size >= 10_000) this.failures.clear();
  }
}

export interface GuardOptions {
  adminToken: string;
  throttle: LoginThrottle;
  clientKey: (c: Context) => string;
  /** Requests under here are API calls: refused with 401 JSON instead of a redirect to the login. */
  apiPrefix: string;
}

const unauthorized = (c: Context, message: string) => {
  c.header('WWW-Authenticate', 'Bearer realm="callbook admin"'); // not Basic: a browser would pop up its own dialog
  return c.json({ error: { code: 'unauthorized', message } }, 401);
};

const tooManyAttempts = (c: Context, retryAfter: number) => {
  c.header('Retry-After', String(retryAfter));
  return c.json({ error: { code: 'too_many_attempts', message: `too many wrong admin credentials; try again in ${retryAfter} s` } }, 429);
};

/** Lets a request through with a valid header credential or session; otherwise 401 (API), 302 to the login (pages). */
export function requireAdmin(o: GuardOptions): MiddlewareHandler {
  return async (c, next) => {
    const authorization = c.req.header('authorization');
    if (authorization) {
      const key = o.clientKey(c);
      const wait = o.throttle.retryAfter(key);
      if (wait) return tooManyAttempts(c, wait);
      if (tokenMatches(o.adminToken, credentialFrom(authorization))) return next();
      o.throttle.fail(key);
      return unauthorized(c, 'wrong admin credentials');
    }
    if (await hasSession(c, o.adminToken)) return next();
    const path = c.req.path;
    if (path === o.apiPrefix || path.startsWith(`${o.apiPrefix}/`) || (c.req.method !== 'GET' && c.req.method !== 'HEAD')) {
      return unauthorized(c, `log in at ${LOGIN_PATH}, or send Authorization: Bearer <ADMIN_TOKEN>`);
    }
    return c.redirect(`${LOGIN_PATH}?next=${encodeURIComponent(path)}`, 302);
  };
}

/** Where to go after the login: only a path under `basePath`, never another host. */
export function safeNext(next: string | undefined, basePath: string): string {
  if (!next || !/^\/[A-Za-z0-9/_.~%:@!$&'()*+,;=-]*$/.test(next) || next.includes('//') || next.includes('..')) return basePath;
  return next === basePath || next.startsWith(`${basePath}/`) ? next : basePath;
}
