/**
 * The operator area: Bull Board over the five queues at /admin/queues, behind ADMIN_TOKEN
 * (auth.ts). Failed jobs show BullMQ's failedReason, which the workers write for people
 * ("slot taken (…); free: 11:30, 12:00", "gave up after 3 attempts: …"), and can be retried.
 *
 *   GET  /admin/login    the form          POST /admin/login    token → session cookie (8 h)
 *   GET  /admin/logout   a button          POST /admin/logout   ends the session
 *   /admin/queues/**     the board and its /api: cookie, Bearer token or basic auth
 *
 * Every POST/PUT/PATCH/DELETE under /admin (the login included) must come from this site
 * (`sameOrigin`: Origin = the request's host or PUBLIC_URL), else 403 — the cookie is
 * SameSite=Strict already; this holds for browsers that do not honour it, too.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AuthGate, LoginThrottle, WRONG_CREDENTIALS_PER_MINUTE } from '../../../lib/auth/bearer';
import {
  ADMIN_ROOT,
  LOGIN_PATH,
  LOGOUT_PATH,
  endSession,
  hasSession,
  isHttps,
  requireAdmin,
  safeNext,
  sameOrigin,
  startSession,
} from './auth';
import { PAGE_CSP, loginPage, logoutPage } from './login-page';
import { clientIp } from '../client-ip';
import { errorBody } from '../errors';

export interface AdminDeps {
  /** The queues to show (all five). */
  queues: Queue[];
  /** ADMIN_TOKEN. Empty: every /admin request is refused. */
  adminToken: string;
  /** Where the board lives; must be under /admin (the cookie's path). */
  basePath?: string;
  /** Mark the cookie Secure. Default: when the request came over https (directly or per X-Forwarded-Proto). */
  secureCookies?: boolean;
  /** The client address for the login throttle (the ingress passes its TRUST_PROXY-aware one). */
  clientKey?: (c: Context) => string;
  /**
   * The token gate shared with /mcp and /events (lib/auth/bearer: `authGate(ctx)`), so wrong
   * tokens anywhere count against one throttle. Absent: a gate of its own over ADMIN_TOKEN.
   */
  gate?: AuthGate;
  /** Wrong credentials allowed per client address and minute before 429 (only for a gate of its own). */
  loginsPerMinute?: number;
  /** PUBLIC_URL: an Origin accepted for state-changing requests besides the request's own host. */
  publicUrl?: string;
}

const DESCRIPTIONS: Record<string, string> = {
  webhooks: 'Retell webhooks, verified and sealed; the webhook worker resolves the call and decides whether to book.',
  bookings: 'Cal.com bookings, one job per idempotency key (booking-<key>). A failed job says why; retry it once the cause is fixed.',
  sync: 'Retell numbers and agents, Cal.com event types.',
  notifications: 'Operator and customer messages.',
  default: 'Housekeeping: retention, GDPR export and erasure.',
};

export function mountAdmin(app: Hono, deps: AdminDeps): void {
  const basePath = (deps.basePath ?? '/admin/queues').replace(/\/+$/, '');
  if (!basePath.startsWith(`${ADMIN_ROOT}/`)) throw new Error(`admin basePath must be under ${ADMIN_ROOT}/, got ${basePath}`);
  const token = deps.adminToken;
  const enabled = token.trim().length > 0;
  const gate = deps.gate ?? AuthGate.adminOnly(token, new LoginThrottle(deps.loginsPerMinute ?? WRONG_CREDENTIALS_PER_MINUTE));
  const clientKey = deps.clientKey ?? ((c: Context) => clientIp(c, 0));
  const secure = (c: Context) => deps.secureCookies ?? isHttps(c);

  // Headers for everything under /admin; and no token, no admin area (config requires one, but never open by accident).
  const adminHeaders = async (c: Context, next: () => Promise<void>) => {
    if (!enabled) return c.json(errorBody('admin_disabled', 'ADMIN_TOKEN is not set; the admin area is disabled'), 403);
    await next();
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
    if (!c.req.path.startsWith(`${basePath}/static/`)) c.header('Cache-Control', 'no-store');
  };
  app.use(ADMIN_ROOT, adminHeaders);
  app.use(`${ADMIN_ROOT}/*`, adminHeaders);
  const crossSite = sameOrigin(deps.publicUrl);
  app.use(ADMIN_ROOT, crossSite);
  app.use(`${ADMIN_ROOT}/*`, crossSite);

  app.get(ADMIN_ROOT, (c) => c.redirect(basePath, 302));

  app.get(LOGIN_PATH, async (c) => {
    const next = safeNext(c.req.query('next'), basePath);
    if (await hasSession(c, token)) return c.redirect(next, 302);
    c.header('Content-Security-Policy', PAGE_CSP);
    return c.html(loginPage({ next }));
  });

  app.post(LOGIN_PATH, bodyLimit({ maxSize: 4096, onError: (c) => c.text('login form too large', 413) }), async (c) => {
    c.header('Content-Security-Policy', PAGE_CSP);
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const presented = typeof form.token === 'string' ? form.token : undefined;
    const next = safeNext(typeof form.next === 'string' ? form.next : undefined, basePath);
    const r = await gate.check(clientKey(c), presented);
    if (!r.ok && r.status === 429) {
      c.header('Retry-After', String(r.retryAfter));
      return c.html(loginPage({ error: r.code === 'rate_limited' ? `Too many requests. Try again in ${r.retryAfter} s.` : `Too many wrong tokens. Try again in ${r.retryAfter} s.` }), 429);
    }
    if (!r.ok || r.principal.kind !== 'admin') return c.html(loginPage({ next, error: r.ok ? 'This token is not the admin token.' : 'Wrong token.' }), r.ok ? 403 : 401);
    await startSession(c, token, secure(c));
    return c.redirect(next, 303);
  });

  app.get(LOGOUT_PATH, (c) => {
    c.header('Content-Security-Policy', PAGE_CSP);
    return c.html(logoutPage());
  });
  app.post(LOGOUT_PATH, (c) => {
    endSession(c, secure(c));
    return c.redirect(LOGIN_PATH, 303);
  });

  const guard = requireAdmin({ adminToken: token, gate, clientKey, apiPrefix: `${basePath}/api` });
  app.use(basePath, guard);
  app.use(`${basePath}/*`, guard);

  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(basePath);
  createBullBoard({
    queues: deps.queues.map(
      (q) => new BullMQAdapter(q, { readOnlyMode: false, allowRetries: true, description: DESCRIPTIONS[q.name] ?? '' }),
    ),
    // @bull-board/hono 9.10.1 pins its own copy of @bull-board/api (9.10.1) for types; the shapes
    // agree at run time, but TypeScript sees two declarations of the adapter's private fields.
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: {
      uiConfig: {
        boardTitle: 'callbook',
        hideDocsLink: true,
        miscLinks: [{ text: 'Log out', url: LOGOUT_PATH }],
      },
    },
  });
  app.get(`${basePath}/`, (c) => c.redirect(basePath, 302)); // the board's entry route has no trailing slash
  app.route(basePath, serverAdapter.registerPlugin());
}
