import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyLimit } from './index';

// Over real HTTP: the point is the declared Content-Length path on @hono/node-server.
let server: ServerType;
let port: number;

beforeAll(async () => {
  const app = new Hono();
  app.post('/in', bodyLimit({ maxSize: 100, onError: (c) => c.text('too large', 413) }), async (c) => c.text(`got ${(await c.req.text()).length}`));
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      port = info.port;
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function post(body: string, chunked: boolean): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': Buffer.byteLength(body) };
    const req = request({ host: '127.0.0.1', port, path: '/in', method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    if (chunked) {
      // Two chunks, so the size is only known while reading.
      req.write(body.slice(0, body.length / 2));
      req.end(body.slice(body.length / 2));
    } else {
      req.end(body);
    }
  });
}

describe('bodyLimit', () => {
  it('takes a body within a declared Content-Length and leaves it readable', async () => {
    expect(await post('x'.repeat(100), false)).toEqual({ status: 200, text: 'got 100' });
  });
  it('refuses a declared Content-Length over the limit with onError', async () => {
    expect(await post('x'.repeat(101), false)).toEqual({ status: 413, text: 'too large' });
  });
  it('counts a chunked body as it arrives', async () => {
    expect(await post('x'.repeat(100), true)).toEqual({ status: 200, text: 'got 100' });
    expect((await post('x'.repeat(500), true)).status).toBe(413);
  });
});
