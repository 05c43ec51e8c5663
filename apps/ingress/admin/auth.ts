/**
 * Operator access to /admin: ADMIN_TOKEN, presented as a login (an HMAC-signed session cookie,
 * 8 h), as `Authorization: Bearer <token>`, or as HTTP basic auth with the token as password.
 * Header credentials are read and checked by lib/auth/bearer — the gate /mcp and /events use, so
 * wrong tokens on any of them count against one per-address throttle. Tokens are compared in
 * constant time; an empty token matches nothing. State-changing requests from a browser must
 * come from this site (`sameOrigin`): the board's "retry", "clean", "promote" and "add job" are
 * POST/PUT/DELETE calls a foreign page could otherwise make with the operator's cookie.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import { credentialFromHeader, type AuthGate } from '../../../lib/auth/bearer';
import { errorBody } from '../errors';

export const SESSION_COOKIE = 'callbook_admin';
export const SESSION_TTL_SECONDS = 8 * 3600;
/** Every admin path lives under here, so the cookie is never sent anywhere else. */
export const ADMIN_ROOT = '/admin';
export const LOGIN_PATH = `${ADMIN_ROOT}/login`;
export const LOGOUT_PATH = `${ADMIN_ROOT}/logout`;

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

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Refuses (403) a state-changing request a browser sent from another site. The `Origin` header
 * must name this host — the request's own `Host` (any scheme: behind a TLS proxy the ingress sees
 * http) — or `publicUrl`'s origin. Without `Origin`, a `Sec-Fetch-Site` of `cross-site` is refused
 * too; a request with neither (curl, scripts with a bearer token) is no browser's, so no CSRF.
 */
export function sameOrigin(publicUrl?: string): MiddlewareHandler {
  const allowed = publicUrl ? new URL(publicUrl).origin : undefined;
  return async (c, next) => {
    if (!STATE_CHANGING.has(c.req.method)) return next();
    const origin = c.req.header('origin');
    if (origin !== undefined) {
      let host: string | undefined;
      try {
        host = origin === 'null' ? undefined : new URL(origin).host;
      } catch {
        host = undefined;
      }
      const own = c.req.header('host') ?? new URL(c.req.url).host;
      if ((host !== undefined && host === own) || origin === allowed) return next();
      return forbiddenOrigin(c, `Origin ${origin} is not this site`);
    }
    if (c.req.header('sec-fetch-site') === 'cross-site') return forbiddenOrigin(c, 'a cross-site request');
    return next();
  };
}

const forbiddenOrigin = (c: Context, why: string) =>
  c.json(errorBody('cross_origin', `refused: ${why}; state-changing admin requests must come from the admin pages themselves`), 403);

export interface GuardOptions {
  adminToken: string;
  /** Header credentials: must be the admin token; wrong ones count per client address. */
  gate: AuthGate;
  clientKey: (c: Context) => string;
  /** Requests under here are API calls: refused with 401 JSON instead of a redirect to the login. */
  apiPrefix: string;
}

const unauthorized = (c: Context, message: string) => {
  c.header('WWW-Authenticate', 'Bearer realm="callbook admin"'); // not Basic: a browser would pop up its own dialog
  return c.json(errorBody('unauthorized', message), 401);
};

const tooManyAttempts = (c: Context, r: { code: string; message: string; retryAfter: number }) => {
  c.header('Retry-After', String(r.retryAfter));
  return c.json(errorBody(r.code, r.message), 429);
};

/** Lets a request through with a valid header credential or session; otherwise 401 (API), 302 to the login (pages). */
export function requireAdmin(o: GuardOptions): MiddlewareHandler {
  return async (c, next) => {
    const authorization = c.req.header('authorization');
    if (authorization) {
      const r = await o.gate.check(o.clientKey(c), credentialFromHeader(authorization));
      if (!r.ok) return r.status === 429 ? tooManyAttempts(c, r) : unauthorized(c, 'wrong admin credentials');
      if (r.principal.kind === 'admin') return next();
      // A valid company or branch token: not a wrong guess, but not the admin's either.
      return c.json(errorBody('forbidden', 'the admin area needs ADMIN_TOKEN; company and branch tokens work on /mcp and /events'), 403);
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
