/**
 * The client's address. Behind `TRUST_PROXY=n` proxies of your own, each appends the address it
 * received the request from to `X-Forwarded-For`; the client is the right-most address that no
 * trusted proxy wrote: counting from the socket's peer (the nearest proxy), skip n hops. Entries
 * further left were written by the client itself and prove nothing, so a forged
 * `X-Forwarded-For: 1.2.3.4` cannot choose the address that rate limits and allowlists see.
 * With fewer entries than hops, the left-most one is the best there is.
 *
 * @example
 *   // TRUST_PROXY=1, peer 10.0.0.5 (the proxy), X-Forwarded-For: "6.6.6.6, 203.0.113.7"
 *   clientIp(c, 1) // "203.0.113.7" — 6.6.6.6 was sent by the client
 */
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
  return chain[Math.max(0, chain.length - 1 - trustedHops)]!;
}
