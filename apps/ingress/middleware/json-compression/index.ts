/**
 * Compresses JSON answers of 1 KB or more: brotli when the client accepts it (Hono's compress
 * middleware offers gzip and deflate only, through CompressionStream), else Hono's compress.
 * Event streams and small answers pass untouched.
 */
import { brotliCompressSync, constants } from 'node:zlib';
import { createMiddleware } from 'hono/factory';
import { compress } from 'hono/compress';

const THRESHOLD = 1024;
const isJson = (type: string | null) => Boolean(type && /^application\/(?:[\w.+-]+\+)?json/i.test(type));

export const jsonCompression = () => {
  const fallback = compress({ threshold: THRESHOLD, contentTypeFilter: /^application\/(?:[\w.+-]+\+)?json/i });
  return createMiddleware(async (c, next) => {
    const accepts = c.req.header('accept-encoding') ?? '';
    // Nothing to negotiate: don't let Hono's compress read c.res.headers (it builds a full Response).
    if (!/\b(?:br|gzip|deflate)\b/i.test(accepts)) return next();
    if (!/\bbr\b/.test(accepts)) return fallback(c, next);
    await next();
    const res = c.res;
    if (!isJson(res.headers.get('content-type')) || res.headers.has('content-encoding') || !res.body) return;
    const body = Buffer.from(await res.clone().arrayBuffer());
    if (body.length < THRESHOLD) return;
    const compressed = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } });
    const headers = new Headers(res.headers);
    headers.set('content-encoding', 'br');
    headers.set('content-length', String(compressed.length));
    headers.append('vary', 'Accept-Encoding');
    c.res = new Response(compressed, { status: res.status, headers });
  });
};
