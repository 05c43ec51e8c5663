/**
 * The client's address. Behind `TRUST_PROXY=n` proxies of your own, each appends the address it
 * received the request from to `X-Forwarded-For`; the client is the right-most address that no
 * trusted proxy wrote: counting from the socket's peer (the nearest proxy), skip n hops. Entries
 * further left were written by the client itself and prove nothing, so a forged
 * `X-Forwarded-For: 1.2.3.4` cannot choose the address that rate limits and allowlists see.
 * With fewer entries than hops, the left-most one is the best there is. An entry that is not an
 * IP address (a forged header may say anything, up to the header limit) is never used: the peer
 * stands in for it, so no attacker-chosen string becomes a rate-limit key.
 *
 * @example
 *   // TRUST_PROXY=1, peer 10.0.0.5 (the proxy), X-Forwarded-For: "6.6.6.6, 203.0.113.7"
 *   clientIp(c, 1) // "203.0.113.7" — 6.6.6.6 was sent by the client
 */
import { isIP, isIPv6 } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

function peerAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // app.request in tests has no socket
  }
}

export function clientIp(c: Context, trustedHops: number): string {
  const peer = peerAddress(c);
  if (trustedHops <= 0) return peer;
  const forwarded = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const chain = [...forwarded, peer];
  const chosen = chain[Math.max(0, chain.length - 1 - trustedHops)]!;
  return isIP(chosen) ? chosen : peer;
}

/**
 * The key an address is counted under by rate limits and lockouts: an IPv4 address as it is (an
 * IPv4-mapped IPv6 address as its IPv4), an IPv6 address by its /64 — one subscriber's network,
 * which hands its holder more addresses than any per-address count could follow.
 *
 * @example
 *   addressKey('2001:db8:1:2:aaaa::1') // "2001:db8:1:2::/64"
 */
export function addressKey(ip: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4) return v4[1]!;
  if (!isIPv6(ip)) return ip;
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
