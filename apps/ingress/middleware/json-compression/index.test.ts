import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { jsonCompression } from './index';

const app = new Hono();
app.use('*', jsonCompression());
app.get('/big', (c) => c.json({ items: Array.from({ length: 200 }, (_, i) => ({ i, text: 'free slot at 11:30' })) }));
app.get('/small', (c) => c.json({ ok: true }));
app.get('/text', (c) => c.text('x'.repeat(5000)));

describe('jsonCompression', () => {
  it('brotli for JSON over 1 KB when accepted', async () => {
    const res = await app.request('/big', { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(res.headers.get('content-encoding')).toBe('br');
    const body = JSON.parse(brotliDecompressSync(Buffer.from(await res.arrayBuffer())).toString()) as { items: unknown[] };
    expect(body.items).toHaveLength(200);
  });
  it('gzip through Hono compress otherwise', async () => {
    const res = await app.request('/big', { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(JSON.parse(gunzipSync(Buffer.from(await res.arrayBuffer())).toString()).items).toHaveLength(200);
  });
  it('leaves small JSON, other types and clients without Accept-Encoding alone', async () => {
    expect((await app.request('/small', { headers: { 'accept-encoding': 'br' } })).headers.get('content-encoding')).toBeNull();
    expect((await app.request('/text', { headers: { 'accept-encoding': 'br, gzip' } })).headers.get('content-encoding')).toBeNull();
    expect((await app.request('/big')).headers.get('content-encoding')).toBeNull();
  });
});
