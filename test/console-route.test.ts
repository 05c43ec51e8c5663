/**
 * How the ingress serves the console's files (apps/ingress/routes/console): strict headers on
 * every answer, 503 until built, ETag/304, brotli when accepted, only names of the built files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { brotliDecompressSync } from 'node:zlib';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, consoleRoutes } from '../apps/ingress/routes/console';

const dirs: string[] = [];
function appWith(files: Record<string, string>): Hono {
  const dir = mkdtempSync(`${tmpdir()}/console-`);
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(`${dir}/${name}`, body);
  const app = new Hono();
  consoleRoutes({ distDir: dir })(app);
  return app;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('GET /console', () => {
  it('answers 503 with what to do until the console is built, with the strict headers', async () => {
    const res = await appWith({}).request('/console');
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/npm run build/);
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
  });

  it('serves the page and its assets with CSP, nosniff, no referrer, no framing; ETag and 304; brotli', async () => {
    const js = 'console.log("console");'.repeat(100);
    const app = appWith({ 'index.html': '<!doctype html><title>x</title>', 'console.js': js, 'console.css': 'body{}', 'notes.txt': 'not served' });
    const page = await app.request('/console');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(Object.fromEntries(['content-security-policy', 'x-content-type-options', 'referrer-policy', 'x-frame-options'].map((h) => [h, page.headers.get(h)]))).toEqual({
      'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
    const asset = await app.request('/console/assets/console.js');
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await asset.text()).toBe(js);
    const etag = asset.headers.get('etag')!;
    expect((await app.request('/console/assets/console.js', { headers: { 'if-none-match': etag } })).status).toBe(304);
    const br = await app.request('/console/assets/console.js', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(br.headers.get('content-encoding')).toBe('br');
    const packed = Buffer.from(await br.arrayBuffer());
    expect(packed.length).toBeLessThan(js.length / 5);
    expect(brotliDecompressSync(packed).toString()).toBe(js);
    expect((await app.request('/console/')).headers.get('location')).toBe('/console');
  });

  it('serves only the built files: unknown names, other types and paths out of the folder are 404', async () => {
    const app = appWith({ 'index.html': 'x', 'notes.txt': 'secret' });
    expect((await app.request('/console/assets/nope.js')).status).toBe(404);
    expect((await app.request('/console/assets/notes.txt')).status).toBe(404);
    expect((await app.request('/console/assets/..%2F..%2Fpackage.json')).status).toBe(404);
    expect((await app.request('/console/assets/../../package.json')).status).toBe(404);
  });
});
