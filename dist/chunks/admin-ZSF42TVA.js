import {
  ADMIN_ROOT,
  LOGIN_PATH,
  LOGOUT_PATH,
  LoginThrottle,
  endSession,
  hasSession,
  isHttps,
  requireAdmin,
  safeNext,
  startSession,
  tokenMatches
} from "./chunk-RCMPJCUG.js";
import "./chunk-E5ZFRTTD.js";
import "./chunk-54KOYG5C.js";

// apps/ingress/admin/index.ts
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { getConnInfo } from "@hono/node-server/conninfo";
import { serveStatic } from "@hono/node-server/serve-static";
import { bodyLimit } from "hono/body-limit";

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
function loginPage(opts = {}) {
  return page(
    "callbook admin: log in",
    `<h1>callbook admin</h1>
${opts.error ? `<p class="error" role="alert" id="login-error">${escape(opts.error)}</p>` : ""}
<form method="post" action="${LOGIN_PATH}">
  ${opts.next ? `<input type="hidden" name="next" value="${escape(opts.next)}">` : ""}
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
export {
  mountAdmin
};
//# sourceMappingURL=admin-ZSF42TVA.js.map
