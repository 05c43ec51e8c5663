/**
 * `GET /console`: the operator console (apps/console), a single page whose only backends are
 * `/mcp` and `/events`. This module only serves its built files (apps/console/dist, made by
 * `npm run build`): read from disk on the first request to /console and kept in memory with
 * their ETag and a brotli copy — nothing of the console is loaded or run for any other route.
 *
 * Every answer carries a strict Content-Security-Policy: scripts, styles, images and requests
 * from this origin only (no inline code, no CDN), no framing, no forms posting anywhere.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, Hono } from 'hono';

export const CONSOLE_PATH = '/console';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

interface Asset {
  type: string;
  body: Buffer;
  br: Buffer;
  etag: string;
}

// Beside the sources under tsx (apps/ingress/routes/); bundled, from dist/ or dist/chunks/; last,
// the working directory.
const DIST_CANDIDATES = [
  fileURLToPath(new URL('../../console/dist', import.meta.url)),
  fileURLToPath(new URL('../apps/console/dist', import.meta.url)),
  fileURLToPath(new URL('../../apps/console/dist', import.meta.url)),
  resolve('apps/console/dist'),
];
const DEFAULT_DIST = DIST_CANDIDATES.find((d) => existsSync(d)) ?? DIST_CANDIDATES[3]!;

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    if (!type) continue;
    const body = readFileSync(`${dir}/${name}`);
    assets.set(name, {
      type,
      body,
      br: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } }),
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    });
  }
  return assets;
}

function securityHeaders(c: Context): void {
  c.header('Content-Security-Policy', CONSOLE_CSP);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('X-Frame-Options', 'DENY');
  c.header('Cross-Origin-Opener-Policy', 'same-origin');
}

export interface ConsoleRouteOptions {
  /** Where the built console is (default apps/console/dist). */
  distDir?: string;
}

export function consoleRoutes(opts: ConsoleRouteOptions = {}): (app: Hono) => void {
  const dir = opts.distDir ?? DEFAULT_DIST;
  let assets: Map<string, Asset> | undefined;

  const serve = (c: Context, name: string) => {
    securityHeaders(c);
    if (!assets) {
      if (!existsSync(`${dir}/index.html`)) {
        return c.text('The console is not built: run `npm run build` (npm start does it for you).\n', 503);
      }
      assets = loadAssets(dir);
    }
    const a = assets.get(name);
    if (!a) return c.json({ error: { code: 'not_found', message: `no console file "${name}"` } }, 404);
    c.header('Cache-Control', 'no-cache');
    c.header('ETag', a.etag);
    c.header('Vary', 'Accept-Encoding');
    if (c.req.header('if-none-match') === a.etag) return c.body(null, 304);
    c.header('Content-Type', a.type);
    if (/\bbr\b/.test(c.req.header('accept-encoding') ?? '')) {
      c.header('Content-Encoding', 'br');
      return c.body(new Uint8Array(a.br));
    }
    return c.body(new Uint8Array(a.body));
  };

  return (app) => {
    app.get(CONSOLE_PATH, (c) => serve(c, 'index.html'));
    app.get(`${CONSOLE_PATH}/`, (c) => c.redirect(CONSOLE_PATH, 301));
    app.get(`${CONSOLE_PATH}/assets/:name{[A-Za-z0-9._-]+}`, (c) => serve(c, c.req.param('name')));
  };
}
