/**
 * Retell's webhook signature (`x-retell-signature: v=<unix ms>,d=<hex HMAC-SHA256>`), checked
 * with node:crypto. retell-sdk's own `verify` imports a Web Crypto key on every call and costs
 * about 2.5x the throughput of this (docs/ARCHITECTURE.md, "Ingress"); the scheme is copied exactly,
 * odd inputs included, and lib/retell/signature.test.ts proves agreement with the SDK.
 *
 * @example
 *   verifyRetellSignature(rawBody, apiKey, req.header('x-retell-signature'))  // → 'ok' | reason
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_TOLERANCE_MS = 5 * 60 * 1000;

// As in retell-sdk: `v` and `d` are matched case-insensitively, the digest must be 64 hex chars.
const HEADER = /^v=(\d+),d=([0-9a-f]+)$/i;

export type SignatureVerdict = 'ok' | 'missing' | 'malformed' | 'stale' | 'mismatch';

/**
 * What the header alone says: its timestamp and digest, or why it cannot verify any body
 * (missing, malformed, stale). Lets a caller refuse before it reads the body.
 */
export function readSignatureHeader(header: string | undefined | null, now: number = Date.now()): { stamp: number; digestHex: string } | Exclude<SignatureVerdict, 'ok' | 'mismatch'> {
  if (!header) return 'missing';
  const match = HEADER.exec(header);
  if (!match) return 'malformed';
  // The SDK hashes body + String(Number(v)): "v=007" signs "7", so do the same.
  const stamp = Number(match[1]);
  const digestHex = match[2]!;
  if (!Number.isSafeInteger(stamp) || digestHex.length !== 64) return 'malformed';
  if (Math.abs(now - stamp) > SIGNATURE_TOLERANCE_MS) return 'stale';
  return { stamp, digestHex };
}

/** Check `header` against `body` (the exact bytes received) for one key. */
export function verifyRetellSignature(
  body: Uint8Array | string,
  apiKey: string,
  header: string | undefined | null,
  now: number = Date.now(),
): SignatureVerdict {
  const read = readSignatureHeader(header, now);
  if (typeof read === 'string') return read;
  const expected = createHmac('sha256', apiKey).update(body).update(String(read.stamp)).digest();
  const given = Buffer.from(read.digestHex, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'mismatch';
}

/** Sign like retell-sdk's `Retell.sign` (for the CLI's demo calls and benchmarks; tests use the SDK). */
export function signRetellBody(body: string, apiKey: string, now: number = Date.now()): string {
  const digest = createHmac('sha256', apiKey).update(body).update(String(now)).digest('hex');
  return `v=${now},d=${digest}`;
}
