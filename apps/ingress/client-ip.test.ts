import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { addressKey, clientIp } from './client-ip';

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

describe('forged and IPv6 addresses', () => {
  it('an entry that is not an IP address is never used: the peer stands in', async () => {
    expect(await seen(1, 'x'.repeat(8_000))).toBe('unknown');
    expect(await seen(1, '203.0.113.7, not-an-ip')).toBe('unknown');
    expect(await seen(1, '2001:db8::1')).toBe('2001:db8::1');
  });
  it('rate-limit keys: IPv4 as is, IPv4-mapped as IPv4, IPv6 by its /64', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });
});
