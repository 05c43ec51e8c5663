/**
 * The admin login and logout pages: plain HTML forms, no script, nothing loaded from elsewhere
 * (the Content-Security-Policy set with them forbids it).
 */
import { LOGIN_PATH, LOGOUT_PATH } from './auth';

export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f4f5f7; color: #1f2933; display: flex; min-height: 100vh; margin: 0; align-items: center; justify-content: center; }
  main { background: #fff; padding: 2rem 2.5rem; border-radius: 8px; box-shadow: 0 2px 12px rgba(0,0,0,.08); width: 22rem; }
  h1 { font-size: 1.25rem; margin: 0 0 1rem; }
  label { display: block; font-size: .9rem; margin-bottom: .35rem; }
  input { width: 100%; box-sizing: border-box; padding: .55rem; font-size: 1rem; border: 1px solid #cbd2d9; border-radius: 4px; }
  button { margin-top: 1rem; width: 100%; padding: .6rem; font-size: 1rem; background: #2d6cdf; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
  .error { color: #b42318; background: #fef3f2; border: 1px solid #fecdca; padding: .5rem .75rem; border-radius: 4px; font-size: .9rem; }
  .note { color: #52606d; font-size: .85rem; }`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escape(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

export function loginPage(opts: { next?: string; error?: string } = {}): string {
  return page(
    'callbook admin: log in',
    `<h1>callbook admin</h1>
${opts.error ? `<p class="error" role="alert" id="login-error">${escape(opts.error)}</p>` : ''}
<form method="post" action="${LOGIN_PATH}">
  ${opts.next ? `<input type="hidden" name="next" value="${escape(opts.next)}">` : ''}
  <label for="token">Admin token</label>
  <input type="password" id="token" name="token" autocomplete="current-password" required autofocus>
  <button type="submit">Log in</button>
</form>
<p class="note">The ADMIN_TOKEN of this installation.</p>`,
  );
}

export function logoutPage(): string {
  return page(
    'callbook admin: log out',
    `<h1>callbook admin</h1>
<form method="post" action="${LOGOUT_PATH}"><button type="submit">Log out</button></form>`,
  );
}
