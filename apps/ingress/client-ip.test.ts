import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { clientIp } from './client-ip';

/** The address clientIp sees for a request with `xff` (app.request has no socket: the peer is "unknown"). */
async function seen(hops: number, xff?: string): Promise<string> {
  const app = new Hono().get('/', (c) => c.text(clientIp(c, hops)));
  return (await app.request('/', { headers: xff === undefined ? {} : { 'x-forwarded-for': xff } })).text();
}

describe('clientIp with TRUST_PROXY hops', () => {
  it('0 hops: the socket peer, whatever X-Forwarded-For claims', async () => {
    expect(await seen(0, '203.0.113.7')).toBe('unknown');
  });
  it('1 hop: the right-most entry; a forged entry to its left is ignored', async () => {
    expect(await seen(1, '203.0.113.7')).toBe('203.0.113.7');
    expect(await seen(1, '6.6.6.6, 203.0.113.7')).toBe('203.0.113.7');
  });
  it('2 hops: skips the entry the second proxy wrote', async () => {
    expect(await seen(2, '6.6.6.6, 203.0.113.7, 10.0.0.5')).toBe('203.0.113.7');
  });
  it('fewer entries than hops: the left-most there is; none: the peer', async () => {
    expect(await seen(3, '203.0.113.7')).toBe('203.0.113.7');
    expect(await seen(1)).toBe('unknown');
  });
});
