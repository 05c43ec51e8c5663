/**
 * The admin area through `app.request`: Bull Board is never served without ADMIN_TOKEN (as a
 * login cookie, a bearer token or basic auth), sessions cannot be forged or outlive 8 h, wrong
 * credentials are throttled, and an empty token refuses everything. Queues are real BullMQ
 * queues on the machine's Redis under a private prefix.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeQueues, createQueues, QUEUE_NAMES, type Queues } from '../../../lib/queues';
import { createRedis, type Redis } from '../../../lib/redis';
import { TEST_REDIS_URL } from '../../../test/helpers/env';
import { mountAdmin, type AdminDeps } from './index';

const TOKEN = 'admin-token-for-tests-0123456789';
const prefix = `cbt${randomBytes(4).toString('hex')}`;
let redis: Redis;
let queues: Queues;
let app: Hono;

function adminApp(over: Partial<AdminDeps> = {}): Hono {
  const a = new Hono();
  mountAdmin(a, { queues: Object.values(queues), adminToken: TOKEN, ...over });
  return a;
}

beforeAll(() => {
  redis = createRedis(TEST_REDIS_URL, 'producer');
  queues = createQueues(redis, prefix);
  app = adminApp();
});
afterAll(async () => {
  await closeQueues(queues);
  const keys = await redis.keys(`{${prefix}}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});
afterEach(() => {
  vi.useRealTimers();
});

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

async function login(a: Hono, token: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) {
  return a.request('/admin/login', { method: 'POST', body: new URLSearchParams({ token, ...extra }), headers });
}

/** `name=value` of the session cookie a response sets. */
function sessionCookie(res: Response): string {
  const set = res.headers.get('set-cookie');
  expect(set).toBeTruthy();
  return set!.split(';')[0]!;
}

describe('without credentials', () => {
  it('pages redirect to the login, remembering where they were going', async () => {
    for (const path of ['/admin/queues', '/admin/queues/', '/admin/queues/queue/bookings']) {
      const res = await app.request(path);
      expect(res.status, path).toBe(302);
      const to = new URL(res.headers.get('location')!, 'http://x');
      expect(to.pathname).toBe('/admin/login');
      expect(to.searchParams.get('next')).toBe(path);
    }
    expect((await app.request('/admin')).headers.get('location')).toBe('/admin/queues');
  });

  it('API calls and static files get no board data', async () => {
    const res = await app.request('/admin/queues/api/queues');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('/admin/login') } });
    const retry = await app.request('/admin/queues/api/queues/bookings/booking-x/retry', { method: 'PUT' });
    expect(retry.status).toBe(401);
    expect((await app.request('/admin/queues/static/images/logo.svg')).status).toBe(302);
  });

  it('the login page is a plain form with a password field, framed by nobody', async () => {
    const res = await app.request('/admin/login?next=/admin/queues/queue/bookings');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<input type="password" id="token" name="token"');
    expect(html).toContain('value="/admin/queues/queue/bookings"');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});

describe('login', () => {
  it('a wrong token gets 401, the form again with a message, and no cookie', async () => {
    const res = await login(adminApp(), 'not-the-admin-token-at-all');
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('Wrong token.');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect((await login(adminApp(), '')).status).toBe(401);
  });

  it('the right token sets an HttpOnly, SameSite=Strict session cookie for 8 h and opens the board', async () => {
    const res = await login(app, TOKEN);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/queues');
    const set = res.headers.get('set-cookie')!;
    expect(set).toMatch(/^callbook_admin=[^;]+; Max-Age=28800; Path=\/admin; HttpOnly; SameSite=Strict$/);
    expect(set).not.toContain(TOKEN);
    const cookie = sessionCookie(res);

    const page = await app.request('/admin/queues', { headers: { cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<title>callbook</title>');
    expect(html).toContain('<base href="/admin/queues/"');
    expect((await app.request('/admin/queues/queue/bookings', { headers: { cookie } })).status).toBe(200);
    const slash = await app.request('/admin/queues/', { headers: { cookie } });
    expect([slash.status, slash.headers.get('location')]).toEqual([302, '/admin/queues']);

    const api = await app.request('/admin/queues/api/queues', { headers: { cookie } });
    expect(api.status).toBe(200);
    const body = (await api.json()) as { queues: Array<{ name: string; readOnlyMode: boolean; allowRetries: boolean }> };
    expect(body.queues.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
    expect(body.queues.every((q) => !q.readOnlyMode && q.allowRetries)).toBe(true);

    const uiDir = dirname(createRequire(import.meta.url).resolve('@bull-board/ui/package.json'));
    const js = readdirSync(join(uiDir, 'dist/static/js')).find((f) => f.startsWith('main.') && f.endsWith('.js'))!;
    const asset = await app.request(`/admin/queues/static/js/${js}`, { headers: { cookie } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
  });

  it('goes back to the page asked for, but never off the board', async () => {
    const next = async (n: string) => (await login(app, TOKEN, { next: n })).headers.get('location');
    expect(await next('/admin/queues/queue/bookings')).toBe('/admin/queues/queue/bookings');
    for (const evil of ['//evil.example/admin/queues', 'https://evil.example/', '/admin/queues/../../webhooks', '/admin/login', '/elsewhere']) {
      expect(await next(evil), evil).toBe('/admin/queues');
    }
  });

  it('marks the cookie Secure behind https (directly, per X-Forwarded-Proto, or when told)', async () => {
    const viaProxy = await login(app, TOKEN, {}, { 'x-forwarded-proto': 'https' });
    expect(viaProxy.headers.get('set-cookie')).toMatch(/; Secure/);
    const direct = await adminApp().request('https://callbook.example/admin/login', { method: 'POST', body: new URLSearchParams({ token: TOKEN }) });
    expect(direct.headers.get('set-cookie')).toMatch(/; Secure/);
    expect((await login(adminApp({ secureCookies: true }), TOKEN)).headers.get('set-cookie')).toMatch(/; Secure/);
  });

  it('logout clears the cookie; GET /admin/login with a session goes straight to the board', async () => {
    const cookie = sessionCookie(await login(app, TOKEN));
    const again = await app.request('/admin/login', { headers: { cookie } });
    expect(again.status).toBe(302);
    expect(again.headers.get('location')).toBe('/admin/queues');
    const out = await app.request('/admin/logout', { method: 'POST', headers: { cookie } });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/admin/login');
    expect(out.headers.get('set-cookie')).toMatch(/^callbook_admin=; Max-Age=0; Path=\/admin/);
    expect(await (await app.request('/admin/logout')).text()).toContain('action="/admin/logout"');
  });
});

describe('sessions', () => {
  it('a tampered cookie, or one signed for another token, is refused', async () => {
    const cookie = sessionCookie(await login(app, TOKEN));
    const [name, value] = cookie.split('=') as [string, string];
    const decoded = decodeURIComponent(value);
    const [payload, signature] = [decoded.slice(0, decoded.lastIndexOf('.')), decoded.slice(decoded.lastIndexOf('.') + 1)];
    // Push the expiry a year out, keep the signature.
    const later = payload.replace(/^\d+/, (s) => String(Number(s) + 365 * 86400));
    for (const forged of [`${later}.${signature}`, `${payload}.${signature.slice(0, -2)}AA`, payload, 'admin']) {
      const headers = { cookie: `${name}=${encodeURIComponent(forged)}` };
      expect((await app.request('/admin/queues', { headers })).status, forged).toBe(302);
      expect((await app.request('/admin/queues/api/queues', { headers })).status, forged).toBe(401);
    }
    const other = adminApp({ adminToken: 'another-admin-token-0123456789' });
    const foreign = sessionCookie(await login(other, 'another-admin-token-0123456789'));
    expect((await app.request('/admin/queues/api/queues', { headers: { cookie: foreign } })).status).toBe(401);
  });

  it('expires after 8 hours whatever the browser keeps', async () => {
    const cookie = sessionCookie(await login(app, TOKEN));
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 7.9 * 3600_000);
    expect((await app.request('/admin/queues/api/queues', { headers: { cookie } })).status).toBe(200);
    vi.setSystemTime(Date.now() + 0.2 * 3600_000);
    expect((await app.request('/admin/queues/api/queues', { headers: { cookie } })).status).toBe(401);
  });
});

describe('header credentials', () => {
  it('Authorization: Bearer <ADMIN_TOKEN> works for pages and the API', async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    expect((await app.request('/admin/queues', { headers })).status).toBe(200);
    const res = await app.request('/admin/queues/api/queues', { headers });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { queues: unknown[] }).queues).toHaveLength(5);
  });

  it('basic auth with ADMIN_TOKEN as the password works, whatever the user', async () => {
    for (const user of ['ops', '']) {
      expect((await app.request('/admin/queues/api/queues', { headers: { authorization: basic(user, TOKEN) } })).status).toBe(200);
    }
  });

  it('wrong header credentials get 401, not a redirect', async () => {
    const a = adminApp();
    for (const authorization of [`Bearer ${TOKEN}x`, basic(TOKEN, 'wrong'), basic('ops', ''), 'Bearer ', `Token ${TOKEN}`, 'Basic !!!']) {
      const res = await a.request('/admin/queues', { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
    }
  });
});

describe('throttling', () => {
  it('after N wrong tokens from one address, even the right one gets 429 for the rest of the minute', async () => {
    const a = adminApp({ loginsPerMinute: 3, clientKey: (c) => c.req.header('x-test-client') ?? 'x' });
    const from = (who: string) => ({ 'x-test-client': who });
    for (let i = 0; i < 3; i++) expect((await login(a, 'wrong-token-wrong-token', {}, from('mallory'))).status).toBe(401);
    const blocked = await login(a, TOKEN, {}, from('mallory'));
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await blocked.text()).toContain('Too many wrong tokens');
    const header = await a.request('/admin/queues/api/queues', { headers: { authorization: `Bearer ${TOKEN}`, ...from('mallory') } });
    expect(header.status).toBe(429);
    // Someone else is not affected.
    expect((await login(a, TOKEN, {}, from('alice'))).status).toBe(303);
  });

  it('wrong bearer or basic credentials count too', async () => {
    const a = adminApp({ loginsPerMinute: 2, clientKey: () => 'one' });
    for (let i = 0; i < 2; i++) expect((await a.request('/admin/queues/api/queues', { headers: { authorization: basic('x', 'guess') } })).status).toBe(401);
    expect((await a.request('/admin/queues/api/queues', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(429);
    expect((await login(a, TOKEN)).status).toBe(429);
  });
});

describe('cross-site requests (CSRF)', () => {
  const addJob = (a: Hono, cookie: string, headers: Record<string, string>) =>
    a.request('/admin/queues/api/queues/notifications/add', {
      method: 'POST',
      body: JSON.stringify({ name: 'csrf-probe', data: { planted: true } }),
      headers: { cookie, 'content-type': 'application/json', ...headers },
    });
  const planted = async () => (await queues.notifications.getJobs(['waiting', 'delayed', 'prioritized'])).filter((j) => j.name === 'csrf-probe').length;

  it("a state-changing request with the operator's cookie from a foreign Origin is refused, from the board's own origin it works", async () => {
    const cookie = sessionCookie(await login(app, TOKEN));
    const before = await planted();
    for (const origin of ['https://evil.example', 'http://localhost.evil.example', 'null']) {
      const res = await addJob(app, cookie, { origin });
      expect(res.status, origin).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: 'cross_origin' } });
    }
    // No Origin, but the browser says the request is cross-site.
    expect((await addJob(app, cookie, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    const pause = await app.request('/admin/queues/api/queues/bookings/pause', { method: 'PUT', headers: { cookie, origin: 'https://evil.example' } });
    expect(pause.status).toBe(403);
    expect(await queues.bookings.isPaused()).toBe(false);
    expect(await planted()).toBe(before);

    // The board's own page (app.request's origin is http://localhost), and behind a TLS proxy the https origin of the same host.
    expect((await addJob(app, cookie, { origin: 'http://localhost', 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await addJob(app, cookie, { origin: 'https://localhost' })).status).toBe(200);
    expect(await planted()).toBe(before + 2);
    // Scripts send no Origin: a bearer token is no browser's ambient credential.
    expect((await app.request('/admin/queues/api/queues/notifications/add', { method: 'POST', body: JSON.stringify({ name: 'csrf-probe', data: {} }), headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } })).status).toBe(200);
    await queues.notifications.obliterate({ force: true });
  });

  it('PUBLIC_URL is accepted as an origin; a login posted from another site is refused and sets no cookie', async () => {
    const a = adminApp({ publicUrl: 'https://callbook.example.com' });
    const cookie = sessionCookie(await login(a, TOKEN));
    expect((await addJob(a, cookie, { origin: 'https://callbook.example.com' })).status).toBe(200);
    expect((await addJob(a, cookie, { origin: 'https://callbook.example.com.evil.example' })).status).toBe(403);
    const csrfLogin = await login(a, TOKEN, {}, { origin: 'https://evil.example' });
    expect(csrfLogin.status).toBe(403);
    expect(csrfLogin.headers.get('set-cookie')).toBeNull();
    await queues.notifications.obliterate({ force: true });
  });
});

describe('an empty ADMIN_TOKEN', () => {
  it('refuses everything, including an empty token presented every way', async () => {
    for (const adminToken of ['', '   ']) {
      const a = adminApp({ adminToken });
      const attempts: Array<[string, RequestInit]> = [
        ['/admin/queues', {}],
        ['/admin/queues/api/queues', {}],
        ['/admin/queues/api/queues', { headers: { authorization: 'Bearer ' } }],
        ['/admin/queues/api/queues', { headers: { authorization: basic('admin', '') } }],
        ['/admin/queues/api/queues', { headers: { authorization: `Bearer ${adminToken}` } }],
        ['/admin/login', {}],
        ['/admin/login', { method: 'POST', body: new URLSearchParams({ token: '' }) }],
        ['/admin/login', { method: 'POST', body: new URLSearchParams({ token: adminToken }) }],
      ];
      for (const [path, init] of attempts) {
        const res = await a.request(path, init);
        expect(res.status, `${path} ${JSON.stringify(init)}`).toBe(403);
        expect(res.headers.get('set-cookie')).toBeNull();
      }
    }
  });

  it('matches nothing even where the guard is used on its own', async () => {
    const { isAdminToken: tokenMatches } = await import('../../../lib/auth/bearer');
    expect(tokenMatches('', '')).toBe(false);
    expect(tokenMatches('', undefined)).toBe(false);
    expect(tokenMatches(' ', ' ')).toBe(false);
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
  });
});

it('refuses a board outside /admin (the cookie would not reach it)', () => {
  expect(() => adminApp({ basePath: '/queues' })).toThrow(/under \/admin\//);
});
