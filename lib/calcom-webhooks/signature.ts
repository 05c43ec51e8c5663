/**
 * Cal.com's webhook signature: `X-Cal-Signature-256` is the lower-case hex HMAC-SHA256 of the raw
 * body keyed with the webhook's secret — no prefix, no timestamp (so no replay window: the inbox
 * in webhook_events makes a replay a no-op instead). Compared in constant time.
 *
 * @example
 *   verifyCalcomSignature(rawBody, secret, c.req.header('x-cal-signature-256'))  // → true | false
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const HEX64 = /^[0-9a-f]{64}$/i;

export function signCalcomBody(body: Uint8Array | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** Whether `header` could be a signature at all (64 hex digits, spaces around allowed): what the route checks before it reads the body. */
export function isWellFormedCalcomSignature(header: string): boolean {
  return HEX64.test(header.trim());
}

/** True when `header` is the body's HMAC under `secret`. A missing or malformed header is false. */
export function verifyCalcomSignature(body: Uint8Array | string, secret: string, header: string | undefined | null): boolean {
  if (!header || !secret || !isWellFormedCalcomSignature(header)) return false;
  const given = header.trim();
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(Buffer.from(given, 'hex'), expected);
}

/**
 * The first candidate whose secret signed the body, or null. Every candidate is checked (no early
 * exit), so the time taken does not tell which one matched.
 */
export function findSigner<T extends { secret: string }>(body: Uint8Array | string, header: string | undefined | null, candidates: T[]): T | null {
  let found: T | null = null;
  for (const c of candidates) {
    if (verifyCalcomSignature(body, c.secret, header) && !found) found = c;
  }
  return found;
}
